/**
 * Relay paging in both directions over an upstream's offset paging. A position is the count of
 * upstream items up to and including an item (as in offset-paging.ts), so a `before` cursor at
 * position p ends the backward page just before index p - 1, and the page is read with the same
 * page arithmetic as a forward one, choosing a page size (up to the upstream's maximum) whose one page
 * holds the whole window: `last: 20, before:` any cursor within the first 100 items costs one request.
 */
import { badUserInput, unsupported } from '../errors.js';
import { type FetchOffsetPage, readOffsetWindow } from './offset-paging.js';

/** What a Relay window asks, in either direction (positions still encoded as the adapter wrote them). */
export interface WindowRequest {
  /** How many, forward. */
  count: number;
  after?: string;
  /** How many, backward; set means backward. */
  last?: number;
  before?: string;
}

export interface OffsetWindowPage<T> {
  items: T[];
  /** The position after each item. */
  positions: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  totalCount: number | null;
}

/** A position this module wrote: a count of items, 0 or more. */
export function parsePosition(position: string | undefined, argument: 'after' | 'before'): number {
  if (position === undefined) return 0;
  const offset = Number(position);
  if (!/^\d{1,15}$/.test(position) || !Number.isSafeInteger(offset)) {
    throw badUserInput(`\`${argument}\` is not a cursor of this list`, { argument });
  }
  return offset;
}

export const isBackward = (request: { last?: number; before?: string }): boolean =>
  request.last !== undefined || request.before !== undefined;

/**
 * Refuses backward paging on a list that cannot go back (a keyset list, a list the gateway filters or
 * splices from several upstream lists): a coded error before any upstream request.
 */
export function forwardOnly(request: { last?: number; before?: string }, upstream: string, what: string): void {
  if (isBackward(request)) throw unsupported(upstream, `Paging ${what} backward (\`last\`/\`before\`)`);
}

/**
 * The window `request` asks for. Backward without `before` (the list's last items) needs the list's
 * length: the first page is read for its count (`X-Total`, bk-ci's `count`), then the window at the end
 * (two requests, one when the list fits in that first page); an upstream that does not count refuses it.
 */
export async function readWindow<T>(
  fetch: FetchOffsetPage<T>,
  request: WindowRequest,
  upstream: string,
  maxPerPage = 100,
): Promise<OffsetWindowPage<T>> {
  if (!isBackward(request)) {
    const start = parsePosition(request.after, 'after');
    return slice(await readOffsetWindow(fetch, start, request.count, maxPerPage), start, request.count, true);
  }
  const last = request.last ?? request.count;
  if (request.before !== undefined) {
    const end = parsePosition(request.before, 'before') - 1;
    if (end <= 0) return { items: [], positions: [], hasNextPage: end === 0, hasPreviousPage: false, totalCount: null };
    const start = Math.max(0, end - last);
    const page = slice(await readAligned(fetch, start, end - start, maxPerPage), start, end - start, false);
    return { ...page, hasNextPage: true };
  }
  const head = await fetch(1, Math.min(last, maxPerPage));
  if (!head.hasNext) {
    const start = Math.max(0, head.items.length - last);
    return slice({ ...head, items: head.items.slice(start) }, start, last, false);
  }
  if (head.total === null) {
    throw unsupported(upstream, 'Paging this list from its end (`last` without `before`: the upstream does not count it)');
  }
  const start = Math.max(0, head.total - last);
  return { ...slice(await readAligned(fetch, start, last, maxPerPage), start, last, false), hasNextPage: false };
}

/**
 * The items at [start, start + count) in one upstream page where a page size up to `maxPerPage` holds
 * them all (a backward window rarely lines up with pages of `count`), else as readOffsetWindow reads them.
 */
async function readAligned<T>(fetch: FetchOffsetPage<T>, start: number, count: number, maxPerPage: number) {
  for (let perPage = count; perPage <= maxPerPage; perPage++) {
    const page = Math.floor(start / perPage);
    if (page !== Math.floor((start + count - 1) / perPage)) continue;
    const read = await fetch(page + 1, perPage);
    const skip = start - page * perPage;
    const items = read.items.slice(skip, skip + count);
    return { items, hasNext: read.hasNext || read.items.length > skip + count, total: read.total };
  }
  return readOffsetWindow(fetch, start, count, maxPerPage);
}

function slice<T>(
  window: { items: T[]; hasNext: boolean; total: number | null },
  start: number,
  count: number,
  forward: boolean,
): OffsetWindowPage<T> {
  const items = window.items.slice(0, count);
  return {
    items,
    positions: items.map((_, i) => String(start + i + 1)),
    hasNextPage: forward ? window.hasNext || window.items.length > count : window.hasNext,
    hasPreviousPage: start > 0,
    totalCount: window.total,
  };
}
