/**
 * A minimal ZIP writer (PKWARE APPNOTE 4.3: local headers, central directory, end record) for the
 * artifact archives the simulator serves. Enough for `unzip`, Python's zipfile and GitLab clients: no
 * ZIP64, no encryption, no data descriptors (sizes and CRC are known up front), UTF-8 names (flag
 * bit 11). Entries are stored, or deflated with `node:zlib` when asked.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  /** Path inside the archive, `/`-separated, no leading slash. */
  readonly name: string;
  readonly data: Buffer;
  /** Deflate (method 8) instead of storing (method 0). @default false */
  readonly deflate?: boolean;
  /** Epoch ms; written as an MS-DOS date and time (UTC, 2-second resolution, 1980–2107). */
  readonly modifiedAt: number;
}

const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
const END_RECORD = 22;
/** Version 2.0: deflate. "Made by" 3 (Unix) in the high byte, so external attributes carry a file mode. */
const VERSION_NEEDED = 20;
const MADE_BY = (3 << 8) | VERSION_NEEDED;
const UTF8_NAMES = 1 << 11;
/** `-rw-r--r--` regular file, in the high 16 bits as Info-ZIP writes it. */
const FILE_MODE = 0o100644 << 16;

/** Bytes a stored entry adds to an archive besides its data (local + central header, name twice). */
export function storedEntryOverhead(name: string): number {
  return LOCAL_HEADER + CENTRAL_HEADER + 2 * Buffer.byteLength(name);
}

function dosDateTime(ms: number): { date: number; time: number } {
  const d = new Date(Math.min(Math.max(ms, Date.UTC(1980, 0, 1)), Date.UTC(2107, 11, 31)));
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
  };
}

export function zip(entries: readonly ZipEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const body = entry.deflate ? deflateRawSync(entry.data) : entry.data;
    const crc = crc32(entry.data);
    const { date, time } = dosDateTime(entry.modifiedAt);
    const method = entry.deflate ? 8 : 0;

    const local = Buffer.alloc(LOCAL_HEADER);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    parts.push(local, name, body);

    const header = Buffer.alloc(CENTRAL_HEADER);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(MADE_BY, 4);
    header.writeUInt16LE(VERSION_NEEDED, 6);
    header.writeUInt16LE(UTF8_NAMES, 8);
    header.writeUInt16LE(method, 10);
    header.writeUInt16LE(time, 12);
    header.writeUInt16LE(date, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(body.length, 20);
    header.writeUInt32LE(entry.data.length, 24);
    header.writeUInt16LE(name.length, 28);
    // Extra field, comment, disk number and internal attributes stay 0.
    header.writeUInt32LE(FILE_MODE >>> 0, 38);
    header.writeUInt32LE(offset, 42);
    central.push(header, name);

    offset += LOCAL_HEADER + name.length + body.length;
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(END_RECORD);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, end]);
}
