/**
 * Log bytes as the Buffers they were written in, never one growing string: a 256 MiB bench log is a
 * list of per-tick Buffers, and a read (whole or ranged) is a list of views into them, written out in
 * pieces by the server (server.ts). Buffers are never changed once appended, so a view taken while the
 * log grows stays a consistent prefix.
 */

/** A fixed stretch of a log: what was written when the view was taken. */
export interface LogBytes {
  /** Bytes in the view. */
  readonly length: number;
  /** Bytes [start, end) as Buffers in order, sharing memory with the log (no copy). */
  pieces(start: number, end: number): Buffer[];
}

const EMPTY: LogBytes = Object.freeze({ length: 0, pieces: () => [] });

/** A view of one Buffer (a synthesised log, rendered once). */
export function bufferLog(bytes: Buffer): LogBytes {
  if (bytes.length === 0) return EMPTY;
  return { length: bytes.length, pieces: (start, end) => (start < end ? [bytes.subarray(start, end)] : []) };
}

/** An append-only log of Buffers with their start offsets, for O(log n) ranged reads. */
export class ByteLog {
  readonly #chunks: Buffer[] = [];
  /** `#starts[i]` is the offset of `#chunks[i]`'s first byte. */
  readonly #starts: number[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#starts.push(this.#length);
    this.#length += bytes.length;
  }

  /** The log as written so far; later appends do not show in it. */
  view(): LogBytes {
    const length = this.#length;
    const count = this.#chunks.length;
    if (length === 0) return EMPTY;
    return { length, pieces: (start, end) => this.#pieces(Math.max(0, start), Math.min(end, length), count) };
  }

  #pieces(start: number, end: number, count: number): Buffer[] {
    const out: Buffer[] = [];
    if (start >= end) return out;
    // The last chunk starting at or before `start`.
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.#starts[mid] as number) <= start) lo = mid;
      else hi = mid - 1;
    }
    for (let i = lo; i < count; i++) {
      const chunkStart = this.#starts[i] as number;
      if (chunkStart >= end) break;
      const chunk = this.#chunks[i] as Buffer;
      const from = Math.max(0, start - chunkStart);
      const to = Math.min(chunk.length, end - chunkStart);
      out.push(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
    }
    return out;
  }
}
