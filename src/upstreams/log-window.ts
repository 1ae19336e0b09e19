/**
 * One window of a UTF-8 job log, read as a stream that stops once it has the window (and a few bytes
 * more: see SLACK). It asks for
 * `Range: bytes=offset-end` and takes a 206 where the upstream (or a proxy) honours it; GitLab ignores
 * `Range` and sends the whole log with 200, whose first `offset` bytes are skipped as they stream by
 * and whose rest is never read. Memory and upstream bytes are the window's, not the log's.
 */
import { BuildgateError, badUserInput } from '../errors.js';
import { completeUtf8Length, toBoundary } from '../utf8.js';
import { UpstreamBodyError } from './errors.js';
import { type UpstreamHttp, firstHeader } from './http.js';
import type { TraceSlice } from '../model.js';
import type { CallContext } from './types.js';

/** Raw log bytes from `offset`, and what is known of the rest. */
export interface LogBytesRead {
  offset: number;
  bytes: Buffer;
  /** Whether `bytes` run to the end of the log. */
  toEnd: boolean;
  /** The log's length: from `Content-Range`/`Content-Length`, else (read cut short) a lower bound. */
  size: number;
}

function beyondEnd(offset: number, size: number | undefined): BuildgateError {
  const length = size === undefined ? '' : ` (${size} bytes)`;
  return badUserInput(`\`offset\` ${offset} is beyond the end of the log${length}`, { argument: 'offset' });
}

/**
 * The bytes past a window's `limit` a read needs: up to 3 that continue a character begun before
 * `offset` (the window starts after them, so it ends up to 3 bytes later), and one after the window to
 * see whether its last character is whole and whether the log goes on.
 */
const SLACK = 4;

/**
 * A log body without its first `toSkip.bytes` bytes (those before the offset asked for, in a whole-log
 * 200 or a 206 that starts early); `toSkip.bytes` counts down, so what is left once the body ends says
 * the log was shorter than that. Leaving the loop early closes `body`.
 */
export async function* skipBytes(body: AsyncIterable<Buffer>, toSkip: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of body) {
    if (toSkip.bytes >= chunk.length) {
      toSkip.bytes -= chunk.length;
      continue;
    }
    const rest = toSkip.bytes > 0 ? chunk.subarray(toSkip.bytes) : chunk;
    toSkip.bytes = 0;
    yield rest;
  }
}

/** Reads at most `limit + SLACK` bytes of the log at `path` from `offset`. */
export async function readLogBytes(http: UpstreamHttp, call: CallContext, path: string, offset: number, limit: number): Promise<LogBytesRead> {
  const want = limit + SLACK;
  const response = await http.getStream(call, {
    path,
    headers: { accept: 'text/plain', range: `bytes=${offset}-${offset + want - 1}` },
    acceptStatuses: [416],
  });
  const contentRange = firstHeader(response.headers['content-range']) ?? '';
  if (response.status === 416) {
    await response.dump();
    const total = Number(/\/(\d+)\s*$/.exec(contentRange)?.[1]);
    if (Number.isSafeInteger(total) && offset <= total) return { offset: total, bytes: Buffer.alloc(0), toEnd: true, size: total };
    throw beyondEnd(offset, Number.isSafeInteger(total) ? total : undefined);
  }
  let skip = offset;
  let total: number | undefined;
  if (response.status === 206) {
    const range = /^bytes (\d+)-\d+\/(\d+|\*)/.exec(contentRange);
    skip = range ? offset - Number(range[1]) : -1;
    if (!range || skip < 0) {
      await response.dump();
      throw new UpstreamBodyError(http.upstream, 'a log range it was not asked for');
    }
    total = range[2] === '*' ? undefined : Number(range[2]);
  } else {
    const length = Number(firstHeader(response.headers['content-length']));
    total = Number.isSafeInteger(length) ? length : undefined;
  }
  const chunks: Buffer[] = [];
  let have = 0;
  let toEnd = true;
  // Breaking out of the loop closes the body: the rest of the log is never read.
  const toSkip = { bytes: skip };
  for await (const chunk of skipBytes(response.body, toSkip)) {
    chunks.push(chunk);
    have += chunk.length;
    if (have >= want) {
      toEnd = false;
      break;
    }
  }
  if (toSkip.bytes > 0) throw beyondEnd(offset, offset - toSkip.bytes);
  const bytes = Buffer.concat(chunks, have).subarray(0, want);
  return { offset, bytes, toEnd, size: total ?? offset + bytes.length };
}

/**
 * The window `[offset, offset + limit)` of a read, never splitting a character: an offset inside a
 * character moves forward to the next one, and the window ends before a character that would not fit.
 * The slice carries no `bytes` (a view would keep the whole read alive wherever the slice is kept).
 */
export function cutWindow(read: LogBytesRead, offset: number, limit: number): TraceSlice {
  const { bytes } = read;
  if (offset > read.offset + bytes.length && read.toEnd) throw beyondEnd(offset, read.size);
  const start = toBoundary(bytes, Math.min(Math.max(offset - read.offset, 0), bytes.length), bytes.length);
  let end = Math.min(start + limit, bytes.length);
  // Short of the read's end, the next byte says whether the last character fits; at the end of a read
  // cut short, an incomplete last character is left for the next window.
  if (end < bytes.length) end = toBoundary(bytes, end, start);
  else if (!read.toEnd) end = start + completeUtf8Length(bytes.subarray(start, end));
  return {
    offset: read.offset + start,
    nextOffset: read.offset + end,
    content: bytes.toString('utf8', start, end),
    size: read.size,
    atEnd: read.toEnd && end === bytes.length,
  };
}
