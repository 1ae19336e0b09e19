/**
 * Three gateway processes on one real redis-server (issue #14, 2, 5, 6): subscribers spread over the
 * replicas cost the upstream one trace poll per interval in all; the lease moves when its holder is
 * SIGKILLed, and every subscriber, resuming on a live replica from its last nextOffset, reassembles the
 * upstream's log byte for byte; with Redis stopped each replica polls for its own subscribers, and one
 * poller again once Redis is back; a stuck (SIGSTOPped) follower holds nobody else up; a credential that
 * may not see the build never gets a byte of it.
 */
import { type Simulator, startSimulator } from '@buildgate/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from './helpers/redis-server.js';
import { type Replica, startReplicas } from './helpers/replicas.js';
import { type SubscriptionClient, subscriptionClient, until } from './helpers/subscribe.js';

const INTERVAL_MS = 250;
const TRACE_ROUTE = 'GET /api/v4/projects/:id/jobs/:job_id/trace';
const TRACE = `subscription($id: ID!, $offset: Int) { buildTrace(id: $id, offset: $offset) { offset nextOffset content complete } }`;
/** Five credentials, none of them the gateway's: the holder polls with one of its own subscribers'. */
const TOKENS: Array<string | undefined> = ['glpat-developer', 'glpat-reporter', 'glpat-root', 'glpat-outsider', undefined];

interface Chunk {
  offset: number;
  nextOffset: number;
  content: string;
  complete: boolean;
}

let redis: RedisServer;
let simulator: Simulator;
let replicas: Replica[];

beforeAll(async () => {
  redis = await startRedisServer();
  simulator = await startSimulator({ port: 0, tickMs: 50 });
  replicas = await startReplicas(3, {
    upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4` }],
    redis: { url: redis.url },
    trace: { pollIntervalMs: INTERVAL_MS, maxPollIntervalMs: INTERVAL_MS, recheckMs: 2_000 },
  });
}, 60_000);

afterAll(async () => {
  await Promise.all((replicas ?? []).map((replica) => replica.close()));
  await simulator?.close();
  await redis?.close();
});

async function traceReads(): Promise<number> {
  const stats = (await (await fetch(`${simulator.url}/__sim/stats`)).json()) as { routes: Record<string, number> };
  return stats.routes[TRACE_ROUTE] ?? 0;
}

/** A build whose log grows by `bytesPerTick` every 50 ms until the test finishes it. */
async function growingBuild(project: number, bytesPerTick = 700): Promise<{ upstreamId: number; id: string }> {
  const created = (await (
    await fetch(`${simulator.url}/__sim/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project, name: 'replicated', logBytesPerTick: bytesPerTick, totalBytes: 50_000_000 }),
    })
  ).json()) as { id: number };
  // The gateway's global id, as any replica gives it.
  const response = await fetch(replicas[0]!.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'PRIVATE-TOKEN': 'glpat-root' },
    body: JSON.stringify({ query: `{ project(upstream: "gitlab", id: "${project}") { build(id: "${created.id}") { id } } }` }),
  });
  const { data } = (await response.json()) as { data: { project: { build: { id: string } } } };
  return { upstreamId: created.id, id: data.project.build.id };
}

async function finish(upstreamId: number): Promise<void> {
  const response = await fetch(`${simulator.url}/__sim/jobs/${upstreamId}/finish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"status":"success"}',
  });
  await response.arrayBuffer();
}

async function upstreamLog(project: number, upstreamId: number): Promise<Buffer> {
  const response = await fetch(`${simulator.url}/api/v4/projects/${project}/jobs/${upstreamId}/trace`, { headers: { 'PRIVATE-TOKEN': 'glpat-root' } });
  return Buffer.from(await response.arrayBuffer());
}

/** What a replica's /metrics says of its leases. */
async function leases(replica: Replica): Promise<{ held: number; followed: number }> {
  const text = await (await fetch(replica.url.replace('/graphql', '/metrics'))).text();
  const read = (role: string) => Number(text.match(new RegExp(`buildgate_trace_leases\\{role="${role}"\\} (\\d+)`))?.[1] ?? NaN);
  return { held: read('held'), followed: read('followed') };
}

/** Waits until exactly one replica holds the build's lease. */
async function oneHolder(timeoutMs: number): Promise<void> {
  await until(async () => (await Promise.all(replicas.map(leases))).reduce((sum, l) => sum + l.held, 0) === 1, timeoutMs, 'one lease holder');
}

/** Every subscriber done, with no error, complete, and the upstream's log byte for byte. */
async function expectExact(subscribers: ResumingSubscriber[], project: number, upstreamId: number): Promise<void> {
  await Promise.all(subscribers.map((s) => s.done));
  const log = await upstreamLog(project, upstreamId);
  for (const subscriber of subscribers) {
    expect(subscriber.errors).toEqual([]);
    expect(subscriber.complete).toBe(true);
    expect(subscriber.assembled().equals(log)).toBe(true);
  }
}

/**
 * A subscriber that, whenever its stream ends without `complete` (its replica died), subscribes again on
 * the next live replica from its last nextOffset, and keeps every chunk it got.
 */
class ResumingSubscriber {
  readonly chunks: Chunk[] = [];
  readonly errors: unknown[] = [];
  resumes = 0;
  #client: SubscriptionClient | undefined;
  done: Promise<void>;

  constructor(
    readonly id: string,
    readonly token: string | undefined,
    public replicaIndex: number,
    readonly live: () => Replica[],
  ) {
    this.done = this.#run();
  }

  get nextOffset(): number {
    return this.chunks.at(-1)?.nextOffset ?? 0;
  }

  get complete(): boolean {
    return this.chunks.at(-1)?.complete === true;
  }

  async #run(): Promise<void> {
    for (let attempt = 0; attempt < 20 && !this.complete; attempt++) {
      const replica = this.live()[this.replicaIndex % this.live().length]!;
      this.#client = subscriptionClient('ws', replica.url, this.token ? { 'PRIVATE-TOKEN': this.token } : {});
      const sub = this.#client.subscribe<Chunk>(TRACE, { id: this.id, offset: this.nextOffset }, (chunk) => this.chunks.push(chunk));
      const { errors } = await sub.done;
      await this.#client.dispose();
      if (this.complete) return;
      // Only a replica going away may end a stream early (the socket closes: an error without a code, or
      // SHUTTING_DOWN); any coded error is a failure.
      const coded = (errors ?? []).filter((error) => error.extensions?.code && error.extensions.code !== 'SHUTTING_DOWN');
      if (coded.length > 0) {
        this.errors.push(...coded);
        return;
      }
      this.resumes += 1;
      this.replicaIndex += 1;
    }
  }

  stop(): Promise<void> {
    return this.#client?.dispose() ?? Promise.resolve();
  }

  /** The chunks joined, checking each continues the last exactly (no byte lost, none repeated). */
  assembled(): Buffer {
    let next = 0;
    for (const chunk of this.chunks) {
      expect(chunk.offset).toBe(next);
      next = chunk.nextOffset;
    }
    return Buffer.from(this.chunks.map((chunk) => chunk.content).join(''), 'utf8');
  }
}

/** Trace reads per interval over `intervals` intervals. */
async function readsPerInterval(intervals: number): Promise<number> {
  const before = await traceReads();
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, intervals * INTERVAL_MS));
  return ((await traceReads()) - before) / ((Date.now() - started) / INTERVAL_MS);
}

describe('three replicas on one Redis', () => {
  it('serve subscribers on five credentials from one upstream trace poll per interval in all', async () => {
    const build = await growingBuild(1);
    const all = () => replicas;
    const subscribers = Array.from({ length: 30 }, (_, i) => new ResumingSubscriber(build.id, TOKENS[i % TOKENS.length], i % 3, all));
    await until(() => subscribers.every((s) => s.chunks.length > 0), 20_000, 'every subscriber to receive');
    await oneHolder(5_000);
    const perInterval = await readsPerInterval(12);
    // One poller in all (three, one per replica, before): a poll in flight at either end may add one.
    expect(perInterval).toBeGreaterThan(0.6);
    expect(perInterval).toBeLessThan(1.35);
    const roles = await Promise.all(replicas.map(leases));
    expect(roles.map((r) => r.held).sort()).toEqual([0, 0, 1]);
    expect(roles.map((r) => r.followed).sort()).toEqual([0, 1, 1]);
    await finish(build.upstreamId);
    await expectExact(subscribers, 1, build.upstreamId);
  }, 60_000);
});

describe('credentials across replicas', () => {
  it('never sends a byte to a credential that may not see the build, though another replica polls it with one that may', async () => {
    const build = await growingBuild(2);
    const all = () => replicas;
    const members = [0, 1, 2].map((i) => new ResumingSubscriber(build.id, 'glpat-developer', i, all));
    await until(() => members.every((s) => s.chunks.length > 0), 20_000, 'the members to receive');
    // The outsider asks every replica: the holder and the followers alike hold the log in their tails.
    const outsiders = replicas.map((replica) => subscriptionClient('ws', replica.url, { 'PRIVATE-TOKEN': 'glpat-outsider' }));
    const attempts = outsiders.map((client) => client.subscribe<Chunk>(TRACE, { id: build.id }));
    const ends = await Promise.all(attempts.map((attempt) => attempt.done));
    for (const [i, end] of ends.entries()) {
      expect(attempts[i]!.values).toEqual([]);
      expect(end.errors?.[0]?.extensions?.code).toMatch(/NOT_FOUND|FORBIDDEN/);
    }
    await Promise.all(outsiders.map((client) => client.dispose()));
    await finish(build.upstreamId);
    await Promise.all(members.map((s) => s.done));
    const log = await upstreamLog(2, build.upstreamId);
    for (const member of members) expect(member.assembled().equals(log)).toBe(true);
  }, 60_000);
});

describe('a stuck follower', () => {
  it('never holds the holder back: its subscribers wait, the others go on at the pace of the log', async () => {
    const build = await growingBuild(1);
    const all = () => replicas;
    const subscribers = Array.from({ length: 9 }, (_, i) => new ResumingSubscriber(build.id, TOKENS[i % TOKENS.length], i % 3, all));
    await until(() => subscribers.every((s) => s.chunks.length > 0), 20_000, 'every subscriber to receive');
    let roles: Array<{ held: number; followed: number }> = [];
    await until(async () => {
      roles = await Promise.all(replicas.map(leases));
      return roles.filter((role) => role.held === 1).length === 1 && roles.filter((role) => role.followed === 1).length === 2;
    }, 5_000, 'one holder and two followers');
    const stuck = replicas[roles.findIndex((role) => role.followed === 1)]!;
    const others = subscribers.filter((s) => replicas[s.replicaIndex % 3] !== stuck);
    stuck.process.child.kill('SIGSTOP');
    try {
      const at = others.map((s) => s.nextOffset);
      // Four intervals of log (700 B per 50 ms tick) reach every subscriber of the live replicas.
      await until(() => others.every((s, i) => s.nextOffset >= at[i]! + 4 * 700 * (INTERVAL_MS / 50)), 10_000, 'the others to go on');
    } finally {
      stuck.process.child.kill('SIGCONT');
    }
    await finish(build.upstreamId);
    await expectExact(subscribers, 1, build.upstreamId);
  }, 60_000);
});

describe('Redis lost and back', () => {
  it('falls back to a poller per replica within two intervals, with no error or gap, and to one poller once Redis is back', async () => {
    const build = await growingBuild(1);
    const all = () => replicas;
    const subscribers = Array.from({ length: 12 }, (_, i) => new ResumingSubscriber(build.id, TOKENS[i % TOKENS.length], i % 3, all));
    await until(() => subscribers.every((s) => s.chunks.length > 0), 20_000, 'every subscriber to receive');
    await oneHolder(5_000);

    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS));
    const alone = await readsPerInterval(8);
    // Each replica polls for its own subscribers now.
    expect(alone).toBeGreaterThan(2.3);
    const during = subscribers.map((s) => s.nextOffset);
    await until(() => subscribers.every((s, i) => s.nextOffset > during[i]!), 10_000, 'every subscriber to go on receiving without Redis');

    await redis.start();
    await oneHolder(10_000);
    const together = await readsPerInterval(8);
    expect(together).toBeLessThan(1.4);

    await finish(build.upstreamId);
    await expectExact(subscribers, 1, build.upstreamId);
    expect(subscribers.map((s) => s.resumes)).toEqual(subscribers.map(() => 0));
  }, 60_000);
});

describe('a lease holder SIGKILLed mid-stream', () => {
  it('hands the lease to another replica within two intervals; its subscribers resume elsewhere byte for byte', async () => {
    const build = await growingBuild(1);
    const killed = new Set<Replica>();
    const live = () => replicas.filter((replica) => !killed.has(replica));
    const subscribers = Array.from({ length: 15 }, (_, i) => new ResumingSubscriber(build.id, TOKENS[i % TOKENS.length], i % 3, live));
    await until(() => subscribers.every((s) => s.chunks.length > 1), 20_000, 'every subscriber to receive');
    let holder: Replica | undefined;
    await until(async () => {
      const roles = await Promise.all(replicas.map(leases));
      holder = replicas[roles.findIndex((role) => role.held === 1)];
      return holder !== undefined;
    }, 5_000, 'a lease holder');

    killed.add(holder!);
    const killedAt = Date.now();
    await holder!.kill();
    let takenAfter = Number.NaN;
    await until(async () => {
      const roles = await Promise.all(live().map(leases));
      if (roles.some((role) => role.held === 1)) takenAfter = Date.now() - killedAt;
      return !Number.isNaN(takenAfter);
    }, 5_000, 'another replica to take the lease');
    // Two intervals, and what it takes to ask two replicas' /metrics.
    expect(takenAfter).toBeLessThan(2 * INTERVAL_MS + 150);
    const reads = await traceReads();
    await until(async () => (await traceReads()) > reads + 2, 5_000, 'the new holder to poll');

    await finish(build.upstreamId);
    await expectExact(subscribers, 1, build.upstreamId);
    expect(subscribers.filter((s) => s.resumes > 0).length).toBeGreaterThanOrEqual(5);
  }, 60_000);
});
