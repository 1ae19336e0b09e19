/**
 * What a replica's tail gives the build's stream (`rawFrom`) and takes from it: raw bytes that may end
 * inside a character (GitLab), whole lines (bk-ci), and pieces that overlap what the tail holds or
 * start past its end, as a stream read again after Redis came back delivers them.
 */
import { describe, expect, it } from 'vitest';
import { ByteTail } from '../../src/trace/byte-tail.js';
import { LineTail } from '../../src/trace/line-tail.js';

const bytesSlice = (bytes: Buffer, offset: number) => ({ offset, nextOffset: offset + bytes.length, content: '', size: 0, atEnd: true, bytes });
const lines = (offset: number, ...text: string[]) => ({ offset, nextOffset: offset + text.length, content: text.map((line) => `${line}\n`).join(''), size: 0, atEnd: true });

describe('ByteTail.rawFrom', () => {
  it('gives the bytes as appended, cut at any byte, and another tail rebuilt from them reads the same text', () => {
    const log = Buffer.from('héllo wörld ✓ done\n', 'utf8');
    const source = new ByteTail(10, 1024);
    source.append(bytesSlice(log, 10));
    const copy = new ByteTail(10, 1024);
    // Three bytes at a time: most cuts fall inside a character.
    for (let at = 10; at < source.end; ) {
      const piece = source.rawFrom(at, 3)!;
      expect(piece.bytes.equals(log.subarray(at - 10, piece.nextOffset - 10))).toBe(true);
      copy.append(bytesSlice(piece.bytes, piece.offset));
      at = piece.nextOffset;
    }
    expect(copy.readFrom(10, 1024)!.content).toBe(log.toString('utf8'));
    expect(source.rawFrom(9, 3)).toBeNull();
    expect(source.rawFrom(source.end, 3)).toBeNull();
  });
});

describe('LineTail from a stream', () => {
  it('keeps only the new lines of a piece that overlaps what it holds', () => {
    const tail = new LineTail(0, 1024);
    tail.append(lines(0, 'a', 'b', 'c'));
    tail.append(lines(1, 'b', 'c', 'd', 'e'));
    expect([tail.start, tail.end]).toEqual([0, 5]);
    expect(tail.readFrom(0)).toEqual({ offset: 0, nextOffset: 5, content: 'a\nb\nc\nd\ne\n' });
    expect(tail.readFrom(3)!.content).toBe('d\ne\n');
  });

  it('starts again at a piece that begins past its end, rather than joining lines that do not follow', () => {
    const tail = new LineTail(0, 1024);
    tail.append(lines(0, 'a', 'b'));
    tail.append(lines(7, 'h', 'i'));
    expect([tail.start, tail.end]).toEqual([7, 9]);
    expect(tail.readFrom(2)).toBeNull();
    expect(tail.readFrom(7)).toEqual({ offset: 7, nextOffset: 9, content: 'h\ni\n' });
    expect(tail.rawFrom(8)!.bytes.toString()).toBe('i\n');
  });
});
