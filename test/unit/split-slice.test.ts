/**
 * The slice splitter: a byte slice becomes pieces of at most MAX_CHUNK_BYTES that never split a
 * character and cover it without gap or overlap; a line slice stays whole.
 */
import { describe, expect, it } from 'vitest';
import { MAX_CHUNK_BYTES, splitSlice } from '../../src/trace/split-slice.js';

function byteSlice(text: string, offset = 0, atEnd = true) {
  const bytes = Buffer.from(text, 'utf8');
  return { offset, nextOffset: offset + bytes.length, content: text, size: offset + bytes.length, atEnd, bytes };
}

describe('splitSlice', () => {
  it('keeps a small byte slice as one piece', () => {
    const slice = byteSlice('hello\n', 40);
    expect(splitSlice(slice)).toEqual([{ offset: 40, nextOffset: 46, content: 'hello\n', size: 46, atEnd: true }]);
  });

  it('cuts a large slice into bounded pieces at character boundaries, covering every byte once', () => {
    // 3-byte characters: MAX_CHUNK_BYTES (32768) is not a multiple of 3, so a naive cut would split one.
    const text = '中'.repeat(40_000);
    const slice = byteSlice(text, 1000, false);
    const pieces = splitSlice(slice);
    expect(pieces.length).toBeGreaterThan(3);
    let offset = 1000;
    for (const piece of pieces) {
      expect(piece.offset).toBe(offset);
      expect(piece.nextOffset - piece.offset).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
      expect((piece.nextOffset - piece.offset) % 3).toBe(0);
      expect(Buffer.byteLength(piece.content)).toBe(piece.nextOffset - piece.offset);
      expect(piece.atEnd).toBe(false);
      expect(piece.size).toBe(slice.size);
      offset = piece.nextOffset;
    }
    expect(offset).toBe(slice.nextOffset);
    expect(pieces.map((piece) => piece.content).join('')).toBe(text);
  });

  it('marks only the last piece atEnd', () => {
    const pieces = splitSlice(byteSlice('x'.repeat(MAX_CHUNK_BYTES * 2 + 5)));
    expect(pieces.map((piece) => piece.atEnd)).toEqual([false, false, true]);
  });

  it('makes progress over bytes that are all continuation bytes', () => {
    const bytes = Buffer.alloc(MAX_CHUNK_BYTES + 10, 0x80);
    const pieces = splitSlice({ offset: 0, nextOffset: bytes.length, content: '', size: bytes.length, atEnd: true, bytes });
    expect(pieces.at(-1)!.nextOffset).toBe(bytes.length);
    expect(pieces.length).toBeLessThan(bytes.length);
  });

  it('keeps a line slice (no bytes) whole', () => {
    const slice = { offset: 3, nextOffset: 5, content: 'a\nb\n'.repeat(20_000), size: 5, atEnd: true };
    expect(splitSlice(slice)).toEqual([slice]);
  });
});
