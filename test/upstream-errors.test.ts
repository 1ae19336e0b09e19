/**
 * Every upstream failure becomes a coded GraphQL error on the field that needed it, and the gateway
 * keeps answering. The misbehaving upstreams here are small real HTTP servers on loopback.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { type Gateway, startGateway } from '../src/server.js';
import { codes } from './helpers/stack.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const handlers: Record<string, Handler> = {
  'rate-limited': (_req, res) => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' }).end('{"message":"429 Too Many Requests"}');
  },
  broken: (_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"500 Internal Server Error"}');
  },
  malformed: (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('[{"id": 1, "status": "runn');
  },
  'bad-gateway': (_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
  },
  // Accepts the request and never answers.
  silent: () => {},
};

let upstream: Server;
let gateway: Gateway;
let closedPort: number;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const kind = req.url!.split('/')[1]!;
    (handlers[kind] ?? handlers.broken!)(req, res);
  });
  const port = await listen(upstream);
  const spare = createServer();
  closedPort = await listen(spare);
  await new Promise((resolve) => spare.close(resolve));
  gateway = await startGateway(
    parseConfig({
      port: 0,
      // Failed operations log at info: this suite fails on purpose, so its log would only be noise.
      logLevel: 'silent',
      upstreams: [
        ...Object.keys(handlers).map((kind) => ({
          name: kind,
          kind: 'gitlab-v4',
          baseUrl: `http://127.0.0.1:${port}/${kind}/api/v4`,
          headersTimeoutMs: 300,
        })),
        { name: 'down', kind: 'gitlab-v4', baseUrl: `http://127.0.0.1:${closedPort}/api/v4` },
      ],
    }),
  );
});

afterAll(async () => {
  await gateway?.close();
  upstream?.closeAllConnections();
  await new Promise((resolve) => upstream?.close(resolve));
});

async function ask(upstreamName: string) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ project(upstream: "${upstreamName}", id: "1") { builds(first: 5) { nodes { id } } } }` }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { data: any; errors: Array<{ extensions: Record<string, unknown> }> };
}

describe('upstream failures', () => {
  it.each([
    ['rate-limited', { code: 'RATE_LIMITED', status: 429, retryAfter: 7 }],
    ['broken', { code: 'UPSTREAM_ERROR', status: 500 }],
    ['malformed', { code: 'UPSTREAM_ERROR' }],
    ['bad-gateway', { code: 'UPSTREAM_UNAVAILABLE', status: 502 }],
    ['silent', { code: 'UPSTREAM_TIMEOUT' }],
    ['down', { code: 'UPSTREAM_UNAVAILABLE' }],
  ])('%s upstream → %o', async (name, extensions) => {
    const result = await ask(name);
    // The failed list is null, not its project (lists are nullable since issue #13).
    expect(result.data.project).toEqual({ builds: null });
    expect(result.errors[0]!.extensions).toMatchObject({ ...extensions, upstream: name });
  });

  it('keeps the rest of the answer when one upstream fails', async () => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ upstreams { name } a: project(upstream: "down", id: "1") { builds { nodes { id } } } }' }),
    });
    const result = (await response.json()) as any;
    expect(result.data.upstreams.length).toBe(Object.keys(handlers).length + 1);
    expect(result.data.a).toEqual({ builds: null });
    expect(codes(result)).toEqual(['UPSTREAM_UNAVAILABLE']);
  });

  it('refuses an unknown upstream name with BAD_USER_INPUT', async () => {
    const result = await ask('nope');
    expect(codes(result as any)).toEqual(['BAD_USER_INPUT']);
  });
});
