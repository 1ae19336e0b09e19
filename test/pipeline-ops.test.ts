/**
 * Issue #15, pipeline operations: retryPipeline and cancelPipeline on each kind (their refusals, and one
 * upstream POST even on a 5xx), pipelineStatus shared by fifty subscribers on three tokens, and
 * Runner.builds, each checked against the simulator's REST API and request counts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { startGateway } from '../src/server.js';
import { codes, type Stack, startStack } from './helpers/stack.js';
import { type SubscriptionClient, subscriptionClient, until } from './helpers/subscribe.js';

const BKCI = '/ms/openapi/api/apigw/v3/projects/demo';
const RETRY = 'POST /api/v4/projects/:id/pipelines/:pipeline_id/retry';
const CANCEL = 'POST /api/v4/projects/:id/pipelines/:pipeline_id/cancel';
const GET_PIPELINE = 'GET /api/v4/projects/:id/pipelines/:pipeline_id';
const RUNNER_JOBS = 'GET /api/v4/runners/:id/jobs';

let stack: Stack;
beforeAll(async () => {
  // The clock never ticks by itself: a pipeline changes only when a test changes it.
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    upstreams: (url) => [
      { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${url}/api/v4` },
      { name: 'v3', kind: 'gitlab-v3', baseUrl: `${url}/api/v3` },
      { name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3` },
    ],
    gateway: { trace: { pollIntervalMs: 40, maxPollIntervalMs: 80, recheckMs: 600_000 } } as never,
  });
});
afterAll(() => stack?.close());
afterEach(() => fetch(`${stack.simulator.url}/__sim/faults`, { method: 'DELETE' }));

const DEV = { 'PRIVATE-TOKEN': 'glpat-developer' };
const ROOT = { 'PRIVATE-TOKEN': 'glpat-root' };
const REPORTER = { 'PRIVATE-TOKEN': 'glpat-reporter' };

const latest = (p: { jobs: Array<{ retried: boolean; status: string }> }) => p.jobs.filter((j) => !j.retried);
function gitlabPipeline(test: (p: any) => boolean): number {
  const found = stack.simulator.store.projects.get(1)!.pipelines.find(test);
  if (!found) throw new Error('no such pipeline in the simulator');
  return found.id;
}

async function pipelineGlobalId(upstream: string, project: string, id: number | string, headers: Record<string, string>): Promise<string> {
  const result = await stack.graphql(`{ project(upstream: "${upstream}", id: "${project}") { pipeline(id: "${id}") { id } } }`, undefined, headers);
  expect(result.errors).toBeUndefined();
  return result.data!.project.pipeline.id;
}

const RETRY_MUTATION = 'mutation($id: ID!) { retryPipeline(id: $id) { pipeline { id upstreamId status upstreamStatus } } }';
const CANCEL_MUTATION = 'mutation($id: ID!) { cancelPipeline(id: $id) { pipeline { id upstreamId status upstreamStatus } } }';

const fault = async (rule: Record<string, unknown>) => {
  const response = await fetch(`${stack.simulator.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  expect(response.status).toBe(201);
};

describe('retryPipeline and cancelPipeline on GitLab v4', () => {
  it('retryPipeline runs the failed builds again with one upstream POST and returns the pipeline', async () => {
    const pipelineId = gitlabPipeline((p) => p.status === 'failed');
    const id = await pipelineGlobalId('gitlab', '1', pipelineId, DEV);
    await stack.resetStats();
    const result = await stack.graphql(RETRY_MUTATION, { id }, DEV);
    expect(result.errors).toBeUndefined();
    expect(result.data!.retryPipeline.pipeline).toMatchObject({ id, upstreamId: String(pipelineId), status: expect.stringMatching(/^(PENDING|RUNNING|CREATED)$/) });
    expect((await stack.stats()).routes[RETRY]).toBe(1);
    const { body: rest } = await stack.rest(`/projects/1/pipelines/${pipelineId}`, 'glpat-developer');
    expect(rest.status).not.toBe('failed');
  });

  it('cancelPipeline cancels a running pipeline with one upstream POST', async () => {
    const pipelineId = gitlabPipeline((p) => latest(p).some((j) => j.status === 'running'));
    const id = await pipelineGlobalId('gitlab', '1', pipelineId, DEV);
    await stack.resetStats();
    const result = await stack.graphql(CANCEL_MUTATION, { id }, DEV);
    expect(result.errors).toBeUndefined();
    expect(result.data!.cancelPipeline.pipeline).toMatchObject({ id, status: 'CANCELED', upstreamStatus: 'canceled' });
    expect((await stack.stats()).routes[CANCEL]).toBe(1);
    expect((await stack.rest(`/projects/1/pipelines/${pipelineId}`, 'glpat-developer')).body.status).toBe('canceled');
  });

  it('a reporter is refused with FORBIDDEN and the pipeline is unchanged', async () => {
    const pipelineId = gitlabPipeline((p) => p.status === 'failed');
    const id = await pipelineGlobalId('gitlab', '1', pipelineId, REPORTER);
    const result = await stack.graphql(RETRY_MUTATION, { id }, REPORTER);
    expect(result.data!.retryPipeline).toBeNull();
    expect(codes(result)).toEqual(['FORBIDDEN']);
    expect(result.errors![0]!.extensions).toMatchObject({ upstream: 'gitlab', status: 403 });
    expect((await stack.rest(`/projects/1/pipelines/${pipelineId}`, 'glpat-root')).body.status).toBe('failed');
  });

  it.each([
    { field: 'retryPipeline', mutation: RETRY_MUTATION, route: RETRY, status: 502 },
    { field: 'cancelPipeline', mutation: CANCEL_MUTATION, route: CANCEL, status: 503 },
  ])('$field reaches the upstream exactly once on a $status (never retried) and answers with a coded error', async ({ field, mutation, route, status }) => {
    const pipelineId = gitlabPipeline((p) => p.status === 'failed');
    const id = await pipelineGlobalId('gitlab', '1', pipelineId, DEV);
    await fault({ route, mode: 'status', status });
    await stack.resetStats();
    const result = await stack.graphql(mutation, { id }, DEV);
    expect(result.data![field]).toBeNull();
    expect(codes(result)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect((await stack.stats()).routes[route]).toBe(1);
  });

  it('refuses a bad or foreign id before any upstream request', async () => {
    const buildId = (await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 1) { nodes { id } } } }', undefined, DEV)).data!.project.builds.nodes[0].id;
    await stack.resetStats();
    expect(codes(await stack.graphql(RETRY_MUTATION, { id: buildId }, DEV))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await stack.graphql(CANCEL_MUTATION, { id: 'nope' }, DEV))).toEqual(['BAD_USER_INPUT']);
    expect((await stack.stats()).total).toBe(0);
  });
});

describe('retryPipeline and cancelPipeline on GitLab v3 and bk-ci', () => {
  it('GitLab v3 retries and cancels through the pipelines API 9.x served under /api/v3', async () => {
    const failed = gitlabPipeline((p) => p.status === 'failed');
    const retried = await stack.graphql(RETRY_MUTATION, { id: await pipelineGlobalId('v3', '1', failed, DEV) }, DEV);
    expect(retried.errors).toBeUndefined();
    expect(retried.data!.retryPipeline.pipeline.upstreamId).toBe(String(failed));
    const running = gitlabPipeline((p) => latest(p).some((j) => j.status === 'running' || j.status === 'pending'));
    await stack.resetStats();
    const canceled = await stack.graphql(CANCEL_MUTATION, { id: await pipelineGlobalId('v3', '1', running, DEV) }, DEV);
    expect(canceled.data!.cancelPipeline.pipeline.status).toBe('CANCELED');
    expect((await stack.stats()).routes['POST /api/v3/projects/:id/pipelines/:pipeline_id/cancel']).toBe(1);
  });

  it('bk-ci retries the pipeline\'s latest build (one POST of its retry endpoint) and stops a running one', async () => {
    const bk = async (user: string) =>
      (await stack.rest<{ data: { records: Array<{ pipelineId: string; latestBuildStatus: string | null; latestBuildId: string }> } }>(`${BKCI}/pipelines?page=1&pageSize=100`, undefined, { 'X-DEVOPS-UID': user })).body.data.records;
    const pipelines = await bk('admin');
    const finished = pipelines.find((p) => p.latestBuildStatus === 'SUCCEED' || p.latestBuildStatus === 'FAILED');
    const running = pipelines.find((p) => p.latestBuildStatus === 'RUNNING');
    expect(finished && running, 'a finished and a running bk-ci pipeline').toBeTruthy();
    const alice = { 'X-DEVOPS-UID': 'alice' };

    await stack.resetStats();
    const retried = await stack.graphql(RETRY_MUTATION, { id: await pipelineGlobalId('bkci', 'demo', finished!.pipelineId, alice) }, alice);
    expect(retried.errors).toBeUndefined();
    expect(retried.data!.retryPipeline.pipeline).toMatchObject({ upstreamId: finished!.pipelineId, status: expect.stringMatching(/^(PENDING|RUNNING)$/) });
    const routes = (await stack.stats()).routes;
    expect(routes['POST /ms/openapi/api/apigw/v3/projects/:projectId/pipelines/:pipelineId/builds/:buildId/retry']).toBe(1);
    const status = await stack.rest(`${BKCI}/pipelines/${finished!.pipelineId}/builds/${finished!.latestBuildId}/status`, undefined, { 'X-DEVOPS-UID': 'admin' });
    expect(status.body.data.executeCount).toBeGreaterThan(1);

    const viewer = { 'X-DEVOPS-UID': 'viewer' };
    const refused = await stack.graphql(CANCEL_MUTATION, { id: await pipelineGlobalId('bkci', 'demo', running!.pipelineId, viewer) }, viewer);
    expect(codes(refused)).toEqual(['FORBIDDEN']);
    const runningId = await pipelineGlobalId('bkci', 'demo', running!.pipelineId, alice);
    await stack.resetStats();
    const stopped = await stack.graphql(CANCEL_MUTATION, { id: runningId }, alice);
    expect(stopped.errors).toBeUndefined();
    expect(stopped.data!.cancelPipeline.pipeline.upstreamId).toBe(running!.pipelineId);
    expect((await stack.stats()).routes['POST /ms/openapi/api/apigw/v3/projects/:projectId/pipelines/:pipelineId/builds/:buildId/stop']).toBe(1);
    // The stopped build is canceled (the simulator's clock may start the pipeline's next build at once).
    const after = await stack.rest(`${BKCI}/pipelines/${running!.pipelineId}/builds/${running!.latestBuildId}/status`, undefined, { 'X-DEVOPS-UID': 'admin' });
    expect(after.body.data.status).toBe('CANCELED');
  });
});

describe('pipelineStatus', () => {
  const SUBSCRIPTION = 'subscription($id: ID!) { pipelineStatus(id: $id) { id upstreamId status } }';
  const clients: SubscriptionClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
  });

  it('ends with SHUTTING_DOWN when the gateway shuts down, and its poller stops', async () => {
    const pipelineId = gitlabPipeline((p) => latest(p).some((j) => j.status === 'running'));
    const id = await pipelineGlobalId('gitlab', '1', pipelineId, DEV);
    const closing = await startGateway(parseConfig({ port: 0, host: '127.0.0.1', logLevel: 'silent', upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${stack.simulator.url}/api/v4` }] }));
    const client = subscriptionClient('ws', closing.url, DEV);
    clients.push(client);
    const sub = client.subscribe<{ status: string }>(SUBSCRIPTION, { id });
    await until(() => sub.values.length === 1, 10_000, 'the first value');
    expect(closing.pipelineHub.stats.pollers).toBe(1);
    await closing.close();
    const { errors } = await sub.done;
    expect(errors?.[0]?.extensions?.code).toBe('SHUTTING_DOWN');
    expect(closing.pipelineHub.stats.pollers).toBe(0);
  });

  it('fifty subscribers on three tokens cost one poll per interval, and all complete at the terminal status', async () => {
    const pipelineId = gitlabPipeline((p) => latest(p).some((j) => j.status === 'running'));
    const id = await pipelineGlobalId('gitlab', '1', pipelineId, DEV);
    const tokens = ['glpat-root', 'glpat-developer', 'glpat-reporter'];
    await stack.resetStats();
    const subscriptions = Array.from({ length: 50 }, (_, i) => {
      const token = tokens[i % tokens.length]!;
      const client = subscriptionClient(i % 2 ? 'ws' : 'sse', stack.gateway.url, { 'PRIVATE-TOKEN': token });
      clients.push(client);
      return client.subscribe<{ status: string; upstreamId: string }>(SUBSCRIPTION, { id });
    });
    await until(() => subscriptions.every((s) => s.values.length === 1), 10_000, 'every subscriber\'s first value');
    expect(subscriptions.every((s) => s.values[0]!.status === 'RUNNING')).toBe(true);

    const hub = stack.gateway.pipelineHub;
    expect(hub.stats).toMatchObject({ pollers: 1, subscribers: 50 });
    await until(() => hub.stats.polls >= 5, 10_000, 'five polls');
    const polls = hub.stats.polls;
    const reads = (await stack.stats()).routes[GET_PIPELINE]!;
    // One access check per token (shared by its subscribers), then the shared poller's reads: one per
    // interval (a poll may be in flight while the counts are read).
    expect(reads - polls).toBeGreaterThanOrEqual(0);
    expect(reads - polls).toBeLessThanOrEqual(tokens.length + 1);

    const cancel = await fetch(`${stack.simulator.url}/api/v4/projects/1/pipelines/${pipelineId}/cancel`, { method: 'POST', headers: ROOT });
    expect(cancel.status).toBe(201);
    const ends = await Promise.all(subscriptions.map((s) => s.done));
    expect(ends.every((end) => end.errors === undefined)).toBe(true);
    for (const s of subscriptions) expect(s.values.map((v) => v.status)).toEqual(['RUNNING', 'CANCELED']);
    await until(() => hub.stats.pollers === 0, 5000, 'the poller to stop');
  });

  it('a token without access gets its error and nothing else; the others are unaffected', async () => {
    const pipelineId = gitlabPipeline((p) => latest(p).some((j) => j.status === 'running'));
    const id = await pipelineGlobalId('gitlab', '1', pipelineId, DEV);
    const good = subscriptionClient('sse', stack.gateway.url, DEV);
    const bad = subscriptionClient('ws', stack.gateway.url, { 'PRIVATE-TOKEN': 'glpat-unknown' });
    clients.push(good, bad);
    const watching = good.subscribe<{ status: string }>(SUBSCRIPTION, { id });
    const refused = bad.subscribe<{ status: string }>(SUBSCRIPTION, { id });
    const end = await refused.done;
    expect(refused.values).toEqual([]);
    expect(end.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await until(() => watching.values.length === 1, 5000, 'the good subscriber\'s first value');
    await fetch(`${stack.simulator.url}/api/v4/projects/1/pipelines/${pipelineId}/cancel`, { method: 'POST', headers: ROOT });
    expect((await watching.done).errors).toBeUndefined();
    expect(watching.values.map((v) => v.status)).toEqual(['RUNNING', 'CANCELED']);
  });

  it('a finished pipeline is sent once and the subscription completes without a poller', async () => {
    const pipelineId = gitlabPipeline((p) => p.status === 'success');
    const id = await pipelineGlobalId('gitlab', '1', pipelineId, DEV);
    const client = subscriptionClient('sse', stack.gateway.url, DEV);
    clients.push(client);
    const s = client.subscribe<{ status: string }>(SUBSCRIPTION, { id });
    expect((await s.done).errors).toBeUndefined();
    expect(s.values.map((v) => v.status)).toEqual(['SUCCESS']);
  });
});

describe('Runner.builds', () => {
  const RUNNER_QUERY = `query($after: String) { project(upstream: "gitlab", id: "1") { builds(first: 1, scope: [SUCCESS]) { nodes { runner { upstreamId
    builds(first: 3, after: $after) { nodes { upstreamId project { id } } pageInfo { hasNextPage endCursor } totalCount } } } } } }`;

  it('pages a runner\'s builds newest first, one upstream request per page', async () => {
    const first = await stack.graphql(RUNNER_QUERY, {}, ROOT);
    expect(first.errors).toBeUndefined();
    const runner = first.data!.project.builds.nodes[0].runner;
    const { body: rest } = await stack.rest(`/runners/${runner.upstreamId}/jobs?order_by=id&sort=desc&per_page=6`, 'glpat-root');
    expect(runner.builds.nodes.map((b: any) => b.upstreamId)).toEqual(rest.slice(0, 3).map((j: any) => String(j.id)));
    expect(runner.builds.pageInfo.hasNextPage).toBe(true);
    expect(runner.builds.totalCount).toBeGreaterThan(3);

    await stack.resetStats();
    const second = await stack.graphql(RUNNER_QUERY, { after: runner.builds.pageInfo.endCursor }, ROOT);
    expect(second.errors).toBeUndefined();
    expect(second.data!.project.builds.nodes[0].runner.builds.nodes.map((b: any) => b.upstreamId)).toEqual(rest.slice(3, 6).map((j: any) => String(j.id)));
    expect((await stack.stats()).routes[RUNNER_JOBS]).toBe(1);
  });

  it('the same runner list under aliases is one upstream request', async () => {
    await stack.resetStats();
    const result = await stack.graphql(
      `{ project(upstream: "gitlab", id: "1") { builds(first: 1, scope: [SUCCESS]) { nodes { runner { a: builds(first: 2) { nodes { upstreamId } } b: builds(first: 2) { nodes { upstreamId } } } } } } }`,
      undefined,
      ROOT,
    );
    expect(result.errors).toBeUndefined();
    expect((await stack.stats()).routes[RUNNER_JOBS]).toBe(1);
  });

  it('filters by one status; more than one is BAD_USER_INPUT before any runner request', async () => {
    const query = (scope: string) =>
      `{ project(upstream: "gitlab", id: "1") { builds(first: 1, scope: [SUCCESS]) { nodes { runner { builds(first: 5, scope: ${scope}) { nodes { status } } } } } } }`;
    const one = await stack.graphql(query('[FAILED]'), undefined, ROOT);
    expect(one.errors).toBeUndefined();
    expect(one.data!.project.builds.nodes[0].runner.builds.nodes.every((b: any) => b.status === 'FAILED')).toBe(true);
    await stack.resetStats();
    const two = await stack.graphql(query('[FAILED, SUCCESS]'), undefined, ROOT);
    expect(codes(two)).toEqual(['BAD_USER_INPUT']);
    expect((await stack.stats()).routes[RUNNER_JOBS]).toBeUndefined();
  });

  it('a shared runner\'s builds are FORBIDDEN to a non-admin, as GitLab answers; a project runner\'s are not', async () => {
    const listed = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 100, scope: [SUCCESS, FAILED]) { nodes { id runner { shared } } } } }', undefined, DEV);
    const nodes = listed.data!.project.builds.nodes as Array<{ id: string; runner: { shared: boolean } | null }>;
    const query = 'query($id: ID!) { build(id: $id) { runner { upstreamId builds(first: 2) { nodes { upstreamId } } } } }';
    const onShared = nodes.find((n) => n.runner?.shared === true);
    const onProjectRunner = nodes.find((n) => n.runner?.shared === false);
    expect(onShared && onProjectRunner, 'builds on a shared and on a project runner').toBeTruthy();
    const refused = await stack.graphql(query, { id: onShared!.id }, DEV);
    expect(refused.data!.build.runner.builds).toBeNull();
    expect(codes(refused)).toEqual(['FORBIDDEN']);
    const allowed = await stack.graphql(query, { id: onProjectRunner!.id }, DEV);
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data!.build.runner.builds.nodes.length).toBeGreaterThan(0);
  });

  it('GitLab v3 has no runner builds: UNSUPPORTED_BY_UPSTREAM, no upstream request for it', async () => {
    await stack.resetStats();
    const result = await stack.graphql(
      `{ project(upstream: "v3", id: "1") { builds(first: 1, scope: [SUCCESS]) { nodes { runner { upstreamId builds(first: 2) { nodes { id } } } } } } }`,
      undefined,
      DEV,
    );
    expect(codes(result)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    expect(result.data!.project.builds.nodes[0].runner.builds).toBeNull();
    expect(Object.keys((await stack.stats()).routes).some((route) => route.includes('/runners/'))).toBe(false);
  });

  it('is priced by its page size: nested runner lists over the cost limit are refused before any request', async () => {
    await stack.resetStats();
    const result = await stack.graphql(
      `{ project(upstream: "gitlab", id: "1") { builds(first: 100) { nodes { runner { builds(first: 100) { nodes { id name status } } } } } } }`,
      undefined,
      ROOT,
    );
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'maxCost' });
    expect((await stack.stats()).total).toBe(0);
    // The same shape with small inner pages is within the limit: the price follows `first`.
    const small = await stack.graphql(
      `{ project(upstream: "gitlab", id: "1") { builds(first: 100) { nodes { runner { builds(first: 1) { nodes { id } } } } } } }`,
      undefined,
      ROOT,
    );
    expect(small.errors).toBeUndefined();
  });
});

describe('pipelineStatus rechecks each credential', () => {
  let own: Stack;
  beforeAll(async () => {
    own = await startStack({ simulator: { tickMs: 3_600_000 }, gateway: { trace: { pollIntervalMs: 40, maxPollIntervalMs: 80, recheckMs: 100 } } as never });
  });
  afterAll(() => own?.close());

  it('a revoked token\'s subscriber ends with UNAUTHENTICATED while the others go on to the terminal status', async () => {
    const control = (method: string, path: string, body?: unknown) =>
      fetch(`${own.simulator.url}/__sim${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect((await control('POST', '/tokens', { token: 'glpat-short-lived', like: 'glpat-developer' })).status).toBe(201);
    const pipelineId = own.simulator.store.projects.get(1)!.pipelines.find((p) => latest(p).some((j) => j.status === 'running'))!.id;
    const found = await own.graphql(`{ project(upstream: "gitlab", id: "1") { pipeline(id: "${pipelineId}") { id } } }`, undefined, DEV);
    const id = found.data!.project.pipeline.id;
    const keeps = subscriptionClient('sse', own.gateway.url, DEV);
    const loses = subscriptionClient('ws', own.gateway.url, { 'PRIVATE-TOKEN': 'glpat-short-lived' });
    try {
      const query = 'subscription($id: ID!) { pipelineStatus(id: $id) { status } }';
      const kept = keeps.subscribe<{ status: string }>(query, { id });
      const lost = loses.subscribe<{ status: string }>(query, { id });
      await until(() => kept.values.length === 1 && lost.values.length === 1, 5000, 'both first values');
      expect((await control('DELETE', '/tokens/glpat-short-lived')).status).toBeLessThan(300);
      const end = await lost.done;
      expect(end.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(lost.values.map((v) => v.status)).toEqual(['RUNNING']);
      await fetch(`${own.simulator.url}/api/v4/projects/1/pipelines/${pipelineId}/cancel`, { method: 'POST', headers: ROOT });
      expect((await kept.done).errors).toBeUndefined();
      expect(kept.values.map((v) => v.status)).toEqual(['RUNNING', 'CANCELED']);
    } finally {
      await Promise.all([keeps.dispose(), loses.dispose()]);
    }
  });
});
