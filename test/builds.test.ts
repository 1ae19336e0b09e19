/**
 * Reading builds through the gateway: lists, paging, scopes, single builds, pipelines, commits and
 * traces, each compared with what the upstream's REST API says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
// The clock is parked so the data cannot move under a test that walks every page.
beforeAll(async () => {
  stack = await startStack({ simulator: { tickMs: 3_600_000 } });
});
afterAll(() => stack?.close());

const BUILD_FIELDS = `
  id upstreamId upstream kind name stage status upstreamStatus ref tag allowFailure coverage
  createdAt startedAt finishedAt erasedAt duration queuedDuration failureReason webUrl tagList
  retryable cancelable playable artifactsExpireAt
  artifacts { fileType filename size fileFormat downloadUrl }
  runner { upstreamId name description shared active online status }
  commit { id sha shortId title message authorName authorEmail }
  pipeline { id upstreamId status ref sha }
  user { id upstreamId username name state avatarUrl webUrl }
  project { upstream upstreamId }
`;

async function allRestJobIds(path: string): Promise<number[]> {
  const ids: number[] = [];
  for (let page = 1; ; page++) {
    const { body, headers } = await stack.rest(`${path}${path.includes('?') ? '&' : '?'}per_page=100&page=${page}`);
    ids.push(...(body as Array<{ id: number }>).map((job) => job.id));
    if (!headers.get('x-next-page')) return ids;
  }
}

describe('Query.upstreams', () => {
  it('lists the configured upstream with its kind and base URL', async () => {
    const result = await stack.graphql('{ upstreams { name kind baseUrl } }');
    expect(result.errors).toBeUndefined();
    expect(result.data!.upstreams).toEqual([{ name: 'gitlab', kind: 'GITLAB_V4', baseUrl: `${stack.simulator.url}/api/v4` }]);
  });
});

describe('Project.builds', () => {
  it('maps the documented job 7 field by field', async () => {
    const result = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "7") { ${BUILD_FIELDS} } } }`);
    expect(result.errors).toBeUndefined();
    const build = result.data!.project.build;
    const { body: job } = await stack.rest('/projects/1/jobs/7');
    expect(build).toMatchObject({
      upstreamId: '7',
      upstream: 'gitlab',
      kind: 'BUILD',
      name: 'teaspoon',
      stage: 'test',
      status: job.status.toUpperCase(),
      upstreamStatus: job.status,
      ref: 'master',
      tag: false,
      tagList: job.tag_list,
      webUrl: job.web_url,
      commit: { sha: '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd', title: 'Test the CI integration.' },
      pipeline: { upstreamId: '6' },
      user: { username: 'root', name: 'Administrator', upstreamId: '1' },
      project: { upstream: 'gitlab', upstreamId: '1' },
    });
    expect(new Date(build.createdAt).toISOString()).toBe(new Date(job.created_at).toISOString());
    expect(build.artifacts.map((a: { fileType: string }) => a.fileType)).toEqual(job.artifacts.map((a: { file_type: string }) => a.file_type));
    const archive = build.artifacts.find((a: { fileType: string }) => a.fileType === 'archive');
    if (archive) expect(archive.downloadUrl).toBe(`${stack.simulator.url}/api/v4/projects/1/jobs/7/artifacts`);
  });

  it('pages through every build with cursors, in the upstream order, with no gap or duplicate', async () => {
    const expected = await allRestJobIds('/projects/1/jobs');
    expect(expected.length).toBeGreaterThanOrEqual(200);
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 100; i++) {
      const result: any = await stack.graphql(
        `query($after: String) { project(upstream: "gitlab", id: "1") { builds(first: 45, after: $after) {
          edges { cursor node { upstreamId } } nodes { upstreamId } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } } }`,
        { after },
      );
      expect(result.errors).toBeUndefined();
      const connection = result.data.project.builds;
      expect(connection.totalCount).toBeNull();
      expect(connection.nodes).toEqual(connection.edges.map((edge: any) => edge.node));
      expect(connection.pageInfo.hasPreviousPage).toBe(after !== null);
      expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor ?? null);
      seen.push(...connection.nodes.map((node: any) => node.upstreamId));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected.map(String));
  });

  it('continues from a cursor of another page size without losing a build', async () => {
    const expected = (await allRestJobIds('/projects/1/jobs')).slice(0, 30).map(String);
    const first: any = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 7) { edges { cursor node { upstreamId } } } } }');
    const cursor = first.data.project.builds.edges[6].cursor;
    const next: any = await stack.graphql(
      `query($after: String) { project(upstream: "gitlab", id: "1") { builds(first: 23, after: $after) { nodes { upstreamId } pageInfo { hasNextPage } } } }`,
      { after: cursor },
    );
    expect(next.errors).toBeUndefined();
    expect([...first.data.project.builds.edges.map((e: any) => e.node.upstreamId), ...next.data.project.builds.nodes.map((n: any) => n.upstreamId)]).toEqual(expected);
    expect(next.data.project.builds.pageInfo.hasNextPage).toBe(true);
  });

  it('defaults to 20 builds and refuses first above 100 before asking the upstream', async () => {
    const result = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds { nodes { upstreamId } } } }');
    expect(result.data!.project.builds.nodes).toHaveLength(20);
    await stack.resetStats();
    const refused = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 101) { nodes { upstreamId } } } }');
    expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors![0]!.extensions).toMatchObject({ argument: 'first', max: 100 });
    const zero = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 0) { nodes { upstreamId } } } }');
    expect(codes(zero)).toEqual(['BAD_USER_INPUT']);
    expect((await stack.stats()).total).toBe(0);
  });

  it('filters by one or several statuses like GitLab scope[]', async () => {
    for (const scope of [['FAILED'], ['MANUAL', 'SUCCESS'], ['RUNNING']]) {
      const expected = await allRestJobIds(`/projects/1/jobs?${scope.map((s) => `scope[]=${s.toLowerCase()}`).join('&')}`);
      expect(expected.length).toBeGreaterThan(0);
      const result = await stack.graphql(
        `query($scope: [BuildStatus!]) { project(upstream: "gitlab", id: "1") { builds(scope: $scope, first: 100) { nodes { upstreamId status } } } }`,
        { scope },
      );
      expect(result.errors).toBeUndefined();
      const nodes = result.data!.project.builds.nodes as Array<{ upstreamId: string; status: string }>;
      expect(nodes.map((n) => n.upstreamId)).toEqual(expected.slice(0, 100).map(String));
      for (const node of nodes) expect(scope).toContain(node.status);
    }
  });

  it('rejects a status that is not a BuildStatus', async () => {
    const result = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(scope: [STARTED]) { nodes { id } } } }');
    expect(result.errors?.[0]?.message).toMatch(/STARTED/);
  });

  it('addresses a project by its path and gives the same global ids', async () => {
    const byPath = await stack.graphql('{ project(upstream: "gitlab", id: "foo/bar") { id upstreamId path builds(first: 5) { nodes { id } } } }');
    const byId = await stack.graphql('{ project(upstream: "gitlab", id: "1") { id upstreamId path builds(first: 5) { nodes { id } } } }');
    expect(byPath.errors).toBeUndefined();
    expect(byPath.data).toEqual(byId.data);
    expect(byPath.data!.project.path).toBe('foo/bar');
  });
});

describe('Query.build and Query.node', () => {
  it('fetches a build again by the global id a list gave', async () => {
    const list = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 3) { nodes { id name status } } } }');
    for (const node of list.data!.project.builds.nodes) {
      const again = await stack.graphql('query($id: ID!) { build(id: $id) { id name status } node(id: $id) { __typename id ... on Build { name } } }', { id: node.id });
      expect(again.errors).toBeUndefined();
      expect(again.data!.build).toEqual(node);
      expect(again.data!.node).toEqual({ __typename: 'Build', id: node.id, name: node.name });
    }
  });

  it('resolves every node type from its id', async () => {
    const result = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { id build(id: "7") { pipeline { id } commit { id } user { id } } } }`);
    const { id: projectId, build } = result.data!.project;
    for (const [typename, id] of [['Project', projectId], ['Pipeline', build.pipeline.id], ['Commit', build.commit.id], ['User', build.user.id]]) {
      const node = await stack.graphql('query($id: ID!) { node(id: $id) { __typename id } }', { id });
      expect(node.errors).toBeUndefined();
      expect(node.data!.node).toEqual({ __typename: typename, id });
    }
  });

  it('answers a malformed id with BAD_USER_INPUT and a missing build with NOT_FOUND', async () => {
    await stack.resetStats();
    for (const id of ['nope', 'eyJ4IjoxfQ', Buffer.from(JSON.stringify(['Build', 'gitlab', '../..', '1'])).toString('base64url')]) {
      const result = await stack.graphql('query($id: ID!) { build(id: $id) { id } }', { id });
      expect(result.data!.build).toBeNull();
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    }
    expect((await stack.stats()).total).toBe(0);
    const missing = Buffer.from(JSON.stringify(['Build', 'gitlab', '1', '99999999'])).toString('base64url');
    const result = await stack.graphql('query($id: ID!) { build(id: $id) { id } }', { id: missing });
    expect(result.data!.build).toBeNull();
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'NOT_FOUND', upstream: 'gitlab', status: 404 });
  });
});

describe('Pipeline and Commit', () => {
  it('lists a pipeline\'s builds and bridges as the upstream does', async () => {
    const { body: pipelines } = await stack.rest('/projects/1/pipelines?per_page=100');
    let checkedBridge = false;
    for (const pipeline of (pipelines as Array<{ id: number }>).slice(0, 25)) {
      const jobs = await allRestJobIds(`/projects/1/pipelines/${pipeline.id}/jobs`);
      const bridges = await allRestJobIds(`/projects/1/pipelines/${pipeline.id}/bridges`);
      const result = await stack.graphql(
        `query($id: ID!) { project(upstream: "gitlab", id: "1") { pipeline(id: $id) { upstreamId status sha
          builds(first: 100) { totalCount nodes { upstreamId kind } }
          bridges(first: 100) { nodes { upstreamId kind downstreamPipeline { upstreamId } } } } } }`,
        { id: String(pipeline.id) },
      );
      expect(result.errors).toBeUndefined();
      const p = result.data!.project.pipeline;
      expect(p.builds.nodes.map((n: any) => n.upstreamId)).toEqual(jobs.map(String));
      expect(p.builds.totalCount).toBe(jobs.length);
      expect(p.bridges.nodes.map((n: any) => n.upstreamId)).toEqual(bridges.map(String));
      for (const bridge of p.bridges.nodes) {
        expect(bridge.kind).toBe('BRIDGE');
        checkedBridge = true;
      }
    }
    expect(checkedBridge).toBe(true);
  });

  it('lists the builds of a commit', async () => {
    const sha = '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd';
    const result = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { commit(sha: "${sha}") { sha title builds(first: 100) { nodes { upstreamId commit { sha } } } } } }`);
    expect(result.errors).toBeUndefined();
    const commit = result.data!.project.commit;
    expect(commit.title).toBe('Test the CI integration.');
    const ids = commit.builds.nodes.map((n: any) => n.upstreamId);
    expect(ids).toEqual(expect.arrayContaining(['6', '7', '8']));
    for (const node of commit.builds.nodes) expect(node.commit.sha).toBe(sha);
  });

  it('answers an unknown pipeline with null and NOT_FOUND, and a bad SHA with BAD_USER_INPUT', async () => {
    const missing = await stack.graphql('{ project(upstream: "gitlab", id: "1") { pipeline(id: "999999") { status } } }');
    expect(missing.data!.project.pipeline).toBeNull();
    expect(codes(missing)).toEqual(['NOT_FOUND']);
    const bad = await stack.graphql('{ project(upstream: "gitlab", id: "1") { commit(sha: "../../etc") { title } } }');
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('Build.trace', () => {
  it('returns the upstream log byte for byte, in windows that never split a character', async () => {
    const { body: jobs } = await stack.rest('/projects/1/jobs?scope[]=success&scope[]=failed&per_page=5');
    for (const job of jobs as Array<{ id: number }>) {
      const { body: log } = await stack.rest(`/projects/1/jobs/${job.id}/trace`);
      const expected = Buffer.from(log as string, 'utf8');
      expect(expected.length).toBeGreaterThan(0);
      const parts: Buffer[] = [];
      let offset = 0;
      for (let i = 0; i < 10_000; i++) {
        const result: any = await stack.graphql(
          `query($offset: Int) { project(upstream: "gitlab", id: "1") { build(id: "${job.id}") { trace(offset: $offset, limit: 97) { offset nextOffset content complete size } } } }`,
          { offset },
        );
        const chunk = result.data.project.build.trace;
        expect(chunk.offset).toBe(offset);
        expect(chunk.size).toBe(expected.length);
        expect(Buffer.byteLength(chunk.content)).toBe(chunk.nextOffset - chunk.offset);
        expect(chunk.content).not.toContain('\uFFFD');
        parts.push(Buffer.from(chunk.content, 'utf8'));
        offset = chunk.nextOffset;
        if (chunk.complete) break;
      }
      expect(Buffer.concat(parts).equals(expected)).toBe(true);
    }
  });

  it('is not complete while the build runs', async () => {
    const { body: running } = await stack.rest('/projects/1/jobs?scope=running&per_page=1');
    const result = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${running[0].id}") { status trace { complete } } } }`);
    expect(result.data!.project.build).toEqual({ status: 'RUNNING', trace: { complete: false } });
  });

  it('refuses a negative offset, an offset past the end and a limit over 1 MiB', async () => {
    for (const args of ['offset: -1', 'offset: 999999999', 'limit: 0', 'limit: 1048577']) {
      const result = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "7") { trace(${args}) { content } } } }`);
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    }
  });
});
