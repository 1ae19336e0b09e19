/**
 * The trace hub's economy and limits: Range reads where the upstream offers them, back-off while a
 * build is quiet, `Poll-Interval`, bk-ci logs by line, and a slow subscriber that is told where to resume.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { startGateway } from '../src/server.js';
import { type Stack, startStack } from './helpers/stack.js';
import { subscriptionClient, until } from './helpers/subscribe.js';

const TRACE = 'subscription($id: ID!, $offset: Int) { buildTrace(id: $id, offset: $offset) { offset nextOffset content complete } }';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    upstreams: (url) => [
      { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: 'glpat-developer' },
      { name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3`, token: 'alice' },
    ],
    gateway: { trace: { pollIntervalMs: 20, maxPollIntervalMs: 400, tailBytes: 16 * 1024, slowSubscriberGraceMs: 50 } } as never,
  });
});
afterAll(() => stack?.close());

const simPost = (path: string, body: unknown) =>
  fetch(`${stack.simulator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => (r.status === 204 ? {} : r.json())) as Promise<any>;

async function benchJob(options: Record<string, unknown>): Promise<{ id: string; upstreamId: string }> {
  const created = await simPost('/__sim/jobs', { project: 1, ...options });
  const result = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${created.id}") { id upstreamId } } }`);
  return result.data!.project.build;
}

async function finish(upstreamId: string) {
  await simPost(`/__sim/jobs/${upstreamId}/finish`, { status: 'success' });
}

describe('reading the log', () => {
  it('asks for Range and uses the 206 when the upstream gives one, so it never re-reads the log', async () => {
    await simPost('/__sim/config', { traceRange: true, tickMs: 20 });
    const build = await benchJob({ name: 'range', logBytesPerTick: 2048, totalBytes: 200 * 1024 });
    const client = subscriptionClient('sse', stack.gateway.url);
    const sub = client.subscribe<{ offset: number; nextOffset: number; content: string; complete: boolean }>(TRACE, { id: build.id });
    await stack.resetStats();
    const { errors } = await sub.done;
    await client.dispose();
    await simPost('/__sim/config', { traceRange: false, tickMs: 3_600_000 });
    expect(errors).toBeUndefined();
    const log = Buffer.from(sub.values.map((chunk) => chunk.content).join(''));
    expect(log.length).toBe(200 * 1024);
    const stats = (await (await fetch(`${stack.simulator.url}/__sim/stats`)).json()) as { routes: Record<string, number>; bytes: Record<string, number> };
    const route = 'GET /api/v4/projects/:id/jobs/:job_id/trace';
    expect(stats.routes[route]).toBeGreaterThan(5);
    // Without Range every poll would re-send the whole log: many times its size.
    expect(stats.bytes[route]).toBeLessThan(log.length * 1.5);
    // The 16 KiB tail is a ring written over a dozen times here: every chunk starts where the last
    // ended, spans whole characters, and the log is the upstream's byte for byte.
    let expected = 0;
    for (const chunk of sub.values) {
      expect(chunk.offset).toBe(expected);
      expect(Buffer.byteLength(chunk.content)).toBe(chunk.nextOffset - chunk.offset);
      expected = chunk.nextOffset;
    }
    const upstream = Buffer.from(await (await fetch(`${stack.simulator.url}/api/v4/projects/1/jobs/${build.upstreamId}/trace`, { headers: { 'PRIVATE-TOKEN': 'glpat-developer' } })).arrayBuffer());
    expect(upstream.toString('latin1')).toMatch(/[\xc2-\xf4]/);
    expect(log.equals(upstream)).toBe(true);
  });

  it('backs off while the build is quiet, and honours Poll-Interval', async () => {
    const build = await benchJob({ name: 'quiet', logBytesPerTick: 100, totalBytes: 1_000_000 });
    const client = subscriptionClient('ws', stack.gateway.url);
    const sub = client.subscribe(TRACE, { id: build.id });
    await until(() => sub.values.length > 0);
    const poller = stack.gateway.traceHub.poller({ upstream: 'gitlab', projectId: '1', locator: build.upstreamId })!;
    const before = poller.polls;
    const started = Date.now();
    await until(() => Date.now() - started > 1500, 5000);
    // At a steady 20 ms this would be about 75 polls; backing off to 400 ms it is a handful.
    expect(poller.polls - before).toBeLessThan(20);
    sub.stop();
    await client.dispose();
    await finish(build.upstreamId);

    // An upstream that asks for Poll-Interval: 600 gets at most about two polls a second.
    let polls = 0;
    const job = { id: 9, name: 'hinted', status: 'running', stage: 'test', pipeline: { id: 1, project_id: 1, status: 'running' } };
    const hinted = createServer((req, res) => {
      if (req.url!.includes('/trace')) polls += 1;
      res.writeHead(req.url!.includes('/trace') ? 200 : 200, { 'content-type': req.url!.includes('/trace') ? 'text/plain' : 'application/json', 'poll-interval': '600' });
      res.end(req.url!.includes('/trace') ? 'line\n' : JSON.stringify(job));
    });
    await new Promise<void>((resolve) => hinted.listen(0, '127.0.0.1', resolve));
    const gateway = await startGateway(
      parseConfig({
        port: 0,
        logLevel: 'silent',
        trace: { pollIntervalMs: 20, maxPollIntervalMs: 20 },
        upstreams: [{ name: 'hinted', kind: 'gitlab-v4', baseUrl: `http://127.0.0.1:${(hinted.address() as AddressInfo).port}/api/v4` }],
      }),
    );
    const id = Buffer.from(JSON.stringify(['Build', 'hinted', '1', '9'])).toString('base64url');
    const hintedClient = subscriptionClient('sse', gateway.url);
    const hintedSub = hintedClient.subscribe(TRACE, { id });
    await until(() => hintedSub.values.length > 0);
    const at = polls;
    const t0 = Date.now();
    await until(() => Date.now() - t0 > 1300, 5000);
    expect(polls - at).toBeLessThanOrEqual(3);
    hintedSub.stop();
    await hintedClient.dispose();
    await gateway.close();
    hinted.closeAllConnections();
    await new Promise((resolve) => hinted.close(resolve));
  });
});

describe('bk-ci logs', () => {
  it('streams a bk-ci build\'s log by line numbers to the end', async () => {
    const list = await stack.graphql('{ project(upstream: "bkci", id: "demo") { pipeline(id: "p-demo") { builds(first: 5, scope: [FAILED]) { nodes { id upstreamId attempt } } } } }');
    const build = list.data!.project.pipeline.builds.nodes[0];
    const client = subscriptionClient('ws', stack.gateway.url);
    const sub = client.subscribe<{ offset: number; nextOffset: number; content: string; complete: boolean }>(TRACE, { id: build.id, offset: 0 });
    const { errors } = await sub.done;
    await client.dispose();
    expect(errors).toBeUndefined();
    const lines = sub.values.map((chunk) => chunk.content).join('');
    const { body } = await stack.rest(`/ms/openapi/api/apigw/v3/projects/demo/pipelines/p-demo/builds/${build.upstreamId}/logs/after?start=0&executeCount=${build.attempt}`, undefined, { 'X-DEVOPS-UID': 'admin' });
    expect(lines.startsWith(body.data.logs.map((line: any) => `${line.message}\n`).join(''))).toBe(true);
    expect(sub.values.at(-1)!.complete).toBe(true);
    for (let i = 1; i < sub.values.length; i++) expect(sub.values[i]!.offset).toBe(sub.values[i - 1]!.nextOffset);
  });
});

describe('a slow subscriber', () => {
  it('is told its next offset when it falls behind, and resumes from it without a gap', async () => {
    await simPost('/__sim/config', { tickMs: 10 });
    const build = await benchJob({ name: 'firehose', logBytesPerTick: 512 * 1024, totalBytes: 64 * 1024 * 1024 });
    // A raw SSE client that stops reading: the gateway must not buffer for it without bound.
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: TRACE, variables: { id: build.id } }),
    });
    const reader = response.body!.getReader();
    await reader.read();
    const poller = await (async () => {
      await until(() => stack.gateway.traceHub.poller({ upstream: 'gitlab', projectId: '1', locator: build.upstreamId }) !== undefined);
      return stack.gateway.traceHub.poller({ upstream: 'gitlab', projectId: '1', locator: build.upstreamId })!;
    })();
    // Overrun, it is dropped after the grace period: its poller, with nobody left, stops.
    await until(() => poller.stopped && poller.tail.start > 0, 20_000, 'the log to outrun the reader');
    let text = '';
    const decoder = new TextDecoder();
    while (!/TRACE_OVERFLOW/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    expect(text).toMatch(/TRACE_OVERFLOW/);
    const nextOffset = Number(/"nextOffset":(\d+)/.exec(text.slice(text.indexOf('TRACE_OVERFLOW') - 400))?.[1]);
    const received = [...text.matchAll(/"nextOffset":(\d+)/g)].map((m) => Number(m[1]));
    expect(nextOffset).toBe(received.at(-1));
    await finish(build.upstreamId);
    await simPost('/__sim/config', { tickMs: 3_600_000 });
    const client = subscriptionClient('sse', stack.gateway.url);
    const resumed = client.subscribe<{ offset: number; nextOffset: number; content: string; complete: boolean }>(TRACE, { id: build.id, offset: nextOffset });
    await until(() => resumed.values.length > 0, 20_000);
    expect(resumed.values[0]!.offset).toBe(nextOffset);
    resumed.stop();
    await client.dispose();
  });
});
