/**
 * Issue #14 item 4: `upstreams[].budgetPerMinute` bounds the upstream requests one credential's
 * operations cause per minute, across every replica on one Redis (per process without one, and per
 * process while Redis is down). Past it: RATE_LIMITED with `retryAfter`, and the simulator sees nothing.
 * Real redis-server, real simulator, in-process gateways.
 */
import { type Simulator, startSimulator } from '@buildgate/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { credentialDigest } from '../src/upstreams/credential-digest.js';
import { type Gateway, startGateway } from '../src/server.js';
import { type RedisServer, startRedisServer } from './helpers/redis-server.js';
import { type GraphQLResponse, type Stack, codes, stackOf } from './helpers/stack.js';
import { subscriptionClient, until } from './helpers/subscribe.js';

const BUDGET = 6;
const DEVELOPER = 'glpat-developer';
const REPORTER = 'glpat-reporter';

let simulator: Simulator;
let redis: RedisServer;
const gateways: Gateway[] = [];
let prefixes = 0;

beforeAll(async () => {
  [simulator, redis] = await Promise.all([startSimulator({ port: 0, tickMs: 3_600_000 }), startRedisServer()]);
});
afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.close()));
  await simulator?.close();
  await redis?.close();
});

/**
 * A gateway with `budgetPerMinute` on the one upstream; with `shared`, on the suite's Redis under a
 * key prefix of its own (gateways started by one test share it): each test starts its budgets afresh.
 */
async function replicas(count: number, options: { shared: boolean; upstream?: Record<string, unknown>; trace?: Record<string, unknown> }): Promise<Stack[]> {
  const keyPrefix = `t${++prefixes}:`;
  const started = await Promise.all(
    Array.from({ length: count }, () =>
      startGateway(
        parseConfig({
          port: 0,
          host: '127.0.0.1',
          logLevel: 'silent',
          upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4`, budgetPerMinute: BUDGET, ...options.upstream }],
          ...(options.shared && { redis: { url: redis.url, keyPrefix } }),
          ...(options.trace && { trace: options.trace }),
        }),
      ),
    ),
  );
  gateways.push(...started);
  const stacks = started.map((gateway) => stackOf(simulator, gateway));
  // Counted in Redis only once the link is up: before that each replica would count alone.
  if (options.shared) for (const stack of stacks) await until(async () => (await redisUp(stack)) === 1, 5_000, 'the gateway reaching Redis');
  await stacks[0]!.resetStats();
  return stacks;
}

async function redisUp(stack: Stack): Promise<number | undefined> {
  const text = await (await fetch(stack.gateway.url.replace(/\/graphql$/, '/metrics'))).text();
  const match = /^buildgate_redis_up (\d)/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** One upstream request: a build of project 1 (ids 6 to 40 exist). */
const readBuild = (stack: Stack, id: number, token?: string): Promise<GraphQLResponse> =>
  stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${id}") { id status } } }`, undefined, token ? { 'PRIVATE-TOKEN': token } : {});

/** Reads `count` builds one after another, each expected to be answered without an error. */
async function readAll(stack: Stack, ids: number[], token?: string): Promise<void> {
  for (const id of ids) {
    const response = await readBuild(stack, id, token);
    expect(response.errors, `build ${id}`).toBeUndefined();
    expect(response.data!.project.build.id).toBeTruthy();
  }
}

/** Expects RATE_LIMITED with an integer `retryAfter` within the minute, and no upstream request for it. */
async function expectRefused(stack: Stack, id: number, token?: string): Promise<void> {
  const before = (await stack.stats()).total;
  const response = await readBuild(stack, id, token);
  expect(codes(response)).toEqual(['RATE_LIMITED']);
  const { retryAfter, upstream, limit, max, status } = response.errors![0]!.extensions!;
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect({ upstream, limit, max, status }).toEqual({ upstream: 'gitlab', limit: 'budgetPerMinute', max: BUDGET, status: undefined });
  expect((await stack.stats()).total).toBe(before);
}

describe('one budget per credential across replicas on one Redis', () => {
  it('lets 3 reads through A and 3 through B, then refuses the next through either before calling GitLab', async () => {
    const [a, b] = await replicas(2, { shared: true });
    await readAll(a!, [6, 7, 8], DEVELOPER);
    await readAll(b!, [9, 10, 11], DEVELOPER);
    expect((await a!.stats()).total).toBe(BUDGET);
    await expectRefused(a!, 12, DEVELOPER);
    await expectRefused(b!, 12, DEVELOPER);
    expect((await a!.stats()).total).toBe(BUDGET);
  });

  it('holds for concurrent requests: two 5-build operations at once through A and B make 6 requests in all', async () => {
    const [a, b] = await replicas(2, { shared: true });
    const builds = (ids: number[]) => `{ project(upstream: "gitlab", id: "1") { ${ids.map((id) => `b${id}: build(id: "${id}") { id }`).join(' ')} } }`;
    const headers = { 'PRIVATE-TOKEN': DEVELOPER };
    const answers = await Promise.all([a!.graphql(builds([6, 7, 8, 9, 10]), undefined, headers), b!.graphql(builds([11, 12, 13, 14, 15]), undefined, headers)]);
    const refused = answers.flatMap(codes);
    expect(refused).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(answers.flatMap((answer) => Object.values(answer.data!.project).filter(Boolean))).toHaveLength(BUDGET);
    expect((await a!.stats()).total).toBe(BUDGET);
  });

  it('leaves another credential its own budget', async () => {
    const [a, b] = await replicas(2, { shared: true });
    await readAll(a!, [6, 7, 8, 9, 10, 11], DEVELOPER);
    await expectRefused(b!, 12, DEVELOPER);
    await readAll(a!, [12, 13, 14], REPORTER);
    await readAll(b!, [15, 16, 17], REPORTER);
    await expectRefused(b!, 18, REPORTER);
  });

  it('keys Redis by upstream and credential digest, never by the credential', async () => {
    const [a] = await replicas(1, { shared: true });
    await readAll(a!, [6, 7], DEVELOPER);
    const reader = redis.client();
    const keys = await reader.keys(`t${prefixes}:*`);
    const digest = credentialDigest({ in: 'header', name: 'PRIVATE-TOKEN', value: DEVELOPER });
    expect(keys).toEqual([`t${prefixes}:budget:gitlab:${digest}`]);
    expect(await reader.get(keys[0]!)).toBe('2');
    const ttl = await reader.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('counts the service credential, used by clients that send none, as one credential', async () => {
    const [a, b] = await replicas(2, { shared: true, upstream: { token: DEVELOPER } });
    await readAll(a!, [6, 7, 8]);
    await readAll(b!, [9, 10, 11]);
    await expectRefused(a!, 12);
    await expectRefused(b!, 12);
    // A client's own credential counts apart from the service credential.
    await readAll(b!, [12], REPORTER);
  });

  it('counts retries: each attempt is one request of the budget', async () => {
    const [a] = await replicas(1, { shared: true });
    // Two 502s, then the read succeeds on its third attempt: three requests of six.
    const rule = await fetch(`${simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'GET /api/v4/projects/:id/jobs/:job_id', mode: 'status', status: 502, times: 2 }),
    });
    expect(rule.status).toBe(201);
    try {
      await readAll(a!, [6], DEVELOPER);
      expect((await a!.stats()).total).toBe(3);
    } finally {
      await fetch(`${simulator.url}/__sim/faults`, { method: 'DELETE' });
    }
    await readAll(a!, [7, 8, 9], DEVELOPER);
    await expectRefused(a!, 10, DEVELOPER);
  });
});

describe('without a shared Redis', () => {
  it('applies the budget per process', async () => {
    const [a, b] = await replicas(2, { shared: false });
    await readAll(a!, [6, 7, 8, 9, 10, 11], DEVELOPER);
    await expectRefused(a!, 12, DEVELOPER);
    await readAll(b!, [12, 13, 14, 15, 16, 17], DEVELOPER);
    await expectRefused(b!, 18, DEVELOPER);
  });

  it('applies it per process while Redis is down, answers everything else, and shares it again once Redis is back', async () => {
    const [a, b] = await replicas(2, { shared: true });
    await readAll(a!, [6, 7], DEVELOPER);
    await redis.stop();
    try {
      // At once, before the gateways may have noticed: no read fails because Redis did.
      await readAll(a!, [8, 9, 10, 11, 12, 13], DEVELOPER);
      await expectRefused(a!, 14, DEVELOPER);
      await readAll(b!, [14, 15, 16, 17, 18, 19], DEVELOPER);
      await expectRefused(b!, 20, DEVELOPER);
      await readAll(a!, [14], REPORTER);
    } finally {
      await redis.start();
    }
    for (const stack of [a!, b!]) await until(async () => (await redisUp(stack)) === 1, 5_000, 'the gateway reaching Redis again');
    // The restarted Redis is empty: one budget for both again, counted from zero.
    await readAll(a!, [20, 21, 22], DEVELOPER);
    await readAll(b!, [23, 24, 25], DEVELOPER);
    await expectRefused(a!, 26, DEVELOPER);
    await expectRefused(b!, 26, DEVELOPER);
  });
});

describe('a refusal is not an upstream fault', () => {
  it('never opens the circuit breaker, however many calls are refused', async () => {
    const [a] = await replicas(1, { shared: true, upstream: { breakerThreshold: 1 } });
    await readAll(a!, [6, 7, 8, 9, 10, 11], DEVELOPER);
    for (const id of [12, 13, 14]) await expectRefused(a!, id, DEVELOPER);
    // With the breaker open this would be UPSTREAM_UNAVAILABLE (circuit open) and reach no upstream.
    await readAll(a!, [15], REPORTER);
    expect(a!.gateway.registry.get('gitlab')!.stats().breaker).toBe('closed');
  });
});

describe("the trace hub's shared poller", () => {
  it('is not charged to the credential it reads with: a watched build streams to its end past the budget', async () => {
    const [a] = await replicas(1, { shared: true, trace: { pollIntervalMs: 20, maxPollIntervalMs: 20 } });
    const post = (path: string, body: unknown) =>
      fetch(`${simulator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => {
        const text = await r.text();
        return text ? JSON.parse(text) : {};
      }) as Promise<any>;
    const created = await post('/__sim/jobs', { project: 1, name: 'metered', logBytesPerTick: 100, totalBytes: 5_000 });
    const found = await a!.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${created.id}") { id } } }`, undefined, { 'PRIVATE-TOKEN': DEVELOPER });
    const client = subscriptionClient('sse', a!.gateway.url, { 'PRIVATE-TOKEN': DEVELOPER });
    const sub = client.subscribe<{ nextOffset: number; complete: boolean }>('subscription($id: ID!) { buildTrace(id: $id) { nextOffset complete } }', { id: found.data!.project.build.id });
    await until(() => sub.values.length > 0, 5_000, 'the first piece');
    // The log grows tick by tick: the poller reads it many more times than the budget allows the client.
    let finished = false;
    void sub.done.then(() => (finished = true));
    while (!finished) {
      const seen = sub.values.length;
      await post('/__sim/tick?count=5', {});
      await until(() => finished || sub.values.length > seen, 5_000, 'the poller to read the new log');
    }
    const { errors } = await sub.done;
    await client.dispose();
    expect(errors).toBeUndefined();
    expect(sub.values.at(-1)!.complete).toBe(true);
    expect((await a!.stats()).total).toBeGreaterThan(BUDGET);
  }, 30_000);
});
