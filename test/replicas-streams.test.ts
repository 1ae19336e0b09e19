/**
 * What the replicas keep in Redis, and how they use it (issue #14, 2, 5), with two gateways in this
 * process on one real redis-server: a bk-ci log (offsets in lines) and `buildStatus` served to a
 * follower from the holder's stream; the stream trimmed to `trace.tailBytes`, expiring, and the lease
 * released when the last watcher leaves; and a gateway whose Redis cannot be reached, which starts,
 * says so, and serves alone.
 */
import { type Simulator, startSimulator } from '@buildgate/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { type Gateway, startGateway } from '../src/server.js';
import { type RedisServer, startRedisServer } from './helpers/redis-server.js';
import { subscriptionClient, until } from './helpers/subscribe.js';

const TRACE = `subscription($id: ID!, $offset: Int) { buildTrace(id: $id, offset: $offset) { offset nextOffset content complete } }`;
const STATUS = `subscription($id: ID!) { buildStatus(id: $id) { status } }`;
const TAIL_BYTES = 4096;

interface Chunk {
  offset: number;
  nextOffset: number;
  content: string;
  complete: boolean;
}

let redis: RedisServer;
let simulator: Simulator;
let gateways: Gateway[];

function configFor(redisUrl: string) {
  return parseConfig({
    port: 0,
    logLevel: 'silent',
    upstreams: [
      { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4`, token: 'glpat-developer' },
      { name: 'bkci', kind: 'bkci-apigw', baseUrl: `${simulator.url}/ms/openapi/api/apigw/v3`, token: 'alice' },
    ],
    // Four gateways' worth of work share this process's event loop: a lease that outlives a stall.
    redis: { url: redisUrl, keyPrefix: 'streams-test:', streamTtlMs: 60_000, leaseMs: 1_000 },
    trace: { pollIntervalMs: 100, maxPollIntervalMs: 100, tailBytes: TAIL_BYTES },
  });
}

beforeAll(async () => {
  redis = await startRedisServer();
  simulator = await startSimulator({ port: 0, tickMs: 40, jobTicks: 25, pendingTicks: 1 });
  gateways = await Promise.all([0, 1].map(() => startGateway(configFor(redis.url))));
}, 30_000);

afterAll(async () => {
  await Promise.all((gateways ?? []).map((gateway) => gateway.close()));
  await simulator?.close();
  await redis?.close();
});

async function graphql(gateway: Gateway, query: string): Promise<any> {
  const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  return ((await response.json()) as { data: any }).data;
}

const simPost = (path: string, body: unknown) =>
  fetch(`${simulator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json()) as Promise<any>;

function assemble(chunks: Chunk[]): string {
  for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.offset).toBe(chunks[i - 1]!.nextOffset);
  return chunks.map((chunk) => chunk.content).join('');
}

describe('a follower', () => {
  it("serves a bk-ci log by line numbers from the holder's stream, the same lines as the holder", async () => {
    let build: { id: string; upstreamId: string; attempt: number } | undefined;
    await until(async () => {
      const data = await graphql(gateways[0]!, '{ project(upstream: "bkci", id: "demo") { pipeline(id: "p-demo") { builds(first: 5, scope: [RUNNING]) { nodes { id upstreamId attempt } } } } }');
      build = data.project.pipeline.builds.nodes[0];
      return build !== undefined;
    }, 20_000, 'a running bk-ci build');
    const clients = gateways.map((gateway) => subscriptionClient('ws', gateway.url));
    const address = { upstream: 'bkci', projectId: 'demo', locator: `p-demo/${build!.upstreamId}` };
    const roles = new Set<string | undefined>();
    const polls: number[] = [];
    const subs = clients.map((client, i) =>
      client.subscribe<Chunk>(TRACE, { id: build!.id, offset: 0 }, (chunk) => {
        const poller = gateways[i]!.traceHub.poller(address);
        roles.add(poller?.role);
        if (poller?.role === 'follower') polls.push(poller.polls);
      }),
    );
    const ends = await Promise.all(subs.map((sub) => sub.done));
    await Promise.all(clients.map((client) => client.dispose()));
    for (const end of ends) expect(end.errors).toBeUndefined();
    const [first, second] = subs.map((sub) => assemble(sub.values));
    expect(subs.every((sub) => sub.values.at(-1)!.complete)).toBe(true);
    expect(second).toBe(first);
    const response = await fetch(
      `${simulator.url}/ms/openapi/api/apigw/v3/projects/demo/pipelines/p-demo/builds/${build!.upstreamId}/logs/after?start=0&executeCount=${build!.attempt}`,
      { headers: { 'X-DEVOPS-UID': 'admin' } },
    );
    const body = (await response.json()) as { data: { logs: Array<{ message: string }> } };
    expect(first!.startsWith(body.data.logs.map((line) => `${line.message}\n`).join(''))).toBe(true);
    // One gateway read the upstream; the other only its stream.
    expect(roles.has('holder') && roles.has('follower')).toBe(true);
    expect(polls.every((n) => n === 0)).toBe(true);
  }, 40_000);

  it('follows buildStatus on the holder\'s polls to the terminal status', async () => {
    const created = await simPost('/__sim/jobs', { project: 1, name: 'status', logBytesPerTick: 200, totalBytes: 50_000_000 });
    const data = await graphql(gateways[0]!, `{ project(upstream: "gitlab", id: "1") { build(id: "${created.id}") { id } } }`);
    const clients = gateways.map((gateway) => subscriptionClient('sse', gateway.url));
    const subs = clients.map((client) => client.subscribe<{ status: string }>(STATUS, { id: data.project.build.id }));
    await until(() => subs.every((sub) => sub.values.length > 0), 10_000, 'the first status on both');
    const locator = { upstream: 'gitlab', projectId: '1', locator: String(created.id) };
    await until(() => gateways.map((g) => g.traceHub.poller(locator)?.role).sort().join() === 'follower,holder', 5_000, 'a holder and a follower');
    const follower = gateways.findIndex((g) => g.traceHub.poller(locator)?.role === 'follower');
    const polls = gateways[follower]!.traceHub.poller(locator)!.polls;
    await simPost(`/__sim/jobs/${created.id}/finish`, { status: 'failed' });
    const ends = await Promise.all(subs.map((sub) => sub.done));
    await Promise.all(clients.map((client) => client.dispose()));
    for (const [i, sub] of subs.entries()) {
      expect(ends[i]!.errors).toBeUndefined();
      expect(sub.values.map((v) => v.status)).toEqual(['RUNNING', 'FAILED']);
    }
    // The follower never asked the upstream.
    expect(gateways[follower]!.traceHub.poller(locator)?.polls ?? polls).toBe(polls);
    expect(polls).toBe(0);
  }, 30_000);
});

describe('access checks shared through Redis', () => {
  it("reuse one replica's answer on another for the same credential only, refusals included", async () => {
    const route = 'GET /api/v4/projects/:id/jobs/:job_id';
    const reads = async () => ((await (await fetch(`${simulator.url}/__sim/stats`)).json()) as { routes: Record<string, number> }).routes[route] ?? 0;
    const data = await graphql(gateways[0]!, '{ project(upstream: "gitlab", id: "2") { builds(first: 1, scope: [SUCCESS]) { nodes { id } } } }');
    const id = data.project.builds.nodes[0].id;
    const subscribe = async (gateway: Gateway, token: string) => {
      const client = subscriptionClient('ws', gateway.url, { 'PRIVATE-TOKEN': token });
      const sub = client.subscribe<Chunk>(TRACE, { id });
      const end = await sub.done;
      await client.dispose();
      return { end, values: sub.values };
    };
    const checks = async (run: () => Promise<unknown>) => {
      const before = await reads();
      await run();
      return (await reads()) - before;
    };
    // A finished build: each subscription is one access check (a build read), then the log.
    expect(await checks(() => subscribe(gateways[0]!, 'glpat-reporter'))).toBe(1);
    expect(await checks(() => subscribe(gateways[1]!, 'glpat-reporter'))).toBe(0);
    // Another credential is checked on its own, never given the reporter's answer.
    expect(await checks(() => subscribe(gateways[1]!, 'glpat-root'))).toBe(1);
    let refused: Awaited<ReturnType<typeof subscribe>> | undefined;
    expect(await checks(async () => (refused = await subscribe(gateways[0]!, 'glpat-outsider')))).toBe(1);
    expect(refused!.end.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // The refusal is shared too: the outsider gets it from the other replica without a read, and no byte.
    expect(await checks(async () => (refused = await subscribe(gateways[1]!, 'glpat-outsider')))).toBe(0);
    expect(refused!.end.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(refused!.values).toEqual([]);
  }, 30_000);
});

describe('what Redis keeps', () => {
  it("keeps a build's stream trimmed to trace.tailBytes and expiring, and releases the lease when the last watcher leaves", async () => {
    const created = await simPost('/__sim/jobs', { project: 1, name: 'trimmed', logBytesPerTick: 1500, totalBytes: 50_000_000 });
    const data = await graphql(gateways[0]!, `{ project(upstream: "gitlab", id: "1") { build(id: "${created.id}") { id } } }`);
    const clients = gateways.map((gateway) => subscriptionClient('ws', gateway.url));
    const subs = clients.map((client) => client.subscribe<Chunk>(TRACE, { id: data.project.build.id }));
    await until(() => subs.every((sub) => (sub.values.at(-1)?.nextOffset ?? 0) > 6 * TAIL_BYTES), 20_000, 'the log to outgrow the stream');
    const client = redis.client();
    const stream = `streams-test:trace:{${JSON.stringify(['gitlab', '1', String(created.id)])}}`;
    const entries = await client.xrangeBuffer(stream, '-', '+');
    const held = entries.reduce((sum, [, fields]) => sum + fields[fields.findIndex((f) => f.toString() === 'c') + 1]!.length, 0);
    expect(entries.length).toBeGreaterThan(0);
    // The last tailBytes, and at most the one piece that straddles its start.
    expect(held).toBeLessThanOrEqual(TAIL_BYTES + 1500 * 4);
    const ttl = await client.pttl(stream);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const lease = `mutex:streams-test:lease:{${JSON.stringify(['gitlab', '1', String(created.id)])}}`;
    expect(await client.exists(lease)).toBe(1);
    for (const sub of subs) sub.stop();
    await Promise.all(clients.map((c) => c.dispose()));
    await until(async () => (await client.exists(lease)) === 0, 2_000, 'the lease to be released');
    // Released, not expired: gone well before its time would have run out.
    expect(await client.exists(stream)).toBe(1);
    await simPost(`/__sim/jobs/${created.id}/finish`, { status: 'success' });
  }, 30_000);
});

describe('a Redis that stops answering', () => {
  it('is treated as lost: a follower polls for its own subscribers, and follows again once Redis answers', async () => {
    const hung = await startRedisServer();
    const pair = await Promise.all([0, 1].map(() => startGateway(parseConfig({ ...configFor(hung.url), redis: { url: hung.url, commandTimeoutMs: 200, leaseMs: 1_000 } }))));
    try {
      const created = await simPost('/__sim/jobs', { project: 1, name: 'hung', logBytesPerTick: 300, totalBytes: 50_000_000 });
      const data = await graphql(pair[0]!, `{ project(upstream: "gitlab", id: "1") { build(id: "${created.id}") { id } } }`);
      const address = { upstream: 'gitlab', projectId: '1', locator: String(created.id) };
      const clients = pair.map((gateway) => subscriptionClient('ws', gateway.url));
      const subs = clients.map((client) => client.subscribe<Chunk>(TRACE, { id: data.project.build.id }));
      await until(() => pair.map((g) => g.traceHub.poller(address)?.role).sort().join() === 'follower,holder', 5_000, 'a holder and a follower');
      await until(() => subs.every((sub) => sub.values.length > 0), 5_000, 'both subscribers to receive');
      const follower = pair.find((g) => g.traceHub.poller(address)?.role === 'follower')!;
      const index = pair.indexOf(follower);
      hung.pause();
      await until(() => follower.traceHub.poller(address)?.role === 'local', 5_000, 'the follower to poll for itself');
      const at = subs[index]!.values.at(-1)!.nextOffset;
      await until(() => subs[index]!.values.at(-1)!.nextOffset > at, 5_000, "the follower's subscriber to go on receiving");
      hung.resume();
      await until(() => pair.map((g) => g.traceHub.poller(address)?.role).sort().join() === 'follower,holder', 10_000, 'coordination to resume');
      await simPost(`/__sim/jobs/${created.id}/finish`, { status: 'success' });
      const ends = await Promise.all(subs.map((sub) => sub.done));
      await Promise.all(clients.map((client) => client.dispose()));
      const log = await (await fetch(`${simulator.url}/api/v4/projects/1/jobs/${created.id}/trace`)).text();
      for (const [i, sub] of subs.entries()) {
        expect(ends[i]!.errors).toBeUndefined();
        expect(assemble(sub.values)).toBe(log);
      }
    } finally {
      hung.resume();
      await Promise.all(pair.map((gateway) => gateway.close()));
      await hung.close();
    }
  }, 40_000);
});

describe('Redis restarted empty', () => {
  it("has followers read the new stream from its start, though their last entry id was far past its ids", async () => {
    const restarted = await startRedisServer();
    const pair = await Promise.all([0, 1].map(() => startGateway(parseConfig({ ...configFor(restarted.url), redis: { url: restarted.url, leaseMs: 1_000 } }))));
    try {
      const created = await simPost('/__sim/jobs', { project: 1, name: 'restarted', logBytesPerTick: 1500, totalBytes: 50_000_000 });
      const data = await graphql(pair[0]!, `{ project(upstream: "gitlab", id: "1") { build(id: "${created.id}") { id } } }`);
      const address = { upstream: 'gitlab', projectId: '1', locator: String(created.id) };
      const clients = pair.map((gateway) => subscriptionClient('ws', gateway.url));
      const subs = clients.map((client) => client.subscribe<Chunk>(TRACE, { id: data.project.build.id }));
      const roles = () => pair.map((g) => g.traceHub.poller(address)?.role).sort().join();
      await until(() => roles() === 'follower,holder', 5_000, 'a holder and a follower');
      // Far more log than the new stream will hold (trace.tailBytes) before the follower's turn.
      await until(() => subs.every((sub) => (sub.values.at(-1)?.nextOffset ?? 0) > 12 * TAIL_BYTES), 10_000, 'a long log');
      await restarted.stop();
      await until(() => roles() === 'local,local', 5_000, 'both to poll alone');
      await restarted.start();
      await until(() => roles() === 'follower,holder', 10_000, 'coordination to resume');
      const follower = pair.findIndex((g) => g.traceHub.poller(address)?.role === 'follower');
      const at = subs[follower]!.values.at(-1)!.nextOffset;
      const polls = pair[follower]!.traceHub.poller(address)!.polls;
      await until(() => subs[follower]!.values.at(-1)!.nextOffset > at + 2 * TAIL_BYTES, 10_000, "the follower's subscriber to go on from the new stream");
      expect(pair[follower]!.traceHub.poller(address)!.polls).toBe(polls);
      await simPost(`/__sim/jobs/${created.id}/finish`, { status: 'success' });
      const ends = await Promise.all(subs.map((sub) => sub.done));
      await Promise.all(clients.map((client) => client.dispose()));
      const log = await (await fetch(`${simulator.url}/api/v4/projects/1/jobs/${created.id}/trace`)).text();
      for (const [i, sub] of subs.entries()) {
        expect(ends[i]!.errors).toBeUndefined();
        expect(assemble(sub.values)).toBe(log);
      }
    } finally {
      await Promise.all(pair.map((gateway) => gateway.close()));
      await restarted.close();
    }
  }, 40_000);
});

describe('Redis unreachable at start', () => {
  it('starts, says so on /ready and /metrics, and serves subscriptions alone', async () => {
    const dead = await startRedisServer();
    await dead.close();
    const lonely = await startGateway(configFor(dead.url));
    try {
      const ready = await fetch(lonely.url.replace('/graphql', '/ready'));
      expect(ready.status).toBe(200);
      const report = (await ready.json()) as Record<string, unknown>;
      expect(report.mode).toBe('single-process');
      expect(report.redis).toMatch(/connecting|down/);
      const metrics = await (await fetch(lonely.url.replace('/graphql', '/metrics'))).text();
      expect(metrics).toMatch(/^buildgate_redis_up 0$/m);
      const created = await simPost('/__sim/jobs', { project: 1, name: 'alone', logBytesPerTick: 300, totalBytes: 6000 });
      const data = await graphql(lonely, `{ project(upstream: "gitlab", id: "1") { build(id: "${created.id}") { id } } }`);
      const client = subscriptionClient('ws', lonely.url);
      const sub = client.subscribe<Chunk>(TRACE, { id: data.project.build.id });
      const end = await sub.done;
      await client.dispose();
      expect(end.errors).toBeUndefined();
      const log = await (await fetch(`${simulator.url}/api/v4/projects/1/jobs/${created.id}/trace`)).text();
      expect(assemble(sub.values)).toBe(log);
    } finally {
      await lonely.close();
    }
  }, 30_000);
});
