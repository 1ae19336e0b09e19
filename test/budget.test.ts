/**
 * Issue #12 (items 1, 2a, 3): no operation costs the upstream more than its budget, whatever its
 * variables, aliases or defaults. The cost rule refuses what it can price before execution (zero
 * upstream requests); identical lists in one operation cost one request; the per-operation budget
 * (`limits.maxUpstreamCalls`, `limits.maxUpstreamBytes`) stops the rest, retries included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamBudget } from '../src/upstreams/budget.js';
import { bigLog } from './helpers/big-log.js';
import { type Stack, codes, startStack } from './helpers/stack.js';
import { subscriptionClient, until } from './helpers/subscribe.js';

const aliased = (count: number, selection: string) =>
  Array.from({ length: count }, (_, i) => `a${i}: project(upstream: "gitlab", id: "1") { ${selection} }`).join(' ');

/** The attacker's query: a list of builds, each with its pipeline's builds, with `first` from a variable. */
const NESTED = 'builds(first: $n) { nodes { id pipeline { builds(first: $n) { nodes { id } } } } }';

const fault = async (stack: Stack, rule: Record<string, unknown>) => {
  const response = await fetch(`${stack.simulator.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  expect(response.status).toBe(201);
};

describe('cost counts `first` from variables and defaults (issue #12 item 1)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ simulator: { tickMs: 3_600_000 }, upstream: { token: 'glpat-developer' } });
  });
  afterAll(() => stack?.close());

  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['a variable `first` (30 aliases, n = 100)', `query($n: Int) { ${aliased(30, NESTED)} }`, { n: 100 }],
    ['a variable `first` (one alias, n = 100)', `query($n: Int) { ${aliased(1, NESTED)} }`, { n: 100 }],
    ["the variable's own default", `query($n: Int = 100) { ${aliased(1, NESTED)} }`, {}],
    ['the default page size when `first` is absent (30 aliases)', `query($n: Int) { ${aliased(30, NESTED)} }`, {}],
    ['a literal `first` inside a fragment', `query { ${aliased(1, 'builds(first: 100) { ...B }')} } fragment B on BuildConnection { nodes { pipeline { builds(first: 100) { nodes { id } } } } }`, {}],
  ];
  it.each(cases)('refuses %s before any upstream request', async (_name, query, variables) => {
    await stack.resetStats();
    const response = await stack.graphql(query, variables);
    expect(codes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(response.errors![0]!.extensions).toMatchObject({ limit: 'maxCost', max: 20_000 });
    expect(response.errors![0]!.extensions!.cost).toBeGreaterThan(20_000);
    expect(response.data ?? null).toBeNull();
    expect((await stack.stats()).total).toBe(0);
  });

  it('prices the same document anew for each execution whose variables reach `first` or `@include`', async () => {
    const query = `query($n: Int, $deep: Boolean!) { ${aliased(1, 'builds(first: $n) { nodes { id pipeline @include(if: $deep) { builds(first: 100) { nodes { id } } } } }')} }`;
    for (const [variables, refused] of [
      [{ n: 3, deep: true }, false],
      [{ n: 100, deep: true }, true],
      [{ n: 100, deep: false }, false],
      [{ n: 3, deep: true }, false],
    ] as const) {
      await stack.resetStats();
      const response = await stack.graphql(query, variables);
      expect(codes(response), JSON.stringify(variables)).toEqual(refused ? ['GRAPHQL_VALIDATION_FAILED'] : []);
      if (refused) expect((await stack.stats()).total).toBe(0);
    }
  });

  it('answers the same shape with small pages', async () => {
    await stack.resetStats();
    const response = await stack.graphql(`query($n: Int) { ${aliased(2, NESTED)} }`, { n: 3 });
    expect(response.errors).toBeUndefined();
    expect(response.data!.a0.builds.nodes).toHaveLength(3);
    expect((await stack.stats()).total).toBeGreaterThan(0);
  });
});

describe('identical lists in one operation cost one upstream call (issue #12 item 2a)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ simulator: { tickMs: 3_600_000 }, upstream: { token: 'glpat-developer' } });
  });
  afterAll(() => stack?.close());

  it("reads each pipeline's builds once however many parent builds ask", async () => {
    await stack.resetStats();
    const response = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 20) { nodes { pipeline { id builds(first: 5) { nodes { id } } } } } } }');
    expect(response.errors).toBeUndefined();
    const nodes = response.data!.project.builds.nodes as Array<{ pipeline: { id: string } }>;
    expect(nodes).toHaveLength(20);
    const pipelines = new Set(nodes.map((node) => node.pipeline.id));
    // The seeded project runs several builds per pipeline, so twenty builds share fewer pipelines.
    expect(pipelines.size).toBeLessThan(20);
    const stats = await stack.stats();
    expect(stats.routes['GET /api/v4/projects/:id/pipelines/:pipeline_id/jobs']).toBe(pipelines.size);
    expect(stats.total).toBe(1 + pipelines.size);
  });

  it('reads aliased copies of one list once, whatever the order of their scope', async () => {
    await stack.resetStats();
    const response = await stack.graphql(`{ project(upstream: "gitlab", id: "1") {
      a: builds(first: 4, scope: [SUCCESS, FAILED]) { nodes { id } }
      b: builds(first: 4, scope: [FAILED, SUCCESS]) { nodes { id } }
      c: builds(first: 4, scope: [SUCCESS, FAILED]) { edges { node { id } } }
      d: builds(first: 5, scope: [SUCCESS, FAILED]) { nodes { id } }
    } }`);
    expect(response.errors).toBeUndefined();
    const { a, b, c } = response.data!.project;
    expect(b.nodes).toEqual(a.nodes);
    expect(c.edges.map((edge: { node: unknown }) => edge.node)).toEqual(a.nodes);
    // a, b and c are one list; d is another page size.
    expect((await stack.stats()).routes['GET /api/v4/projects/:id/jobs']).toBe(2);
  });
});

describe('the per-operation upstream budget (issue #12 item 3)', () => {
  let stack: Stack;
  const MAX_CALLS = 10;
  beforeAll(async () => {
    stack = await startStack({
      simulator: { tickMs: 3_600_000 },
      // A breaker that never opens here, so every retry reaches the budget.
      upstream: { token: 'glpat-developer', breakerThreshold: 1000 },
      gateway: { limits: { maxUpstreamCalls: MAX_CALLS } } as never,
    });
  });
  afterAll(() => stack?.close());

  it('makes at most maxUpstreamCalls requests and fails the rest with UPSTREAM_BUDGET_EXCEEDED', async () => {
    const ids = Array.from({ length: 15 }, (_, i) => 7 + i);
    const query = `{ project(upstream: "gitlab", id: "1") { ${ids.map((id) => `b${id}: build(id: "${id}") { name }`).join(' ')} } }`;
    await stack.resetStats();
    const response = await stack.graphql(query);
    const budget = response.errors!.filter((error) => error.extensions?.code === 'UPSTREAM_BUDGET_EXCEEDED');
    expect(budget).toHaveLength(ids.length - MAX_CALLS);
    expect(budget[0]!.extensions).toMatchObject({ limit: 'maxUpstreamCalls', max: MAX_CALLS, upstream: 'gitlab' });
    expect(codes(response).every((code) => code === 'UPSTREAM_BUDGET_EXCEEDED')).toBe(true);
    expect(Object.values(response.data!.project).filter(Boolean)).toHaveLength(MAX_CALLS);
    expect((await stack.stats()).total).toBe(MAX_CALLS);
  });

  it('counts retries: a read retried past the budget is not sent again', async () => {
    await fault(stack, { route: 'GET /api/v4/projects/:id/jobs/:job_id', mode: 'status', status: 502 });
    try {
      const ids = Array.from({ length: 4 }, (_, i) => 30 + i);
      await stack.resetStats();
      // 4 reads, each tried up to 3 times (retries: 2), would be 12 requests.
      const response = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { ${ids.map((id) => `b${id}: build(id: "${id}") { name }`).join(' ')} } }`);
      expect(codes(response)).toContain('UPSTREAM_BUDGET_EXCEEDED');
      expect((await stack.stats()).total).toBe(MAX_CALLS);
    } finally {
      await fetch(`${stack.simulator.url}/__sim/faults`, { method: 'DELETE' });
    }
  });

  it('gives each operation its own budget', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 5) { nodes { id } } } }');
      expect(response.errors).toBeUndefined();
    }
  });
});

describe('the per-operation byte budget (issue #12 item 3)', () => {
  let stack: Stack;
  const MAX_BYTES = 4096;
  beforeAll(async () => {
    stack = await startStack({
      // Range honoured, so a small trace window is a small read (a whole-log 200 arrives in socket-sized chunks).
      simulator: { tickMs: 3_600_000, traceRange: true },
      upstream: { token: 'glpat-developer' },
      gateway: { limits: { maxUpstreamBytes: MAX_BYTES } } as never,
    });
  });
  afterAll(() => stack?.close());

  it('stops reading past maxUpstreamBytes and answers UPSTREAM_BUDGET_EXCEEDED', async () => {
    await stack.resetStats();
    const response = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 50) { nodes { id name } } } }');
    expect(codes(response)).toEqual(['UPSTREAM_BUDGET_EXCEEDED']);
    expect(response.errors![0]!.extensions).toMatchObject({ limit: 'maxUpstreamBytes', max: MAX_BYTES, upstream: 'gitlab' });
    const stats = await stack.stats();
    expect(stats.total).toBe(1);
  });

  it('reads a trace only as far as the byte budget allows', async () => {
    const job = await bigLog(stack, 256 * 1024);
    await stack.resetStats();
    const small = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${job}") { trace(offset: 10, limit: 100) { size content } } } }`);
    expect(small.errors).toBeUndefined();
    expect(Buffer.byteLength(small.data!.project.build.trace.content)).toBe(100);
    const whole = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${job}") { trace { size } } } }`);
    expect(codes(whole)).toEqual(['UPSTREAM_BUDGET_EXCEEDED']);
    expect(whole.errors![0]!.extensions).toMatchObject({ limit: 'maxUpstreamBytes' });
    expect((await stack.stats()).routes['GET /api/v4/projects/:id/jobs/:job_id/trace']).toBe(2);
  });
});

describe('each subscription event has its own budget (issue #12 item 3)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      simulator: { tickMs: 3_600_000 },
      upstream: { token: 'glpat-developer' },
      gateway: { limits: { maxUpstreamCalls: 1 }, trace: { pollIntervalMs: 20, maxPollIntervalMs: 40 } } as never,
    });
  });
  afterAll(() => stack?.close());

  it('resolves every buildStatus event within maxUpstreamCalls = 1', async () => {
    const created = await fetch(`${stack.simulator.url}/__sim/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: 1, name: 'status-events', logBytesPerTick: 64, totalBytes: 4096 }),
    }).then((r) => r.json() as Promise<{ id: number }>);
    const found = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${created.id}") { id } } }`);
    const client = subscriptionClient('sse', stack.gateway.url);
    // `project { name }` is not in a job's JSON: one upstream request per event, the whole budget.
    const sub = client.subscribe<{ status: string; project: { name: string } }>('subscription($id: ID!) { buildStatus(id: $id) { status project { name } } }', { id: found.data!.project.build.id });
    try {
      await until(() => sub.values.length > 0, 10_000, 'the first event');
      await stack.resetStats();
      // Each tick moves the job on (and grows its log) until it succeeds.
      for (let i = 0; i < 200 && !(await Promise.race([sub.done.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30))])); i++) {
        stack.simulator.tick();
      }
      const { errors } = await sub.done;
      expect(errors).toBeUndefined();
      expect(sub.values.length).toBeGreaterThanOrEqual(2);
      expect(sub.values.every((value) => typeof value.project.name === 'string')).toBe(true);
      expect(sub.values.at(-1)!.status).toMatch(/SUCCESS|FAILED/);
      // One project read per event after the reset: fresh loaders and a fresh budget each time.
      expect((await stack.stats()).routes['GET /api/v4/projects/:id']).toBe(sub.values.length - 1);
    } finally {
      sub.stop();
      await client.dispose();
    }
  });
});

describe('UpstreamBudget', () => {
  it('refuses every charge once one limit ran out', () => {
    const budget = new UpstreamBudget({ maxCalls: 2, maxBytes: 1024 });
    budget.chargeCall('u');
    budget.chargeBytes('u', 1000);
    expect(() => budget.chargeBytes('u', 100)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'UPSTREAM_BUDGET_EXCEEDED', limit: 'maxUpstreamBytes' }) }));
    // The call budget has room, but the operation is over budget: nothing more is sent.
    expect(() => budget.chargeCall('u')).toThrow(expect.objectContaining({ code: 'UPSTREAM_BUDGET_EXCEEDED' }));
    expect(budget.calls).toBe(1);
    expect(budget.exceeded).toBe('maxUpstreamBytes');
  });

  it('validates its limits', () => {
    expect(() => new UpstreamBudget({ maxCalls: 0, maxBytes: 1024 })).toThrow(/maxCalls/);
  });
});
