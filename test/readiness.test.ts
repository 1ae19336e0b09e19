/**
 * `/ready` is cheap (issue #12, 5): its upstream probes are reused for `server.readyCacheMs` and shared
 * by concurrent calls, so hammering it costs each upstream one request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers/stack.js';

const upstreams = (url: string) => [
  { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${url}/api/v4` },
  { name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3` },
];

let cached: Stack;
let uncached: Stack;

beforeAll(async () => {
  // A minute, so the 50 calls below all fall in one window however slow the machine is.
  cached = await startStack({ upstreams, gateway: { server: { readyCacheMs: 60_000 } } });
  uncached = await startStack({ upstreams, gateway: { server: { readyCacheMs: 0 } } });
});
afterAll(async () => {
  await cached?.close();
  await uncached?.close();
});

const ready = async (stack: Stack) => {
  const response = await fetch(stack.gateway.url.replace('/graphql', '/ready'));
  return { status: response.status, body: await response.json() };
};

/** Requests per upstream (the simulator records which API each request was for). */
async function probes(stack: Stack): Promise<{ gitlab: number; bkci: number; total: number }> {
  const { total } = await stack.stats();
  const requests = await stack.credentials();
  const count = (upstream: string) => requests.filter((request) => request.upstream === upstream).length;
  return { gitlab: count('gitlab'), bkci: count('bkci'), total };
}

describe('/ready', () => {
  it('answers 50 concurrent calls with one probe per upstream', async () => {
    await cached.resetStats();
    await cached.recordCredentials();
    const answers = await Promise.all(Array.from({ length: 50 }, () => ready(cached)));
    for (const answer of answers) {
      expect(answer).toEqual({ status: 200, body: { ready: true, upstreams: { gitlab: 'reachable', bkci: 'reachable' } } });
    }
    expect(await probes(cached)).toEqual({ gitlab: 1, bkci: 1, total: 2 });
    // Later calls inside the window reuse the result as well.
    await ready(cached);
    expect((await probes(cached)).total).toBe(2);
  });

  it('probes on every call when readyCacheMs is 0', async () => {
    await uncached.resetStats();
    await uncached.recordCredentials();
    for (let i = 0; i < 3; i++) expect((await ready(uncached)).status).toBe(200);
    expect(await probes(uncached)).toEqual({ gitlab: 3, bkci: 3, total: 6 });
  });
});
