/**
 * bk-ci's open API gateway behind the same schema: pipelines' build histories, stages/jobs/steps, line
 * traces per attempt, retry with every option (same build, attempt + 1), stop, and bk-ci's errors as codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, type Stack, startStack } from './helpers/stack.js';

const API = '/ms/openapi/api/apigw/v3/projects/demo';
const FAILED = {
  demo4: 'p-demo/b-60e2e2c3769fc10366def718b8c7164f',
  demo9: 'p-demo/b-03a6aba7b4b8e5e636dcc813e9445d51',
  demo15: 'p-demo/b-b0f8c95b729e0a700c66c33e0e21eac5',
  demo20: 'p-demo/b-8737a7af414b435fd3bbeac4d79b6169',
  web3: 'p-web/b-fff13d2df4b52151290850197a8cb0be',
  web13: 'p-web/b-a56df67282011ecd813229791e3d2865',
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    upstreams: (url) => [
      { name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3`, token: 'alice' },
      { name: 'bkci-anon', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3` },
      { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: 'glpat-developer' },
    ],
  });
});
afterAll(() => stack?.close());

const bk = <T = any>(path: string, user = 'admin') => stack.rest<{ status: number; data: T }>(`${API}${path}`, undefined, { 'X-DEVOPS-UID': user });

async function buildOf(locator: string, fields: string, headers?: Record<string, string>, upstream = 'bkci') {
  const result = await stack.graphql(`query($id: ID!) { project(upstream: "${upstream}", id: "demo") { build(id: $id) { ${fields} } } }`, { id: locator }, headers);
  return result;
}

async function globalId(locator: string): Promise<string> {
  const result = await buildOf(locator, 'id');
  expect(result.errors).toBeUndefined();
  return result.data!.project.build.id;
}

describe('bkci-apigw: reading', () => {
  it('lists a pipeline\'s builds as its history, page by page', async () => {
    const { body } = await bk('/pipelines/p-demo/builds/history?page=1&pageSize=100');
    const expected = body.data.records.map((b: any) => b.id);
    expect(expected.length).toBeGreaterThanOrEqual(20);
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const result: any = await stack.graphql(
        `query($after: String) { project(upstream: "bkci", id: "demo") { pipeline(id: "p-demo") { name builds(first: 7, after: $after) { totalCount nodes { upstreamId } pageInfo { hasNextPage endCursor } } } } }`,
        { after },
      );
      expect(result.errors).toBeUndefined();
      expect(result.data.project.pipeline.name).toBe('demo-pipeline');
      expect(result.data.project.pipeline.builds.totalCount).toBe(expected.length);
      seen.push(...result.data.project.pipeline.builds.nodes.map((n: any) => n.upstreamId));
      if (!result.data.project.pipeline.builds.pageInfo.hasNextPage) break;
      after = result.data.project.pipeline.builds.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);
  });

  it('lists a project\'s builds pipeline by pipeline, and filters by status', async () => {
    const { body: pipelines } = await bk('/pipelines?page=1&pageSize=100');
    const expected: string[] = [];
    for (const pipeline of pipelines.data.records) {
      const { body } = await bk(`/pipelines/${pipeline.pipelineId}/builds/history?page=1&pageSize=100`);
      expected.push(...body.data.records.map((b: any) => b.id));
    }
    const result = await stack.graphql('{ project(upstream: "bkci", id: "demo") { builds(first: 100) { nodes { upstreamId } pageInfo { hasNextPage } } failed: builds(first: 100, scope: [FAILED]) { nodes { status upstreamStatus } } } }');
    expect(result.errors).toBeUndefined();
    expect(result.data!.project.builds.nodes.map((n: any) => n.upstreamId)).toEqual(expected.slice(0, 100));
    expect(expected.length).toBeGreaterThanOrEqual(50);
    const failed = result.data!.project.failed.nodes;
    expect(failed.length).toBeGreaterThanOrEqual(6);
    for (const build of failed) expect(build.status).toBe('FAILED');
  });

  it('maps a build: status, attempt, commit, user, and its stages, jobs and steps from the detail', async () => {
    const result = await buildOf(FAILED.web13, `upstreamId upstream kind name status upstreamStatus attempt ref retryable cancelable
      commit { sha title } user { username } pipeline { upstreamId name } failureReason webUrl
      stages { id name status jobs { id name status steps { id name status upstreamStatus } } }`);
    expect(result.errors).toBeUndefined();
    const build = result.data!.project.build;
    const [, id] = FAILED.web13.split('/');
    const { body: status } = await bk(`/pipelines/p-web/builds/${id}/status`);
    expect(build).toMatchObject({ upstreamId: id, upstream: 'bkci', kind: 'BUILD', name: `#${status.data.buildNum}`, status: 'FAILED', upstreamStatus: 'FAILED', attempt: status.data.executeCount ?? 1, retryable: true, cancelable: false });
    expect(build.user.username).toBe(status.data.userId);
    expect(build.pipeline.upstreamId).toBe('p-web');
    const steps = build.stages.flatMap((s: any) => s.jobs.flatMap((j: any) => j.steps));
    expect(steps.find((step: any) => step.id === 'e-5c8f7bad802610be27768c1c4f944da0')).toMatchObject({ status: 'FAILED', name: 'eslint' });
    expect(build.stages[0].id).toMatch(/^s-/);
    expect(build.stages[0].jobs[0].id).toMatch(/^c-/);
  });

  it('reads the trace as lines of the current attempt, offsets counting lines', async () => {
    const [, id] = FAILED.demo20.split('/');
    const { body } = await bk(`/pipelines/p-demo/builds/${id}/logs/after?start=0&executeCount=1`);
    const all: any[] = [...body.data.logs];
    let more = body.data.hasMore;
    while (more) {
      const { body: next } = await bk(`/pipelines/p-demo/builds/${id}/logs/after?start=${all.at(-1).lineNo + 1}&executeCount=1`);
      all.push(...next.data.logs);
      more = next.data.hasMore;
    }
    const text = all.map((line) => `${line.message}\n`).join('');
    let offset = 0;
    let assembled = '';
    for (let i = 0; i < 1000; i++) {
      const result: any = await buildOf(FAILED.demo20, `trace(offset: ${offset}, limit: 25) { offset nextOffset content complete lines }`);
      expect(result.errors).toBeUndefined();
      const chunk = result.data.project.build.trace;
      expect(chunk.offset).toBe(offset);
      expect(chunk.lines.length).toBeLessThanOrEqual(25);
      assembled += chunk.content;
      offset = chunk.nextOffset;
      if (chunk.complete) break;
    }
    expect(assembled).toBe(text);
    expect(offset).toBe(all.at(-1).lineNo + 1);
  });
});

describe('bkci-apigw: retry and stop', () => {
  const retry = async (locator: string, options?: Record<string, unknown>) => {
    const id = await globalId(locator);
    return stack.graphql('mutation($id: ID!, $options: RetryOptions) { retryBuild(id: $id, options: $options) { build { upstreamId status attempt trace { content } } } }', { id, options });
  };

  it.each([
    ['a failed step (taskId)', FAILED.demo4, { taskId: 'e-b0bae438df72cf5e87b7ad84bd426242' }],
    ['only the failed jobs (failedContainer)', FAILED.demo9, { failedContainer: true }],
    ['skipping the failed step (skip)', FAILED.demo15, { taskId: 'e-2b9ea4903b045ae59f44681f7879563d', skip: true }],
    ['the whole build (no options)', FAILED.web3, undefined],
  ])('retries %s: the same build, attempt + 1, the new attempt\'s log', async (_what, locator, options) => {
    const before = (await buildOf(locator, 'attempt')).data!.project.build.attempt;
    const result = await retry(locator, options);
    expect(result.errors).toBeUndefined();
    const build = result.data!.retryBuild.build;
    expect(build.upstreamId).toBe(locator.split('/')[1]);
    expect(build.attempt).toBe(before + 1);
    expect(['PENDING', 'RUNNING']).toContain(build.status);
    const [pipelineId, id] = locator.split('/');
    const { body } = await bk(`/pipelines/${pipelineId}/builds/${id}/logs/after?start=0&executeCount=${before + 1}`);
    expect(build.trace.content).toBe(body.data.logs.map((line: any) => `${line.message}\n`).join(''));
  });

  it('refuses to retry a running build with BAD_USER_INPUT carrying bk-ci\'s code', async () => {
    const list = await stack.graphql('{ project(upstream: "bkci", id: "demo") { builds(first: 100, scope: [RUNNING]) { nodes { id } } } }');
    const running = list.data!.project.builds.nodes[0];
    expect(running).toBeDefined();
    const result = await stack.graphql('mutation($id: ID!) { retryBuild(id: $id) { build { id } } }', { id: running.id });
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', upstream: 'bkci', upstreamCode: 2101129 });
  });

  it('cancels (stops) a running build, and refuses to stop a finished one', async () => {
    const list = await stack.graphql('{ project(upstream: "bkci", id: "demo") { builds(first: 100, scope: [RUNNING, PENDING]) { nodes { id upstreamId } } } }');
    const running = list.data!.project.builds.nodes[0];
    const result = await stack.graphql('mutation($id: ID!) { cancelBuild(id: $id) { build { upstreamId status cancelable } } }', { id: running.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.cancelBuild.build).toEqual({ upstreamId: running.upstreamId, status: 'CANCELED', cancelable: false });
    const again = await stack.graphql('mutation($id: ID!) { cancelBuild(id: $id) { build { status } } }', { id: running.id });
    expect(again.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', upstreamCode: 2101179 });
  });

  it('answers erase and play with UNSUPPORTED_BY_UPSTREAM, before any request', async () => {
    const id = await globalId(FAILED.demo20);
    await stack.resetStats();
    for (const mutation of ['eraseBuild', 'playBuild']) {
      const result = await stack.graphql(`mutation($id: ID!) { ${mutation}(id: $id) { build { id } } }`, { id });
      expect(codes(result)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    }
    expect((await stack.stats()).total).toBe(0);
  });
});

describe('bkci-apigw: credentials and errors', () => {
  it('forwards the client\'s X-DEVOPS-UID: a viewer reads but may not retry (FORBIDDEN)', async () => {
    const read = await buildOf(FAILED.demo20, 'status', { 'X-DEVOPS-UID': 'viewer' });
    expect(read.errors).toBeUndefined();
    const id = await globalId(FAILED.demo20);
    const result = await stack.graphql('mutation($id: ID!) { retryBuild(id: $id) { build { id } } }', { id }, { 'X-DEVOPS-UID': 'viewer' });
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', upstream: 'bkci', status: 403 });
  });

  it('forwards X-Bkapi-Authorization, and never sends a GitLab token to bk-ci', async () => {
    const ok = await buildOf(FAILED.demo20, 'status', { 'X-Bkapi-Authorization': JSON.stringify({ access_token: 'bk-viewer-token' }) }, 'bkci-anon');
    expect(ok.errors).toBeUndefined();
    const bad = await buildOf(FAILED.demo20, 'status', { 'X-Bkapi-Authorization': JSON.stringify({ access_token: 'nope' }) }, 'bkci-anon');
    expect(codes(bad)).toEqual(['UNAUTHENTICATED']);
    const gitlabOnly = await buildOf(FAILED.demo20, 'status', { 'PRIVATE-TOKEN': 'glpat-root', Authorization: 'Bearer bk-admin-token' }, 'bkci-anon');
    expect(gitlabOnly.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', upstream: 'bkci-anon', status: 400 });
  });

  it('maps a user without permission to FORBIDDEN and an unknown build or pipeline to NOT_FOUND', async () => {
    const denied = await buildOf(FAILED.demo20, 'status', { 'X-DEVOPS-UID': 'mallory' });
    expect(codes(denied)).toEqual(['FORBIDDEN']);
    const missing = await buildOf('p-demo/b-00000000000000000000000000000000', 'status');
    expect(missing.errors![0]!.extensions).toMatchObject({ code: 'NOT_FOUND', upstreamCode: 2101163 });
    const noPipeline = await stack.graphql('{ project(upstream: "bkci", id: "demo") { pipeline(id: "p-nope") { name } } }');
    expect(codes(noPipeline)).toEqual(['NOT_FOUND']);
  });

  it('refuses a malformed bk-ci build id before any request', async () => {
    await stack.resetStats();
    for (const id of ['b-123', 'p-demo/../b-1', 'p-demo/b-1/x', '7']) {
      expect(codes(await buildOf(id, 'status'))).toEqual(['BAD_USER_INPUT']);
    }
    expect((await stack.stats()).total).toBe(0);
  });

  it('answers Commit.builds with UNSUPPORTED_BY_UPSTREAM', async () => {
    const result = await stack.graphql('{ project(upstream: "bkci", id: "demo") { commit(sha: "0ff3ae198f8601a285adcf5c0fff204ee6fba5fd") { builds { nodes { id } } } } }');
    expect(codes(result)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
  });
});
