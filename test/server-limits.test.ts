/**
 * Node's server limits (issue #12, 3c/3d): a client that never finishes its headers or its body loses
 * its socket within the configured time, idle keep-alive sockets close, connections past
 * `server.maxConnections` are refused, and `requestTimeout` never cuts a long SSE answer.
 */
import { once } from 'node:events';
import { request } from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { type Gateway, startGateway } from '../src/server.js';
import { rawConnect } from './helpers/raw-http.js';
import { type Stack, startStack } from './helpers/stack.js';

const HEADERS_MS = 300;
const REQUEST_MS = 1000;
const KEEP_ALIVE_MS = 300;
/** Slack for a loaded machine: a limit must fire well before Node's defaults (60 s / 300 s), not to the ms. */
const SLACK_MS = 4000;

let stack: Stack;
let crowded: Gateway;

beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    gateway: { server: { headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS, keepAliveTimeoutMs: KEEP_ALIVE_MS } },
  });
  crowded = await startGateway(
    parseConfig({
      port: 0,
      logLevel: 'silent',
      upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${stack.simulator.url}/api/v4` }],
      server: { maxConnections: 2 },
    }),
  );
});
afterAll(async () => {
  await crowded?.close();
  await stack?.close();
});

describe('server limits', () => {
  it('closes a connection that never finishes its header block within ~headersTimeout', async () => {
    const connection = await rawConnect(stack.gateway.port);
    connection.socket.write('POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n');
    const ms = await connection.closed;
    expect(ms).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(ms).toBeLessThan(HEADERS_MS + SLACK_MS);
    expect(connection.received()).toMatch(/^HTTP\/1.1 408/);
  });

  it('closes a connection that never finishes its body within ~requestTimeout', async () => {
    const connection = await rawConnect(stack.gateway.port);
    const before = await stack.stats();
    connection.socket.write('POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"query":"{ upstreams');
    const ms = await connection.closed;
    expect(ms).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(ms).toBeLessThan(REQUEST_MS + SLACK_MS);
    expect((await stack.stats()).total).toBe(before.total);
  });

  it('closes an idle keep-alive connection after ~keepAliveTimeout', async () => {
    const connection = await rawConnect(stack.gateway.port);
    connection.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const ms = await connection.closed;
    expect(connection.received()).toMatch(/^HTTP\/1.1 200/);
    expect(ms).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 50);
    expect(ms).toBeLessThan(KEEP_ALIVE_MS + SLACK_MS);
  });

  it('refuses connections past maxConnections, and accepts again once one closes', async () => {
    const held = [await rawConnect(crowded.port), await rawConnect(crowded.port)];
    // Node counts a socket once it has accepted it: a request on each proves both are counted.
    for (const connection of held) connection.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    for (const connection of held) await expect.poll(() => connection.received(), { timeout: 10_000 }).toMatch(/^HTTP\/1.1 200/);
    const third = await rawConnect(crowded.port);
    third.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await third.closed;
    expect(third.received()).toBe('');
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await expect.poll(async () => (await fetch(crowded.url.replace('/graphql', '/health'))).status, { timeout: 10_000 }).toBe(200);
    held[1]!.socket.destroy();
  });

  it('does not cut an SSE answer that lasts longer than requestTimeout', async () => {
    const list = await stack.graphql<any>('{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 1) { nodes { id } } } }');
    const id = list.data.project.builds.nodes[0].id;
    const body = JSON.stringify({ query: 'subscription($id: ID!) { buildStatus(id: $id) { status } }', variables: { id } });
    const started = performance.now();
    let text = '';
    let ended = false;
    const req = request(stack.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' } });
    req.end(body);
    const response = await new Promise<import('node:http').IncomingMessage>((resolve) => req.once('response', resolve));
    expect(response.statusCode).toBe(200);
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.once('close', () => (ended = true));
    // Yoga pings an SSE stream every 300 ms under NODE_ENV=test: a byte after 3 × requestTimeout proves it is alive.
    await expect.poll(() => ended || performance.now() - started > 3 * REQUEST_MS, { timeout: 20_000 }).toBe(true);
    const lengthAtDeadline = text.length;
    await expect.poll(() => ended || text.length > lengthAtDeadline, { timeout: 20_000 }).toBe(true);
    expect(ended).toBe(false);
    expect(text).toContain('"status":"RUNNING"');
    response.destroy();
  });

  it('does not cut a WebSocket that lives longer than requestTimeout or keepAliveTimeout', async () => {
    const socket = new WebSocket(stack.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const messages: Array<{ type: string }> = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    await once(socket, 'open');
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await expect.poll(() => messages.map((m) => m.type), { timeout: 10_000 }).toContain('connection_ack');
    const started = performance.now();
    // The connections check runs every few tens of ms here: three request timeouts give it many chances.
    await expect.poll(() => socket.readyState !== WebSocket.OPEN || performance.now() - started > 3 * REQUEST_MS, { timeout: 20_000 }).toBe(true);
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.send(JSON.stringify({ type: 'ping' }));
    await expect.poll(() => messages.map((m) => m.type), { timeout: 10_000 }).toContain('pong');
    socket.close();
  });
});
