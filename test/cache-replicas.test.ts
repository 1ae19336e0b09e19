/**
 * Issue #14 deliverable 3: the finished-build cache in Redis. Two gateways on one redis-server (the
 * suite's own) and one simulator: what one replica read, the other serves without an upstream
 * request; a mutation through either forgets the build for both; an entry never reaches another
 * credential, and is served only while the credential's access was confirmed recently; while Redis is
 * down or stuck, reads go upstream and answer, and caching resumes when it is back.
 */
import { type Server, type Socket, createServer, connect } from 'node:net';
import { once } from 'node:events';
import { type Simulator, startSimulator } from '@buildgate/simulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { type Gateway, startGateway } from '../src/server.js';
import { type RedisServer, startRedisServer } from './helpers/redis-server.js';
import { type Stack, codes, stackOf } from './helpers/stack.js';
import { until } from './helpers/subscribe.js';

const ACCESS_RECHECK_MS = 600;
const COMMAND_TIMEOUT_MS = 300;
const JOB = 'GET /api/v4/projects/:id/jobs/:job_id';
const TRACE = 'GET /api/v4/projects/:id/jobs/:job_id/trace';

let redis: RedisServer;
let simulator: Simulator;
let a: Stack;
let b: Stack;
const gateways: Gateway[] = [];

async function startReplica(redisUrl = redis.url): Promise<Stack> {
  const gateway = await startGateway(
    parseConfig({
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4` }],
      cache: { enabled: true, ttlMs: 60_000, accessRecheckMs: ACCESS_RECHECK_MS },
      redis: { url: redisUrl, connectTimeoutMs: 300, commandTimeoutMs: COMMAND_TIMEOUT_MS },
    }),
  );
  gateways.push(gateway);
  return stackOf(simulator, gateway);
}

/** The replica's view of Redis, as `/ready` reports it. */
const redisState = async (stack: Stack): Promise<string> => {
  const response = await fetch(stack.gateway.url.replace(/\/graphql$/, '/ready'));
  return ((await response.json()) as { redis: string }).redis;
};
const bothSee = (state: 'ready' | 'down') => until(async () => (await redisState(a)) === state && (await redisState(b)) === state, 10_000, `Redis ${state} on both replicas`);

const SELECTION = 'id status erasedAt finishedAt name stage ref commit { id } trace { offset nextOffset size content } window: trace(offset: 5, limit: 40) { offset nextOffset size content }';
const read = (stack: Stack, id: string, token?: string, project = '1') =>
  stack.graphql(`{ project(upstream: "gitlab", id: "${project}") { build(id: "${id}") { ${SELECTION} } } }`, undefined, token ? { 'PRIVATE-TOKEN': token } : {});

/** Ids of finished builds no other test of this file uses: each test takes its own. */
let finished: string[] = [];
const takeBuild = (): string => {
  const id = finished.shift();
  if (!id) throw new Error('out of finished builds');
  return id;
};

beforeAll(async () => {
  redis = await startRedisServer();
  simulator = await startSimulator({ port: 0, tickMs: 3_600_000 });
  a = await startReplica();
  b = await startReplica();
  await bothSee('ready');
  const list = await a.graphql('{ project(upstream: "gitlab", id: "1") { builds(scope: [SUCCESS, FAILED], first: 40) { nodes { upstreamId } } } }', undefined, {
    'PRIVATE-TOKEN': 'glpat-developer',
  });
  finished = list.data!.project.builds.nodes.map((node: { upstreamId: string }) => node.upstreamId);
});
afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await simulator?.close();
  await redis?.close();
});
beforeEach(() => a.resetStats());

describe('the finished-build cache shared through Redis', () => {
  it('serves what replica A read from replica B without an upstream request, byte for byte', async () => {
    const id = takeBuild();
    const fromUpstream = await read(a, id, 'glpat-developer');
    expect(fromUpstream.errors).toBeUndefined();
    expect(fromUpstream.data!.project.build.trace.content.length).toBeGreaterThan(0);
    await a.resetStats();
    const fromCache = await read(b, id, 'glpat-developer');
    expect(fromCache).toEqual(fromUpstream);
    expect((await b.stats()).total).toBe(0);
    // The same bytes as the upstream's own log.
    const log = await a.rest(`/projects/1/jobs/${id}/trace`, 'glpat-developer');
    expect(fromCache.data!.project.build.trace.content).toBe(log.body);
    expect(Buffer.byteLength(log.body)).toBe(fromCache.data!.project.build.trace.size);
  });

  it('keeps no credential in Redis, only digests', async () => {
    await read(a, takeBuild(), 'glpat-developer');
    const client = redis.client();
    const keys = await client.keys('*');
    expect(keys.length).toBeGreaterThan(0);
    const dump = [...keys];
    for (const key of keys) {
      const type = await client.type(key);
      if (type === 'hash') dump.push(...Object.entries(await client.hgetall(key)).flat());
      else if (type === 'string') dump.push((await client.get(key)) ?? '');
      else if (type === 'zset') dump.push(...(await client.zrange(key, 0, -1)));
    }
    expect(dump.join('\n')).not.toContain('glpat-');
  });

  it('forgets a build mutated through B for A too: A reads the new state from the upstream', async () => {
    const id = takeBuild();
    const before = await read(a, id, 'glpat-developer');
    expect(before.data!.project.build.erasedAt).toBeNull();
    await a.resetStats();
    expect(await read(a, id, 'glpat-developer')).toEqual(before);
    expect((await a.stats()).routes[JOB] ?? 0).toBe(0);
    const erased = await b.graphql('mutation($id: ID!) { eraseBuild(id: $id) { build { erasedAt } } }', { id: before.data!.project.build.id }, { 'PRIVATE-TOKEN': 'glpat-developer' });
    expect(erased.errors).toBeUndefined();
    await a.resetStats();
    const after = await read(a, id, 'glpat-developer');
    expect(after.data!.project.build.erasedAt).toEqual(expect.any(String));
    expect(after.data!.project.build.trace).toMatchObject({ size: 0, content: '' });
    expect((await a.stats()).routes[JOB]).toBe(1);
  });

  it("never serves one credential's entry to another: the upstream refuses an outsider on either replica", async () => {
    const list = await a.graphql('{ project(upstream: "gitlab", id: "2") { builds(scope: [SUCCESS], first: 1) { nodes { upstreamId } } } }', undefined, { 'PRIVATE-TOKEN': 'glpat-reporter' });
    const id = list.data!.project.builds.nodes[0].upstreamId;
    const allowed = await read(a, id, 'glpat-reporter', '2');
    expect(allowed.errors).toBeUndefined();
    expect(await read(b, id, 'glpat-reporter', '2')).toEqual(allowed);
    await a.resetStats();
    for (const replica of [a, b]) {
      const outsider = await read(replica, id, 'glpat-outsider', '2');
      expect(codes(outsider)).toEqual(['NOT_FOUND']);
      expect(outsider.data?.project?.build ?? null).toBeNull();
      expect(codes(await read(replica, id, undefined, '2'))).toEqual(['UNAUTHENTICATED']);
    }
    // Every one of those four reads asked the upstream.
    expect((await a.stats()).routes[JOB]).toBe(4);
  });

  it('asks the upstream again once access is due a recheck, and then refuses a revoked credential', async () => {
    const token = `glpat-cache-replicas-${Date.now()}`;
    const made = await fetch(`${simulator.url}/__sim/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, like: 'glpat-developer' }) });
    expect(made.status).toBe(201);
    const id = takeBuild();
    const first = await read(a, id, token);
    expect(first.errors).toBeUndefined();
    await a.resetStats();
    expect(await read(b, id, token)).toEqual(first);
    expect((await a.stats()).total).toBe(0);
    await fetch(`${simulator.url}/__sim/tokens/${token}`, { method: 'DELETE' });
    // The confirmations expire in Redis after accessRecheckMs; none is written meanwhile.
    const client = redis.client();
    await until(async () => (await client.keys('*cache:access:*')).length === 0, 5_000, 'access confirmations to expire');
    await a.resetStats();
    const revoked = await read(b, id, token);
    expect(revoked.data?.project?.build ?? null).toBeNull();
    expect(['UNAUTHENTICATED', 'NOT_FOUND']).toContain(codes(revoked)[0]);
    // The recheck is one build read; the cached log is neither served nor read again.
    const stats = await a.stats();
    expect(stats.routes[JOB]).toBe(1);
    expect(stats.routes[TRACE] ?? 0).toBe(0);
  });

  it('keeps serving a credential whose access the recheck confirms, its log from Redis', async () => {
    const id = takeBuild();
    const first = await read(a, id, 'glpat-developer');
    const client = redis.client();
    await until(async () => (await client.keys('*cache:access:*')).length === 0, 5_000, 'access confirmations to expire');
    await a.resetStats();
    expect(await read(b, id, 'glpat-developer')).toEqual(first);
    const stats = await a.stats();
    expect(stats.routes[JOB]).toBe(1);
    expect(stats.routes[TRACE] ?? 0).toBe(0);
  });

  it('answers from the upstream, without errors or waits, while Redis is stuck', async () => {
    const id = takeBuild();
    const first = await read(a, id, 'glpat-developer');
    const client = redis.client();
    const PAUSE_MS = 4_000;
    await client.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
    const pausedAt = Date.now();
    await a.resetStats();
    const started = performance.now();
    const during = await read(b, id, 'glpat-developer');
    const elapsed = performance.now() - started;
    expect(during).toEqual(first);
    // Each of its cache commands waits at most commandTimeoutMs; Redis answers none of them meanwhile.
    expect(elapsed).toBeLessThan(PAUSE_MS / 2);
    expect(Date.now() - pausedAt).toBeLessThan(PAUSE_MS);
    expect((await a.stats()).routes[JOB]).toBe(1);
    // Answered once the pause ends: Redis serves commands again.
    await client.ping();
  });

  it('reads from the upstream while Redis is down, and caches again once it is back', async () => {
    const id = takeBuild();
    const first = await read(a, id, 'glpat-developer');
    await redis.stop();
    await bothSee('down');
    await a.resetStats();
    for (const replica of [a, b, a]) {
      const started = performance.now();
      expect(await read(replica, id, 'glpat-developer')).toEqual(first);
      expect(performance.now() - started).toBeLessThan(COMMAND_TIMEOUT_MS * 3);
    }
    expect((await a.stats()).routes[JOB]).toBe(3);
    await redis.start();
    await bothSee('ready');
    // Redis restarted empty: A fills it, B is served from it.
    await read(a, id, 'glpat-developer');
    await a.resetStats();
    expect(await read(b, id, 'glpat-developer')).toEqual(first);
    expect((await a.stats()).total).toBe(0);
  });
});

/** A TCP relay to the suite's redis-server that can cut one replica off from it, as a partition would. */
async function startRelay(targetPort: number) {
  const sockets = new Set<Socket>();
  let cutOff = false;
  const server: Server = createServer((client) => {
    if (cutOff) return client.destroy();
    const target = connect(targetPort, '127.0.0.1');
    for (const socket of [client, target]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        target.destroy();
      });
    }
    client.pipe(target).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      cutOff = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      cutOff = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('a mutation through a replica cut off from Redis', () => {
  it('reaches every replica once that replica is back', async () => {
    const relay = await startRelay(redis.port);
    const c = await startReplica(relay.url);
    try {
      await until(async () => (await redisState(c)) === 'ready', 10_000, 'Redis ready on the relayed replica');
      const id = takeBuild();
      const first = await read(a, id, 'glpat-developer');
      relay.cut();
      await until(async () => (await redisState(c)) === 'down', 10_000, 'Redis down on the relayed replica');
      const erased = await c.graphql('mutation($id: ID!) { eraseBuild(id: $id) { build { erasedAt } } }', { id: first.data!.project.build.id }, { 'PRIVATE-TOKEN': 'glpat-developer' });
      expect(erased.errors).toBeUndefined();
      // Until C reaches Redis, nothing tells A: it still serves the entry it has.
      expect(await read(a, id, 'glpat-developer')).toEqual(first);
      relay.restore();
      await until(async () => (await redisState(c)) === 'ready', 10_000, 'Redis back on the relayed replica');
      // C sends the invalidation it kept as soon as it is back. Otherwise the log would stay for its 60 s
      // TTL (an access recheck reads the build again, not its log).
      await until(async () => (await read(a, id, 'glpat-developer')).data?.project.build.trace.size === 0, 3_000, 'A to see the erase made through C');
    } finally {
      await c.gateway.close();
      await relay.close();
    }
  });
});
