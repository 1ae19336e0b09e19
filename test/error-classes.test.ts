/**
 * Issue #13 item 5 end to end: upstream failures are classified into classes that decide retry and
 * breaker, and the client sees only each class's public code and documented extensions. The upstreams
 * are small real HTTP servers on loopback that count what they receive.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { type Gateway, startGateway } from '../src/server.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const handlers: Record<string, Handler> = {
  // Accepts the request and never answers: the request deadline ends the wait.
  silent: () => {},
  'bad-gateway': (_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
  },
  forbidden: (_req, res) => {
    res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"403 Forbidden"}');
  },
};

const requests: Record<string, number> = {};
let server: Server;
let gateway: Gateway;

beforeAll(async () => {
  server = createServer((req, res) => {
    const name = req.url!.split('/')[1]!;
    requests[name] = (requests[name] ?? 0) + 1;
    handlers[name]!(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gateway = await startGateway(
    parseConfig({
      port: 0,
      logLevel: 'silent',
      requestDeadlineMs: 600,
      upstreams: Object.keys(handlers).map((name) => ({ name, kind: 'gitlab-v4', baseUrl: `${base}/${name}/api/v4`, token: 'glpat-x', breakerThreshold: 1000 })),
    }),
  );
});

afterAll(async () => {
  await gateway?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

async function build(upstream: string) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ project(upstream: "${upstream}", id: "1") { build(id: "7") { name } } }` }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { errors?: Array<{ extensions: Record<string, unknown> }> };
}

describe('upstream failures as classes', () => {
  it('a silent upstream past the deadline: UPSTREAM_TIMEOUT, sent once, and no internal flag in the answer', async () => {
    const before = requests.silent ?? 0;
    const { errors } = await build('silent');
    expect(errors![0]!.extensions).toEqual({ code: 'UPSTREAM_TIMEOUT', upstream: 'silent' });
    // No retry is started that the deadline has no room for.
    expect(requests.silent! - before).toBe(1);
  });

  it('a 502 on a read is retried (2 retries), then answered with its status', async () => {
    const before = requests['bad-gateway'] ?? 0;
    const { errors } = await build('bad-gateway');
    expect(errors![0]!.extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', upstream: 'bad-gateway', status: 502 });
    expect(requests['bad-gateway']! - before).toBe(3);
  });

  it('a refusal (403) is an answer: not retried, not counted by the breaker', async () => {
    const before = requests.forbidden ?? 0;
    const { errors } = await build('forbidden');
    expect(errors![0]!.extensions).toEqual({ code: 'FORBIDDEN', upstream: 'forbidden', status: 403 });
    expect(requests.forbidden! - before).toBe(1);
    expect(gateway.registry.get('forbidden')!.stats().breaker).toBe('closed');
  });
});
