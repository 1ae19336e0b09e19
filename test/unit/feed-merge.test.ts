/**
 * The feed's merge alone (src/loaders/feed.ts), over in-memory offset-paged lists: order, positions,
 * short pages, the reads it makes and what a failed source keeps.
 */
import { describe, expect, it } from 'vitest';
import { type MergeSource, type SourcePosition, START, mergeSources } from '../../src/loaders/feed.js';

interface Item {
  id: string;
  t: number;
}

/** An offset-paged list (positions count the items before the next one), counting its reads. */
function list(order: string, times: number[], options: { fail?: () => boolean } = {}) {
  const items = times.map((t, i) => ({ id: `${order}${i}`, t }));
  const reads: Array<{ after: string | undefined; first: number }> = [];
  const source: MergeSource<Item> = {
    order,
    async fetch(after, first) {
      reads.push({ after, first });
      if (options.fail?.()) throw new Error(`${order} is down`);
      const start = after === undefined ? 0 : Number(after);
      const page = items.slice(start, start + first);
      return { items: page, positions: page.map((_, i) => String(start + i + 1)), hasNextPage: start + first < items.length };
    },
  };
  return { source, reads, items };
}

async function drain(sources: MergeSource<Item>[], sizes: number[]) {
  let positions: SourcePosition[] = sources.map(() => START);
  const out: string[] = [];
  const pages: string[][] = [];
  for (let n = 0; n < 1000; n++) {
    const result = await mergeSources(sources, positions, sizes[n % sizes.length]!, (item) => item.t);
    pages.push(result.items.map(({ item }) => item.id));
    out.push(...result.items.map(({ item }) => item.id));
    if (!result.hasNextPage) return { out, pages };
    expect(result.items.length).toBeGreaterThan(0);
    positions = result.positionsAfter(result.items.length);
  }
  throw new Error('did not end');
}

describe('mergeSources', () => {
  it('gives every item once, newest first, ties by source order, whatever the page sizes', async () => {
    const a = list('a', [9, 7, 7, 5, 3, 1]);
    const b = list('b', [8, 7, 6, 5, 4, 2, 0]);
    const c = list('c', [10, 1]);
    const expected = ['c0', 'a0', 'b0', 'a1', 'a2', 'b1', 'b2', 'a3', 'b3', 'b4', 'a4', 'b5', 'a5', 'c1', 'b6'];
    for (const sizes of [[1], [2], [3], [5, 1, 2], [100]]) {
      expect((await drain([a.source, b.source, c.source], sizes)).out).toEqual(expected);
    }
  });

  it('reads at most one page per source per page, and stops short where a source runs out of its page', async () => {
    const a = list('a', [10, 9, 8, 7, 6, 5]);
    const b = list('b', [1, 0]);
    const first = await mergeSources([a.source, b.source], [START, START], 3, (item) => item.t);
    expect(first.items.map(({ item }) => item.id)).toEqual(['a0', 'a1', 'a2']);
    expect([a.reads.length, b.reads.length]).toEqual([1, 1]);
    // b's next item is known, so the next page does not read b until the merge reaches it.
    a.reads.length = b.reads.length = 0;
    const second = await mergeSources([a.source, b.source], first.positionsAfter(3), 3, (item) => item.t);
    expect(second.items.map(({ item }) => item.id)).toEqual(['a3', 'a4', 'a5']);
    expect([a.reads, b.reads.length]).toEqual([[{ after: '3', first: 3 }], 0]);
  });

  it('re-reads a partly given page from its start rather than from the middle', async () => {
    const a = list('a', [10, 8, 6, 4, 2, 0]);
    const b = list('b', [9, 7, 5, 3, 1]);
    const first = await mergeSources([a.source, b.source], [START, START], 4, (item) => item.t);
    expect(first.items.map(({ item }) => item.id)).toEqual(['a0', 'b0', 'a1', 'b1']);
    a.reads.length = b.reads.length = 0;
    const second = await mergeSources([a.source, b.source], first.positionsAfter(4), 4, (item) => item.t);
    // Each page read again from its start (aligned with the upstream's pages), its first two skipped.
    expect(a.reads).toEqual([{ after: undefined, first: 4 }]);
    expect(b.reads).toEqual([{ after: undefined, first: 4 }]);
    // a's page (10, 8, 6, 4) ran out while a has more: its next might be newer than b3, so the page ends.
    expect(second.items.map(({ item }) => item.id)).toEqual(['a2', 'b2', 'a3']);
    // a is read from its next page now; b, whose next item is known (3), only once the merge reaches it.
    a.reads.length = b.reads.length = 0;
    const third = await mergeSources([a.source, b.source], second.positionsAfter(3), 4, (item) => item.t);
    expect(a.reads).toEqual([{ after: '4', first: 4 }]);
    expect(b.reads).toEqual([{ after: undefined, first: 4 }]);
    expect(third.items.map(({ item }) => item.id)).toEqual(['b3']);
    const fourth = await mergeSources([a.source, b.source], third.positionsAfter(1), 4, (item) => item.t);
    expect(fourth.items.map(({ item }) => item.id)).toEqual(['a4', 'b4', 'a5']);
    expect(fourth.hasNextPage).toBe(false);
  });

  it('ends a page short rather than read a second page of a source', async () => {
    const a = list('a', [10, 9, 8, 7, 6, 5, 4]);
    const b = list('b', [3]);
    const first = await mergeSources([a.source, b.source], [START, START], 4, (item) => item.t);
    const second = await mergeSources([a.source, b.source], first.positionsAfter(1), 4, (item) => item.t);
    // From the cursor after a0: a's page (a0–a3) re-read, a1–a3 given, then a ran out of it.
    expect(second.items.map(({ item }) => item.id)).toEqual(['a1', 'a2', 'a3']);
    expect(a.reads).toHaveLength(2);
    expect(second.hasNextPage).toBe(true);
  });

  it('keeps a failed source where it was, so the next page reads it again', async () => {
    let down = true;
    const a = list('a', [10, 9, 8]);
    const b = list('b', [12, 11], { fail: () => down });
    const first = await mergeSources([a.source, b.source], [START, START], 2, (item) => item.t);
    expect(first.items.map(({ item }) => item.id)).toEqual(['a0', 'a1']);
    expect(first.failures).toEqual([{ source: 1, error: expect.any(Error) }]);
    expect(first.positionsAfter(2)[1]).toEqual(START);
    down = false;
    const second = await mergeSources([a.source, b.source], first.positionsAfter(2), 2, (item) => item.t);
    expect(second.items.map(({ item }) => item.id)).toEqual(['b0', 'b1']);
  });
});
