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
import { RedisFinishedCache, type RedisFinishedCacheOptions } from '../src/loaders/finished-cache-redis.js';
import { RedisLink } from '../src/redis/connection.js';
import { Utf8Slice } from '../src/upstreams/utf8-cutter.js';
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
    const PAUSE_MS = 2_500;
    await client.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
    await a.resetStats();
    // The first cache command waits out its timeout; the cache then rests, so the read's other
    // commands, and the next read's, wait for nothing.
    for (const [replica, within] of [[b, COMMAND_TIMEOUT_MS * 2.5], [b, COMMAND_TIMEOUT_MS]] as const) {
      const started = performance.now();
      expect(await read(replica, id, 'glpat-developer')).toEqual(first);
      expect(performance.now() - started).toBeLessThan(within);
    }
    expect((await a.stats()).routes[JOB]).toBe(2);
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

describe('the Redis cache on its own (a real redis-server, no gateway)', () => {
  const links: RedisLink[] = [];
  const cacheOn = async (prefix: string, options: Partial<RedisFinishedCacheOptions> = {}) => {
    const link = new RedisLink({ url: redis.url, keyPrefix: prefix, connectTimeoutMs: 300, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    links.push(link);
    expect(await link.ready(5_000)).toBe(true);
    return new RedisFinishedCache(link, { maxEntries: 1_000, maxBytes: 16 * 1024, ttlMs: 60_000, accessRecheckMs: 60_000, ...options });
  };
  afterAll(async () => {
    for (const link of links) await link.close();
  });
  const developer = { name: 'PRIVATE-TOKEN', value: 'glpat-developer' };
  const keyOf = (locator: string) => ({ upstream: 'gitlab', projectId: '1', locator });
  const sliceOf = (text: string) => ({ offset: 0, nextOffset: Buffer.byteLength(text), content: text, size: Buffer.byteLength(text), atEnd: true });

  /** The bookkeeping agrees with itself and with the entries: one member and one size per entry, and their sum. */
  async function bookkeeping(prefix: string) {
    const client = redis.client();
    const bytes = Number((await client.get(`${prefix}cache:bytes`)) ?? 0);
    const sizes = (await client.hvals(`${prefix}cache:sizes`)).map(Number);
    const members = await client.zcard(`${prefix}cache:index`);
    let fields = 0;
    for (const key of await client.keys(`${prefix}cache:build:*`)) if ((await client.type(key)) === 'hash') fields += await client.hlen(key);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(bytes);
    expect(members).toBe(sizes.length);
    expect(fields).toBe(members);
    return { bytes, entries: members };
  }

  it('keeps its entries under maxBytes, evicting the oldest first, and its count exact under concurrent writers', async () => {
    const [one, two] = [await cacheOn('bound:'), await cacheOn('bound:')];
    const log = 'x'.repeat(1_000);
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? one : two).setTrace(keyOf(String(i)), developer, '0:1000', sliceOf(log))));
    for (let i = 40; i < 60; i++) await one.setTrace(keyOf(String(i)), developer, '0:1000', sliceOf(log));
    const { bytes, entries } = await bookkeeping('bound:');
    expect(bytes).toBeLessThanOrEqual(16 * 1024);
    expect(entries).toBeGreaterThan(5);
    expect(await two.getTrace(keyOf('59'), developer, '0:1000')).toEqual(sliceOf(log));
    expect(await two.getTrace(keyOf('40'), developer, '0:1000')).toBeUndefined();
  });

  it('keeps at most maxEntries', async () => {
    const cache = await cacheOn('entries:', { maxEntries: 5 });
    for (let i = 0; i < 12; i++) await cache.setTrace(keyOf(String(i)), developer, `0:${i}`, sliceOf('abc'));
    expect((await bookkeeping('entries:')).entries).toBe(5);
    expect(await cache.getTrace(keyOf('11'), developer, '0:11')).toEqual(sliceOf('abc'));
    expect(await cache.getTrace(keyOf('6'), developer, '0:6')).toBeUndefined();
  });

  it("counts right again within one TTL after Redis's own eviction took an entry", async () => {
    const TTL_MS = 200;
    const cache = await cacheOn('evicted:', { ttlMs: TTL_MS });
    await cache.setTrace(keyOf('1'), developer, '0:3', sliceOf('abc'));
    const client = redis.client();
    const [entryKey] = await client.keys('evicted:cache:build:*');
    // What `maxmemory` with `volatile-lru` does: the entry goes, the bookkeeping (no TTL) stays.
    await client.del(entryKey!);
    expect(Number(await client.get('evicted:cache:bytes'))).toBeGreaterThan(0);
    const writtenAt = Date.now();
    await until(async () => {
      if (Date.now() - writtenAt <= TTL_MS) return false;
      await cache.setTrace(keyOf('2'), developer, '0:3', sliceOf('abc'));
      return (await client.zcard('evicted:cache:index')) === 1;
    }, 5_000, 'the evicted entry to be swept');
    const { entries } = await bookkeeping('evicted:');
    expect(entries).toBe(1);
  });

  it('returns a log window exactly as it was kept: offsets, text and raw bytes', async () => {
    const cache = await cacheOn('exact:');
    const bytes = Buffer.from('añb€c😀\r\n\u001b[32mok\u001b[0m\n', 'utf8');
    const slice = new Utf8Slice(7, bytes);
    await cache.setTrace(keyOf('1'), developer, '7:100', slice);
    const back = (await cache.getTrace(keyOf('1'), developer, '7:100'))!;
    expect({ ...back, bytes: undefined }).toEqual({ offset: 7, nextOffset: 7 + bytes.length, content: slice.content, size: slice.size, atEnd: false, bytes: undefined });
    expect(back.bytes!.equals(bytes)).toBe(true);
    expect(await cache.getTrace(keyOf('1'), { ...developer, value: 'glpat-reporter' }, '7:100')).toBeUndefined();
  });
});
