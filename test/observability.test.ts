/**
 * Running it in production: /metrics, request ids that travel upstream, logs without credentials,
 * /health and /ready, and a graceful, bounded shutdown.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '@buildgate/simulator';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type Gateway, startGateway } from '../src/server.js';
import { subscriptionClient, until } from './helpers/subscribe.js';

let simulator: Simulator;
let gateway: Gateway;
let recorder: Server;
const seenHeaders: IncomingHttpHeaders[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  simulator = await startSimulator({ tickMs: 3_600_000 });
  // A recording upstream: answers like GitLab's job endpoint and keeps the headers it was sent.
  recorder = createServer((req, res) => {
    seenHeaders.push(req.headers);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"404 Not found"}');
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  gateway = await startGateway(
    parseConfig({
      port: 0,
      upstreams: [
        { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4`, token: 'glpat-developer' },
        { name: 'recorder', kind: 'gitlab-v4', baseUrl: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/api/v4` },
      ],
      trace: { pollIntervalMs: 50 },
      metrics: { operationNames: ['RecentBuilds', 'Missing'] },
    }),
    { logger: createLogger({ level: 'debug', destination: sink }) },
  );
});
afterAll(async () => {
  await gateway?.close();
  await simulator?.close();
  recorder?.closeAllConnections();
  await new Promise((resolve) => recorder?.close(resolve));
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('metrics', () => {
  it('counts operations by name and outcome, and upstream requests by route and status', async () => {
    await (await post({ query: 'query RecentBuilds { project(upstream: "gitlab", id: "1") { builds(first: 2) { nodes { id } } } }', operationName: 'RecentBuilds' })).json();
    await (await post({ query: 'query Missing { project(upstream: "recorder", id: "1") { build(id: "5") { id } } }' })).json();
    const response = await fetch(gateway.url.replace('/graphql', '/metrics'));
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/buildgate_graphql_operation_duration_seconds_count\{operation="RecentBuilds",type="query",outcome="ok"\} 1/);
    expect(text).toMatch(/buildgate_graphql_operation_duration_seconds_count\{operation="Missing",type="query",outcome="error"\} 1/);
    expect(text).toMatch(/buildgate_upstream_request_duration_seconds_count\{upstream="gitlab",method="GET",route="\/projects\/:id\/jobs",status="200"\} 1/);
    expect(text).toMatch(/buildgate_upstream_request_duration_seconds_count\{upstream="recorder",method="GET",route="\/projects\/:id\/jobs\/:id",status="404"\} 1/);
    expect(text).toMatch(/buildgate_upstream_circuit_state\{upstream="gitlab",state="closed"\} 1/);
    expect(text).toMatch(/buildgate_upstream_retries_total\{upstream="gitlab"\} 0/);
    expect(text).toMatch(/buildgate_active_subscriptions 0/);
    expect(text).toMatch(/buildgate_trace_pollers 0/);
    expect(text).not.toMatch(/glpat-/);
  });

  it('shows active subscriptions and pollers', async () => {
    const list = await (await post({ query: '{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 1) { nodes { id } } } }' })).json() as any;
    const client = subscriptionClient('sse', gateway.url);
    const sub = client.subscribe('subscription($id: ID!) { buildStatus(id: $id) { status } }', { id: list.data.project.builds.nodes[0].id });
    await until(() => sub.values.length > 0);
    const text = await (await fetch(gateway.url.replace('/graphql', '/metrics'))).text();
    expect(text).toMatch(/buildgate_active_subscriptions 1/);
    expect(text).toMatch(/buildgate_trace_pollers 1/);
    sub.stop();
    await client.dispose();
    await until(() => gateway.traceHub.stats.subscribers === 0);
  });
});

describe('request ids', () => {
  it('returns the client\'s X-Request-Id and sends it upstream', async () => {
    seenHeaders.length = 0;
    const response = await post({ query: '{ project(upstream: "recorder", id: "1") { build(id: "5") { id } } }' }, { 'x-request-id': 'trace-me-123' });
    await response.json();
    expect(response.headers.get('x-request-id')).toBe('trace-me-123');
    expect(seenHeaders.at(-1)!['x-request-id']).toBe('trace-me-123');
  });

  it('makes one up when the client sends none (or an unsafe one)', async () => {
    seenHeaders.length = 0;
    const response = await post({ query: '{ project(upstream: "recorder", id: "1") { build(id: "5") { id } } }' }, { 'x-request-id': 'bad id with spaces' });
    await response.json();
    const id = response.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(seenHeaders.at(-1)!['x-request-id']).toBe(id);
  });
});

describe('logs', () => {
  it('log each request as JSON with its id, and never a credential', async () => {
    const secrets = ['glpat-log-secret-1', 'glpat-log-secret-2', 'bk-log-secret-3'];
    await (await post({ query: '{ upstreams { name } }' }, { 'PRIVATE-TOKEN': secrets[0]!, 'x-request-id': 'log-check' })).json();
    await (await fetch(`${gateway.url}?query=${encodeURIComponent('{ upstreams { name } }')}&private_token=${secrets[1]}&access_token=${secrets[2]}`)).text();
    await until(() => logLines.some((line) => line.includes('log-check')));
    const entry = JSON.parse(logLines.find((line) => line.includes('log-check'))!);
    expect(entry).toMatchObject({ level: 'debug', requestId: 'log-check', method: 'POST', path: '/graphql', status: 200 });
    await (await post({ query: '{ upstreams { nam' }, { 'x-request-id': 'refused-check', accept: 'application/graphql-response+json' })).text();
    await until(() => logLines.some((line) => line.includes('refused-check')));
    expect(JSON.parse(logLines.find((line) => line.includes('refused-check'))!)).toMatchObject({ level: 'info', status: 400 });
    const all = logLines.join('\n');
    for (const secret of secrets) expect(all).not.toContain(secret);
    expect(all).toContain('private_token=[Redacted]');
  });
});

describe('health and readiness', () => {
  it('answers /health, and /ready names the upstream that is not reachable', async () => {
    expect((await fetch(gateway.url.replace('/graphql', '/health'))).status).toBe(200);
    const ready = await fetch(gateway.url.replace('/graphql', '/ready'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, upstreams: { gitlab: 'reachable', recorder: 'reachable' } });
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const port = (spare.address() as AddressInfo).port;
    await new Promise((resolve) => spare.close(resolve));
    const lonely = await startGateway(
      parseConfig({ port: 0, logLevel: 'silent', upstreams: [{ name: 'gone', kind: 'gitlab-v4', baseUrl: `http://127.0.0.1:${port}/api/v4` }] }),
    );
    const notReady = await fetch(lonely.url.replace('/graphql', '/ready'));
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ready: false, upstreams: { gone: 'UPSTREAM_UNAVAILABLE' } });
    await lonely.close();
  });
});

describe('graceful shutdown', () => {
  it('lets in-flight requests finish, ends subscriptions with SHUTTING_DOWN, and closes within its bound', async () => {
    const slow = createServer((_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id": 1, "name": "x", "status": "success"}'), 300);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const own = await startGateway(
      parseConfig({
        port: 0,
        logLevel: 'silent',
        shutdownTimeoutMs: 3000,
        trace: { pollIntervalMs: 50 },
        upstreams: [
          { name: 'slow', kind: 'gitlab-v4', baseUrl: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/api/v4` },
          { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4` },
        ],
      }),
    );
    const list = await (await fetch(own.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 1) { nodes { id } } } }' }) })).json() as any;
    const client = subscriptionClient('sse', own.url);
    const sub = client.subscribe('subscription($id: ID!) { buildStatus(id: $id) { status } }', { id: list.data.project.builds.nodes[0].id });
    await until(() => sub.values.length > 0);
    const inFlight = fetch(own.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ project(upstream: "slow", id: "1") { build(id: "1") { name } } }' }) });
    await until(() => own.server.listening);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(3000);
    const answer = (await (await inFlight).json()) as any;
    expect(answer.data.project.build.name).toBe('x');
    const { errors } = await sub.done;
    expect(errors?.[0]?.extensions?.code).toBe('SHUTTING_DOWN');
    await client.dispose();
    slow.closeAllConnections();
    await new Promise((resolve) => slow.close(resolve));
  });
});
