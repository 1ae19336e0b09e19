/**
 * The recent end of one build's log, shared by every subscriber of that build: the pieces the poller
 * read, newest last, bounded in size. A subscriber reads from its own offset; one that has fallen
 * behind the window must resume from upstream.
 */
import type { TraceUnit } from '../upstreams/types.js';
import { isContinuation } from './utf8.js';

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


/**
 * A held piece. GitLab logs are held as UTF-8 bytes, outside V8's heap: a log that stays in the tail
 * for a while would otherwise be promoted to the old generation as strings and pile up there until a
 * major collection. Strings are made per read and die young. bk-ci's line pieces stay strings.
 */
interface Held {
  offset: number;
  nextOffset: number;
  bytes?: Buffer;
  text?: string;
}

export class TraceTail {
  readonly #unit: TraceUnit;
  readonly #maxSize: number;
  readonly #pieces: Held[] = [];
  #size = 0;
  /** The last window read: many subscribers at the same offset share one string. */
  #lastRead: TracePiece | undefined;
  /** Where the log's known end is: the next offset the poller will read from. */
  end: number;

  /** `maxSize`: bytes (GitLab) or characters (bk-ci) held. */
  constructor(unit: TraceUnit, start: number, maxSize: number) {
    this.#unit = unit;
    this.end = start;
    this.#maxSize = maxSize;
  }

  /** The first offset the window still holds. */
  get start(): number {
    return this.#pieces[0]?.offset ?? this.end;
  }

  get size(): number {
    return this.#size;
  }

  append(whole: TracePiece): void {
    if (whole.nextOffset <= this.end) return;
    for (const piece of this.#hold(whole)) {
      this.#pieces.push(piece);
      this.#size += piece.bytes?.length ?? piece.text!.length;
    }
    this.end = whole.nextOffset;
    // Drop only what came before this append: the newest read, however large, stays readable.
    while (this.#size > this.#maxSize && this.#pieces[0]!.offset < whole.offset) {
      const dropped = this.#pieces.shift()!;
      this.#size -= dropped.bytes?.length ?? dropped.text!.length;
    }
  }

  /** A piece as held: bytes cut at character boundaries into MAX_PIECE_CHARS-sized parts, or lines as they are. */
  #hold(piece: TracePiece): Held[] {
    if (this.#unit !== 'BYTES') return [{ offset: piece.offset, nextOffset: piece.nextOffset, text: piece.content }];
    const bytes = Buffer.from(piece.content, 'utf8');
    const held: Held[] = [];
    for (let at = 0; at < bytes.length; ) {
      let end = Math.min(at + MAX_PIECE_CHARS, bytes.length);
      while (end > at + 1 && end < bytes.length && isContinuation(bytes[end])) end -= 1;
      held.push({ offset: piece.offset + at, nextOffset: piece.offset + end, bytes: bytes.subarray(at, end) });
      at = end;
    }
    return held;
  }

  /**
   * What the window holds from `offset` on, joined into one piece (at most `maxPieces` pieces' worth),
   * or null when `offset` is at the end, or outside the window.
   */
  readFrom(offset: number, maxPieces = 2): TracePiece | null {
    if (offset >= this.end || offset < this.start) return null;
    let index = this.#pieces.findIndex((piece) => piece.nextOffset > offset);
    if (index < 0) return null;
    const last = Math.min(index + maxPieces, this.#pieces.length) - 1;
    const nextOffset = this.#pieces[last]!.nextOffset;
    if (this.#lastRead?.offset === offset && this.#lastRead.nextOffset === nextOffset) return this.#lastRead;
    let content: string;
    if (this.#unit === 'BYTES') {
      const parts: Buffer[] = [];
      for (; index <= last; index++) {
        const piece = this.#pieces[index]!;
        parts.push(piece.offset < offset ? piece.bytes!.subarray(offset - piece.offset) : piece.bytes!);
      }
      content = (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).toString('utf8');
    } else {
      const parts: string[] = [];
      for (; index <= last; index++) {
        const piece = this.#pieces[index]!;
        parts.push(piece.offset < offset ? cutLines(piece.text!, offset - piece.offset) : piece.text!);
      }
      content = parts.join('');
    }
    this.#lastRead = { offset, nextOffset, content };
    return this.#lastRead;
  }
}

/** The text after the first `skip` lines (each line of a bk-ci piece ends with a newline and counts one). */
function cutLines(text: string, skip: number): string {
  let at = 0;
  for (let i = 0; i < skip; i++) at = text.indexOf('\n', at) + 1;
  return text.slice(at);
}
