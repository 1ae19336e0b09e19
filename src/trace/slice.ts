/**
 * Byte windows over a UTF-8 log that never split a character: a window ends before a character that
 * would not fit, and an offset inside a character moves forward to the next one.
 */
import type { TraceSlice } from '../upstreams/types.js';

/** True for the 2nd–4th bytes of a UTF-8 sequence (0b10xxxxxx). */
const isContinuation = (byte: number | undefined): boolean => byte !== undefined && (byte & 0xc0) === 0x80;

export function sliceUtf8(log: Buffer, offset: number, limit: number): TraceSlice {
  let start = Math.min(offset, log.length);
  while (start < log.length && isContinuation(log[start])) start += 1;
  let end = Math.min(start + limit, log.length);
  while (end > start && end < log.length && isContinuation(log[end])) end -= 1;
  return { offset: start, nextOffset: end, content: log.toString('utf8', start, end), size: log.length, atEnd: end === log.length };
}
