/**
 * GitLab's two pagination strategies (GL `offset_pagination.rb`, `offset_header_builder.rb`,
 * `keyset/cursor_pager.rb`). Offset: `page`/`per_page` (default 20, silently clamped to 1…100),
 * X-Page/X-Per-Page/X-Next-Page/X-Prev-Page, X-Total/X-Total-Pages only when counted, and a Link header
 * whose URLs repeat every request parameter (Rails `to_query`). Keyset: an opaque `cursor` in a
 * `rel="next"` Link only, absent on the last page.
 */
import { ERRORS, invalidParam, json } from './http.js';
import type { Headers, Reply } from './http.js';
import { toQuery } from './query.js';
import type { ParamValue, Params, QueryValue } from './query.js';

export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;

export interface PageRequest {
  readonly page: number;
  readonly perPage: number;
}

function integerParam(params: Params, name: string): number | undefined | Reply {
  const value: ParamValue | undefined = params[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^[-+]?\d+$/.test(value.trim())) return invalidParam(name);
  return Number(value.trim());
}

export function pageRequest(params: Params): PageRequest | Reply {
  const page = integerParam(params, 'page');
  if (typeof page === 'object') return page;
  const perPage = integerParam(params, 'per_page');
  if (typeof perPage === 'object') return perPage;
  return {
    page: Math.max(1, page ?? 1),
    perPage: Math.min(MAX_PER_PAGE, Math.max(1, perPage ?? DEFAULT_PER_PAGE)),
  };
}

/** Where Link URLs point: the simulator's own origin and the request's raw path. */
export interface LinkBase {
  readonly origin: string;
  readonly path: string;
  /** The parameters to repeat (request parameters as the API declared and coerced them). */
  readonly params: Readonly<Record<string, QueryValue>>;
}

const link = (base: LinkBase, extra: Record<string, QueryValue>, rel: string): string =>
  `<${base.origin}${base.path}?${toQuery({ ...base.params, ...extra })}>; rel="${rel}"`;

export interface OffsetPage {
  readonly page: number;
  readonly perPage: number;
  readonly hasNext: boolean;
  /** Omitted when the endpoint does not count (GitLab's jobs list). */
  readonly total?: number;
}

export function offsetHeaders(base: LinkBase, p: OffsetPage): Headers {
  const headers: Headers = {
    'x-page': String(p.page),
    'x-per-page': String(p.perPage),
    'x-next-page': p.hasNext ? String(p.page + 1) : '',
    'x-prev-page': p.page > 1 ? String(p.page - 1) : '',
  };
  const links: string[] = [];
  if (p.page > 1) links.push(link(base, { page: p.page - 1, per_page: p.perPage }, 'prev'));
  if (p.hasNext) links.push(link(base, { page: p.page + 1, per_page: p.perPage }, 'next'));
  links.push(link(base, { page: 1, per_page: p.perPage }, 'first'));
  if (p.total !== undefined) {
    const totalPages = Math.max(1, Math.ceil(p.total / p.perPage));
    headers['x-total'] = String(p.total);
    headers['x-total-pages'] = String(totalPages);
    links.push(link(base, { page: totalPages, per_page: p.perPage }, 'last'));
  }
  headers.link = links.join(', ');
  return headers;
}

export interface KeysetRequest {
  readonly perPage: number;
  /** Only ids below this one (the last id of the previous page). */
  readonly before: number | undefined;
}

export const INVALID_CURSOR: Reply = Object.freeze(json(400, { message: '400 Bad request - Invalid cursor value' }));

/** Only `order_by=id&sort=desc` exists for jobs (gitlab #417667); anything else is 405. */
export function keysetRequest(params: Params): KeysetRequest | Reply {
  const orderBy = params.order_by ?? 'id';
  const sort = params.sort ?? 'desc';
  if (orderBy !== 'id' || sort !== 'desc') return ERRORS.keysetUnsupported;
  const perPage = integerParam(params, 'per_page');
  if (typeof perPage === 'object') return perPage;
  const cursor = params.cursor;
  let before: number | undefined;
  if (cursor !== undefined) {
    if (typeof cursor !== 'string') return INVALID_CURSOR;
    before = decodeCursor(cursor);
    if (before === undefined) return INVALID_CURSOR;
  }
  return { perPage: Math.min(MAX_PER_PAGE, Math.max(1, perPage ?? DEFAULT_PER_PAGE)), before };
}

/** Shaped like GitLab's (base64 of `{"id":"…","_kd":"n"}`); clients must treat it as opaque. */
export function encodeCursor(lastId: number): string {
  return Buffer.from(JSON.stringify({ id: String(lastId), _kd: 'n' })).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { id?: unknown };
    const id = Number(parsed.id);
    return Number.isSafeInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The keyset Link repeats the raw request parameters (not the coerced ones), plus the new cursor. */
export function keysetHeaders(base: LinkBase, nextCursor: string | undefined): Headers {
  return nextCursor === undefined ? {} : { link: link(base, { cursor: nextCursor }, 'next') };
}
