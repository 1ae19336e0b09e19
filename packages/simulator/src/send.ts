/**
 * Writing a reply to the socket, in one place for every front end and every fault: an exact
 * Content-Length so keep-alive connections stay cheap, and a list-of-Buffers body (a job log) written in
 * pieces of at most 64 KiB, waiting for the socket to drain, so a 200 MB log streams. Also the two body
 * helpers faults need: a body's length and its first bytes, without copying a whole log.
 */
import type { ServerResponse } from 'node:http';
import type { Reply } from './http.js';
import { meterBody } from './stats.js';

/** The largest single write of a streamed body. */
export const PIECE_BYTES = 64 * 1024;

/** Writes `reply` whole (its headers only, for a HEAD). */
export function send(res: ServerResponse, reply: Reply, head: boolean): void {
  const body = reply.body;
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) {
    sendPieces(res, reply, body, head);
    return;
  }
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  res.writeHead(reply.status, { ...reply.headers, 'content-length': length });
  res.end(head ? undefined : body);
  if (!head) meterBody(res, length);
}

function sendPieces(res: ServerResponse, reply: Reply, chunks: readonly Buffer[], head: boolean): void {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  res.writeHead(reply.status, { ...reply.headers, 'content-length': length });
  if (head || length === 0) {
    res.end();
    return;
  }
  const pieces = inPieces(chunks);
  const pump = (): void => {
    for (;;) {
      if (res.destroyed) return;
      const next = pieces.next();
      if (next.done) {
        res.end();
        return;
      }
      const ok = res.write(next.value);
      meterBody(res, next.value.length);
      if (!ok) {
        res.once('drain', pump);
        return;
      }
    }
  };
  // A client that goes away mid-stream never drains; drop the waiting pump with the response.
  res.once('close', () => res.off('drain', pump));
  pump();
}

/** Consecutive slices of `chunks` of PIECE_BYTES (the last one shorter): views where one chunk covers a piece, else copies. */
function* inPieces(chunks: readonly Buffer[]): Generator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for (const chunk of chunks) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(PIECE_BYTES - pendingBytes, chunk.length - offset);
      const part = chunk.subarray(offset, offset + take);
      offset += take;
      if (pendingBytes === 0 && take === PIECE_BYTES) {
        yield part;
        continue;
      }
      pending.push(part);
      pendingBytes += take;
      if (pendingBytes === PIECE_BYTES) {
        yield Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
}

/** The body's length in bytes. */
export function bodyLength(body: Reply['body']): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (Buffer.isBuffer(body)) return body.length;
  let length = 0;
  for (const chunk of body) length += chunk.length;
  return length;
}

/** The first `bytes` bytes of the body (views, not copies, of a Buffer or a list of them). */
export function firstBytes(body: Reply['body'], bytes: number): Buffer | Buffer[] {
  if (typeof body === 'string') return Buffer.from(body).subarray(0, bytes);
  if (Buffer.isBuffer(body)) return body.subarray(0, bytes);
  const out: Buffer[] = [];
  let left = bytes;
  for (const chunk of body) {
    if (left <= 0) break;
    out.push(chunk.length <= left ? chunk : chunk.subarray(0, left));
    left -= chunk.length;
  }
  return out;
}
