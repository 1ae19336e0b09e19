/**
 * UTF-8 character boundaries, the one place that knows them: every window, cut and split of a log in
 * bytes (upstream reads, the trace hub's ring, subscriber pieces) moves its ends with `toBoundary`.
 * Neutral ground: imports only Node's own `buffer`, so both `upstreams/` and `trace/` may use it.
 */
import { isAscii, isUtf8 } from 'node:buffer';

/**
 * Bytes decoded at a time when a body is not all ASCII. Node 20's UTF-8 decoding of a buffer with any
 * non-ASCII byte in it takes V8's slow path over the whole buffer (about 3 ns a byte); cut into pieces
 * at character boundaries, only the pieces with non-ASCII bytes take it. A 42 KB GitLab jobs page with
 * a few accented names decoded in 124 µs whole and 21 µs in 1 KiB pieces (bench/RESULTS.md, #16 fourth round).
 */
const DECODE_PIECE = 1024;
/** Smaller bodies (a single job is about 2 KB) are decoded whole: the pieces save nothing there. */
const DECODE_IN_PIECES_FROM = 8 * 1024;

/**
 * The text of UTF-8 bytes. Upstream JSON is nearly always ASCII, and an ASCII buffer read as latin1
 * gives the same string about ten times faster than UTF-8 decoding (no validation; V8 makes a one-byte
 * string straight from it); anything else is decoded as UTF-8 (invalid sequences become U+FFFD), without
 * a leading byte-order mark, as undici's `body.text()` reads it.
 */
export function decodeUtf8(bytes: Buffer): string {
  if (isAscii(bytes)) return bytes.toString('latin1');
  const start = bytes.length > 2 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  // Only valid UTF-8 is decoded in pieces: cut at character boundaries, its pieces give exactly the
  // whole's text. Invalid bytes are decoded in one go, so they become U+FFFD as one decoder places them.
  if (bytes.length < DECODE_IN_PIECES_FROM || !isUtf8(bytes)) return bytes.toString('utf8', start);
  let text = '';
  for (let at = start; at < bytes.length; ) {
    const end = toBoundary(bytes, Math.min(at + DECODE_PIECE, bytes.length), bytes.length);
    text += bytes.toString('utf8', at, end);
    at = end;
  }
  return text;
}

/** True for the 2nd–4th bytes of a UTF-8 sequence (0b10xxxxxx). */
export const isContinuation = (byte: number | undefined): boolean => byte !== undefined && (byte & 0xc0) === 0x80;

/** The bytes to look in: a buffer, or a reader of one offset (a ring), undefined past the end. */
export type Utf8Bytes = Uint8Array | ((offset: number) => number | undefined);

/**
 * The character boundary reached from `at` moving toward `limit` (forward when `limit > at`, else
 * backward), never past `limit`. A boundary is any offset whose byte does not continue a character,
 * including the end of the bytes. Forward skips the rest of a character begun before `at`; backward
 * drops a character that would not fit whole before `at`.
 */
export function toBoundary(bytes: Utf8Bytes, at: number, limit: number): number {
  const step = limit > at ? 1 : -1;
  // Two loops rather than one over a wrapper: a buffer's windows are cut on hot paths, with no closure per cut.
  if (typeof bytes === 'function') while (at !== limit && isContinuation(bytes(at))) at += step;
  else while (at !== limit && isContinuation(bytes[at])) at += step;
  return at;
}

/** How many leading bytes of `buf` form complete characters (an incomplete last sequence is left out). */
export function completeUtf8Length(buf: Uint8Array): number {
  const end = buf.length;
  for (let i = end - 1; i >= Math.max(0, end - 4); i--) {
    const byte = buf[i]!;
    if (isContinuation(byte)) continue;
    const length = byte < 0x80 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return i + length > end ? i : end;
  }
  return end;
}
