/**
 * Cuts a byte stream of UTF-8 into slices that never split a character: an incomplete sequence at the
 * end of a piece waits for the next piece; bytes that continue a character begun before the stream's
 * first offset are skipped (an offset always names a character boundary).
 */
import type { TraceSlice } from '../model.js';

/**
 * Most bytes one chunk of a log carries to a subscriber. Decoded, it is at most 64 KiB even as UTF-16:
 * below V8's large-object size (128 KiB), so a chunk and the JSON around it die young and cheaply.
 */
export const MAX_CHUNK_BYTES = 32 * 1024;

/** True for the 2nd–4th bytes of a UTF-8 sequence (0b10xxxxxx). */
export const isContinuation = (byte: number | undefined): boolean => byte !== undefined && (byte & 0xc0) === 0x80;

/** How many leading bytes of `buf` form complete characters. */
export function completeUtf8Length(buf: Buffer): number {
  const end = buf.length;
  for (let i = end - 1; i >= Math.max(0, end - 4); i--) {
    const byte = buf[i]!;
    if (isContinuation(byte)) continue;
    const length = byte < 0x80 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return i + length > end ? i : end;
  }
  return end;
}

/**
 * A slice of a UTF-8 log read as bytes. Its `content` is decoded on first use: the trace hub's tail keeps
 * the bytes and never needs the string, which would otherwise be made and dropped for every chunk read.
 */
export class Utf8Slice implements TraceSlice {
  readonly offset: number;
  readonly nextOffset: number;
  readonly bytes: Buffer;
  /** A streamed slice says nothing of what follows it. */
  readonly atEnd = false;
  #content: string | undefined;

  constructor(offset: number, bytes: Buffer) {
    this.offset = offset;
    this.nextOffset = offset + bytes.length;
    this.bytes = bytes;
  }

  /** The log is at least this long. */
  get size(): number {
    return this.nextOffset;
  }

  get content(): string {
    return (this.#content ??= this.bytes.toString('utf8'));
  }
}

export class Utf8Cutter {
  #carry: Buffer = Buffer.alloc(0);
  #started = false;
  /** Offset of the next byte `push` will return. */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** The complete characters now available, with the offsets they span; null when none. */
  push(chunk: Buffer): Utf8Slice | null {
    let data = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    if (!this.#started) {
      let skip = 0;
      while (skip < data.length && isContinuation(data[skip]!)) skip += 1;
      if (skip === data.length) {
        this.offset += skip;
        this.#carry = Buffer.alloc(0);
        return null;
      }
      this.#started = true;
      this.offset += skip;
      data = data.subarray(skip);
    }
    const cut = completeUtf8Length(data);
    this.#carry = Buffer.from(data.subarray(cut));
    if (cut === 0) return null;
    const slice = new Utf8Slice(this.offset, data.subarray(0, cut));
    this.offset += cut;
    return slice;
  }
}

/**
 * A slice as plain pieces for subscribers: a byte slice (GitLab) cut at character boundaries into
 * pieces of at most MAX_CHUNK_BYTES, a line slice (bk-ci) whole.
 */
export function splitSlice(slice: TraceSlice): TraceSlice[] {
  const { bytes } = slice;
  if (!bytes) return [{ offset: slice.offset, nextOffset: slice.nextOffset, content: slice.content, size: slice.size, atEnd: slice.atEnd }];
  const pieces: TraceSlice[] = [];
  for (let at = 0; at < bytes.length; ) {
    let end = Math.min(at + MAX_CHUNK_BYTES, bytes.length);
    while (end > at + 1 && end < bytes.length && isContinuation(bytes[end])) end -= 1;
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
