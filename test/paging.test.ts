/**
 * Paging like GitLab wants it: keyset cursors for a project's jobs (the default), offset pages where
 * keyset is off or unavailable, and `first` beyond one upstream page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000, builds: 1200 },
    upstreams: (url) => [
      { name: 'keyset', kind: 'gitlab-v4', baseUrl: `${url}/api/v4` },
      { name: 'offset', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, keyset: false },
    ],
    gateway: { maxPageSize: 250 },
  });
});
afterAll(() => stack?.close());

async function restIds(query = ''): Promise<string[]> {
  const ids: string[] = [];
  for (let page = 1; ; page++) {
    const { body, headers } = await stack.rest(`/projects/1/jobs?per_page=100&page=${page}${query}`);
    ids.push(...body.map((job: { id: number }) => String(job.id)));
    if (!headers.get('x-next-page')) return ids;
  }
}

async function walk(upstream: string, first: number, scope?: string[]) {
  const ids: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (; pages < 1000; ) {
    const result: any = await stack.graphql(
      `query($u: String!, $first: Int, $after: String, $scope: [BuildStatus!]) { project(upstream: $u, id: "1") { builds(first: $first, after: $after, scope: $scope) { nodes { upstreamId } pageInfo { hasNextPage endCursor } } } }`,
      { u: upstream, first, after, scope },
    );
    expect(result.errors).toBeUndefined();
    pages += 1;
    ids.push(...result.data.project.builds.nodes.map((n: any) => n.upstreamId));
    if (!result.data.project.builds.pageInfo.hasNextPage) break;
    after = result.data.project.builds.pageInfo.endCursor;
  }
  return { ids, pages };
}

describe('paging', () => {
  it('walks every job with keyset cursors, one upstream request a page, in GitLab\'s order', async () => {
    const expected = await restIds();
    expect(expected.length).toBeGreaterThanOrEqual(1200);
    await stack.resetStats();
    const { ids, pages } = await walk('keyset', 50);
    expect(ids).toEqual(expected);
    expect((await stack.stats()).routes['GET /api/v4/projects/:id/jobs']).toBe(pages);
  });

  it('walks every job with offset pages where keyset is off', async () => {
    const expected = await restIds();
    const { ids } = await walk('offset', 70);
    expect(ids).toEqual(expected);
  });

  it('resumes from a cursor in the middle of a keyset page', async () => {
    const expected = (await restIds()).slice(0, 60);
    const first: any = await stack.graphql('{ project(upstream: "keyset", id: "1") { builds(first: 30) { edges { cursor node { upstreamId } } } } }');
    const edges = first.data.project.builds.edges;
    const next: any = await stack.graphql(
      'query($after: String) { project(upstream: "keyset", id: "1") { builds(first: 47, after: $after) { nodes { upstreamId } } } }',
      { after: edges[12].cursor },
    );
    expect(next.errors).toBeUndefined();
    expect(next.data.project.builds.nodes.map((n: any) => n.upstreamId)).toEqual(expected.slice(13, 60));
  });

  it('reads several upstream pages when first is above 100, in both modes', async () => {
    const expected = (await restIds()).slice(0, 250);
    for (const upstream of ['keyset', 'offset']) {
      await stack.resetStats();
      const result = await stack.graphql(`{ project(upstream: "${upstream}", id: "1") { builds(first: 250) { nodes { upstreamId } pageInfo { hasNextPage } } } }`);
      expect(result.errors).toBeUndefined();
      expect(result.data!.project.builds.nodes.map((n: any) => n.upstreamId)).toEqual(expected);
      expect(result.data!.project.builds.pageInfo.hasNextPage).toBe(true);
      expect((await stack.stats()).routes['GET /api/v4/projects/:id/jobs']).toBe(3);
    }
    const over = await stack.graphql('{ project(upstream: "keyset", id: "1") { builds(first: 251) { nodes { upstreamId } } } }');
    expect(codes(over)).toEqual(['BAD_USER_INPUT']);
  });

  it('filters by status with keyset too', async () => {
    const expected = await restIds('&scope[]=failed&scope[]=manual');
    expect(expected.length).toBeGreaterThan(100);
    const { ids } = await walk('keyset', 9, ['FAILED', 'MANUAL']);
    expect(ids).toEqual(expected);
  });

  it('refuses a cursor of one list on another', async () => {
    const first: any = await stack.graphql('{ project(upstream: "keyset", id: "1") { builds(first: 5) { pageInfo { endCursor } } } }');
    const cursor = first.data.project.builds.pageInfo.endCursor;
    const other = await stack.graphql('query($after: String) { project(upstream: "keyset", id: "1") { builds(first: 5, after: $after, scope: [FAILED]) { nodes { id } } } }', { after: cursor });
    expect(codes(other)).toEqual(['BAD_USER_INPUT']);
    const forged = await stack.graphql('{ project(upstream: "keyset", id: "1") { builds(first: 5, after: "bm9wZQ") { nodes { id } } } }');
    expect(codes(forged)).toEqual(['BAD_USER_INPUT']);
  });
});
