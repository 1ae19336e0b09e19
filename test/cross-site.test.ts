/**
 * Nothing happens cross-site (issue #12, 8a/8b): a body a browser page can send without a preflight
 * (form, multipart, text/plain, none) runs no operation and costs the upstream nothing; CORS headers go
 * only to listed origins; a WebSocket upgrade from another site's page is refused. JSON POSTs, GET
 * queries with a preflighted header, graphql-sse and graphql-ws keep working.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { subscriptionClient } from './helpers/subscribe.js';
import { type Stack, startStack } from './helpers/stack.js';

const LISTED = 'https://ci.example.com';
const EVIL = 'https://evil.example';

let stack: Stack;
let runningId: string;

beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    // The service credential is what a cross-site page would borrow.
    upstream: { token: 'glpat-developer' },
    gateway: { cors: { origins: [LISTED] } },
  });
  const list = await stack.graphql<any>('{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 1) { nodes { id } } } }');
  runningId = list.data.project.builds.nodes[0].id;
});
afterAll(() => stack?.close());

const mutation = () => `mutation { cancelBuild(id: "${runningId}") { build { status } } }`;
const QUERY = '{ project(upstream: "gitlab", id: "1") { name } }';

/** The body of a refused request, and how many upstream requests it caused. */
async function attempt(init: RequestInit, url = stack.gateway.url): Promise<{ status: number; body: any; upstream: number }> {
  await stack.resetStats();
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the assertion on `body` shows it
  }
  return { status: response.status, body, upstream: (await stack.stats()).total };
}

function multipart(query: string): FormData {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query }));
  form.set('map', '{}');
  return form;
}

const SIMPLE_BODIES: Array<[string, (query: string) => RequestInit]> = [
  ['application/x-www-form-urlencoded', (query) => ({ method: 'POST', body: new URLSearchParams({ query }) })],
  ['multipart/form-data', (query) => ({ method: 'POST', body: multipart(query) })],
  ['text/plain', (query) => ({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query }) })],
  ['no content type', (query) => ({ method: 'POST', body: new Blob([JSON.stringify({ query })]) })],
];

describe('CSRF prevention', () => {
  for (const [kind, init] of SIMPLE_BODIES) {
    for (const [what, query] of [['mutation', mutation], ['query', () => QUERY]] as const) {
      it(`refuses a ${kind} POST of a ${what} with CSRF_PREVENTED and no upstream request`, async () => {
        const { status, body, upstream } = await attempt({ ...init(query()), headers: { ...(init(query()).headers as object), origin: EVIL } });
        expect(status).toBe(403);
        expect(body.errors.map((e: any) => e.extensions?.code)).toEqual(['CSRF_PREVENTED']);
        expect(body.data).toBeUndefined();
        expect(upstream).toBe(0);
      });
    }
  }

  it('leaves the running build running after all those attempts', async () => {
    const result = await stack.graphql<any>('query($id: ID!) { build(id: $id) { status } }', { id: runningId });
    expect(result.data.build.status).toBe('RUNNING');
  });

  it('runs JSON POSTs', async () => {
    const { status, body, upstream } = await attempt({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
    expect(status).toBe(200);
    expect(body).toEqual({ data: { project: { name: expect.any(String) } } });
    expect(upstream).toBe(1);
  });

  it('refuses a GET without a preflighted header, and runs one with it', async () => {
    const url = `${stack.gateway.url}?query=${encodeURIComponent(QUERY)}`;
    const bare = await attempt({}, url);
    expect(bare.status).toBe(403);
    expect(bare.body.errors[0].extensions.code).toBe('CSRF_PREVENTED');
    expect(bare.upstream).toBe(0);
    const marked = await attempt({ headers: { 'x-graphql-yoga-csrf': '1' } }, url);
    expect(marked.body).toEqual({ data: { project: { name: expect.any(String) } } });
    // A credential header can only come from a preflighted (or non-browser) request as well.
    const withToken = await attempt({ headers: { 'PRIVATE-TOKEN': 'glpat-developer' } }, url);
    expect(withToken.body).toEqual({ data: { project: { name: expect.any(String) } } });
  });

  it('refuses a GET mutation, with or without the header, and makes no upstream request', async () => {
    const url = `${stack.gateway.url}?query=${encodeURIComponent(mutation())}`;
    const bare = await attempt({}, url);
    expect(bare.status).toBe(403);
    expect(bare.body.errors[0].extensions.code).toBe('CSRF_PREVENTED');
    expect(bare.upstream).toBe(0);
    // Past the CSRF check, yoga itself allows only queries over GET.
    const marked = await attempt({ headers: { 'x-graphql-yoga-csrf': '1' } }, url);
    expect(marked.status).toBe(405);
    expect(marked.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(marked.upstream).toBe(0);
  });

  it('guards the graphql-sse endpoint too: a bare GET stream of a query is refused', async () => {
    const url = `${stack.gateway.url}/stream?query=${encodeURIComponent(QUERY)}`;
    const { status, body, upstream } = await attempt({ headers: { accept: 'text/event-stream' } }, url);
    expect(status).toBe(403);
    expect(body.errors[0].extensions.code).toBe('CSRF_PREVENTED');
    expect(upstream).toBe(0);
  });

  it('keeps graphql-sse (both modes) and graphql-ws working', async () => {
    for (const transport of ['sse', 'sse-single', 'ws'] as const) {
      const client = subscriptionClient(transport, stack.gateway.url);
      const sub = client.subscribe<{ status: string }>('subscription($id: ID!) { buildStatus(id: $id) { status } }', { id: runningId });
      await expect.poll(() => sub.values.length, { timeout: 15_000 }).toBeGreaterThan(0);
      expect(sub.values[0]!.status, transport).toBe('RUNNING');
      sub.stop();
      await client.dispose();
    }
  });
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    fetch(stack.gateway.url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, private-token' },
    });
  const simple = (origin?: string) =>
    fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(origin && { origin }) },
      body: JSON.stringify({ query: '{ upstreams { name } }' }),
    });

  it('gives an unlisted origin no access-control-allow-origin, on preflight or request', async () => {
    for (const response of [await preflight(EVIL), await simple(EVIL), await preflight('null')]) {
      await response.arrayBuffer();
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('gives a listed origin access with credentials', async () => {
    const pre = await preflight(LISTED);
    await pre.arrayBuffer();
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(LISTED);
    expect(pre.headers.get('access-control-allow-credentials')).toBe('true');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/private-token/);
    const response = await simple(LISTED);
    expect(await response.json()).toEqual({ data: { upstreams: [{ name: 'gitlab' }] } });
    expect(response.headers.get('access-control-allow-origin')).toBe(LISTED);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-expose-headers')).toMatch(/x-request-id/);
    // The answer depends on Origin, so shared caches must key on it.
    expect(response.headers.get('vary')).toMatch(/\bOrigin\b/i);
  });

  it('answers same-origin and origin-less requests as before', async () => {
    const own = new URL(stack.gateway.url).origin;
    for (const response of [await simple(own), await simple()]) {
      expect(await response.json()).toEqual({ data: { upstreams: [{ name: 'gitlab' }] } });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

describe('WebSocket origin', () => {
  /** The HTTP status of the upgrade answer: 101 when accepted. */
  async function upgrade(origin?: string): Promise<number> {
    const socket = new WebSocket(stack.gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws', origin ? { origin } : {});
    socket.on('error', () => {});
    const status = await Promise.race([
      once(socket, 'open').then(() => 101),
      once(socket, 'unexpected-response').then(([, response]) => (response as { statusCode: number }).statusCode),
    ]);
    socket.terminate();
    return status;
  }

  it('refuses an upgrade from an unlisted browser origin with 403', async () => {
    expect(await upgrade(EVIL)).toBe(403);
    expect(await upgrade('null')).toBe(403);
  });

  it('accepts the gateway\'s own origin, a listed origin, and clients that send none', async () => {
    expect(await upgrade(new URL(stack.gateway.url).origin)).toBe(101);
    expect(await upgrade(LISTED)).toBe(101);
    expect(await upgrade()).toBe(101);
  });
});

describe('GraphiQL', () => {
  it('sends the CSRF header, so its GET subscriptions (accept: text/event-stream) still stream', async () => {
    const page = await (await fetch(stack.gateway.url, { headers: { accept: 'text/html' } })).text();
    expect(page).toMatch(/"additionalHeaders":\{"x-graphql-yoga-csrf":"graphiql"\}/);
    const query = encodeURIComponent('subscription($id: ID!) { buildStatus(id: $id) { status } }');
    const variables = encodeURIComponent(JSON.stringify({ id: runningId }));
    const aborted = new AbortController();
    // As GraphiQL asks: GET, text/event-stream, and its additional headers.
    const response = await fetch(`${stack.gateway.url}?query=${query}&variables=${variables}`, {
      headers: { accept: 'text/event-stream', 'x-graphql-yoga-csrf': 'graphiql' },
      signal: aborted.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('"status":"RUNNING"')) text += new TextDecoder().decode((await reader.read()).value);
    aborted.abort();
  });
});
