/**
 * The recent end of a GitLab log (offsets in bytes), held in one ring buffer per watched build. The
 * ring is allocated once (grown while the log is young) and written over in place, so a log of any size
 * streams through a fixed amount of memory: no buffer per chunk read, none promoted into V8's old
 * generation to wait for a major collection, no external memory piling up between collections.
 */
import type { TraceSlice } from '../model.js';
import type { RawPiece, TracePiece, TraceTail } from './tail.js';
import { toBoundary } from '../utf8.js';
import { MAX_CHUNK_BYTES } from './split-slice.js';

/** The ring's first size: a short log never costs the whole `maxSize`. */
const FIRST_CAPACITY = 64 * 1024;

export class ByteTail implements TraceTail {
  readonly #maxSize: number;
  #ring: Buffer = Buffer.alloc(0);
  /** Where `start` sits in the ring. */
  #head = 0;
  #start: number;
  #end: number;
  /** The last window read: many subscribers at the same offset share one string. */
  #lastRead: TracePiece | undefined;

  /** `maxSize`: bytes held (more only while one append alone is larger). */
  constructor(start: number, maxSize: number) {
    this.#start = start;
    this.#end = start;
    this.#maxSize = maxSize;
  }

  get start(): number {
    return this.#start;
  }

  get end(): number {
    return this.#end;
  }

  get size(): number {
    return this.#end - this.#start;
  }

  wouldOverflow(slice: TraceSlice): boolean {
    return this.size + (slice.bytes?.length ?? Buffer.byteLength(slice.content)) > this.#maxSize;
  }

  append(slice: TraceSlice): void {
    if (slice.nextOffset <= this.#end) return;
    let bytes = slice.bytes ?? Buffer.from(slice.content, 'utf8');
    if (slice.offset > this.#end) {
      // The log does not continue where the tail ends (it was rewritten): hold only what follows.
      this.#start = this.#end = slice.offset;
      this.#head = 0;
    } else if (slice.offset < this.#end) {
      bytes = bytes.subarray(this.#end - slice.offset);
    }
    const n = bytes.length;
    this.#reserve(n);
    const capacity = this.#ring.length;
    const at = (this.#head + this.size) % capacity;
    const first = Math.min(n, capacity - at);
    bytes.copy(this.#ring, at, 0, first);
    if (first < n) bytes.copy(this.#ring, 0, first);
    this.#end += n;
    // What no longer fits is the oldest; the newest append always does.
    const over = this.size - capacity;
    if (over > 0) {
      this.#start += over;
      this.#head = (this.#head + over) % capacity;
    }
  }

  /** Grows the ring (up to `maxSize`, or to `n` for a larger append) when `n` more bytes do not fit. */
  #reserve(n: number): void {
    const capacity = this.#ring.length;
    const limit = Math.max(this.#maxSize, n);
    const wanted = this.size + n;
    if (wanted <= capacity || capacity >= limit) return;
    const ring = Buffer.allocUnsafeSlow(Math.min(limit, Math.max(wanted, capacity * 2, FIRST_CAPACITY)));
    this.#copyOut(this.#start, this.#end, ring);
    this.#ring = ring;
    this.#head = 0;
  }

  /**
   * At most `maxBytes` from `offset` on, never splitting a character (an offset inside one moves on to
   * the next), or null when `offset` is at the end or outside the window.
   */
  readFrom(offset: number, maxBytes = MAX_CHUNK_BYTES): TracePiece | null {
    if (offset < this.#start || offset >= this.#end) return null;
    const from = toBoundary(this.#byteAt, offset, this.#end);
    if (from >= this.#end) return null;
    // Never below one byte past `from`, so a stray continuation byte cannot stall a reader.
    const to = toBoundary(this.#byteAt, Math.min(this.#end, from + maxBytes), from + 1);
    if (this.#lastRead?.offset === from && this.#lastRead.nextOffset === to) return this.#lastRead;
    const at = this.#index(from);
    const length = to - from;
    const content =
      at + length <= this.#ring.length
        ? this.#ring.toString('utf8', at, at + length)
        : Buffer.concat([this.#ring.subarray(at), this.#ring.subarray(0, at + length - this.#ring.length)]).toString('utf8');
    this.#lastRead = { offset: from, nextOffset: to, content };
    return this.#lastRead;
  }

  rawFrom(offset: number, maxBytes = MAX_CHUNK_BYTES): RawPiece | null {
    if (offset < this.#start || offset >= this.#end) return null;
    const to = Math.min(this.#end, offset + maxBytes);
    const bytes = Buffer.allocUnsafe(to - offset);
    this.#copyOut(offset, to, bytes);
    return { offset, nextOffset: to, bytes };
  }

  #index(offset: number): number {
    return (this.#head + (offset - this.#start)) % this.#ring.length;
  }

  /** The held byte at a log offset; undefined outside what the ring holds (a boundary, for `toBoundary`). */
  readonly #byteAt = (offset: number): number | undefined =>
    offset >= this.#start && offset < this.#end ? this.#ring[this.#index(offset)] : undefined;

  /** Copies the held bytes [from, to) to the start of `target`. */
  #copyOut(from: number, to: number, target: Buffer): void {
    if (to <= from) return;
    const at = this.#index(from);
    const first = Math.min(to - from, this.#ring.length - at);
    this.#ring.copy(target, 0, at, at + first);
    if (first < to - from) this.#ring.copy(target, first, 0, to - from - first);
  }
}
