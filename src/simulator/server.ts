/**
 * The HTTP front: one `node:http` listener that routes to the API modules (counted in stats) or the
 * control modules (not counted), identifies the caller once, and writes every reply in one place with
 * an exact Content-Length so keep-alive connections stay cheap; a list-of-Buffers body (a job log) is
 * written in pieces of at most 64 KiB, waiting for the socket to drain, so a 200 MB log streams. A
 * handler that throws is a bug: it is logged and answered 500, and the process stays up.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { ANONYMOUS, identify, presentedToken } from './auth.js';
import { ERRORS, json } from './http.js';
import type { Reply } from './http.js';
import { parseQuery } from './query.js';
import type { Params } from './query.js';
import { Router } from './router.js';
import type { Handler, RouteModule } from './routes/context.js';
import { UNMATCHED, meterBody } from './stats.js';
import type { Stats } from './stats.js';
import type { Store } from './store.js';

const MAX_BODY_BYTES = 1 << 20;
/** The largest single write of a streamed body. */
export const PIECE_BYTES = 64 * 1024;
const NO_PARAMS: Params = Object.freeze(Object.create(null) as Params);

export interface ServerDeps {
  readonly store: Store;
  readonly stats: Stats;
  readonly api: readonly RouteModule[];
  readonly control: readonly RouteModule[];
}

function routerOf(modules: readonly RouteModule[]): Router<Handler> {
  const router = new Router<Handler>();
  for (const module of modules) for (const row of module.routes) router.add(row.method, module.mount + row.path, row.handler);
  return router;
}

export function createRequestListener(deps: ServerDeps): RequestListener {
  const api = routerOf(deps.api);
  const control = routerOf(deps.control);

  async function dispatch(req: IncomingMessage): Promise<Reply> {
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark === -1 ? url : url.slice(0, mark);
    const search = mark === -1 ? '' : url.slice(mark + 1);
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const query = search === '' ? NO_PARAMS : parseQuery(search);
    const isControl = path.startsWith('/__sim/');
    const match = (isControl ? control : api).match(method, path);
    if (!isControl) deps.stats.count(match ? (req.method === 'HEAD' ? `HEAD${match.route.key.slice(3)}` : match.route.key) : `${req.method} ${UNMATCHED}`);
    if (!match) return ERRORS.routeNotFound;
    let caller = ANONYMOUS;
    if (!isControl) {
      caller = identify(deps.store, presentedToken(req.headers, query));
      if (caller.kind === 'invalid') return ERRORS.unauthorized;
    }
    const body = method === 'POST' ? await readBody(req) : NO_PARAMS;
    if (body === undefined) return json(400, { error: 'The request body is not valid JSON or is too large' });
    return match.route.handler({ method, path, params: match.params, query, body, headers: req.headers, caller, now: Date.now() });
  }

  return (req: IncomingMessage, res: ServerResponse) => {
    dispatch(req).then(
      (reply) => send(res, reply, req.method === 'HEAD'),
      (error: unknown) => {
        console.error('buildgate simulator: request failed', req.method, req.url, error);
        if (!res.headersSent) send(res, ERRORS.internal, false);
        else res.destroy();
      },
    );
  };
}

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

/** POST parameters as Grape merges them: a JSON object or a form; anything else contributes none. */
export async function readBody(req: IncomingMessage): Promise<Params | undefined> {
  const type = req.headers['content-type'] ?? '';
  const length = Number(req.headers['content-length'] ?? 0);
  if (length === 0 && req.headers['transfer-encoding'] === undefined) return NO_PARAMS;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw.trim() === '') return NO_PARAMS;
  if (type.includes('application/x-www-form-urlencoded')) return parseQuery(raw);
  if (!type.includes('json')) return NO_PARAMS;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return NO_PARAMS;
    const params: Params = Object.create(null) as Params;
    for (const [key, value] of Object.entries(parsed)) {
      if (Array.isArray(value)) params[key] = value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v)));
      else if (value !== null && typeof value === 'object') params[key] = JSON.stringify(value);
      else if (value !== null && value !== undefined) params[key] = String(value);
    }
    return params;
  } catch {
    return undefined;
  }
}
