/**
 * The GitLab v3 Builds API behind the same schema: v3 and v4 on one simulated GitLab answer the same
 * query with the same values wherever both APIs carry them, and null where v3 cannot say.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    upstreams: (url) => [
      { name: 'v4', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: 'glpat-developer' },
      { name: 'v3', kind: 'gitlab-v3', baseUrl: `${url}/api/v3`, token: 'glpat-developer' },
    ],
  });
});
afterAll(() => stack?.close());

const SHARED = `upstreamId name stage status upstreamStatus ref tag coverage createdAt startedAt finishedAt
  retryable cancelable playable kind
  commit { sha title message authorName } pipeline { upstreamId status ref sha } user { upstreamId username name }
  runner { upstreamId description shared active }`;
const V4_ONLY = 'allowFailure webUrl queuedDuration tagList failureReason erasedAt';

async function buildOn(upstream: string, id: string, fields: string) {
  const result = await stack.graphql(`query($u: String!, $id: ID!) { project(upstream: $u, id: "1") { build(id: $id) { ${fields} } } }`, { u: upstream, id });
  expect(result.errors).toBeUndefined();
  return result.data!.project.build;
}

describe('gitlab-v3 next to gitlab-v4', () => {
  it('answers the same query with the same values for the same build', async () => {
    for (const id of ['6', '7', '8', '40', '100', '230']) {
      const fields = `${SHARED} duration artifacts { fileType filename size }`;
      const [v3, v4] = await Promise.all([buildOn('v3', id, fields), buildOn('v4', id, fields)]);
      const { duration: d3, artifacts: a3, ...rest3 } = v3;
      const { duration: d4, artifacts: a4, ...rest4 } = v4;
      expect(rest3).toEqual(rest4);
      // v3 knew only the archive (`artifacts_file`); v4 lists every artifact file.
      expect(a3).toEqual(a4.filter((artifact: { fileType: string }) => artifact.fileType === 'archive'));
      if (v4.finishedAt) expect(d3).toBeCloseTo(d4, 2);
      else if (v4.startedAt) expect(d3).toBeGreaterThan(0);
      else expect(d3).toBeNull();
    }
  });

  it('answers null for what v3 does not carry', async () => {
    const v3 = await buildOn('v3', '7', V4_ONLY);
    expect(v3).toEqual({ allowFailure: null, webUrl: null, queuedDuration: null, tagList: null, failureReason: null, erasedAt: null });
    const v4 = await buildOn('v4', '7', V4_ONLY);
    expect(v4.failureReason).toBe('script_failure');
    expect(v4.tagList).toEqual(expect.any(Array));
  });

  it('lists the same builds, in the same order, page after page, and by status', async () => {
    for (const scope of [null, ['FAILED'], ['SUCCESS', 'CANCELED']]) {
      const ids: Record<string, string[]> = {};
      for (const upstream of ['v3', 'v4']) {
        ids[upstream] = [];
        let after: string | null = null;
        for (let i = 0; i < 10; i++) {
          const result: any = await stack.graphql(
            `query($u: String!, $after: String, $scope: [BuildStatus!]) { project(upstream: $u, id: "1") { builds(first: 30, after: $after, scope: $scope) { nodes { upstreamId } pageInfo { hasNextPage endCursor } } } }`,
            { u: upstream, after, scope },
          );
          expect(result.errors).toBeUndefined();
          ids[upstream]!.push(...result.data.project.builds.nodes.map((n: any) => n.upstreamId));
          if (!result.data.project.builds.pageInfo.hasNextPage) break;
          after = result.data.project.builds.pageInfo.endCursor;
        }
      }
      expect(ids.v3!.length).toBeGreaterThan(0);
      expect(ids.v3).toEqual(ids.v4);
    }
  });

  it('counts the list as v3 did (X-Total), where v4 does not', async () => {
    const result = await stack.graphql('{ a: project(upstream: "v3", id: "1") { builds { totalCount } } b: project(upstream: "v4", id: "1") { builds { totalCount } } }');
    expect(result.data!.a.builds.totalCount).toBeGreaterThanOrEqual(200);
    expect(result.data!.b.builds.totalCount).toBeNull();
  });

  it('serves the same trace bytes', async () => {
    const query = `query($u: String!) { project(upstream: $u, id: "1") { build(id: "8") { trace { content size complete } } } }`;
    const [v3, v4] = await Promise.all([stack.graphql(query, { u: 'v3' }), stack.graphql(query, { u: 'v4' })]);
    expect(v3.data).toEqual(v4.data);
    expect(v3.data!.project.build.trace.size).toBeGreaterThan(0);
  });

  it('lists a commit\'s builds and a pipeline\'s builds', async () => {
    const sha = '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd';
    const result = await stack.graphql(`{
      project(upstream: "v3", id: "1") {
        commit(sha: "${sha}") { builds(first: 100) { nodes { upstreamId pipeline { upstreamId } } } }
        pipeline(id: "6") { builds(first: 100) { nodes { upstreamId } } bridges { nodes { upstreamId } } }
      }
    }`);
    expect(result.errors).toBeUndefined();
    const { body: rest } = await stack.rest(`/api/v3/projects/1/repository/commits/${sha}/builds?per_page=100`, 'glpat-developer');
    expect(result.data!.project.commit.builds.nodes.map((n: any) => n.upstreamId)).toEqual(rest.map((b: any) => String(b.id)));
    const inPipeline = rest.filter((b: any) => b.pipeline.id === 6).map((b: any) => String(b.id));
    expect(result.data!.project.pipeline.builds.nodes.map((n: any) => n.upstreamId)).toEqual(inPipeline);
    expect(result.data!.project.pipeline.bridges.nodes).toEqual([]);
  });

  it('retries through v3 and the new build is the same job in v4', async () => {
    const retried = await stack.graphql('{ project(upstream: "v3", id: "1") { build(id: "40") { id } } }');
    const result = await stack.graphql('mutation($id: ID!) { retryBuild(id: $id) { build { upstreamId upstream name status } } }', { id: retried.data!.project.build.id });
    expect(result.errors).toBeUndefined();
    const build = result.data!.retryBuild.build;
    expect(build).toMatchObject({ upstream: 'v3', status: 'PENDING' });
    expect(await buildOn('v4', build.upstreamId, 'name status')).toEqual({ name: build.name, status: 'PENDING' });
  });

  it('cancels a running build through v3', async () => {
    const list = await stack.graphql('{ project(upstream: "v3", id: "1") { builds(scope: [RUNNING], first: 1) { nodes { id upstreamId } } } }');
    const { id, upstreamId } = list.data!.project.builds.nodes[0];
    const result = await stack.graphql('mutation($id: ID!) { cancelBuild(id: $id) { build { status } } }', { id });
    expect(result.data!.cancelBuild.build.status).toBe('CANCELED');
    expect((await buildOn('v4', upstreamId, 'status')).status).toBe('CANCELED');
  });

  it('points artifact downloads at the v3 and v4 endpoints, which serve the archive', async () => {
    for (const upstream of ['v3', 'v4']) {
      const build = await buildOn(upstream, '7', 'artifacts { fileType downloadUrl }');
      const archive = build.artifacts.find((a: any) => a.fileType === 'archive');
      expect(archive.downloadUrl).toBe(`${stack.simulator.url}/api/${upstream}/projects/1/${upstream === 'v3' ? 'builds' : 'jobs'}/7/artifacts`);
      const response = await fetch(archive.downloadUrl, { headers: { 'PRIVATE-TOKEN': 'glpat-developer' } });
      expect(response.status).toBe(200);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.subarray(0, 2).toString()).toBe('PK');
    }
  });

  it('refuses RetryOptions on v3 like v4', async () => {
    const list = await stack.graphql('{ project(upstream: "v3", id: "1") { build(id: "6") { id } } }');
    const result = await stack.graphql('mutation($id: ID!) { retryBuild(id: $id, options: { skip: true }) { build { id } } }', { id: list.data!.project.build.id });
    expect(codes(result)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
  });
});

describe('gitlab-v3, the early 8.x shape (GitLab 8.0 Builds API)', () => {
  let legacy: Stack;
  beforeAll(async () => {
    legacy = await startStack({
      simulator: { tickMs: 3_600_000, v3CommitShape: 'ci-commit' } as never,
      upstreams: (url) => [
        { name: 'old', kind: 'gitlab-v3', baseUrl: `${url}/api/v3`, legacy: true },
        { name: 'v4', kind: 'gitlab-v4', baseUrl: `${url}/api/v4` },
      ],
    });
  });
  afterAll(() => legacy?.close());

  it('reads the CI-commit shape: the commit by its sha, the pipeline by the CI commit id', async () => {
    const query = `query($u: String!) { project(upstream: $u, id: "1") { build(id: "7") { commit { sha title } pipeline { upstreamId status } } } }`;
    const { body: raw } = await legacy.rest('/api/v3/projects/1/builds/7');
    expect(typeof raw.commit.id).toBe('number');
    const [old, v4] = await Promise.all([legacy.graphql(query, { u: 'old' }), legacy.graphql(query, { u: 'v4' })]);
    expect(old.errors).toBeUndefined();
    expect(old.data).toEqual(v4.data);
  });

  it('narrows the coarse 8.x scopes to the statuses asked for, with cursors that resume exactly', async () => {
    for (const scope of [['FAILED'], ['RUNNING'], ['SUCCESS', 'MANUAL']]) {
      const ids: Record<string, string[]> = { old: [], v4: [] };
      for (const upstream of ['old', 'v4']) {
        let after: string | null = null;
        for (let i = 0; i < 20; i++) {
          const result: any = await legacy.graphql(
            `query($u: String!, $after: String, $scope: [BuildStatus!]) { project(upstream: $u, id: "1") { builds(first: 7, after: $after, scope: $scope) { nodes { upstreamId status } pageInfo { hasNextPage endCursor } } } }`,
            { u: upstream, after, scope },
          );
          expect(result.errors).toBeUndefined();
          for (const node of result.data.project.builds.nodes) expect(scope).toContain(node.status);
          ids[upstream]!.push(...result.data.project.builds.nodes.map((n: any) => n.upstreamId));
          if (!result.data.project.builds.pageInfo.hasNextPage) break;
          after = result.data.project.builds.pageInfo.endCursor;
        }
      }
      expect(ids.old!.length).toBeGreaterThan(0);
      expect(ids.old).toEqual(ids.v4);
    }
  });

  it('reads a commit\'s builds at the older /builds/commit/:sha', async () => {
    await legacy.resetStats();
    const result = await legacy.graphql('{ project(upstream: "old", id: "1") { commit(sha: "0ff3ae198f8601a285adcf5c0fff204ee6fba5fd") { builds { nodes { upstreamId } } } } }');
    expect(result.errors).toBeUndefined();
    expect(result.data!.project.commit.builds.nodes.map((n: any) => n.upstreamId)).toEqual(expect.arrayContaining(['6', '7', '8']));
    expect(Object.keys((await legacy.stats()).routes)).toEqual(['GET /api/v3/projects/:id/builds/commit/:sha']);
  });
});
