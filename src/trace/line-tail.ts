/**
 * A bk-ci log's recent end (offsets in lines), held as the pieces the poller read: bounded in
 * characters, the newest read always kept whole.
 */
import type { TraceSlice } from '../model.js';
import type { RawPiece, TracePiece, TraceTail } from './tail.js';

/** A bk-ci log's recent lines, as the pieces the poller read, newest last. */
export class LineTail implements TraceTail {
  readonly #maxSize: number;
  readonly #pieces: TracePiece[] = [];
  #size = 0;
  #lastRead: TracePiece | undefined;
  end: number;

  constructor(start: number, maxSize: number) {
    this.end = start;
    this.#maxSize = maxSize;
  }

  get start(): number {
    return this.#pieces[0]?.offset ?? this.end;
  }

  wouldOverflow(slice: TraceSlice): boolean {
    return this.#size + slice.content.length > this.#maxSize;
  }

  append(slice: TraceSlice): void {
    if (slice.nextOffset <= this.end) return;
    let { offset, content } = slice;
    if (offset > this.end) {
      // The log does not continue where the tail ends (another replica's stream started later): hold only what follows.
      this.#pieces.length = 0;
      this.#size = 0;
    } else if (offset < this.end) {
      // Lines this tail holds already (a stream read again after Redis came back): keep only the new ones.
      content = cutLines(content, this.end - offset);
      offset = this.end;
    }
    this.#pieces.push({ offset, nextOffset: slice.nextOffset, content });
    this.#size += content.length;
    this.end = slice.nextOffset;
    // Drop only what came before this append: the newest read, however large, stays readable.
    while (this.#size > this.#maxSize && this.#pieces[0]!.offset < offset) {
      this.#size -= this.#pieces.shift()!.content.length;
    }
  }

  /** At most two pieces' worth, joined. */
  readFrom(offset: number): TracePiece | null {
    if (offset >= this.end || offset < this.start) return null;
    let index = this.#pieces.findIndex((piece) => piece.nextOffset > offset);
    if (index < 0) return null;
    const last = Math.min(index + 2, this.#pieces.length) - 1;
    const nextOffset = this.#pieces[last]!.nextOffset;
    if (this.#lastRead?.offset === offset && this.#lastRead.nextOffset === nextOffset) return this.#lastRead;
    const parts: string[] = [];
    for (; index <= last; index++) {
      const piece = this.#pieces[index]!;
      parts.push(piece.offset < offset ? cutLines(piece.content, offset - piece.offset) : piece.content);
    }
    this.#lastRead = { offset, nextOffset, content: parts.join('') };
    return this.#lastRead;
  }

  /** Whole pieces (at most two, as `readFrom`): a line-numbered log is never cut inside a line. */
  rawFrom(offset: number): RawPiece | null {
    const piece = this.readFrom(offset);
    return piece && { offset: piece.offset, nextOffset: piece.nextOffset, bytes: Buffer.from(piece.content, 'utf8') };
  }
}

/** The text after the first `skip` lines (each line of a bk-ci piece ends with a newline and counts one). */
function cutLines(text: string, skip: number): string {
  let at = 0;
  for (let i = 0; i < skip; i++) at = text.indexOf('\n', at) + 1;
  return text.slice(at);
}
