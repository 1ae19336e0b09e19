/**
 * Cuts a byte stream of UTF-8 into slices that never split a character: an incomplete sequence at the
 * end of a piece waits for the next piece; bytes that continue a character begun before the stream's
 * first offset are skipped (an offset always names a character boundary).
 */
import type { TraceSlice } from '../model.js';
import { completeUtf8Length, toBoundary } from '../utf8.js';

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
      const skip = toBoundary(data, 0, data.length);
      this.offset += skip;
      if (skip === data.length) {
        this.#carry = Buffer.alloc(0);
        return null;
      }
      this.#started = true;
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
