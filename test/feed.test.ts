/**
 * Query.builds(sources:): one feed across GitLab v4, GitLab v3 and bk-ci projects, over real HTTP
 * against the simulator, with its upstream requests counted by /__sim/stats.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { codes, type GraphQLResponse, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    upstreams: (url) => [
      { name: 'v4', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: 'glpat-developer' },
      { name: 'v3', kind: 'gitlab-v3', baseUrl: `${url}/api/v3`, token: 'glpat-developer' },
      { name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3`, token: 'alice' },
    ],
  });
});
afterAll(() => stack?.close());
beforeEach(() => stack.resetStats());
afterEach(() => fetch(`${stack.simulator.url}/__sim/faults`, { method: 'DELETE' }));

const SOURCES = [
  { upstream: 'v4', project: '1' },
  { upstream: 'v3', project: '2' },
  { upstream: 'bkci', project: 'demo' },
];
const ROUTES = {
  v4: 'GET /api/v4/projects/:id/jobs',
  v3: 'GET /api/v3/projects/:id/builds',
};

interface Row {
  id: string;
  upstream: string;
  upstreamId: string;
  createdAt: string | null;
}

const FEED = `query($sources: [BuildSource!]!, $first: Int, $after: String, $scope: [BuildStatus!]) {
  builds(sources: $sources, first: $first, after: $after, scope: $scope) {
    edges { cursor node { id upstream upstreamId createdAt status } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

const feed = (variables: Record<string, unknown>) => stack.graphql(FEED, { sources: SOURCES, ...variables });

/** A source's own list, whole, through Project.builds. */
async function ownList(upstream: string, project: string, scope?: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  let after: string | null = null;
  for (let i = 0; i < 50; i++) {
    const result: GraphQLResponse = await stack.graphql(
      `query($u: String!, $p: ID!, $after: String, $scope: [BuildStatus!]) { project(upstream: $u, id: $p) {
        builds(first: 100, after: $after, scope: $scope) { nodes { id upstream upstreamId createdAt } pageInfo { hasNextPage endCursor } } } }`,
      { u: upstream, p: project, after, scope },
    );
    expect(result.errors).toBeUndefined();
    const builds: any = result.data!.project.builds;
    rows.push(...builds.nodes);
    if (!builds.pageInfo.hasNextPage) return rows;
    after = builds.pageInfo.endCursor;
  }
  throw new Error('list did not end');
}

/** The merge as specified, over whole lists: newest head first, ties by [upstream, project]. */
function expectedMerge(lists: Array<{ order: string; rows: Row[] }>): Row[] {
  const sorted = [...lists].sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  const next = sorted.map(() => 0);
  const out: Row[] = [];
  const time = (row: Row) => (row.createdAt ? Date.parse(row.createdAt) : -8.64e15);
  for (;;) {
    let best = -1;
    sorted.forEach((list, i) => {
      const row = list.rows[next[i]!];
      if (row && (best < 0 || time(row) > time(sorted[best]!.rows[next[best]!]!))) best = i;
    });
    if (best < 0) return out;
    out.push(sorted[best]!.rows[next[best]!]!);
    next[best]! += 1;
  }
}

/** Every page of the feed, with the simulator's count of each page. */
async function pageThrough(variables: Record<string, unknown>) {
  const pages: Array<{ rows: Row[]; stats: Awaited<ReturnType<Stack['stats']>> }> = [];
  let after: string | null = null;
  for (let i = 0; i < 200; i++) {
    await stack.resetStats();
    const result: GraphQLResponse = await feed({ ...variables, after });
    expect(result.errors).toBeUndefined();
    const connection: any = result.data!.builds;
    pages.push({ rows: connection.edges.map((e: any) => e.node), stats: await stack.stats() });
    if (!connection.pageInfo.hasNextPage) return pages;
    expect(connection.edges.length).toBeGreaterThan(0);
    after = connection.pageInfo.endCursor;
  }
  throw new Error('feed did not end');
}

describe('Query.builds(sources:)', () => {
  it('merges every source newest first, as each source lists its own, paging to the end with no duplicate and no gap', async () => {
    const lists = await Promise.all(SOURCES.map(async (s) => ({ order: JSON.stringify([s.upstream, s.project]), rows: await ownList(s.upstream, s.project) })));
    for (const list of lists) expect(list.rows.length).toBeGreaterThan(0);
    const expected = expectedMerge(lists);

    const pages = await pageThrough({ first: 20 });
    const rows = pages.flatMap((page) => page.rows);
    if (process.env.FEED_DEBUG) pages.forEach((p, n) => console.log(n, p.rows.map((r) => `${r.upstream}:${r.upstreamId}@${r.createdAt}`).join(' ')));
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(rows.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    // Each source's builds appear in the source's own order.
    for (const list of lists) {
      const upstream = list.rows[0]!.upstream;
      expect(rows.filter((r) => r.upstream === upstream).map((r) => r.id)).toEqual(list.rows.map((r) => r.id));
    }
    // The GitLab sources list newest first, so the feed of those two is sorted by createdAt.
    const gitlab = rows.filter((r) => r.upstream !== 'bkci').map((r) => Date.parse(r.createdAt!));
    expect(gitlab).toEqual([...gitlab].sort((a, b) => b - a));
    // Builds of different upstreams interleave (the merge is not a concatenation).
    const switches = rows.slice(1).filter((r, i) => r.upstream !== rows[i]!.upstream).length;
    expect(switches).toBeGreaterThan(2);
  });

  it('continues exactly where it stopped when `first` changes from page to page', async () => {
    const lists = await Promise.all(SOURCES.map(async (s) => ({ order: JSON.stringify([s.upstream, s.project]), rows: await ownList(s.upstream, s.project) })));
    const expected = expectedMerge(lists).map((r) => r.id);
    const sizes = [5, 3, 17, 1, 40, 2, 100];
    const rows: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 500; i++) {
      const result: GraphQLResponse = await feed({ first: sizes[i % sizes.length], after });
      expect(result.errors).toBeUndefined();
      const connection: any = result.data!.builds;
      // Every edge's cursor continues right after that edge.
      if (i === 2 && connection.edges.length > 3) {
        const mid = await feed({ first: 4, after: connection.edges[1].cursor });
        expect(mid.data!.builds.edges.map((e: any) => e.node.id).slice(0, 1)).toEqual([connection.edges[2].node.id]);
      }
      rows.push(...connection.edges.map((e: any) => e.node.id));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(rows).toEqual(expected);
  });

  it('reads one upstream page per source on the first page, then only the sources the merge reaches', async () => {
    // What one page of 20 of the bk-ci project costs on its own (its builds are its pipelines' histories).
    await stack.graphql('{ project(upstream: "bkci", id: "demo") { builds(first: 20) { nodes { id } } } }');
    const bkciPage = (await stack.stats()).total;
    expect(bkciPage).toBeGreaterThan(0);
    await stack.resetStats();

    const pages = await pageThrough({ first: 20 });
    const [firstPage] = pages;
    expect(firstPage!.stats.routes[ROUTES.v4]).toBe(1);
    expect(firstPage!.stats.routes[ROUTES.v3]).toBe(1);
    expect(firstPage!.stats.total).toBe(2 + bkciPage);

    let skipped = 0;
    pages.forEach((page, n) => {
      const v4 = page.stats.routes[ROUTES.v4] ?? 0;
      const v3 = page.stats.routes[ROUTES.v3] ?? 0;
      // Never more than one upstream page per GitLab source per page of the feed.
      expect(v4).toBeLessThanOrEqual(1);
      expect(v3).toBeLessThanOrEqual(1);
      if (n === 0) return;
      const reached = new Set(page.rows.map((r) => r.upstream));
      // A source read on a later page is one the merge reached, or one whose page ran out (its next page is new).
      if (v3 === 1 && !reached.has('v3')) expect(pages[n - 1]!.rows.some((r) => r.upstream === 'v3')).toBe(true);
      if (v3 === 0) skipped += 1;
    });
    // v3's project 2 is years older than the others: pages go by without reading it.
    expect(skipped).toBeGreaterThan(3);
  });

  it('asks each source for `first` builds, and filters by scope', async () => {
    // The same request (the same page size) is the same response body: compare with Project.builds(first: 7).
    await stack.graphql('{ project(upstream: "v4", id: "1") { builds(first: 7, scope: [FAILED]) { nodes { id } } } }');
    const own = stack.simulator.stats().bytes[ROUTES.v4];
    stack.simulator.resetStats();
    const result = await feed({ first: 7, scope: ['FAILED'] });
    expect(result.errors).toBeUndefined();
    expect(stack.simulator.stats().bytes[ROUTES.v4]).toBe(own);
    expect(result.data!.builds.edges).toHaveLength(7);
    expect(result.data!.builds.totalCount).toBeNull();
    expect(result.data!.builds.edges.every((e: any) => e.node.status === 'FAILED')).toBe(true);
    const failed = await ownList('v4', '1', ['FAILED']);
    const v4 = result.data!.builds.edges.map((e: any) => e.node).filter((r: Row) => r.upstream === 'v4');
    expect(v4.map((r: Row) => r.id)).toEqual(failed.slice(0, v4.length).map((r) => r.id));
  });

  it('answers the other sources and an error naming a failing one, whose position the cursor keeps', async () => {
    await fetch(`${stack.simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ route: ROUTES.v4, mode: 'status', status: 500 }),
    });
    const partial = await feed({ first: 20 });
    expect(partial.data!.builds.edges.length).toBe(20);
    expect(partial.data!.builds.edges.every((e: any) => e.node.upstream !== 'v4')).toBe(true);
    expect(partial.errors).toHaveLength(1);
    expect(partial.errors![0]).toMatchObject({
      path: ['builds'],
      extensions: { code: 'UPSTREAM_ERROR', upstream: 'v4', status: 500, source: { upstream: 'v4', project: '1' } },
    });
    expect(partial.data!.builds.pageInfo.hasNextPage).toBe(true);

    // The fault gone, the next page reads v4 from its start: its builds are not lost.
    await fetch(`${stack.simulator.url}/__sim/faults`, { method: 'DELETE' });
    const next = await feed({ first: 20, after: partial.data!.builds.pageInfo.endCursor });
    expect(next.errors).toBeUndefined();
    const v4 = await ownList('v4', '1');
    const v4InNext = next.data!.builds.edges.map((e: any) => e.node).filter((r: Row) => r.upstream === 'v4');
    expect(v4InNext.length).toBeGreaterThan(0);
    expect(v4InNext[0].id).toBe(v4[0]!.id);
  });

  it('gives an empty page a cursor to retry from when every source fails', async () => {
    await fetch(`${stack.simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ route: ROUTES.v4, mode: 'status', status: 500 }),
    });
    const result = await stack.graphql(FEED, { sources: [SOURCES[0]], first: 5 });
    expect(result.data!.builds.edges).toEqual([]);
    expect(codes(result)).toEqual(['UPSTREAM_ERROR']);
    expect(result.data!.builds.pageInfo).toMatchObject({ hasNextPage: true, endCursor: expect.any(String) });
  });

  it('treats spellings of one project as one source', async () => {
    const one = await stack.graphql(FEED, { sources: [{ upstream: 'v4', project: '1' }], first: 10 });
    await stack.resetStats();
    const two = await stack.graphql(FEED, {
      sources: [
        { upstream: 'v4', project: '1' },
        { upstream: 'v4', project: '001' },
        { upstream: 'v4', project: 'FOO%2Fbar' },
      ],
      first: 10,
    });
    expect(two.errors).toBeUndefined();
    expect(two.data!.builds.edges.map((e: any) => e.node.id)).toEqual(one.data!.builds.edges.map((e: any) => e.node.id));
    expect((await stack.stats()).routes[ROUTES.v4]).toBe(1);
  });

  it('refuses 21 sources, none, a bad first, an unknown upstream or a bad project before any upstream request', async () => {
    const sources = Array.from({ length: 21 }, (_, i) => ({ upstream: 'v4', project: String(i + 1) }));
    const result = await stack.graphql(FEED, { sources, first: 1 });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect((await stack.stats()).total).toBe(0);
    const none = await stack.graphql(FEED, { sources: [], first: 1 });
    expect(codes(none)).toEqual(['BAD_USER_INPUT']);
    for (const bad of [
      { sources: SOURCES, first: 0 },
      { sources: SOURCES, first: 101 },
      { sources: [...SOURCES, { upstream: 'nowhere', project: '1' }], first: 1 },
      { sources: [...SOURCES, { upstream: 'v4', project: '../../users' }], first: 1 },
    ]) {
      expect(codes(await stack.graphql(FEED, bad))).toEqual(['BAD_USER_INPUT']);
    }
    expect((await stack.stats()).total).toBe(0);
  });

  it('refuses a malformed cursor, a cursor of another feed and a Project.builds cursor', async () => {
    const page = await feed({ first: 5 });
    const cursor = page.data!.builds.pageInfo.endCursor as string;
    const project = await stack.graphql('{ project(upstream: "v4", id: "1") { builds(first: 5) { pageInfo { endCursor } } } }');
    await stack.resetStats();
    const other = [SOURCES[0], SOURCES[1]];
    const cases = [
      feed({ first: 5, after: 'not-a-cursor' }),
      feed({ first: 5, after: `${cursor}x` }),
      feed({ first: 5, after: project.data!.project.builds.pageInfo.endCursor }),
      stack.graphql(FEED, { sources: other, first: 5, after: cursor }),
      feed({ first: 5, after: cursor, scope: ['FAILED'] }),
      feed({ first: 5, after: Buffer.from(JSON.stringify(['feed', 'x', []])).toString('base64url') }),
    ];
    for (const result of await Promise.all(cases)) {
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.data).toBeNull();
    }
    expect((await stack.stats()).total).toBe(0);
    // The same sources in another order and spelling are the same feed.
    const reordered = await stack.graphql(FEED, { sources: [SOURCES[2], { upstream: 'v3', project: '002' }, SOURCES[0]], first: 5, after: cursor });
    expect(reordered.errors).toBeUndefined();
  });

  it('is priced by the cost limit as sources × page size', async () => {
    const limited = await startStack({
      simulator: { tickMs: 3_600_000 },
      gateway: { limits: { maxCost: 1000 } } as never,
      upstreams: (url) => [{ name: 'v4', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: 'glpat-developer' }],
    });
    try {
      const query = 'query($s: [BuildSource!]!) { builds(sources: $s, first: 100) { nodes { id name } } }';
      const one = [{ upstream: 'v4', project: '1' }];
      // 100 builds × 2 fields fit; 5 sources of them (= 5 aliases) do not.
      expect((await limited.graphql(query, { s: one })).errors).toBeUndefined();
      const five = Array.from({ length: 5 }, () => one[0]);
      const refused = await limited.graphql(query, { s: five });
      expect(refused.errors![0]!.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'maxCost' });
      expect(refused.errors![0]!.extensions!.cost).toBeGreaterThan(1000);
    } finally {
      await limited.close();
    }
  });
});

describe('Query.pipelines(sources:)', () => {
  const PIPELINES = `query($sources: [BuildSource!]!, $first: Int, $after: String) {
    pipelines(sources: $sources, first: $first, after: $after) { nodes { id upstream upstreamId createdAt } pageInfo { hasNextPage endCursor } totalCount }
  }`;
  const GITLAB = [
    { upstream: 'v4', project: '1' },
    { upstream: 'v4', project: '2' },
    { upstream: 'v3', project: '2' },
  ];

  /** A source's own pipelines, whole, through Project.pipelines. */
  async function ownPipelines(upstream: string, project: string): Promise<Row[]> {
    const rows: Row[] = [];
    let after: string | null = null;
    for (let i = 0; i < 50; i++) {
      const result: GraphQLResponse = await stack.graphql(
        `query($u: String!, $p: ID!, $after: String) { project(upstream: $u, id: $p) {
          pipelines(first: 100, after: $after) { nodes { id upstream upstreamId createdAt } pageInfo { hasNextPage endCursor } } } }`,
        { u: upstream, p: project, after },
      );
      expect(result.errors).toBeUndefined();
      const pipelines: any = result.data!.project.pipelines;
      rows.push(...pipelines.nodes);
      if (!pipelines.pageInfo.hasNextPage) return rows;
      after = pipelines.pageInfo.endCursor;
    }
    throw new Error('list did not end');
  }

  it('merges the pipelines of GitLab v4 and v3 projects newest first, one upstream request per source on the first page', async () => {
    const lists = await Promise.all(GITLAB.map(async (s) => ({ order: JSON.stringify([s.upstream, s.project]), rows: await ownPipelines(s.upstream, s.project) })));
    for (const list of lists) expect(list.rows.length).toBeGreaterThan(0);
    const expected = expectedMerge(lists).map((r) => r.id);
    const rows: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page++) {
      await stack.resetStats();
      const result: GraphQLResponse = await stack.graphql(PIPELINES, { sources: GITLAB, first: 20, after });
      expect(result.errors).toBeUndefined();
      const connection: any = result.data!.pipelines;
      if (page === 0) {
        const { routes, total } = await stack.stats();
        expect(routes['GET /api/v4/projects/:id/pipelines']).toBe(2);
        expect(routes['GET /api/v3/projects/:id/pipelines']).toBe(1);
        expect(total).toBe(3);
        expect(connection.totalCount).toBeNull();
      }
      rows.push(...connection.nodes.map((node: Row) => node.id));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(rows).toEqual(expected);
  });

  it("refuses a builds feed's cursor, and a failing source leaves the others' pipelines with its error", async () => {
    const builds = await feed({ first: 2 });
    const refused = await stack.graphql(PIPELINES, { sources: SOURCES, first: 2, after: (builds.data!.builds as any).pageInfo.endCursor });
    expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
    await fetch(`${stack.simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'GET /api/v3/projects/:id/pipelines', mode: 'status', status: 500 }),
    });
    const partial = await stack.graphql(PIPELINES, { sources: GITLAB, first: 10 });
    expect(codes(partial)).toEqual(['UPSTREAM_ERROR']);
    expect(partial.errors![0]!.extensions!.source).toEqual({ upstream: 'v3', project: '2' });
    const upstreams = new Set((partial.data!.pipelines as any).nodes.map((node: Row) => node.upstream));
    expect([...upstreams].sort()).toEqual(['v4']);
  });
});
