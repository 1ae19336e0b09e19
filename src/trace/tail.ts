/**
 * The recent end of one build's log, shared by every subscriber of that build: what the poller read,
 * bounded in size. A subscriber reads from its own offset; one that has fallen behind the window must
 * resume from upstream. GitLab logs (bytes) are held in a ring buffer (`ByteTail`); bk-ci logs (lines)
 * as the pieces the poller read (`LineTail`); `createTail` picks one.
 */
import type { TraceSlice } from '../model.js';

export interface TracePiece {
  offset: number;
  nextOffset: number;
  content: string;
}

export interface TraceTail {
  /** The first offset the window still holds. */
  readonly start: number;
  /** Where the log's known end is: the next offset the poller will read from. */
  readonly end: number;
  /** Whether appending `slice` would take the window past its size, dropping what some subscriber may not have read. */
  wouldOverflow(slice: TraceSlice): boolean;
  append(slice: TraceSlice): void;
  /** What the window holds from `offset` on (a bounded piece), or null when `offset` is at the end or outside the window. */
  readFrom(offset: number): TracePiece | null;
  /**
   * What the window holds from `offset` on as the upstream sent it (a bounded piece: raw bytes, which may
   * end inside a character, or whole lines), for another replica's tail; null outside the window.
   */
  rawFrom(offset: number, maxBytes: number): RawPiece | null;
}

/** A piece of log as the upstream sent it: bytes (GitLab) or the UTF-8 of whole lines (bk-ci). */
export interface RawPiece {
  offset: number;
  nextOffset: number;
  bytes: Buffer;
}
