/**
 * Issue #12 item 10: the per-upstream concurrency cap and the request deadline, each with a test that
 * fails without it. The simulator's in-flight high-water mark shows the cap from the upstream's side;
 * a hanging or stalling upstream shows the deadline ending the wait long before undici's own timeouts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, codes, startStack } from './helpers/stack.js';

const JOB = 'GET /api/v4/projects/:id/jobs/:job_id';

const fault = async (stack: Stack, rule: Record<string, unknown>) => {
  const response = await fetch(`${stack.simulator.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  expect(response.status).toBe(201);
};
const clearFaults = (stack: Stack) => fetch(`${stack.simulator.url}/__sim/faults`, { method: 'DELETE' }).then((r) => r.arrayBuffer());
const builds = (ids: number[]) => `{ project(upstream: "gitlab", id: "1") { ${ids.map((id) => `b${id}: build(id: "${id}") { name }`).join(' ')} } }`;

describe('upstreams[].concurrency caps what one request has in flight', () => {
  const CONCURRENCY = 3;
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ simulator: { tickMs: 3_600_000 }, upstream: { token: 'glpat-developer', concurrency: CONCURRENCY } });
  });
  afterAll(() => stack?.close());
  afterEach(() => clearFaults(stack));

  it(`keeps at most ${CONCURRENCY} requests of a wide query at the upstream at once`, async () => {
    // Slow answers, so the twelve reads would all overlap if nothing held them back.
    await fault(stack, { route: JOB, mode: 'latency', ms: 150 });
    const ids = Array.from({ length: 12 }, (_, i) => 7 + i);
    await stack.resetStats();
    const response = await stack.graphql(builds(ids));
    expect(response.errors).toBeUndefined();
    expect((await stack.stats()).routes[JOB]).toBe(ids.length);
    const { maxInFlight } = stack.simulator.concurrency();
    expect(maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    // The cap is reached (the reads do run in parallel up to it).
    expect(maxInFlight).toBeGreaterThanOrEqual(2);
  });
});

describe('requestDeadlineMs ends the wait before undici timeouts do', () => {
  const DEADLINE_MS = 500;
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      simulator: { tickMs: 3_600_000 },
      upstream: { token: 'glpat-developer', headersTimeoutMs: 15_000, bodyTimeoutMs: 15_000, breakerThreshold: 1000 },
      gateway: { requestDeadlineMs: DEADLINE_MS } as never,
    });
  });
  afterAll(() => stack?.close());
  afterEach(() => clearFaults(stack));

  it.each([
    ['hangs before its headers', { mode: 'hang' }],
    ['stalls mid-body', { mode: 'stall', afterBytes: 10 }],
  ])('answers UPSTREAM_TIMEOUT near the deadline when the upstream %s', async (_name, rule) => {
    await fault(stack, { route: JOB, ...rule });
    const started = performance.now();
    const response = await stack.graphql(builds([7]));
    const elapsed = performance.now() - started;
    expect(codes(response)).toEqual(['UPSTREAM_TIMEOUT']);
    expect(response.errors![0]!.extensions).toMatchObject({ upstream: 'gitlab' });
    expect(elapsed).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    // Generous for a loaded machine, and far below the 15 s undici would have waited.
    expect(elapsed).toBeLessThan(DEADLINE_MS + 2500);
  });
});
