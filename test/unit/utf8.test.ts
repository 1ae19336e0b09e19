/**
 * The UTF-8 boundary helper and the stream cutter: windows and cuts land on character boundaries,
 * whatever the offsets and however the bytes arrive.
 */
import { describe, expect, it } from 'vitest';
import { completeUtf8Length, decodeUtf8, isContinuation, toBoundary } from '../../src/utf8.js';
import { Utf8Cutter } from '../../src/upstreams/utf8-cutter.js';

// 'a' (1 byte), 'é' (2), '中' (3), '😀' (4), 'z' (1): boundaries at 0, 1, 3, 6, 10, 11.
const TEXT = 'aé中😀z';
const BYTES = Buffer.from(TEXT, 'utf8');
const BOUNDARIES = [0, 1, 3, 6, 10, 11];

describe('toBoundary', () => {
  it('moves forward past the rest of a character begun before the offset', () => {
    for (let at = 0; at <= BYTES.length; at++) {
      expect(toBoundary(BYTES, at, BYTES.length)).toBe(BOUNDARIES.find((b) => b >= at));
    }
  });

  it('moves backward to drop a character that would not fit whole', () => {
    for (let at = 0; at <= BYTES.length; at++) {
      expect(toBoundary(BYTES, at, 0)).toBe([...BOUNDARIES].reverse().find((b) => b <= at));
    }
  });

  it('never passes its limit, even inside a character', () => {
    // From inside '😀' (6..10) back toward 7: stops at 7 rather than splitting below it.
    expect(toBoundary(BYTES, 8, 7)).toBe(7);
    expect(toBoundary(BYTES, 7, 9)).toBe(9);
    expect(toBoundary(BYTES, 4, 4)).toBe(4);
  });

  it('reads through a function, where undefined (past the end) is a boundary', () => {
    const byteAt = (offset: number) => (offset < BYTES.length ? BYTES[offset] : undefined);
    expect(toBoundary(byteAt, 7, 100)).toBe(10);
    expect(toBoundary(byteAt, 11, 0)).toBe(11);
  });

  it('knows continuation bytes', () => {
    expect([0x41, 0x80, 0xbf, 0xc3, 0xe4, 0xf0, undefined].map(isContinuation)).toEqual([false, true, true, false, false, false, false]);
  });
});

describe('decodeUtf8', () => {
  // What a single UTF-8 decoder reads (a leading byte-order mark is not text): the pieces must add up to it.
  const whole = (bytes: Buffer) => new TextDecoder().decode(bytes);

  it('reads bodies read in pieces with a character at every offset of the first cut', () => {
    // One multi-byte character placed so that each of its bytes in turn sits at the 1 KiB cut.
    for (const char of ['é', '中', '😀']) {
      for (let at = 1020; at <= 1028; at++) {
        const bytes = Buffer.concat([Buffer.from('a'.repeat(at)), Buffer.from(char), Buffer.from('b'.repeat(9000))]);
        expect(decodeUtf8(bytes)).toBe(whole(bytes));
      }
    }
  });

  it('reads long mixed bodies whole, with and without a byte-order mark', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const words = ['job', 'Kraków', ' ', '✓', '中文', '😀', '"name":', 'x'.repeat(300), '\n'];
    for (let round = 0; round < 20; round++) {
      let text = '';
      while (text.length < 12_000) text += words[Math.floor(random() * words.length)];
      const bytes = Buffer.from(text, 'utf8');
      expect(decodeUtf8(bytes)).toBe(text);
      expect(decodeUtf8(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]))).toBe(text);
    }
  });

  it('reads bytes that are not UTF-8 as one decoder does, however long the body', () => {
    const lone = Buffer.concat([Buffer.from('a'.repeat(1023)), Buffer.from([0xe4, 0xb8]), Buffer.from('b'.repeat(9000))]);
    const stray = Buffer.concat([Buffer.from('é'.repeat(700)), Buffer.from([0x80, 0xff]), Buffer.from('c'.repeat(9000))]);
    for (const bytes of [lone, stray]) {
      expect(decodeUtf8(bytes)).toBe(whole(bytes));
      expect(decodeUtf8(bytes)).toContain('\uFFFD');
    }
  });

  it('reads small non-ASCII bodies whole', () => {
    const bytes = Buffer.from(`{"name":"Kraków ✓ 😀","pad":"${'x'.repeat(3000)}"}`);
    expect(decodeUtf8(bytes)).toBe(bytes.toString('utf8'));
  });

  it('reads ASCII as it is', () => {
    const bytes = Buffer.from('{"a":1}'.repeat(500));
    expect(decodeUtf8(bytes)).toBe(bytes.toString('utf8'));
  });
});

describe('completeUtf8Length', () => {
  it('leaves out an incomplete last character', () => {
    for (let end = 0; end <= BYTES.length; end++) {
      expect(completeUtf8Length(BYTES.subarray(0, end))).toBe([...BOUNDARIES].reverse().find((b) => b <= end));
    }
  });
});

describe('Utf8Cutter', () => {
  it('reassembles the bytes exactly, one byte per push, with whole characters in every slice', () => {
    const cutter = new Utf8Cutter(0);
    const slices = [];
    for (const byte of BYTES) {
      const slice = cutter.push(Buffer.from([byte]));
      if (slice) slices.push(slice);
    }
    expect(slices.map((slice) => slice.content).join('')).toBe(TEXT);
    expect(slices.map((slice) => slice.content)).toEqual(['a', 'é', '中', '😀', 'z']);
    let offset = 0;
    for (const slice of slices) {
      expect(slice.offset).toBe(offset);
      expect(slice.nextOffset - slice.offset).toBe(Buffer.byteLength(slice.content));
      offset = slice.nextOffset;
    }
    expect(cutter.offset).toBe(BYTES.length);
  });

  it('cuts random splits of a long multilingual log into whole characters, byte for byte', () => {
    const log = Buffer.from('✓ passed é 中文 😀 line\n'.repeat(200), 'utf8');
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const cutter = new Utf8Cutter(0);
    const parts: Buffer[] = [];
    for (let at = 0; at < log.length; ) {
      const end = Math.min(log.length, at + 1 + Math.floor(random() * 9));
      const slice = cutter.push(log.subarray(at, end));
      if (slice) {
        expect(slice.content).not.toContain('\ufffd');
        parts.push(slice.bytes);
      }
      at = end;
    }
    expect(Buffer.concat(parts).equals(log)).toBe(true);
  });

  it('skips the tail of a character begun before its first offset', () => {
    // Starting at 7, inside '😀' (6..10): the first whole character is 'z' at 10.
    const cutter = new Utf8Cutter(7);
    expect(cutter.push(BYTES.subarray(7, 9))).toBeNull();
    const slice = cutter.push(BYTES.subarray(9));
    expect(slice).toMatchObject({ offset: 10, nextOffset: 11, content: 'z' });
  });
});
