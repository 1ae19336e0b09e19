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

/**
 * Longest string one piece of a log may be. Below V8's large-object size (128 KiB, even as UTF-16), a
 * piece and the JSON around it die young and cheaply: a 200 MB log streams without the heap growing.
 */
export const MAX_PIECE_CHARS = 16 * 1024;

/** A piece cut into pieces of at most MAX_PIECE_CHARS (byte offsets kept exact; lines are left whole). */
export function splitPiece<T extends TracePiece>(piece: T, unit: TraceUnit): T[] {
  if (unit !== 'BYTES' || piece.content.length <= MAX_PIECE_CHARS) return [piece];
  const pieces: T[] = [];
  let offset = piece.offset;
  for (let at = 0; at < piece.content.length; ) {
    let end = Math.min(at + MAX_PIECE_CHARS, piece.content.length);
    // Never between the two halves of a surrogate pair.
    const code = piece.content.charCodeAt(end - 1);
    if (end < piece.content.length && code >= 0xd800 && code <= 0xdbff) end -= 1;
    const content = piece.content.slice(at, end);
    const nextOffset = offset + Buffer.byteLength(content, 'utf8');
    pieces.push({ ...piece, offset, nextOffset, content });
    offset = nextOffset;
    at = end;
  }
  return pieces;
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

  append(whole: TracePiece): void {
    if (whole.nextOffset <= this.end) return;
    for (const piece of splitPiece(whole, this.#unit)) {
      this.#pieces.push(piece);
      this.#chars += piece.content.length;
    }
    this.end = whole.nextOffset;
    // Drop only what came before this append: the newest read, however large, stays readable.
    while (this.#chars > this.#maxChars && this.#pieces[0]!.offset < whole.offset) {
      this.#chars -= this.#pieces.shift()!.content.length;
    }
  }

  /**
   * What the window holds from `offset` on, joined into one piece (at most `maxPieces` pieces' worth),
   * or null when `offset` is at the end, or outside the window.
   */
  readFrom(offset: number, maxPieces = 2): TracePiece | null {
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
