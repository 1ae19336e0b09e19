/**
 * Pipelines as lists (issue #15): `Project.pipelines` and `Commit.pipelines` on each kind, their
 * filters, forward and backward paging, and backward paging of the offset-paged build lists, with
 * every upstream request counted by the simulator.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { codes, type Stack, startStack } from './helpers/stack.js';

const BKCI_API = '/ms/openapi/api/apigw/v3/projects/demo';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    upstreams: (url) => [
      { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: 'glpat-developer' },
      { name: 'offset', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: 'glpat-developer', keyset: false },
      { name: 'v3', kind: 'gitlab-v3', baseUrl: `${url}/api/v3`, token: 'glpat-developer' },
      { name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3`, token: 'admin' },
    ],
  });
});
afterAll(() => stack?.close());
beforeEach(() => stack.resetStats());

const PAGE = 'nodes { upstreamId status upstreamStatus ref sha source createdAt commit { sha } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount';

async function pipelines(upstream: string, args: string, variables: Record<string, unknown> = {}, project = '1') {
  const decl = Object.keys(variables).length ? `(${Object.keys(variables).map((k) => `$${k}: ${k === 'scope' ? '[BuildStatus!]' : k === 'first' || k === 'last' ? 'Int' : 'String'}`).join(', ')})` : '';
  return stack.graphql(`query${decl} { project(upstream: "${upstream}", id: "${project}") { pipelines${args} { ${PAGE} } } }`, variables);
}

/** The simulator's own answer, newest first (every pipeline of project 1). */
async function restPipelines(query = ''): Promise<any[]> {
  const { body } = await stack.rest<any[]>(`/projects/1/pipelines?per_page=100${query}`, 'glpat-developer');
  return body;
}

const ids = (page: any): string[] => page.nodes.map((n: any) => n.upstreamId);

describe('Project.pipelines on GitLab v4', () => {
  it('answers a page of 20 pipelines, newest first, with one upstream request', async () => {
    const result = await pipelines('gitlab', '(first: 20)');
    expect(result.errors).toBeUndefined();
    const page = result.data!.project.pipelines;
    const rest = await restPipelines();
    await stack.resetStats();
    expect(ids(page)).toEqual(rest.slice(0, 20).map((p) => String(p.id)));
    expect(page.totalCount).toBe(rest.length);
    expect(page.pageInfo).toMatchObject({ hasNextPage: rest.length > 20, hasPreviousPage: false });
    expect(page.nodes[0]).toMatchObject({ status: rest[0].status.toUpperCase(), upstreamStatus: rest[0].status, ref: rest[0].ref, sha: rest[0].sha, source: rest[0].source });
    const again = await pipelines('gitlab', '(first: 20)');
    expect(again.errors).toBeUndefined();
    expect(await stack.stats()).toEqual({ total: 1, routes: { 'GET /api/v4/projects/:id/pipelines': 1 } });
  });

  it('pages forward with `after` and back with `last`/`before`, one request a page', async () => {
    const rest = await restPipelines();
    expect(rest.length).toBeGreaterThan(20);
    const first = (await pipelines('gitlab', '(first: 10)')).data!.project.pipelines;
    await stack.resetStats();
    const second = await pipelines('gitlab', '(first: 10, after: $after)', { after: first.pageInfo.endCursor });
    expect(second.errors).toBeUndefined();
    expect(ids(second.data!.project.pipelines)).toEqual(rest.slice(10, 20).map((p) => String(p.id)));
    expect(second.data!.project.pipelines.pageInfo.hasPreviousPage).toBe(true);
    expect((await stack.stats()).total).toBe(1);

    await stack.resetStats();
    const back = await pipelines('gitlab', '(last: 10, before: $before)', { before: second.data!.project.pipelines.pageInfo.startCursor });
    expect(back.errors).toBeUndefined();
    expect(ids(back.data!.project.pipelines)).toEqual(ids(first));
    expect(back.data!.project.pipelines.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    expect((await stack.stats()).total).toBe(1);

    // A window that straddles pages of its own size is read as one larger page.
    await stack.resetStats();
    const mid = await pipelines('gitlab', '(last: 4, before: $before)', { before: second.data!.project.pipelines.pageInfo.endCursor });
    expect(mid.errors).toBeUndefined();
    expect(ids(mid.data!.project.pipelines)).toEqual(rest.slice(15, 19).map((p) => String(p.id)));
    expect((await stack.stats()).total).toBe(1);
  });

  it('reads the list\'s end with `last` alone: the count from the first page, then the last window', async () => {
    const rest = await restPipelines();
    await stack.resetStats();
    const result = await pipelines('gitlab', '(last: 3)');
    expect(result.errors).toBeUndefined();
    expect(ids(result.data!.project.pipelines)).toEqual(rest.slice(-3).map((p) => String(p.id)));
    expect(result.data!.project.pipelines.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    // One request for the count (X-Total), one for the window at the end.
    expect((await stack.stats()).total).toBe(2);
  });

  it('filters by one status, ref and source upstream, and by several statuses in the gateway', async () => {
    const rest = await restPipelines();
    const sample = rest.find((p) => p.status === 'success') ?? rest[0];
    await stack.resetStats();
    const byStatus = await pipelines('gitlab', '(scope: [SUCCESS], first: 50)');
    expect(ids(byStatus.data!.project.pipelines)).toEqual(rest.filter((p) => p.status === 'success').slice(0, 50).map((p) => String(p.id)));
    const byRef = await pipelines('gitlab', '(ref: $ref, first: 50)', { ref: sample.ref });
    expect(ids(byRef.data!.project.pipelines)).toEqual(rest.filter((p) => p.ref === sample.ref).slice(0, 50).map((p) => String(p.id)));
    const bySource = await pipelines('gitlab', '(source: $source, first: 50)', { source: sample.source });
    expect(ids(bySource.data!.project.pipelines)).toEqual(rest.filter((p) => p.source === sample.source).slice(0, 50).map((p) => String(p.id)));
    expect(await stack.stats()).toEqual({ total: 3, routes: { 'GET /api/v4/projects/:id/pipelines': 3 } });

    const several = await pipelines('gitlab', '(scope: [FAILED, SUCCESS], first: 5)');
    expect(several.errors).toBeUndefined();
    expect(ids(several.data!.project.pipelines)).toEqual(rest.filter((p) => p.status === 'failed' || p.status === 'success').slice(0, 5).map((p) => String(p.id)));
    const next = await pipelines('gitlab', '(scope: [SUCCESS, FAILED], first: 5, after: $after)', { after: several.data!.project.pipelines.pageInfo.endCursor });
    expect(ids(next.data!.project.pipelines)).toEqual(rest.filter((p) => p.status === 'failed' || p.status === 'success').slice(5, 10).map((p) => String(p.id)));
  });

  it('refuses backward paging of a list the gateway narrows, before any upstream request', async () => {
    const result = await stack.graphql('{ project(upstream: "gitlab", id: "1") { upstreamId pipelines(scope: [FAILED, SUCCESS], last: 5) { nodes { id } } } }');
    expect(codes(result)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    expect(result.data!.project).toEqual({ upstreamId: '1', pipelines: null });
    expect((await stack.stats()).total).toBe(0);
  });

  it('refuses bad arguments and foreign cursors on the list field only, with no upstream request', async () => {
    const builds = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 1) { pageInfo { endCursor } } } }');
    const buildCursor = builds.data!.project.builds.pageInfo.endCursor;
    const filtered = (await pipelines('gitlab', '(scope: [SUCCESS], first: 1)')).data!.project.pipelines.pageInfo.endCursor;
    await stack.resetStats();
    for (const [args, variables] of [
      ['(after: $after)', { after: buildCursor }],
      ['(before: $before)', { before: buildCursor }],
      ['(after: $after)', { after: filtered }],
      ['(ref: $ref)', { ref: '' }],
    ] as const) {
      const result = await pipelines('gitlab', args, variables);
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.data!.project.pipelines).toBeNull();
    }
    for (const args of ['(first: 0)', '(last: 0)', '(last: 101)']) expect(codes(await pipelines('gitlab', args))).toEqual(['BAD_USER_INPUT']);
    expect((await stack.stats()).total).toBe(0);
  });

  it('prices `pipelines(last:)` and `builds(last:)` by their page size, as `first`', async () => {
    for (const arg of ['first', 'last']) {
      const result = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { pipelines(${arg}: 100) { nodes { builds(${arg}: 100) { nodes { id } } } } } }`);
      expect(codes(result)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(result.errors![0]!.extensions).toMatchObject({ limit: 'maxCost' });
    }
    expect((await stack.stats()).total).toBe(0);
  });
});

describe('Commit.pipelines', () => {
  it('lists the pipelines of one commit with one request (GitLab v4 `?sha=`)', async () => {
    const rest = await restPipelines();
    const sha = rest[0].sha as string;
    await stack.resetStats();
    const result = await stack.graphql('query($sha: String!) { project(upstream: "gitlab", id: "1") { commit(sha: $sha) { pipelines { nodes { upstreamId sha } totalCount } } } }', { sha });
    expect(result.errors).toBeUndefined();
    const page = result.data!.project.commit.pipelines;
    expect(page.nodes.map((n: any) => n.upstreamId)).toEqual(rest.filter((p) => p.sha === sha).map((p) => String(p.id)));
    expect(page.nodes.every((n: any) => n.sha === sha)).toBe(true);
    expect(await stack.stats()).toEqual({ total: 1, routes: { 'GET /api/v4/projects/:id/pipelines': 1 } });
  });

  it('narrows v3\'s list by SHA in the gateway, to the same pipelines', async () => {
    const sha = (await restPipelines())[0].sha as string;
    const query = 'query($u: String!, $sha: String!) { project(upstream: $u, id: "1") { commit(sha: $sha) { pipelines { nodes { upstreamId } } } } }';
    const v4 = await stack.graphql(query, { u: 'gitlab', sha });
    const v3 = await stack.graphql(query, { u: 'v3', sha });
    expect(v3.errors).toBeUndefined();
    expect(v3.data!.project.commit.pipelines).toEqual(v4.data!.project.commit.pipelines);
  });

  it('answers UNSUPPORTED_BY_UPSTREAM on bk-ci, whose history has no commit filter', async () => {
    const result = await stack.graphql('{ project(upstream: "bkci", id: "demo") { builds(first: 1) { nodes { commit { sha pipelines { nodes { id } } } } } } }');
    expect(codes(result)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    expect(result.data!.project.builds.nodes[0].commit).toMatchObject({ pipelines: null });
  });
});

describe('Project.pipelines on GitLab v3', () => {
  it('lists the same pipelines as v4, counted, with one request a page, and pages both ways', async () => {
    const v4 = (await pipelines('gitlab', '(first: 20)')).data!.project.pipelines;
    await stack.resetStats();
    const v3 = (await pipelines('v3', '(first: 20)')).data!.project.pipelines;
    expect(ids(v3)).toEqual(ids(v4));
    expect(v3.totalCount).toBe(v4.totalCount);
    expect(v3.nodes.map((n: any) => n.status)).toEqual(v4.nodes.map((n: any) => n.status));
    expect(v3.nodes.every((n: any) => n.source === null)).toBe(true);
    expect(await stack.stats()).toEqual({ total: 1, routes: { 'GET /api/v3/projects/:id/pipelines': 1 } });
    const next = (await pipelines('v3', '(first: 20, after: $after)', { after: v3.pageInfo.endCursor })).data!.project.pipelines;
    const back = (await pipelines('v3', '(last: 20, before: $before)', { before: next.pageInfo.startCursor })).data!.project.pipelines;
    expect(ids(back)).toEqual(ids(v3));
  });

  it('narrows by status and ref in the gateway, and refuses `source`', async () => {
    const query = '(scope: [SUCCESS], ref: "master", first: 10)';
    const v4 = (await pipelines('gitlab', query)).data!.project.pipelines;
    const v3 = await pipelines('v3', query);
    expect(v3.errors).toBeUndefined();
    expect(ids(v3.data!.project.pipelines)).toEqual(ids(v4));
    await stack.resetStats();
    expect(codes(await pipelines('v3', '(source: "push")'))).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    expect((await stack.stats()).total).toBe(0);
  });
});

describe('Project.pipelines on bk-ci: pipeline runs', () => {
  const FAILED_WORDS = new Set(['FAILED', 'TERMINATE', 'REVIEW_ABORT', 'QUALITY_CHECK_FAIL', 'QUEUE_TIMEOUT', 'EXEC_TIMEOUT', 'HEARTBEAT_TIMEOUT', 'QUOTA_FAILED']);

  async function allRuns(): Promise<Array<{ id: string; time: number; status: string }>> {
    const listed = await stack.rest<any>(`${BKCI_API}/pipelines?page=1&pageSize=100`, undefined, { 'X-DEVOPS-UID': 'admin' });
    const runs: Array<{ id: string; time: number; status: string }> = [];
    for (const p of listed.body.data.records) {
      const history = await stack.rest<any>(`${BKCI_API}/pipelines/${p.pipelineId}/builds/history?page=1&pageSize=100`, undefined, { 'X-DEVOPS-UID': 'admin' });
      for (const b of history.body.data.records) runs.push({ id: `${p.pipelineId}/${b.id}`, time: b.queueTime ?? b.startTime, status: b.status });
    }
    return runs;
  }

  it('merges every pipeline\'s history newest first, one history page per pipeline, and walks it whole', async () => {
    const runs = await allRuns();
    const pipelineCount = new Set(runs.map((r) => r.id.split('/')[0])).size;
    await stack.resetStats();
    const first = await pipelines('bkci', '(first: 10)', {}, 'demo');
    expect(first.errors).toBeUndefined();
    const page = first.data!.project.pipelines;
    expect(page.nodes).toHaveLength(10);
    expect(page.nodes.every((n: any) => /^p-[A-Za-z0-9]+\/b-[0-9a-f]{32}$/.test(n.upstreamId))).toBe(true);
    const times = page.nodes.map((n: any) => Date.parse(n.createdAt));
    expect(times).toEqual([...times].sort((a: number, b: number) => b - a));
    const stats = await stack.stats();
    expect(stats.routes['GET /ms/openapi/api/apigw/v3/projects/:projectId/pipelines']).toBe(1);
    expect(stats.total).toBe(1 + pipelineCount);

    const seen: string[] = [...ids(page)];
    let cursor = page.pageInfo.endCursor;
    let more = page.pageInfo.hasNextPage;
    while (more) {
      const next = (await pipelines('bkci', '(first: 10, after: $after)', { after: cursor }, 'demo')).data!.project.pipelines;
      seen.push(...ids(next));
      cursor = next.pageInfo.endCursor;
      more = next.pageInfo.hasNextPage;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(runs.map((r) => r.id).sort());
  });

  it('walks a status-filtered list of runs whole, pages of 3, each run once', async () => {
    const failed = (await allRuns()).filter((r) => FAILED_WORDS.has(r.status)).map((r) => r.id);
    expect(failed.length).toBeGreaterThan(3);
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const result = await pipelines('bkci', '(scope: [FAILED], first: 3, after: $after)', { after }, 'demo');
      expect(result.errors).toBeUndefined();
      const page = result.data!.project.pipelines;
      seen.push(...ids(page));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor ?? after;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...failed].sort());
  });

  it('reads a run back by its id, and its one build is the run', async () => {
    const run = (await pipelines('bkci', '(first: 1)', {}, 'demo')).data!.project.pipelines.nodes[0];
    const result = await stack.graphql(
      'query($id: ID!) { project(upstream: "bkci", id: "demo") { pipeline(id: $id) { upstreamId status name builds { nodes { upstreamId status } } } } }',
      { id: run.upstreamId },
    );
    expect(result.errors).toBeUndefined();
    const pipeline = result.data!.project.pipeline;
    expect(pipeline).toMatchObject({ upstreamId: run.upstreamId, status: run.status });
    expect(pipeline.name).toEqual(expect.any(String));
    expect(pipeline.builds.nodes).toEqual([{ upstreamId: run.upstreamId.split('/')[1], status: run.status }]);
  });

  it('narrows runs by status, and refuses backward paging and `source` before any request', async () => {
    const failed = await pipelines('bkci', '(scope: [FAILED], first: 5)', {}, 'demo');
    expect(failed.errors).toBeUndefined();
    expect(failed.data!.project.pipelines.nodes.length).toBeGreaterThan(0);
    expect(failed.data!.project.pipelines.nodes.every((n: any) => n.status === 'FAILED')).toBe(true);
    await stack.resetStats();
    expect(codes(await pipelines('bkci', '(last: 5)', {}, 'demo'))).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    expect(codes(await pipelines('bkci', '(source: "MANUAL")', {}, 'demo'))).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    expect((await stack.stats()).total).toBe(0);
  });
});

describe('backward paging of build lists', () => {
  const buildsPage = 'nodes { upstreamId } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';

  it('pages a project\'s builds back on an offset-paged upstream, one request a page', async () => {
    const query = `query($after: String, $before: String, $first: Int, $last: Int) { project(upstream: "offset", id: "1") { builds(first: $first, after: $after, last: $last, before: $before) { ${buildsPage} } } }`;
    const first = (await stack.graphql(query, { first: 10 })).data!.project.builds;
    const second = (await stack.graphql(query, { first: 10, after: first.pageInfo.endCursor })).data!.project.builds;
    await stack.resetStats();
    const back = await stack.graphql(query, { last: 10, before: second.pageInfo.startCursor });
    expect(back.errors).toBeUndefined();
    expect(ids(back.data!.project.builds)).toEqual(ids(first));
    expect(back.data!.project.builds.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    expect(await stack.stats()).toEqual({ total: 1, routes: { 'GET /api/v4/projects/:id/jobs': 1 } });
  });

  it('refuses going back on GitLab\'s keyset-paged jobs list with a coded error, before any request', async () => {
    const first = (await stack.graphql(`{ project(upstream: "gitlab", id: "1") { builds(first: 5) { ${buildsPage} } } }`)).data!.project.builds;
    await stack.resetStats();
    for (const args of ['last: 5', `last: 5, before: "${first.pageInfo.endCursor}"`]) {
      const result = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { builds(${args}) { nodes { id } } } }`);
      expect(codes(result)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
      expect(result.errors![0]!.message).toMatch(/keyset/);
    }
    expect((await stack.stats()).total).toBe(0);
  });

  it('pages a pipeline\'s builds back, and reads the end of a counted v3 list with `last` alone', async () => {
    const pipelineId = String((await restPipelines())[0].id);
    const query = `query($id: ID!, $before: String, $first: Int, $last: Int) { project(upstream: "gitlab", id: "1") { pipeline(id: $id) { builds(first: $first, last: $last, before: $before) { ${buildsPage} } } } }`;
    const all = (await stack.graphql(query, { id: pipelineId, first: 100 })).data!.project.pipeline.builds;
    expect(all.nodes.length).toBeGreaterThan(2);
    const lastEdge = (await stack.graphql(`query($id: ID!) { project(upstream: "gitlab", id: "1") { pipeline(id: $id) { builds(first: 100) { edges { cursor } } } } }`, { id: pipelineId })).data!.project.pipeline.builds.edges.at(-1).cursor;
    const back = await stack.graphql(query, { id: pipelineId, last: 2, before: lastEdge });
    expect(back.errors).toBeUndefined();
    expect(ids(back.data!.project.pipeline.builds)).toEqual(ids(all).slice(-3, -1));

    const v3All = (await stack.graphql('{ project(upstream: "v3", id: "1") { builds(first: 100) { totalCount } } }')).data!.project.builds.totalCount;
    const v3Tail = await stack.graphql(`{ project(upstream: "v3", id: "1") { builds(last: 3) { ${buildsPage} } } }`);
    expect(v3Tail.errors).toBeUndefined();
    expect(v3Tail.data!.project.builds.nodes).toHaveLength(Math.min(3, v3All));
    expect(v3Tail.data!.project.builds.pageInfo.hasNextPage).toBe(false);
  });
});
