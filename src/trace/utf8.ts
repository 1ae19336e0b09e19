/**
 * Cuts a byte stream of UTF-8 into strings that never split a character: an incomplete sequence at the
 * end of a piece waits for the next piece; bytes that continue a character begun before the stream's
 * first offset are skipped (an offset always names a character boundary).
 */
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

export class Utf8Cutter {
  #carry: Buffer = Buffer.alloc(0);
  #started = false;
  /** Offset of the next byte `push` will return. */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** The complete characters now available, with the offsets they span; null when none. */
  push(chunk: Buffer): { offset: number; nextOffset: number; content: string } | null {
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
    const offset = this.offset;
    this.offset += cut;
    return { offset, nextOffset: this.offset, content: data.toString('utf8', 0, cut) };
  }
}
