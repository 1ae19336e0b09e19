/**
 * Upstream faults, injected by the simulator: every fault mode and every operation kind gets its
 * answer (data or the right code) within the deadline, mutations reach the upstream exactly once,
 * reads recover by retrying, the breaker fails fast and recovers, and the gateway stays up.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers/stack.js';
import { subscriptionClient, until } from './helpers/subscribe.js';

const DEADLINE_MS = 2500;
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    upstreams: (url) => [
      { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: 'glpat-developer', headersTimeoutMs: 600, bodyTimeoutMs: 600, breakerThreshold: 1000 },
      { name: 'fragile', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: 'glpat-developer', breakerThreshold: 3, breakerCooldownMs: 300, retries: 0 },
      { name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3`, token: 'alice' },
    ],
    gateway: { requestDeadlineMs: DEADLINE_MS, trace: { pollIntervalMs: 30, maxPollIntervalMs: 60 } } as never,
  });
});
afterAll(() => stack?.close());
afterEach(() => fetch(`${stack.simulator.url}/__sim/faults`, { method: 'DELETE' }));

const fault = async (rule: Record<string, unknown>) => {
  const response = await fetch(`${stack.simulator.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  expect(response.status).toBe(201);
};
const stats = () => fetch(`${stack.simulator.url}/__sim/stats`).then((r) => r.json() as Promise<{ total: number; routes: Record<string, number> }>);

const JOB = 'GET /api/v4/projects/:id/jobs/:job_id';
const OPERATIONS: Record<string, { query: string; route: string }> = {
  list: { query: '{ project(upstream: "gitlab", id: "1") { builds(first: 3) { nodes { id name } } } }', route: 'GET /api/v4/projects/:id/jobs' },
  build: { query: '{ project(upstream: "gitlab", id: "1") { build(id: "7") { name status } } }', route: JOB },
  trace: { query: '{ project(upstream: "gitlab", id: "1") { build(id: "8") { trace { size } } } }', route: 'GET /api/v4/projects/:id/jobs/:job_id/trace' },
  retry: { query: 'mutation { retryBuild(id: "WyJCdWlsZCIsImdpdGxhYiIsIjEiLCI3Il0") { build { status } } }', route: 'POST /api/v4/projects/:id/jobs/:job_id/retry' },
};

type Expect = { code?: string; data?: true };
const MODES: Array<[string, Record<string, unknown>, Expect, Expect]> = [
  // mode, rule, expected answer for reads, for mutations
  ['latency', { mode: 'latency', ms: 150 }, { data: true }, { data: true }],
  ['500', { mode: 'status', status: 500 }, { code: 'UPSTREAM_ERROR' }, { code: 'UPSTREAM_ERROR' }],
  ['502', { mode: 'status', status: 502 }, { code: 'UPSTREAM_UNAVAILABLE' }, { code: 'UPSTREAM_UNAVAILABLE' }],
  ['503', { mode: 'status', status: 503 }, { code: 'UPSTREAM_UNAVAILABLE' }, { code: 'UPSTREAM_UNAVAILABLE' }],
  ['504', { mode: 'status', status: 504 }, { code: 'UPSTREAM_TIMEOUT' }, { code: 'UPSTREAM_TIMEOUT' }],
  ['reset', { mode: 'reset' }, { code: 'UPSTREAM_UNAVAILABLE' }, { code: 'UPSTREAM_UNAVAILABLE' }],
  ['rate-limit', { mode: 'rate-limit', retryAfter: 30 }, { code: 'RATE_LIMITED' }, { code: 'RATE_LIMITED' }],
  ['truncate', { mode: 'truncate' }, { code: 'UPSTREAM_ERROR' }, { code: 'UPSTREAM_ERROR' }],
  ['malformed', { mode: 'malformed' }, { code: 'UPSTREAM_ERROR' }, { code: 'UPSTREAM_ERROR' }],
  ['stall', { mode: 'stall', afterBytes: 10 }, { code: 'UPSTREAM_TIMEOUT' }, { code: 'UPSTREAM_TIMEOUT' }],
  ['hang', { mode: 'hang' }, { code: 'UPSTREAM_TIMEOUT' }, { code: 'UPSTREAM_TIMEOUT' }],
];

describe.each(MODES)('fault mode %s', (_name, rule, reads, mutations) => {
  it.each(Object.keys(OPERATIONS))('answers a %s in time, with data or the right code, and stays up', async (kind) => {
    const operation = OPERATIONS[kind]!;
    await fault({ ...rule, route: operation.route });
    await stack.resetStats();
    const started = Date.now();
    const result = await stack.graphql(operation.query);
    const elapsed = Date.now() - started;
    // The deadline bounds every wait; the margin covers the work around them on a busy machine.
    expect(elapsed).toBeLessThan(DEADLINE_MS + 1000);
    // A log is plain text: a cut or odd body is still a log, and arrives as data.
    const textual = kind === 'trace' && (rule.mode === 'truncate' || rule.mode === 'malformed');
    const expected: Expect = kind === 'retry' ? mutations : textual ? { data: true } : reads;
    if (expected.data) {
      expect(result.errors).toBeUndefined();
    } else {
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: expected.code, upstream: 'gitlab' });
      if (expected.code === 'RATE_LIMITED') expect(result.errors![0]!.extensions!.retryAfter).toBe(30);
    }
    if (kind === 'retry') expect((await stats()).routes[operation.route]).toBe(1);
    expect((await fetch(stack.gateway.url.replace('/graphql', '/health'))).status).toBe(200);
  });
});

describe('recovery', () => {
  it('does not replay a failed access check to the next subscriber (regression: soak of 83e543b)', async () => {
    const list = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 1) { nodes { id } } } }');
    const id = list.data!.project.builds.nodes[0].id;
    await fault({ route: JOB, mode: 'status', status: 500, times: 1 });
    const client = subscriptionClient('sse', stack.gateway.url);
    const first = client.subscribe('subscription($id: ID!) { buildStatus(id: $id) { status } }', { id });
    expect((await first.done).errors?.[0]?.extensions?.code).toBe('UPSTREAM_ERROR');
    const second = client.subscribe<{ status: string }>('subscription($id: ID!) { buildStatus(id: $id) { status } }', { id });
    await until(() => second.values.length > 0, 5000, 'the second subscriber to be served');
    second.stop();
    await client.dispose();
  });

  it('reads a cut bk-ci error body as the upstream\'s fault, not a refused credential', async () => {
    await fault({ route: 'POST /ms/openapi/api/apigw/v3/projects/:projectId/pipelines/:pipelineId/builds/:buildId/stop', mode: 'truncate' });
    const build = await stack.graphql('{ project(upstream: "bkci", id: "demo") { pipeline(id: "p-demo") { builds(first: 1, scope: [FAILED]) { nodes { id } } } } }');
    const result = await stack.graphql('mutation($id: ID!) { cancelBuild(id: $id) { build { status } } }', { id: build.data!.project.pipeline.builds.nodes[0].id });
    expect(result.errors?.[0]?.extensions?.code).not.toBe('UNAUTHENTICATED');
    expect(result.errors?.[0]?.extensions?.code).toBe('UPSTREAM_ERROR');
  });

  it('retries a read hit by one 502 and answers with data', async () => {
    await fault({ route: JOB, mode: 'status', status: 502, times: 1 });
    await stack.resetStats();
    const result = await stack.graphql(OPERATIONS.build!.query);
    expect(result.errors).toBeUndefined();
    expect(result.data!.project.build.name).toBe('teaspoon');
    expect((await stats()).routes[JOB]).toBe(2);
  });

  it('honours a short Retry-After, then answers', async () => {
    await fault({ route: JOB, mode: 'rate-limit', retryAfter: 1, times: 1 });
    const started = Date.now();
    const result = await stack.graphql(OPERATIONS.build!.query);
    expect(result.errors).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('never retries a mutation hit by a 502: it reaches the upstream exactly once', async () => {
    await fault({ route: OPERATIONS.retry!.route, mode: 'status', status: 502, times: 1 });
    await stack.resetStats();
    const result = await stack.graphql(OPERATIONS.retry!.query);
    expect(result.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect((await stats()).routes[OPERATIONS.retry!.route]).toBe(1);
  });

  it('gives one failing field null and an error, and the rest of the answer', async () => {
    await fault({ route: 'GET /api/v4/projects/:id/pipelines/:pipeline_id', mode: 'status', status: 500 });
    const result = await stack.graphql('{ project(upstream: "gitlab", id: "1") { build(id: "7") { name pipeline { duration } } } }');
    expect(result.data!.project.build.name).toBe('teaspoon');
    expect(result.data!.project.build.pipeline.duration).toBeNull();
    expect(result.errors![0]!.path).toEqual(['project', 'build', 'pipeline', 'duration']);
  });

  it('opens the breaker after repeated failures, fails fast without calling, and recovers after the cooldown', async () => {
    await fault({ route: JOB, mode: 'status', status: 503 });
    const query = '{ project(upstream: "fragile", id: "1") { build(id: "7") { name } } }';
    for (let i = 0; i < 3; i++) await stack.graphql(query);
    await stack.resetStats();
    const open = await stack.graphql(query);
    expect(open.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', circuit: 'open' });
    expect((await stats()).total).toBe(0);
    await fetch(`${stack.simulator.url}/__sim/faults`, { method: 'DELETE' });
    await until(async () => (await stack.graphql(query)).errors === undefined, 3000, 'the breaker to close');
  });

  it('keeps a trace subscription going through a burst of upstream errors', async () => {
    const created = await fetch(`${stack.simulator.url}/__sim/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ project: 1, name: 'faulty', logBytesPerTick: 700, totalBytes: 8192 }) }).then((r) => r.json() as Promise<{ id: number }>);
    const ids = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${created.id}") { id } } }`);
    const client = subscriptionClient('sse', stack.gateway.url);
    const sub = client.subscribe<{ content: string; complete: boolean }>('subscription($id: ID!) { buildTrace(id: $id) { content complete } }', { id: ids.data!.project.build.id });
    await until(() => sub.values.length > 0);
    await fault({ route: 'GET /api/v4/projects/:id/jobs/:job_id/trace', mode: 'status', status: 503, times: 4 });
    for (let i = 0; i < 16; i++) await fetch(`${stack.simulator.url}/__sim/tick`, { method: 'POST' });
    const { errors } = await sub.done;
    await client.dispose();
    expect(errors).toBeUndefined();
    const log = sub.values.map((chunk) => chunk.content).join('');
    const upstream = await (await fetch(`${stack.simulator.url}/api/v4/projects/1/jobs/${created.id}/trace`)).text();
    expect(log).toBe(upstream);
  });
});
