/**
 * The merge behind the cross-source feeds (`Query.builds(sources:)`, and `Query.pipelines(sources:)` on
 * the same code): k lists, each newest first and read one upstream page at a time, merged newest first
 * by `createdAt`. Generic over the item: a source is anything that yields pages of items with positions.
 *
 * The rule that shapes it: a page of the feed costs at most one upstream page per source. So a source
 * is read from where its page starts (the page's own upstream cursor), and the items of that page the
 * feed already gave are skipped, rather than from the last item's position: for offset paging that
 * position is not aligned with a page and would cost two upstream pages. And when a source runs out of
 * what its one page holds while it has more upstream, the merge stops there (it cannot know whether the
 * source's next build is newer than the others'), so a page may be short; it is never empty while some
 * source still has builds in hand, so paging always moves on. A source whose next item's time the
 * cursor knows is read only when the merge reaches it: a later page costs nothing for the sources it
 * did not reach (a quiet project among busy ones is read once, then only when its turn comes).
 */

/** One upstream page of a source, as `BuildPage` has it: the position after each item. */
export interface MergePage<T> {
  items: readonly T[];
  positions: readonly string[];
  hasNextPage: boolean;
}

export interface MergeSource<T> {
  /** Orders sources whose next items were created at the same instant (ascending); unique per source. */
  order: string;
  /** One upstream page of `first` items after the source's own position (undefined: its start). */
  fetch(after: string | undefined, first: number): Promise<MergePage<T>>;
}

/**
 * Where a source stands: the upstream cursor its current page starts after (null: the list's start),
 * how many of that page the feed has given, the position after the last one given (null when none),
 * for when a later page asks for fewer items than were given, and when its next item was created (ms;
 * null when not known, at the start or past the end of a page). Knowing that, a later page reads the
 * source only if the merge reaches it. `'done'`: nothing more.
 */
export type SourcePosition = { page: string | null; consumed: number; last: string | null; head: number | null } | 'done';

export const START: SourcePosition = { page: null, consumed: 0, last: null, head: null };

export interface MergeResult<T> {
  /** This page's items, newest first, with the index of the source each came from. */
  items: Array<{ item: T; source: number }>;
  /** Every source's position after the first `k` items (0 ≤ k ≤ items.length): what a cursor carries. */
  positionsAfter(k: number): SourcePosition[];
  /** The sources that failed, with why; their positions stay as they were, so the next page retries them. */
  failures: Array<{ source: number; error: unknown }>;
  /** Whether any source (a failed one included) may have more. */
  hasNextPage: boolean;
}

/** A source's page as the merge holds it: where it was read from, and how much of it to skip. */
interface Held<T> {
  page: MergePage<T>;
  after: string | null;
  skip: number;
  times: number[];
}

/** The time an item without a date sorts at: after every dated one (and, unlike -Infinity, JSON). */
export const UNDATED = -8.64e15;

/** createdAt as ms; an item without one sorts after every dated one. */
export function createdAtMs(createdAt: string | null | undefined): number {
  const ms = createdAt ? Date.parse(createdAt) : Number.NaN;
  return Number.isNaN(ms) ? UNDATED : ms;
}

export async function mergeSources<T>(
  sources: readonly MergeSource<T>[],
  positions: readonly SourcePosition[],
  first: number,
  createdAt: (item: T) => number,
): Promise<MergeResult<T>> {
  const failures: MergeResult<T>['failures'] = [];
  const held: Array<Held<T> | undefined> = sources.map(() => undefined);
  const failed = new Set<number>();
  /** Each held page's next item to give. */
  const next = sources.map(() => 0);
  const read = async (i: number): Promise<void> => {
    const position = positions[i]!;
    if (position === 'done') return;
    // A page larger than this one's `first` was partly given: continue after its last item given.
    const fromLast = position.consumed >= first && position.last !== null;
    const after = fromLast ? position.last : position.page;
    try {
      const page = await sources[i]!.fetch(after ?? undefined, first);
      const skip = fromLast ? 0 : position.consumed;
      held[i] = { page, after, skip, times: page.items.map(createdAt) };
      next[i] = skip;
    } catch (error) {
      failures.push({ source: i, error });
      failed.add(i);
    }
  };
  // Sources whose next item is unknown are read now, in parallel; the others when the merge reaches them.
  await Promise.all(positions.map((p, i) => (p !== 'done' && p.head === null ? read(i) : undefined)));

  const items: MergeResult<T>['items'] = [];
  merge: while (items.length < first) {
    let best = -1;
    let bestTime = 0;
    for (let i = 0; i < sources.length; i++) {
      const position = positions[i]!;
      if (position === 'done' || failed.has(i)) continue;
      const h = held[i];
      let time: number;
      if (h) {
        if (next[i]! >= h.page.items.length) {
          // Ran out of its page while it has more: its next item might be the newest of all.
          if (h.page.hasNextPage && h.skip < h.page.items.length) break merge;
          continue;
        }
        time = h.times[next[i]!]!;
      } else {
        time = position.head!;
      }
      if (best < 0 || time > bestTime || (time === bestTime && sources[i]!.order < sources[best]!.order)) {
        best = i;
        bestTime = time;
      }
    }
    if (best < 0) break;
    if (!held[best]) {
      // Reached: read its page, then choose again (the upstream's next item may not be the one remembered).
      await read(best);
      continue;
    }
    items.push({ item: held[best]!.page.items[next[best]!]!, source: best });
    next[best]! += 1;
  }

  const positionsAfter = (k: number): SourcePosition[] => {
    const given = held.map(() => 0);
    for (let j = 0; j < k; j++) given[items[j]!.source]! += 1;
    return held.map((h, i) => {
      if (!h) return positions[i]!;
      const consumed = h.skip + given[i]!;
      const { page } = h;
      if (consumed >= page.items.length) {
        // A page with nothing after the skip and no position to go on from (a filtered scan that
        // gave up empty-handed) ends the source: it could never move.
        const end = page.positions.at(-1);
        return page.hasNextPage && end !== undefined ? { page: end, consumed: 0, last: null, head: null } : 'done';
      }
      return { page: h.after, consumed, last: consumed > 0 ? page.positions[consumed - 1]! : null, head: h.times[consumed]! };
    });
  };
  const hasNextPage = positionsAfter(items.length).some((position) => position !== 'done');
  failures.sort((a, b) => a.source - b.source);
  return { items, positionsAfter, failures, hasNextPage };
}
