/**
 * Byte windows over a UTF-8 log that never split a character: a window ends before a character that
 * would not fit, and an offset inside a character moves forward to the next one.
 */
import type { TraceSlice } from '../model.js';

import { isContinuation } from './utf8.js';

export function sliceUtf8(log: Buffer, offset: number, limit: number): TraceSlice {
  let start = Math.min(offset, log.length);
  while (start < log.length && isContinuation(log[start])) start += 1;
  let end = Math.min(start + limit, log.length);
  while (end > start && end < log.length && isContinuation(log[end])) end -= 1;
  return { offset: start, nextOffset: end, content: log.toString('utf8', start, end), size: log.length, atEnd: end === log.length };
}
