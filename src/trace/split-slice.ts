/**
 * Slices of a log as pieces small enough for one subscriber message, never splitting a character.
 */
import type { TraceSlice } from '../model.js';
import { toBoundary } from '../utf8.js';

/**
 * Most bytes one chunk of a log carries to a subscriber. Decoded, it is at most 64 KiB even as UTF-16:
 * below V8's large-object size (128 KiB), so a chunk and the JSON around it die young and cheaply.
 */
export const MAX_CHUNK_BYTES = 32 * 1024;

/**
 * A slice as plain pieces for subscribers: a byte slice (GitLab) cut at character boundaries into
 * pieces of at most MAX_CHUNK_BYTES, a line slice (bk-ci) whole.
 */
export function splitSlice(slice: TraceSlice): TraceSlice[] {
  const { bytes } = slice;
  if (!bytes) return [{ offset: slice.offset, nextOffset: slice.nextOffset, content: slice.content, size: slice.size, atEnd: slice.atEnd }];
  const pieces: TraceSlice[] = [];
  for (let at = 0; at < bytes.length; ) {
    // Never below one byte past `at`, so a stray continuation byte cannot stall the split.
    const end = toBoundary(bytes, Math.min(at + MAX_CHUNK_BYTES, bytes.length), at + 1);
    const last = end === bytes.length;
    pieces.push({
      offset: slice.offset + at,
      nextOffset: slice.offset + end,
      content: last && at === 0 ? slice.content : bytes.toString('utf8', at, end),
      size: slice.size,
      atEnd: last && slice.atEnd,
    });
    at = end;
  }
  return pieces;
}
