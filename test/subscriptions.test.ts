/**
 * Live builds over real clients: graphql-sse (distinct and single connection) and graphql-ws. Each test
 * compares what a subscriber reassembled with the upstream's own log, byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers/stack.js';
import { subscriptionClient, type Transport, until } from './helpers/subscribe.js';

const TRACE = `subscription($id: ID!, $offset: Int) { buildTrace(id: $id, offset: $offset) { offset nextOffset content complete } }`;

let stack: Stack;
beforeAll(async () => {
  // A fast clock: running builds finish within a second or two.
  stack = await startStack({
    simulator: { tickMs: 40, jobTicks: 25, pendingTicks: 1 },
    upstream: { token: 'glpat-developer' },
    gateway: { trace: { pollIntervalMs: 30, maxPollIntervalMs: 120, recheckMs: 100 } } as never,
  });
});
afterAll(() => stack?.close());

interface Chunk {
  offset: number;
  nextOffset: number;
  content: string;
  complete: boolean;
}

async function runningBuild(): Promise<{ id: string; upstreamId: string }> {
  for (let i = 0; i < 200; i++) {
    const result = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 5) { nodes { id upstreamId startedAt } } } }');
    const fresh = result.data!.project.builds.nodes.find((n: any) => n.startedAt && Date.now() - Date.parse(n.startedAt) < 400);
    if (fresh) return fresh;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no freshly started build');
}

async function finalLog(upstreamId: string): Promise<Buffer> {
  const response = await fetch(`${stack.simulator.url}/api/v4/projects/1/jobs/${upstreamId}/trace`);
  return Buffer.from(await response.arrayBuffer());
}

function assemble(chunks: Chunk[], from = 0): Buffer {
  let next = from;
  for (const chunk of chunks) {
    expect(chunk.offset).toBe(next);
    expect(Buffer.byteLength(chunk.content)).toBe(chunk.nextOffset - chunk.offset);
    next = chunk.nextOffset;
  }
  return Buffer.from(chunks.map((chunk) => chunk.content).join(''), 'utf8');
}

describe.each<Transport>(['sse', 'sse-single', 'ws'])('buildTrace over %s', (transport) => {
  it('tails a running build to completion, byte for byte', async () => {
    const build = await runningBuild();
    const client = subscriptionClient(transport, stack.gateway.url);
    const sub = client.subscribe<Chunk>(TRACE, { id: build.id });
    const { errors } = await sub.done;
    await client.dispose();
    expect(errors).toBeUndefined();
    expect(sub.values.at(-1)!.complete).toBe(true);
    expect(sub.values.filter((chunk) => chunk.complete)).toHaveLength(1);
    expect(sub.values.length).toBeGreaterThan(2);
    expect(assemble(sub.values).equals(await finalLog(build.upstreamId))).toBe(true);
  });
});

describe('a build that has already finished', () => {
  it('sends its log with complete on the last piece, and starts no poller', async () => {
    const list = await stack.graphql('{ project(upstream: "gitlab", id: "1") { build(id: "7") { id } } }');
    const client = subscriptionClient('sse', stack.gateway.url);
    const sub = client.subscribe<Chunk>(TRACE, { id: list.data!.project.build.id });
    const { errors } = await sub.done;
    await client.dispose();
    expect(errors).toBeUndefined();
    expect(sub.values.at(-1)!.complete).toBe(true);
    expect(sub.values.at(-1)!.content.length).toBeGreaterThan(0);
    expect(sub.values.filter((chunk) => chunk.complete)).toHaveLength(1);
    expect(stack.gateway.traceHub.poller({ upstream: 'gitlab', projectId: '1', locator: '7' })).toBeUndefined();
    expect(assemble(sub.values).equals(await finalLog('7'))).toBe(true);
  });
});

describe('resuming', () => {
  it('reconnects mid-stream many times with the last nextOffset and loses or repeats nothing', async () => {
    const build = await runningBuild();
    const chunks: Chunk[] = [];
    let offset = 0;
    let reconnects = 0;
    for (let round = 0; round < 200; round++) {
      const transport: Transport = (['sse', 'ws', 'sse-single'] as const)[round % 3]!;
      const client = subscriptionClient(transport, stack.gateway.url);
      let stopAfter = 1 + (round % 2);
      let stop = () => {};
      const sub = client.subscribe<Chunk>(TRACE, { id: build.id, offset }, (_chunk, all) => {
        if (all.length >= stopAfter && !all.at(-1)!.complete) stop();
      });
      stop = () => {
        stopAfter = Number.POSITIVE_INFINITY;
        sub.stop();
      };
      await Promise.race([sub.done, until(() => sub.values.length >= 2 || sub.values.at(-1)?.complete === true, 10_000)]);
      sub.stop();
      await client.dispose();
      chunks.push(...sub.values);
      if (sub.values.length > 0) offset = sub.values.at(-1)!.nextOffset;
      reconnects += 1;
      if (sub.values.at(-1)?.complete) break;
    }
    expect(reconnects).toBeGreaterThan(3);
    expect(chunks.at(-1)!.complete).toBe(true);
    expect(assemble(chunks).equals(await finalLog(build.upstreamId))).toBe(true);
  });
});

describe('one poller per build', () => {
  it('serves 100 subscribers with several tokens from one poll per interval, and stops when the last leaves', async () => {
    // A build that runs until we finish it: no clock surprises while we count.
    const created = await fetch(`${stack.simulator.url}/__sim/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: 1, name: 'fanout', logBytesPerTick: 512, totalBytes: 50_000_000 }),
    }).then((r) => r.json() as Promise<{ id: number }>);
    const ids = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${created.id}") { id } } }`);
    const id = ids.data!.project.build.id;
    const tokens = ['glpat-developer', 'glpat-reporter', 'glpat-root', 'glpat-outsider'];
    const clients = tokens.map((token, i) => subscriptionClient((['sse', 'ws'] as const)[i % 2]!, stack.gateway.url, { 'PRIVATE-TOKEN': token }));
    const subs = Array.from({ length: 100 }, (_, i) => clients[i % clients.length]!.subscribe<Chunk>(TRACE, { id }));
    await until(() => subs.every((sub) => sub.values.length > 0), 15_000, 'every subscriber to receive');
    const address = { upstream: 'gitlab', projectId: '1', locator: String(created.id) };
    const poller = stack.gateway.traceHub.poller(address)!;
    expect(stack.gateway.traceHub.stats.pollers).toBe(1);
    const route = 'GET /api/v4/projects/:id/jobs/:job_id/trace';
    const before = { polls: poller.polls, reads: (await stack.stats()).routes[route] ?? 0 };
    await until(() => poller.polls >= before.polls + 10, 15_000, 'ten more polls');
    const reads = ((await stack.stats()).routes[route] ?? 0) - before.reads;
    const polls = poller.polls - before.polls;
    // One trace read per poll (a poll in flight may add one), not one per subscriber.
    expect(reads).toBeGreaterThanOrEqual(polls - 1);
    expect(reads).toBeLessThanOrEqual(polls + 1);
    for (const sub of subs) sub.stop();
    await Promise.all(clients.map((client) => client.dispose()));
    await until(() => stack.gateway.traceHub.stats.pollers === 0, 5000, 'the poller to stop');
    expect(poller.stopped).toBe(true);
    // Every subscriber saw the same bytes from the start.
    const first = assemble(subs[0]!.values);
    for (const sub of subs.slice(1)) {
      const mine = assemble(sub.values);
      expect(first.subarray(0, mine.length).equals(mine.subarray(0, Math.min(mine.length, first.length)))).toBe(true);
    }
    await fetch(`${stack.simulator.url}/__sim/jobs/${created.id}/finish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"status":"success"}' });
  });
});

describe('access', () => {
  it('gives a subscriber without access to a private project an error, not bytes', async () => {
    const list = await stack.graphql('{ project(upstream: "gitlab", id: "2") { builds(first: 1) { nodes { id } } } }');
    const id = list.data!.project.builds.nodes[0].id;
    for (const transport of ['sse', 'ws'] as const) {
      const client = subscriptionClient(transport, stack.gateway.url, { 'PRIVATE-TOKEN': 'glpat-outsider' });
      const sub = client.subscribe<Chunk>(TRACE, { id });
      const { errors } = await sub.done;
      await client.dispose();
      expect(sub.values).toEqual([]);
      expect(errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });

  it('stops sending to a token revoked mid-stream', async () => {
    const token = `glpat-revoke-${Date.now()}`;
    const made = await fetch(`${stack.simulator.url}/__sim/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, like: 'glpat-developer' }),
    });
    expect(made.status).toBe(201);
    const created = await fetch(`${stack.simulator.url}/__sim/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: 2, name: 'revoke', logBytesPerTick: 256, totalBytes: 50_000_000 }),
    }).then((r) => r.json() as Promise<{ id: number }>);
    const ids = await stack.graphql(`{ project(upstream: "gitlab", id: "2") { build(id: "${created.id}") { id } } }`);
    const client = subscriptionClient('sse', stack.gateway.url, { 'PRIVATE-TOKEN': token });
    const sub = client.subscribe<Chunk>(TRACE, { id: ids.data!.project.build.id });
    await until(() => sub.values.length >= 2, 10_000, 'two chunks');
    await fetch(`${stack.simulator.url}/__sim/tokens/${token}`, { method: 'DELETE' });
    const { errors } = await sub.done;
    await client.dispose();
    expect(errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await fetch(`${stack.simulator.url}/__sim/jobs/${created.id}/finish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"status":"success"}' });
  });
});

describe('buildStatus', () => {
  it('emits the build, then every status change, and completes at a terminal one', async () => {
    const build = await runningBuild();
    const client = subscriptionClient('ws', stack.gateway.url);
    const sub = client.subscribe<{ status: string; upstreamId: string; pipeline: { upstreamId: string } }>(
      'subscription($id: ID!) { buildStatus(id: $id) { upstreamId status pipeline { upstreamId } } }',
      { id: build.id },
    );
    const { errors } = await sub.done;
    await client.dispose();
    expect(errors).toBeUndefined();
    const statuses = sub.values.map((value) => value.status);
    expect(statuses[0]).toBe('RUNNING');
    expect(['SUCCESS', 'FAILED']).toContain(statuses.at(-1));
    expect(new Set(statuses).size).toBe(statuses.length);
    const { body } = await stack.rest(`/projects/1/jobs/${build.upstreamId}`);
    expect(statuses.at(-1)).toBe(body.status.toUpperCase());
  });
});

describe('TraceChunk conveniences', () => {
  it('splits lines with or without ANSI and parses GitLab section markers', async () => {
    const result = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "7") { trace { content lines raw: lines(stripAnsi: false) sections { name event time collapsed line } } } } }`);
    expect(result.errors).toBeUndefined();
    const { content, lines, raw, sections } = result.data!.project.build.trace;
    expect(raw.join('\n')).toBe(content.replace(/\n$/, ''));
    for (const line of lines) expect(line).not.toMatch(/\u001b\[|section_(start|end):/);
    expect(sections.length).toBeGreaterThan(0);
    const names = new Set(sections.map((s: any) => s.name));
    for (const name of names) {
      const events = sections.filter((s: any) => s.name === name).map((s: any) => s.event);
      expect(events[0]).toBe('START');
    }
    expect(sections.some((s: any) => s.collapsed)).toBe(true);
    expect(new Date(sections[0].time).getTime()).toBeGreaterThan(0);
  });
});
