/**
 * graphql-sse at /graphql/stream under hostile clients, over raw fetch (what an attacker sends) and
 * the graphql-sse client: single-connection reservations are bounded in number, time and queued bytes;
 * bad input is a coded 4xx, never a 500 or a stack trace.
 */
import { request as httpRequest } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { startGateway } from '../src/server.js';
import { type Stack, startStack } from './helpers/stack.js';
import { until } from './helpers/subscribe.js';

const TOKEN_HEADER = 'x-graphql-event-stream-token';
const TRACE = 'subscription($id: ID!) { buildTrace(id: $id) { offset nextOffset content } }';
const TTL_MS = 400;
const PER_CLIENT = 3;
const TOTAL = 5;
const QUEUE_BYTES = 256 * 1024;

setFlagsFromString('--expose-gc');
/** A full collection, so that heap figures count what is retained, not garbage. */
const gc = runInNewContext('gc') as () => void;
const retainedHeap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

let stack: Stack;
let streamUrl: string;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 20 },
    upstream: { token: 'glpat-developer' },
    gateway: {
      production: true,
      trace: { pollIntervalMs: 20, maxPollIntervalMs: 40, tailBytes: 1024 * 1024 },
      sse: { reservationTtlMs: TTL_MS, maxReservationsPerClient: PER_CLIENT, maxReservations: TOTAL, maxReservationQueueBytes: QUEUE_BYTES },
    } as never,
  });
  streamUrl = `${stack.gateway.url}/stream`;
});
afterAll(() => stack?.close());

/** A PUT from a given loopback address (Linux routes all of 127/8 to lo): status and body. */
function reserve(from = '127.0.0.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(streamUrl, { method: 'PUT', localAddress: from, headers: { accept: '*/*' } }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether graphql-sse still holds the reservation (DELETE of an unknown operation: 200 if so, 404 if not). */
async function held(token: string): Promise<boolean> {
  const response = await fetch(`${streamUrl}?operationId=none`, { method: 'DELETE', headers: { [TOKEN_HEADER]: token } });
  await response.arrayBuffer();
  return response.status === 200;
}

function post(token: string, operationId: string, query: string, variables: Record<string, unknown> = {}) {
  return fetch(streamUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [TOKEN_HEADER]: token },
    body: JSON.stringify({ query, variables, extensions: { operationId } }),
  });
}

async function endAll(tokens: string[]): Promise<void> {
  for (const token of tokens) await until(async () => !(await held(token)), 10_000, 'reservation expiry');
}

describe('single-connection reservations', () => {
  it(`expire after sse.reservationTtlMs when their stream never opens, and end their operations`, async () => {
    const build = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 1) { nodes { id } } } }');
    const { status, body: token } = await reserve();
    expect(status).toBe(201);
    expect(await held(token)).toBe(true);
    const accepted = await post(token, 'a', 'subscription($id: ID!) { buildStatus(id: $id) { status } }', { id: build.data!.project.builds.nodes[0].id });
    expect(accepted.status).toBe(202);
    await until(() => stack.gateway.traceHub.stats.subscribers === 1, 5000, 'the subscription');
    await until(async () => !(await held(token)), 10_000, 'reservation expiry');
    await until(() => stack.gateway.traceHub.stats.subscribers === 0, 5000, 'the subscription to end');
    // The expired token is unknown: an operation for it is refused with a coded error.
    const late = await post(token, 'b', '{ upstreams { name } }');
    expect(late.status).toBe(404);
    expect((await late.json()).errors[0].extensions.code).toBe('STREAM_NOT_FOUND');
  });

  it(`are limited per client address (sse.maxReservationsPerClient) and in all (sse.maxReservations): 429 with a coded error`, async () => {
    const tokens: string[] = [];
    for (let i = 0; i < PER_CLIENT; i++) {
      const answer = await reserve('127.0.0.1');
      expect(answer.status).toBe(201);
      tokens.push(answer.body);
    }
    const mine = await reserve('127.0.0.1');
    expect(mine.status).toBe(429);
    expect(JSON.parse(mine.body).errors[0].extensions).toEqual({ code: 'TOO_MANY_REQUESTS', limit: 'sse.maxReservationsPerClient' });
    for (let i = 0; i < TOTAL - PER_CLIENT; i++) {
      const answer = await reserve('127.0.0.2');
      expect(answer.status).toBe(201);
      tokens.push(answer.body);
    }
    const anyone = await reserve('127.0.0.3');
    expect(anyone.status).toBe(429);
    expect(JSON.parse(anyone.body).errors[0].extensions).toEqual({ code: 'TOO_MANY_REQUESTS', limit: 'sse.maxReservations' });
    // Once they expire, the slots are free again.
    await endAll(tokens);
    const again = await reserve('127.0.0.3');
    expect(again.status).toBe(201);
    await endAll([again.body]);
  });

  it('12,000 anonymous PUTs hold at most maxReservationsPerClient reservations', async () => {
    // Its own gateway, whose reservations outlive the run: none expires to make room.
    const own = await startGateway(
      parseConfig({ port: 0, logLevel: 'silent', upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${stack.simulator.url}/api/v4` }], sse: { reservationTtlMs: 600_000 } }),
    );
    const url = `${own.url}/stream`;
    const statuses = new Map<number, number>();
    let refusal: any;
    let heapBefore = 0;
    for (let batch = 0; batch < 120; batch++) {
      // After a first batch has warmed up the client's and the server's code paths and pools.
      if (batch === 1) heapBefore = retainedHeap();
      const answers = await Promise.all(Array.from({ length: 100 }, () => fetch(url, { method: 'PUT' }).then(async (r) => ({ status: r.status, body: await r.text() }))));
      for (const { status, body } of answers) {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 429) refusal ??= JSON.parse(body);
      }
    }
    const heapGrowthMiB = (retainedHeap() - heapBefore) / 2 ** 20;
    console.info(`sse: 12,000 PUTs → ${JSON.stringify(Object.fromEntries(statuses))}; retained heap growth ${heapGrowthMiB.toFixed(1)} MiB`);
    expect(heapGrowthMiB).toBeLessThan(8);
    expect(statuses.get(201)).toBe(10);
    expect(statuses.get(429)).toBe(12_000 - 10);
    expect(refusal.errors[0].extensions).toEqual({ code: 'TOO_MANY_REQUESTS', limit: 'sse.maxReservationsPerClient' });
    await own.close();
  }, 120_000);

  it(`queue at most about sse.maxReservationQueueBytes of events: past it each operation ends with an error event`, async () => {
    // A fast log: 64 KiB every 20 ms tick, 24 MiB in all.
    const job = await (await fetch(`${stack.simulator.url}/__sim/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: 1, name: 'sse:flood', logBytesPerTick: 64 * 1024, totalBytes: 24 * 1024 * 1024 }),
    })).json() as { id: number };
    const found = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${job.id}") { id } } }`);
    const buildId = found.data!.project.build.id;
    const { body: token } = await reserve();
    for (const id of ['t1', 't2', 't3']) expect((await post(token, id, TRACE, { id: buildId })).status).toBe(202);
    // Nobody reads the stream: without the bound, the three would queue the whole log three times over.
    await until(() => stack.gateway.traceHub.stats.subscribers === 0, 30_000, 'the operations to end at the bound');
    // Nor does it take another operation, a query included, while its backlog is full.
    const more = await post(token, 'q', '{ upstreams { name } }');
    expect(more.status).toBe(429);
    expect((await more.json()).errors[0].extensions).toEqual({ code: 'STREAM_BACKLOG_EXCEEDED', limit: 'sse.maxReservationQueueBytes' });
    const response = await fetch(streamUrl, { headers: { accept: 'text/event-stream', [TOKEN_HEADER]: token } });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = '';
    let bytes = 0;
    const decoder = new TextDecoder();
    while ((text.match(/event: complete/g) ?? []).length < 3) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      text += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    const events = [...text.matchAll(/event: next\ndata: (.*)\n/g)].map((match) => JSON.parse(match[1]!) as { id: string; payload: any });
    console.info(`sse: an unopened reservation with 3 trace subscriptions queued ${(bytes / 2 ** 20).toFixed(2)} MiB (bound ${QUEUE_BYTES / 1024} KiB + one chunk each)`);
    // The bound, plus the one chunk each operation had in hand (the tail is 1 MiB), plus framing.
    expect(bytes).toBeLessThan(QUEUE_BYTES + 3 * (1024 * 1024 + 64 * 1024) + 64 * 1024);
    for (const id of ['t1', 't2', 't3']) {
      const mine = events.filter((event) => event.id === id);
      const last = mine.at(-1)!.payload;
      const chunks = mine.slice(0, -1).map((event) => event.payload.data.buildTrace);
      expect(last.errors[0].extensions.code).toBe('TRACE_OVERFLOW');
      expect(last.errors[0].extensions.nextOffset).toBe(chunks.at(-1).nextOffset);
    }
    await until(async () => !(await held(token)), 10_000, 'the stream to end');
  }, 60_000);
});

describe('distinct-connection streams', () => {
  it('a reader that does not read gets TRACE_OVERFLOW at its nextOffset once its unread events pass the bound', async () => {
    const job = await (await fetch(`${stack.simulator.url}/__sim/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: 1, name: 'sse:slow-reader', logBytesPerTick: 256 * 1024, totalBytes: 64 * 1024 * 1024 }),
    })).json() as { id: number };
    const found = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${job.id}") { id } } }`);
    const response = await fetch(streamUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: TRACE, variables: { id: found.data!.project.build.id } }),
    });
    expect(response.status).toBe(200);
    // Not reading: the socket's buffers fill, then graphql-sse's queue, up to the bound.
    await until(() => stack.gateway.traceHub.stats.subscribers === 0, 40_000, 'the operation to end at the bound');
    const text = await response.text();
    const events = [...text.matchAll(/event: next\ndata: (.*)\n/g)].map((match) => JSON.parse(match[1]!) as any);
    const last = events.at(-1)!;
    console.info(`sse: a distinct stream nobody read ended after ${(text.length / 2 ** 20).toFixed(1)} MiB with ${last.errors?.[0]?.extensions?.code}`);
    expect(last.errors[0].extensions).toEqual({ code: 'TRACE_OVERFLOW', nextOffset: events.at(-2).data.buildTrace.nextOffset });
    expect(text.length).toBeLessThan(16 * 1024 * 1024);
  }, 60_000);
});

describe('bad input on /graphql/stream is a coded 4xx with no stack trace', () => {
  // With the CSRF header, as a non-browser client sends it: these reach the graphql-sse handler itself.
  const get = (query: string, headers: Record<string, string> = { 'x-graphql-yoga-csrf': '1' }) =>
    fetch(`${streamUrl}?query=${encodeURIComponent(query)}`, { headers: { accept: 'text/event-stream', ...headers } }).then(async (r) => ({
      status: r.status,
      text: await r.text(),
    }));

  it('a GET without a CSRF-safe header: 403 CSRF_PREVENTED, coded, before any parsing', async () => {
    const { status, text } = await get('subscription { buildStatus(id: ', {});
    expect(status).toBe(403);
    expect(JSON.parse(text).errors[0].extensions.code).toBe('CSRF_PREVENTED');
    expect(text).not.toMatch(/\bat \S+ \(|node_modules|\/src\/|stack/);
  });

  it('a syntax error: 400 GRAPHQL_PARSE_FAILED', async () => {
    const { status, text } = await get('subscription { buildStatus(id: ');
    expect(status).toBe(400);
    expect(JSON.parse(text).errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(text).not.toMatch(/\bat \S+ \(|node_modules|\/src\/|stack/);
  });

  it('a mutation over GET: 405 METHOD_NOT_ALLOWED, and the build is untouched', async () => {
    const failed = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(scope: [FAILED], first: 1) { nodes { id } } } }');
    await stack.resetStats();
    const { status, text } = await get(`mutation { retryBuild(id: "${failed.data!.project.builds.nodes[0].id}") { build { id } } }`);
    expect(status).toBe(405);
    expect(JSON.parse(text).errors[0].extensions.code).toBe('METHOD_NOT_ALLOWED');
    expect(text).not.toMatch(/\bat \S+ \(|node_modules|\/src\/|stack/);
    expect((await stack.stats()).routes['POST /api/v4/projects/:id/jobs/:job_id/retry'] ?? 0).toBe(0);
  });

  it('a validation error and a body over limits.maxBodyBytes: coded 4xx', async () => {
    const invalid = await get('{ nope }');
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const huge = await fetch(streamUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: '{ upstreams { name } }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } }),
    });
    expect(huge.status).toBe(413);
    expect((await huge.json()).errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
  });

  it("graphql-sse's own refusals carry a code too (an operation for an unknown stream)", async () => {
    const response = await post('no-such-token', 'x', '{ upstreams { name } }');
    expect(response.status).toBe(404);
    expect((await response.json()).errors[0].extensions.code).toBe('STREAM_NOT_FOUND');
  });
});
