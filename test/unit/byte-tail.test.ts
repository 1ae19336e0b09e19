/**
 * The byte ring of the trace hub: it keeps the newest `maxSize` bytes of a log in place, reads windows
 * that never split a character, and follows a log that was rewritten.
 */
import { describe, expect, it } from 'vitest';
import { ByteTail } from '../../src/trace/byte-tail.js';

function slice(text: string, offset: number) {
  const bytes = Buffer.from(text, 'utf8');
  return { offset, nextOffset: offset + bytes.length, content: text, size: offset + bytes.length, atEnd: false, bytes };
}

/** Everything the tail holds, read piece by piece from its start. */
function readAll(tail: ByteTail, maxBytes?: number): string {
  let out = '';
  for (let at = tail.start; ; ) {
    const piece = tail.readFrom(at, maxBytes);
    if (!piece) return out;
    out += piece.content;
    at = piece.nextOffset;
  }
}

describe('ByteTail', () => {
  it('holds what was appended from its start offset, and reads it back', () => {
    const tail = new ByteTail(100, 1024);
    tail.append(slice('hello ', 100));
    tail.append(slice('world\n', 106));
    expect([tail.start, tail.end]).toEqual([100, 112]);
    expect(tail.readFrom(100)).toEqual({ offset: 100, nextOffset: 112, content: 'hello world\n' });
    expect(tail.readFrom(106)!.content).toBe('world\n');
    expect(tail.readFrom(112)).toBeNull();
    expect(tail.readFrom(99)).toBeNull();
  });

  it('ignores what it already has and takes only the new part of an overlapping slice', () => {
    const tail = new ByteTail(0, 1024);
    tail.append(slice('abc', 0));
    tail.append(slice('ab', 0));
    tail.append(slice('bcdef', 1));
    expect(readAll(tail)).toBe('abcdef');
  });

  it('keeps only the newest maxSize bytes, wrapping around the ring in place', () => {
    const tail = new ByteTail(0, 10);
    let log = '';
    for (let i = 0; i < 25; i++) {
      const line = `${i % 10}${String.fromCharCode(97 + (i % 26))}`;
      tail.append(slice(line, log.length));
      log += line;
      expect(tail.end - tail.start).toBeLessThanOrEqual(10);
      expect(readAll(tail)).toBe(log.slice(tail.start));
    }
    expect(tail.start).toBe(log.length - 10);
  });

  it('keeps an append larger than maxSize whole', () => {
    const tail = new ByteTail(0, 8);
    tail.append(slice('0123456789abcdef', 0));
    expect(readAll(tail)).toBe('0123456789abcdef');
    tail.append(slice('XY', 16));
    expect(tail.end - tail.start).toBeLessThanOrEqual(16);
    expect(readAll(tail).endsWith('XY')).toBe(true);
  });

  it('never splits a character: an offset inside one moves on, a window ends before one that does not fit', () => {
    // '中' is 3 bytes: offsets 0, 3, 6, 9.
    const tail = new ByteTail(0, 1024);
    tail.append(slice('中中中', 0));
    expect(tail.readFrom(1)).toEqual({ offset: 3, nextOffset: 9, content: '中中' });
    expect(tail.readFrom(0, 5)).toEqual({ offset: 0, nextOffset: 3, content: '中' });
    expect(tail.readFrom(7)).toBeNull();
    expect(readAll(tail, 4)).toBe('中中中');
  });

  it('reads whole characters across the ring\'s wrap point', () => {
    const tail = new ByteTail(0, 9);
    let log = '';
    for (let i = 0; i < 7; i++) {
      const text = i % 2 ? 'é中' : '😀';
      tail.append(slice(text, Buffer.byteLength(log)));
      log += text;
      const held = readAll(tail, 4);
      expect(held).not.toContain('\ufffd');
      expect(Buffer.from(log).subarray(Buffer.byteLength(log) - Buffer.byteLength(held)).toString()).toBe(held);
    }
  });

  it('follows a log that does not continue where the tail ends (rewritten): holds only what follows', () => {
    const tail = new ByteTail(0, 1024);
    tail.append(slice('old', 0));
    tail.append(slice('new', 50));
    expect([tail.start, tail.end]).toEqual([50, 53]);
    expect(tail.readFrom(50)!.content).toBe('new');
    expect(tail.readFrom(0)).toBeNull();
  });

  it('says when an append would push out bytes', () => {
    const tail = new ByteTail(0, 10);
    tail.append(slice('12345678', 0));
    expect(tail.wouldOverflow(slice('9', 8))).toBe(false);
    expect(tail.wouldOverflow(slice('9ab', 8))).toBe(true);
  });

  it('answers the same piece to readers at the same offset (one string for many subscribers)', () => {
    const tail = new ByteTail(0, 1024);
    tail.append(slice('shared', 0));
    expect(tail.readFrom(0)).toBe(tail.readFrom(0));
  });
});
