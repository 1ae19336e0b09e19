/**
 * Reads a zip the way an unzip tool does: from the end-of-central-directory record, through the central
 * directory, to each local header and its data (inflated when deflated), checking the CRC-32 of each
 * entry. Throws on anything malformed, so a test that calls it proves the archive is valid.
 */
import { crc32, inflateRawSync } from 'node:zlib';

export interface ZipFile {
  readonly name: string;
  readonly method: number;
  readonly data: Buffer;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`invalid zip: ${message}`);
}

export function readZip(bytes: Buffer): ZipFile[] {
  const end = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  check(end >= 0 && end + 22 <= bytes.length, 'no end-of-central-directory record');
  const count = bytes.readUInt16LE(end + 10);
  const size = bytes.readUInt32LE(end + 12);
  const start = bytes.readUInt32LE(end + 16);
  check(start + size === end, 'central directory does not end where the end record starts');
  check(end + 22 + bytes.readUInt16LE(end + 20) === bytes.length, 'trailing bytes after the end record');
  const files: ZipFile[] = [];
  let at = start;
  for (let i = 0; i < count; i++) {
    check(bytes.readUInt32LE(at) === 0x02014b50, `central header ${i} signature`);
    const method = bytes.readUInt16LE(at + 10);
    const crc = bytes.readUInt32LE(at + 16);
    const compressed = bytes.readUInt32LE(at + 20);
    const length = bytes.readUInt32LE(at + 24);
    const nameLength = bytes.readUInt16LE(at + 28);
    const skip = bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
    const local = bytes.readUInt32LE(at + 42);
    const name = bytes.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    at += 46 + nameLength + skip;

    check(bytes.readUInt32LE(local) === 0x04034b50, `${name}: local header signature`);
    check(bytes.readUInt32LE(local + 14) === crc, `${name}: local and central CRC differ`);
    const dataStart = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    const raw = bytes.subarray(dataStart, dataStart + compressed);
    check(method === 0 || method === 8, `${name}: method ${method}`);
    const data = method === 8 ? inflateRawSync(raw) : Buffer.from(raw);
    check(data.length === length, `${name}: size ${data.length} instead of ${length}`);
    check(crc32(data) === crc, `${name}: CRC mismatch`);
    files.push({ name, method, data });
  }
  check(at === end, 'central directory size does not match its entries');
  return files;
}
