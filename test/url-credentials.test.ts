/**
 * Issue #13: a credential in the gateway's own URL is refused with 400 BAD_REQUEST, on every endpoint
 * and transport, before any upstream request; it is never ignored in favour of the service credential.
 */
import { once } from 'node:events';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  // A service credential is configured: the silent fallback the refusal replaces would use it.
  stack = await startStack({ simulator: { tickMs: 3_600_000 }, upstream: { token: 'glpat-developer' } });
});
afterAll(() => stack?.close());

const QUERY = '{ project(upstream: "gitlab", id: "1") { build(id: "7") { name } } }';
const SECRET = 'glpat-maintainer';

describe('credentials in the URL', () => {
  it.each(['private_token', 'access_token', 'job_token', 'PRIVATE_TOKEN', '%70rivate_token', 'private_token[]'])('refuses ?%s= on a POST with 400 BAD_REQUEST and no upstream request', async (name) => {
    await stack.resetStats();
    const response = await fetch(`${stack.gateway.url}?${name}=${SECRET}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: QUERY }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(body.errors.map((error: any) => error.extensions.code)).toEqual(['BAD_REQUEST']);
    expect(body.errors[0].message).toMatch(/not accepted in the URL/);
    expect(JSON.stringify(body)).not.toContain(SECRET);
    expect((await stack.stats()).total).toBe(0);
  });

  it('refuses it on a GET, on the graphql-sse endpoint and on a WebSocket upgrade', async () => {
    await stack.resetStats();
    const get = await fetch(`${stack.gateway.url}?query=${encodeURIComponent(QUERY)}&private_token=${SECRET}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(get.status).toBe(400);
    expect(((await get.json()) as any).errors[0].extensions.code).toBe('BAD_REQUEST');
    const stream = await fetch(`${stack.gateway.url}/stream?private_token=${SECRET}`, { method: 'PUT' });
    expect(stream.status).toBe(400);
    expect(((await stream.json()) as any).errors[0].extensions.code).toBe('BAD_REQUEST');
    const socket = new WebSocket(`${stack.gateway.url.replace(/^http/, 'ws')}?private_token=${SECRET}`, 'graphql-transport-ws');
    socket.on('error', () => undefined);
    const [, response] = (await once(socket, 'unexpected-response')) as [unknown, { statusCode: number; resume(): void }];
    expect(response.statusCode).toBe(400);
    response.resume();
    socket.terminate();
    expect((await stack.stats()).total).toBe(0);
  });

  it('keeps answering look-alike parameters and a credential sent in a header', async () => {
    const lookAlike = await fetch(`${stack.gateway.url}?private_tokens=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'private-token': 'glpat-developer' },
      body: JSON.stringify({ query: QUERY }),
    });
    expect(lookAlike.status).toBe(200);
    expect(((await lookAlike.json()) as any).data.project.build.name).toBe('teaspoon');
  });
});
