/**
 * Regression tests for the defects a newcomer hit (issue #13, item 9), each over HTTP against the real
 * simulator: short SHAs, bk-ci log sizes and build ids, and where a bad cursor's error lands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, type Stack, startStack } from './helpers/stack.js';

const SHA = '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd';
const BKCI_BUILD = 'p-demo/b-8737a7af414b435fd3bbeac4d79b6169';
const LOGS_AFTER = 'GET /ms/openapi/api/apigw/v3/projects/:projectId/pipelines/:pipelineId/builds/:buildId/logs/after';
const LAST_LINE = 'GET /ms/openapi/api/apigw/v3/projects/:projectId/pipelines/:pipelineId/builds/:buildId/logs/last_line_num';
const STATUS = 'GET /ms/openapi/api/apigw/v3/projects/:projectId/pipelines/:pipelineId/builds/:buildId/status';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    upstreams: (url) => [
      { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: 'glpat-developer' },
      { name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3`, token: 'alice' },
    ],
  });
});
afterAll(() => stack?.close());

const upstreamIds = (result: any): string[] => result.data.project.commit.builds.nodes.map((node: any) => node.upstreamId).sort();

describe('issue #13: Commit.builds with a short SHA', () => {
  it('lists the same builds as the full SHA when only `builds` is selected, reading the commit once', async () => {
    const full = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { commit(sha: "${SHA}") { builds(first: 100) { nodes { upstreamId } } } } }`);
    expect(full.errors).toBeUndefined();
    expect(upstreamIds(full).length).toBeGreaterThan(0);
    await stack.resetStats();
    const short = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { commit(sha: "${SHA.slice(0, 8)}") { sha builds(first: 100) { nodes { upstreamId } } } } }`);
    expect(short.errors).toBeUndefined();
    expect(short.data!.project.commit.sha).toBe(SHA);
    expect(upstreamIds(short)).toEqual(upstreamIds(full));
    expect((await stack.stats()).routes['GET /api/v4/projects/:id/repository/commits/:sha']).toBe(1);
  });

  it('answers NOT_FOUND for a short SHA no commit has, before listing anything', async () => {
    await stack.resetStats();
    const result = await stack.graphql('{ project(upstream: "gitlab", id: "1") { commit(sha: "deadbeef") { builds { nodes { upstreamId } } } } }');
    expect(codes(result)).toEqual(['NOT_FOUND']);
    expect((await stack.stats()).routes['GET /api/v4/projects/:id/pipelines']).toBeUndefined();
  });
});

describe('issue #13: a bk-ci window reports the log\'s size', () => {
  const trace = (offset: number, limit: number) =>
    stack.graphql(`query($id: ID!) { project(upstream: "bkci", id: "demo") { build(id: $id) { trace(offset: ${offset}, limit: ${limit}) { nextOffset size complete } } } }`, { id: BKCI_BUILD });

  it('is the whole log\'s size for a narrow window, as for a window to the end', async () => {
    const whole = await trace(0, 5000);
    expect(whole.errors).toBeUndefined();
    const size = whole.data!.project.build.trace.size;
    expect(whole.data!.project.build.trace).toMatchObject({ nextOffset: size, complete: true });
    expect(size).toBeGreaterThan(5);
    const narrow = await trace(0, 3);
    expect(narrow.errors).toBeUndefined();
    expect(narrow.data!.project.build.trace).toMatchObject({ nextOffset: 4, size, complete: false });
  });

  it('reads it from the pages already fetched when they reach the end, else asks last_line_num once', async () => {
    await stack.resetStats();
    const narrow = await trace(1, 2);
    expect(narrow.errors).toBeUndefined();
    const { routes } = await stack.stats();
    expect(routes[LOGS_AFTER]).toBe(1);
    expect(routes[LAST_LINE]).toBeUndefined();
    await stack.resetStats();
    const past = await trace(100_000, 10);
    expect(past.errors).toBeUndefined();
    expect(past.data!.project.build.trace.size).toBe(narrow.data!.project.build.trace.size);
    expect((await stack.stats()).routes[LAST_LINE]).toBe(1);
  });
});

describe('issue #13: a bk-ci build\'s upstreamId passed back to Project.build', () => {
  it('finds the build by its bare id, as by pipelineId/buildId', async () => {
    const byLocator = await stack.graphql(`query($id: ID!) { project(upstream: "bkci", id: "demo") { build(id: $id) { id upstreamId status pipeline { upstreamId } } } }`, { id: BKCI_BUILD });
    expect(byLocator.errors).toBeUndefined();
    const { upstreamId } = byLocator.data!.project.build;
    expect(upstreamId).toBe(BKCI_BUILD.split('/')[1]);
    await stack.resetStats();
    const byId = await stack.graphql(`query($id: ID!) { project(upstream: "bkci", id: "demo") { build(id: $id) { id upstreamId status pipeline { upstreamId } } } }`, { id: upstreamId });
    expect(byId.errors).toBeUndefined();
    expect(byId.data!.project.build).toEqual(byLocator.data!.project.build);
    // One list of the project's pipelines, then the build's status under each until one has it.
    const { routes, total } = await stack.stats();
    expect(routes['GET /ms/openapi/api/apigw/v3/projects/:projectId/pipelines']).toBe(1);
    expect(routes[STATUS]).toBe(total - 1);
  });

  it('answers NOT_FOUND for a bare id no pipeline has, and BAD_USER_INPUT for what is no build id at all', async () => {
    const missing = await stack.graphql('{ project(upstream: "bkci", id: "demo") { build(id: "b-00000000000000000000000000000000") { upstreamId } } }');
    expect(codes(missing)).toEqual(['NOT_FOUND']);
    await stack.resetStats();
    for (const id of ['x-1/b-2', 'b-123', `b-${'A'.repeat(32)}`]) {
      expect(codes(await stack.graphql(`{ project(upstream: "bkci", id: "demo") { build(id: "${id}") { upstreamId } } }`))).toEqual(['BAD_USER_INPUT']);
    }
    expect((await stack.stats()).total).toBe(0);
  });

  it('counts the lookup against the operation\'s budget', async () => {
    // maxUpstreamCalls is the operation's whole allowance; the lookup of a bare id spends it like any read.
    const budgeted = await startStack({
      simulator: { tickMs: 3_600_000 },
      upstreams: (url) => [{ name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3`, token: 'alice' }],
      gateway: { limits: { maxUpstreamCalls: 2 } } as never,
    });
    try {
      const result = await budgeted.graphql('{ project(upstream: "bkci", id: "demo") { build(id: "b-00000000000000000000000000000000") { upstreamId } } }');
      expect(codes(result)).toEqual(['UPSTREAM_BUDGET_EXCEEDED']);
      expect((await budgeted.stats()).total).toBe(2);
    } finally {
      await budgeted.close();
    }
  });
});

describe('issue #13: a bad `after` cursor', () => {
  it('is an error on the list field, and the project\'s other fields still answer', async () => {
    await stack.resetStats();
    const result = await stack.graphql('{ project(upstream: "gitlab", id: "1") { upstreamId builds(first: 5, after: "bm9wZQ") { nodes { upstreamId } } } }');
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.path).toEqual(['project', 'builds']);
    expect(result.data!.project).toMatchObject({ upstreamId: '1' });
    expect((await stack.stats()).total).toBe(0);
  });
});

describe('issue #13: limit refusals', () => {
  const refusals: Array<[string, string, string]> = [
    ['maxTokens', `{ upstreams { ${'name '.repeat(2500)} } }`, 'GRAPHQL_VALIDATION_FAILED'],
    ['maxAliases', `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: upstreams { name }`).join(' ')} }`, 'GRAPHQL_VALIDATION_FAILED'],
    ['maxDirectives', `{ upstreams @include(if: true) { name ${'@skip(if: false) '.repeat(51)} } }`, 'GRAPHQL_VALIDATION_FAILED'],
  ];
  it.each(refusals)('%s: coded, named, and not called a syntax error', async (limit, query, code) => {
    await stack.resetStats();
    const result = await stack.graphql(query);
    expect(codes(result)).toEqual([code]);
    expect(result.errors![0]!.extensions).toMatchObject({ limit });
    expect(result.errors![0]!.message).not.toMatch(/syntax error/i);
    expect((await stack.stats()).total).toBe(0);
  });

  it('keeps "Syntax Error:" for documents that do not parse', async () => {
    const result = await stack.graphql('{ upstreams { name }');
    expect(codes(result)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(result.errors![0]!.message).toMatch(/^Syntax Error:/);
  });
});
