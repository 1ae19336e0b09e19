/**
 * The GitLab front end and the control front end (pipeline.ts runs them): each parses the URL, matches
 * its router, and for an API request counts the route in stats at once; `answer` then identifies the
 * caller, reads the body and runs the handler. Handlers return a Reply and never touch the socket, so
 * faults and sending happen in one place (pipeline.ts, send.ts). A handler that throws is a bug: it is
 * logged and answered 500, and the process stays up.
 */
import type { IncomingMessage } from 'node:http';
import { ANONYMOUS, identify, presentedToken } from './auth.js';
import type { Caller } from './auth.js';
import { ERRORS, json } from './http.js';
import type { Reply } from './http.js';
import type { FrontEnd, Routed } from './pipeline.js';
import { parseQuery } from './query.js';
import type { Params } from './query.js';
import { Router } from './router.js';
import type { Match } from './router.js';
import type { Handler, RouteModule } from './routes/context.js';
import { UNMATCHED } from './stats.js';
import type { Stats } from './stats.js';
import type { Store } from './store.js';

const MAX_BODY_BYTES = 1 << 20;
const NO_PARAMS: Params = Object.freeze(Object.create(null) as Params);
const NO_BODY: Body = Object.freeze({ params: NO_PARAMS, json: undefined });
/** Where the control endpoints live; nothing under it is counted or faulted. */
export const CONTROL_MOUNT = '/__sim';

export interface GitlabFrontEndDeps {
  readonly store: Store;
  readonly stats: Stats;
  readonly api: readonly RouteModule[];
}

function routerOf(modules: readonly RouteModule[]): Router<Handler> {
  const router = new Router<Handler>();
  for (const module of modules) for (const row of module.routes) router.add(row.method, module.mount + row.path, row.handler);
  return router;
}

interface Target {
  readonly path: string;
  readonly query: Params;
  /** HEAD is routed as GET. */
  readonly method: string;
}

function targetOf(req: IncomingMessage): Target {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  const search = mark === -1 ? '' : url.slice(mark + 1);
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  return { path, query: search === '' ? NO_PARAMS : parseQuery(search), method };
}

const BAD_BODY = json(400, { error: 'The request body is not valid JSON or is too large' });

/** Reads the body (of a POST) and runs the matched handler. */
async function run(req: IncomingMessage, { path, query, method }: Target, match: Match<Handler>, caller: Caller): Promise<Reply> {
  const body = method === 'POST' ? await readBody(req) : NO_BODY;
  if (body === undefined) return BAD_BODY;
  return match.route.handler({ method, path, params: match.params, query, body: body.params, json: body.json, headers: req.headers, caller, now: Date.now() });
}

/** `answer` with a throw turned into GitLab's 500. */
function guarded(req: IncomingMessage, answer: () => Promise<Reply>): () => Promise<Reply> {
  return () =>
    answer().catch((error: unknown) => {
      console.error('buildgate simulator: request failed', req.method, req.url, error);
      return ERRORS.internal;
    });
}

/** GitLab's v4 and v3 APIs and artifact downloads: every URL that no other front end owns. */
export function gitlabFrontEnd({ store, stats, api }: GitlabFrontEndDeps): FrontEnd {
  const router = routerOf(api);
  return {
    owns: () => true,
    routeKeys: router.keys(),
    route(req): Routed {
      const target = targetOf(req);
      const match = router.match(target.method, target.path);
      const key = match ? (req.method === 'HEAD' ? `HEAD${match.route.key.slice(3)}` : match.route.key) : `${req.method} ${UNMATCHED}`;
      stats.count(key);
      const answer = async (): Promise<Reply> => {
        if (!match) return ERRORS.routeNotFound;
        const caller = identify(store, presentedToken(req.headers, target.query));
        return caller.kind === 'invalid' ? ERRORS.unauthorized : run(req, target, match, caller);
      };
      return { key, upstream: 'gitlab', answer: guarded(req, answer) };
    },
  };
}

/** The simulator's own endpoints under `/__sim`: not counted, never faulted, no caller. */
export function controlFrontEnd(modules: readonly RouteModule[]): FrontEnd {
  const router = routerOf(modules);
  return {
    owns: (url) => url.startsWith(`${CONTROL_MOUNT}/`),
    routeKeys: [],
    route(req): Routed {
      const target = targetOf(req);
      const match = router.match(target.method, target.path);
      const answer = async (): Promise<Reply> => (match ? run(req, target, match, ANONYMOUS) : ERRORS.routeNotFound);
      return { key: undefined, upstream: 'gitlab', answer: guarded(req, answer) };
    },
  };
}

/** A POST body: its parameters as Grape merges them, and the JSON value as sent (undefined for a form or no body). */
export interface Body {
  readonly params: Params;
  readonly json: unknown;
}

/**
 * POST parameters as Grape merges them: a JSON object or a form; anything else contributes none.
 * @returns undefined for a body that is too large or not JSON although it says it is
 */
export async function readBody(req: IncomingMessage): Promise<Body | undefined> {
  const type = req.headers['content-type'] ?? '';
  const length = Number(req.headers['content-length'] ?? 0);
  if (length === 0 && req.headers['transfer-encoding'] === undefined) return NO_BODY;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw.trim() === '') return NO_BODY;
  if (type.includes('application/x-www-form-urlencoded')) return { params: parseQuery(raw), json: undefined };
  if (!type.includes('json')) return NO_BODY;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { params: NO_PARAMS, json: parsed };
    const params: Params = Object.create(null) as Params;
    for (const [key, value] of Object.entries(parsed)) {
      if (Array.isArray(value)) params[key] = value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v)));
      else if (value !== null && typeof value === 'object') params[key] = JSON.stringify(value);
      else if (value !== null && value !== undefined) params[key] = String(value);
    }
    return { params, json: parsed };
  } catch {
    return undefined;
  }
}
