/**
 * The recent end of one build's log, shared by every subscriber of that build: the pieces the poller
 * read, newest last, bounded in size. A subscriber reads from its own offset; one that has fallen
 * behind the window must resume from upstream.
 */
import type { TraceUnit } from '../upstreams/types.js';

export interface TracePiece {
  offset: number;
  nextOffset: number;
  content: string;
}

export class TraceTail {
  readonly #unit: TraceUnit;
  readonly #maxChars: number;
  readonly #pieces: TracePiece[] = [];
  #chars = 0;
  /** Where the log's known end is: the next offset the poller will read from. */
  end: number;

  constructor(unit: TraceUnit, start: number, maxChars: number) {
    this.#unit = unit;
    this.end = start;
    this.#maxChars = maxChars;
  }

  /** The first offset the window still holds. */
  get start(): number {
    return this.#pieces[0]?.offset ?? this.end;
  }

  get size(): number {
    return this.#chars;
  }

  append(piece: TracePiece): void {
    if (piece.nextOffset <= this.end) return;
    this.#pieces.push(piece);
    this.#chars += piece.content.length;
    this.end = piece.nextOffset;
    // Keep at least the newest piece, however large, so a live subscriber always has something to read.
    while (this.#chars > this.#maxChars && this.#pieces.length > 1) {
      this.#chars -= this.#pieces.shift()!.content.length;
    }
  }

  /**
   * What the window holds from `offset` on, joined into one piece (at most `maxPieces` pieces' worth),
   * or null when `offset` is at the end, or outside the window.
   */
  readFrom(offset: number, maxPieces = 8): TracePiece | null {
    if (offset >= this.end || offset < this.start) return null;
    let index = this.#pieces.findIndex((piece) => piece.nextOffset > offset);
    if (index < 0) return null;
    const parts: string[] = [];
    const first = this.#pieces[index]!;
    parts.push(first.offset === offset ? first.content : this.#cut(first, offset));
    let nextOffset = first.nextOffset;
    for (index += 1; index < this.#pieces.length && parts.length < maxPieces; index++) {
      parts.push(this.#pieces[index]!.content);
      nextOffset = this.#pieces[index]!.nextOffset;
    }
    return { offset, nextOffset, content: parts.length === 1 ? parts[0]! : parts.join('') };
  }

  /** The part of `piece` from `offset` on, counted in the log's unit. */
  #cut(piece: TracePiece, offset: number): string {
    const skip = offset - piece.offset;
    if (this.#unit === 'BYTES') return Buffer.from(piece.content, 'utf8').subarray(skip).toString('utf8');
    // Lines: each line of a bk-ci piece ends with a newline and counts one.
    let at = 0;
    for (let i = 0; i < skip; i++) at = piece.content.indexOf('\n', at) + 1;
    return piece.content.slice(at);
  }
}
