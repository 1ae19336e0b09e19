/**
 * Issue #12 item 3b: a subscriber that stops reading never slows the others on the same build. One
 * reader of a fast-growing log gets B bytes in a fixed window alone (on a build of its own, over the
 * same window); beside a paused SSE or WebSocket subscriber (whose TCP buffers fill, so the gateway
 * sees backpressure) a reader of an equal build must still get ≥ 90% of B, and the paused one is
 * dropped with TRACE_OVERFLOW once the grace period passes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Stack, startStack } from './helpers/stack.js';
import { until } from './helpers/subscribe.js';

const TRACE = 'subscription($id: ID!) { buildTrace(id: $id) { offset nextOffset content complete } }';
const WINDOW_MS = 3000;
// Long enough that a paused reader the poller waited for would cost a good part of the window.
const GRACE_MS = 1500;
const MiB = 2 ** 20;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    // Range reads keep each poll to the new bytes; the log grows 160 KiB per 20 ms tick (8 MiB/s): the
    // upstream, not the loaded machine, bounds what a reader gets.
    simulator: { tickMs: 20, traceRange: true },
    upstream: { token: 'glpat-developer' },
    gateway: { trace: { pollIntervalMs: 50, maxPollIntervalMs: 200, tailBytes: MiB, slowSubscriberGraceMs: GRACE_MS } } as never,
  });
});
afterAll(() => stack?.close());

const simPost = (path: string, body: unknown) =>
  fetch(`${stack.simulator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) =>
    r.json(),
  ) as Promise<any>;

async function fastGrowingBuild(): Promise<{ id: string; upstreamId: string }> {
  const created = await simPost('/__sim/jobs', { project: 1, name: 'fairness', logBytesPerTick: 160 * 1024, totalBytes: 256 * MiB });
  const result = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${created.id}") { id upstreamId } } }`);
  return result.data!.project.build;
}

/** An SSE subscription read as raw bytes. */
async function sseStream(id: string): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const response = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: TRACE, variables: { id } }),
  });
  expect(response.status).toBe(200);
  return response.body!.getReader();
}

/** Reads as fast as it can; `bytesIn(ms)` counts what arrives during the next `ms`. */
function fastReader(reader: ReadableStreamDefaultReader<Uint8Array>) {
  let bytes = 0;
  let first!: () => void;
  const started = new Promise<void>((resolve) => (first = resolve));
  const done = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      bytes += value!.length;
      first();
    }
  })();
  return {
    started,
    async bytesIn(ms: number): Promise<number> {
      const from = bytes;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return bytes - from;
    },
    async close() {
      await reader.cancel().catch(() => {});
      await done;
    },
  };
}

/** Reads the rest of a paused SSE stream: the overflow error's `nextOffset`, and the last one sent before it. */
async function drainSse(reader: ReadableStreamDefaultReader<Uint8Array>, seen: string) {
  const decoder = new TextDecoder();
  let tail = seen;
  let last: number | undefined;
  for (;;) {
    const at = tail.indexOf('TRACE_OVERFLOW');
    if (at >= 0) {
      await reader.cancel().catch(() => {});
      for (const m of tail.slice(0, at).matchAll(/"nextOffset":(\d+)/g)) last = Number(m[1]);
      return { code: 'TRACE_OVERFLOW', nextOffset: Number(/"nextOffset":(\d+)/.exec(tail.slice(at))?.[1]), last };
    }
    const { value, done } = await reader.read();
    if (done) return { code: undefined, nextOffset: undefined, last };
    // Keep only the end: the log is tens of MiB, the offsets are in the last events.
    const text = tail + decoder.decode(value, { stream: true });
    const cut = text.lastIndexOf('event: next', text.length - 1);
    if (cut > 0) {
      for (const m of text.slice(0, cut).matchAll(/"nextOffset":(\d+)/g)) last = Number(m[1]);
      tail = text.slice(cut);
    } else tail = text;
  }
}

/** A raw graphql-ws client, so its socket can be paused like a client that stops reading. */
async function wsSubscription(id: string) {
  const socket = new WebSocket(stack.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const messages: any[] = [];
  let notify = () => {};
  let last: number | undefined;
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.type === 'next' && message.payload?.data) {
      last = message.payload.data.buildTrace.nextOffset;
      if (!messages.some((m) => m.type === 'next')) messages.push({ type: 'next' });
    } else messages.push(message);
    notify();
  });
  const waitFor = async (type: string) => {
    while (!messages.some((m) => m.type === type || m.type === 'error' || m.type === 'complete' || m.payload?.errors)) {
      await new Promise<void>((resolve) => (notify = resolve));
    }
    return messages.find((m) => m.type === type || m.type === 'error' || m.payload?.errors);
  };
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init' }));
  await waitFor('connection_ack');
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: TRACE, variables: { id } } }));
  await waitFor('next');
  return {
    socket,
    lastNextOffset: () => last,
    /** The error that ended the subscription, once the socket reads again. */
    async error(): Promise<any> {
      for (;;) {
        const error = messages.find((m) => m.type === 'error' || m.payload?.errors);
        if (error) return (error.payload?.errors ?? error.payload)[0];
        await new Promise<void>((resolve) => (notify = resolve));
      }
    },
  };
}

async function finish(upstreamId: string) {
  await simPost(`/__sim/jobs/${upstreamId}/finish`, { status: 'success' });
}

/**
 * A reader alone on a build of its own, measured over the same window as the reader beside a paused
 * one: both see the same machine, so a loaded machine slows both alike.
 */
async function control() {
  const build = await fastGrowingBuild();
  const reader = fastReader(await sseStream(build.id));
  await reader.started;
  return {
    bytesIn: (ms: number) => reader.bytesIn(ms),
    async close() {
      await reader.close();
      await finish(build.upstreamId);
    },
  };
}

/**
 * Each case has three subscribers open when it waits: the control's reader, the fast reader and the one
 * that stopped reading. Two left means the stopped one was dropped (the other two read on until closed),
 * and a subscriber of an earlier case still winding down only keeps the count higher, never makes it 2.
 */
const onlyTheReadersLeft = () => stack.gateway.traceHub.stats.subscribers === 2;

describe('a subscriber that stops reading', () => {
  it('never slows another SSE reader of the same build, and is dropped with TRACE_OVERFLOW (SSE)', async () => {
    const alone = await control();
    const build = await fastGrowingBuild();
    const paused = await sseStream(build.id);
    const seen = new TextDecoder().decode((await paused.read()).value);
    const reader = fastReader(await sseStream(build.id));
    await reader.started;
    await stack.resetStats();
    const [aloneGot, beside] = await Promise.all([alone.bytesIn(WINDOW_MS), reader.bytesIn(WINDOW_MS)]);
    console.log(`fairness SSE: alone ${(aloneGot / MiB).toFixed(1)} MiB, beside a paused SSE reader ${(beside / MiB).toFixed(1)} MiB in ${WINDOW_MS} ms`);
    // Dropped while it still does not read: only the fast reader is left on the build's one poller.
    await until(onlyTheReadersLeft, 10_000, 'the paused subscriber to be dropped');
    expect(stack.gateway.traceHub.stats.pollers).toBe(2);
    const { routes } = await stack.stats();
    const traceGets = routes['GET /api/v4/projects/:id/jobs/:job_id/trace'] ?? 0;
    // Two pollers (one per build): about one trace read each per 50 ms interval, none per subscriber.
    expect(traceGets).toBeLessThanOrEqual(2 * (Math.ceil(WINDOW_MS / 50) + 20));
    const overflow = await drainSse(paused, seen);
    await reader.close();
    await alone.close();
    await finish(build.upstreamId);
    expect(aloneGot).toBeGreaterThan(4 * MiB);
    expect(beside).toBeGreaterThanOrEqual(0.9 * aloneGot);
    expect(overflow.code).toBe('TRACE_OVERFLOW');
    // It resumes exactly where its last delivered piece ended.
    expect(overflow.nextOffset).toBe(overflow.last);
  }, 60_000);

  it('never slows another reader beside a paused WebSocket, which is dropped with TRACE_OVERFLOW', async () => {
    const alone = await control();
    const build = await fastGrowingBuild();
    const paused = await wsSubscription(build.id);
    paused.socket.pause();
    const reader = fastReader(await sseStream(build.id));
    await reader.started;
    const [aloneGot, beside] = await Promise.all([alone.bytesIn(WINDOW_MS), reader.bytesIn(WINDOW_MS)]);
    console.log(`fairness WS: alone ${(aloneGot / MiB).toFixed(1)} MiB, beside a paused WS reader ${(beside / MiB).toFixed(1)} MiB in ${WINDOW_MS} ms`);
    await until(onlyTheReadersLeft, 10_000, 'the paused subscriber to be dropped');
    paused.socket.resume();
    const error = await paused.error();
    paused.socket.close();
    await reader.close();
    await alone.close();
    await finish(build.upstreamId);
    expect(aloneGot).toBeGreaterThan(4 * MiB);
    expect(beside).toBeGreaterThanOrEqual(0.9 * aloneGot);
    expect(error.extensions.code).toBe('TRACE_OVERFLOW');
    expect(error.extensions.nextOffset).toBe(paused.lastNextOffset());
  }, 60_000);

  it('never slows the others when it stops at the head of the log, having read as fast as they do', async () => {
    const alone = await control();
    const build = await fastGrowingBuild();
    const stopping = await sseStream(build.id);
    const reader = fastReader(await sseStream(build.id));
    // It keeps pace (it may be the one furthest along), then stops reading.
    let read = 0;
    let seen = '';
    const decoder = new TextDecoder();
    while (read < 8 * MiB) {
      const { value } = await stopping.read();
      read += value!.length;
      seen = (seen + decoder.decode(value, { stream: true })).slice(-4096);
    }
    const [aloneGot, beside] = await Promise.all([alone.bytesIn(WINDOW_MS), reader.bytesIn(WINDOW_MS)]);
    console.log(`fairness head: alone ${(aloneGot / MiB).toFixed(1)} MiB, beside a reader that stopped at the head ${(beside / MiB).toFixed(1)} MiB in ${WINDOW_MS} ms`);
    await until(onlyTheReadersLeft, 10_000, 'the stopped subscriber to be dropped');
    const overflow = await drainSse(stopping, seen);
    await reader.close();
    await alone.close();
    await finish(build.upstreamId);
    expect(beside).toBeGreaterThanOrEqual(0.9 * aloneGot);
    expect(overflow.code).toBe('TRACE_OVERFLOW');
    expect(overflow.nextOffset).toBe(overflow.last);
  }, 60_000);
});
