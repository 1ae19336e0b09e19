/**
 * Relay windows over an upstream's offset paging (`page`, `per_page`). A position is the number of
 * upstream items before the next one, so any `first`/`after` pair costs one upstream page when it is
 * aligned with the page size, and two otherwise.
 */
import { badUserInput } from '../errors.js';
import type { BuildModel, BuildPage } from '../model.js';

export interface OffsetPage<T> {
  items: T[];
  hasNext: boolean;
  /** Null when the upstream does not count. */
  total: number | null;
}

export type FetchOffsetPage<T> = (page: number, perPage: number) => Promise<OffsetPage<T>>;

/**
 * The items at positions [start, start + first), and whether more follow: one upstream page when the
 * window is aligned with a page of `first` items, else the pages of `min(first, maxPerPage)` that cover
 * it, fetched in parallel.
 */
export async function readOffsetWindow<T>(
  fetch: FetchOffsetPage<T>,
  start: number,
  first: number,
  maxPerPage = 100,
): Promise<OffsetPage<T>> {
  const perPage = Math.min(first, maxPerPage);
  const firstPage = Math.floor(start / perPage) + 1;
  const lastPage = Math.floor((start + first - 1) / perPage) + 1;
  const pages = await Promise.all(
    Array.from({ length: lastPage - firstPage + 1 }, (_, i) => fetch(firstPage + i, perPage)),
  );
  const skip = start - (firstPage - 1) * perPage;
  const all = pages.flatMap((page) => page.items);
  const items = all.slice(skip, skip + first);
  const last = pages.at(-1)!;
  return { items, hasNext: last.hasNext || all.length > skip + first, total: pages[0]!.total };
}

export interface FilteredWindow<T> {
  items: T[];
  /** Position after each item: the count of upstream items up to and including it. */
  positions: number[];
  hasNext: boolean;
}

/**
 * For an upstream whose filter is coarser than ours (GitLab 8.x's `scope=finished`): reads pages of
 * `pageSize` from `start` and keeps the items `keep` accepts until `first` are found. Positions count
 * upstream items, so a cursor resumes exactly after the last item returned.
 */
export async function readFilteredWindow<T>(
  fetch: FetchOffsetPage<T>,
  keep: (item: T) => boolean,
  start: number,
  first: number,
  pageSize: number,
  maxPages = 20,
): Promise<FilteredWindow<T>> {
  const items: T[] = [];
  const positions: number[] = [];
  let page = Math.floor(start / pageSize) + 1;
  let index = (page - 1) * pageSize;
  for (let read = 0; read < maxPages; read++, page++) {
    const { items: batch, hasNext } = await fetch(page, pageSize);
    for (const item of batch) {
      index += 1;
      if (index <= start || !keep(item)) continue;
      if (items.length === first) return { items, positions, hasNext: true };
      items.push(item);
      positions.push(index);
    }
    if (!hasNext) return { items, positions, hasNext: false };
  }
  // Gave up scanning: report more so the client can continue from the last position read.
  return { items, positions, hasNext: true };
}

/**
 * Several lists of builds read one after the other as one list (a commit's builds are its pipelines'
 * builds, a bk-ci project's builds are its pipelines' histories). A position is
 * `listIndex:positionInList`; `readList` reads one list from a position of its own.
 */
export async function readSequence(
  lists: number,
  readList: (index: number, after: string | undefined, first: number) => Promise<BuildPage>,
  after: string | undefined,
  first: number,
): Promise<BuildPage> {
  let [index, position] = parseSequencePosition(after);
  const builds: BuildModel[] = [];
  const positions: string[] = [];
  let totalCount: number | null = lists === 0 ? 0 : null;
  const page = (hasNextPage: boolean): BuildPage => ({ builds, positions, hasNextPage, hasPreviousPage: after !== undefined, totalCount });
  while (index < lists) {
    const want = first - builds.length;
    if (want === 0) return page(true);
    const listed = await readList(index, position, want);
    if (lists === 1) totalCount = listed.totalCount;
    builds.push(...listed.builds);
    positions.push(...listed.positions.map((inList) => `${index}:${inList}`));
    if (listed.hasNextPage) return page(true);
    index += 1;
    position = undefined;
  }
  return page(false);
}

function parseSequencePosition(position: string | undefined): [number, string | undefined] {
  if (position === undefined) return [0, undefined];
  const match = /^(\d{1,6}):(.{1,600})$/.exec(position);
  if (!match) throw badUserInput('`after` is not a cursor of this list', { argument: 'after' });
  return [Number(match[1]), match[2]];
}
