/**
 * Issue #13: failed operations log at `info` even when answered with 200 (an upstream's 502/503/429,
 * an open circuit, a limit refusal under `application/json`), with their error codes; and the circuit
 * breaker reports opening and closing through its `onStateChange` callback.
 */
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startGateway } from '../src/server.js';
import { startSimulator } from '@buildgate/simulator';
import { type BreakerStateChange, CircuitBreaker } from '../src/upstreams/circuit-breaker.js';
import { codes, type Stack, stackOf } from './helpers/stack.js';

const JOB = 'GET /api/v4/projects/:id/jobs/:job_id';
const BUILD = '{ project(upstream: "gitlab", id: "1") { build(id: "7") { name } } }';
const FRAGILE_BUILD = '{ project(upstream: "fragile", id: "1") { build(id: "7") { name } } }';

let stack: Stack;
const lines: Array<Record<string, any>> = [];

beforeAll(async () => {
  const simulator = await startSimulator({ port: 0, tickMs: 3_600_000 });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const gateway = await startGateway(
    parseConfig({
      port: 0,
      host: '127.0.0.1',
      upstreams: [
        { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4`, token: 'glpat-developer', retries: 0, breakerThreshold: 1000 },
        { name: 'fragile', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4`, token: 'glpat-developer', retries: 0, breakerThreshold: 1, breakerCooldownMs: 60_000 },
      ],
    }),
    { logger: createLogger({ level: 'info', destination: sink }) },
  );
  stack = stackOf(simulator, gateway);
});
afterAll(() => stack?.close());
afterEach(() => fetch(`${stack.simulator.url}/__sim/faults`, { method: 'DELETE' }));

const fault = async (rule: Record<string, unknown>) => {
  const response = await fetch(`${stack.simulator.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  expect(response.ok).toBe(true);
};

/** POSTs with a request id to find the line by, and `accept: application/json`, so errors come with 200. */
async function post(query: string, requestId: string) {
  const response = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** The access log line of one request: pino writes it before the response is sent. */
const lineOf = (requestId: string) => lines.find((line) => line.msg === 'request' && line.requestId === requestId);

describe('the access log at info', () => {
  it.each([
    ['502', { mode: 'status', status: 502 }, 'UPSTREAM_UNAVAILABLE'],
    ['503', { mode: 'status', status: 503 }, 'UPSTREAM_UNAVAILABLE'],
    ['429', { mode: 'rate-limit', retryAfter: 30 }, 'RATE_LIMITED'],
  ])('logs an operation the upstream failed with %s, answered 200, with its code', async (name, rule, code) => {
    await fault({ ...rule, route: JOB });
    await stack.resetStats();
    const { status, body } = await post(BUILD, `upstream-${name}`);
    expect(status).toBe(200);
    expect(codes(body)).toEqual([code]);
    expect((await stack.stats()).routes[JOB]).toBe(1);
    expect(lineOf(`upstream-${name}`)).toMatchObject({ level: 'info', status: 200, errors: [code] });
  });

  it('logs an operation refused by an open circuit, which never reached the upstream', async () => {
    await fault({ route: JOB, mode: 'status', status: 502 });
    expect(codes((await post(FRAGILE_BUILD, 'opens-circuit')).body)).toEqual(['UPSTREAM_UNAVAILABLE']);
    await stack.resetStats();
    const { status, body } = await post(FRAGILE_BUILD, 'circuit-open');
    expect(status).toBe(200);
    expect(body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', circuit: 'open' });
    expect((await stack.stats()).total).toBe(0);
    expect(lineOf('circuit-open')).toMatchObject({ level: 'info', errors: ['UPSTREAM_UNAVAILABLE'] });
    // The gateway logs the breaker opening, once, at info.
    expect(lines.filter((line) => line.event === 'breaker' && line.upstream === 'fragile')).toEqual([
      expect.objectContaining({ level: 'info', from: 'closed', to: 'open', failures: 1 }),
    ]);
  });

  it('logs a limit refusal with its code, and an operation that succeeds only at debug', async () => {
    const refused = await post(`{ ${Array.from({ length: 31 }, (_, i) => `a${i}: upstreams { name }`).join(' ')} }`, 'limit');
    expect(codes(refused.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(lineOf('limit')).toMatchObject({ level: 'info', status: refused.status, errors: ['GRAPHQL_VALIDATION_FAILED'] });
    const fine = await post('{ upstreams { name } }', 'fine');
    expect(fine.body.errors).toBeUndefined();
    expect(lineOf('fine')).toBeUndefined();
  });
});

describe('the circuit breaker\'s onStateChange', () => {
  it('reports opening, the half-open probe and closing, each once', async () => {
    const changes: BreakerStateChange[] = [];
    const breaker = new CircuitBreaker('u', { threshold: 2, cooldownMs: 20, onStateChange: (change) => changes.push(change) });
    breaker.enter();
    breaker.failure();
    expect(changes).toEqual([]);
    breaker.enter();
    breaker.failure();
    expect(changes).toEqual([{ upstream: 'u', from: 'closed', to: 'open', failures: 2 }]);
    expect(() => breaker.enter()).toThrow(/circuit open/);
    await new Promise((resolve) => setTimeout(resolve, 40));
    breaker.enter();
    breaker.success();
    expect(changes.map(({ from, to }) => `${from}→${to}`)).toEqual(['closed→open', 'open→half-open', 'half-open→closed']);
    breaker.enter();
    breaker.success();
    expect(changes).toHaveLength(3);
  });

  it('reports a failed probe as opening again', async () => {
    const changes: string[] = [];
    const breaker = new CircuitBreaker('u', { threshold: 1, cooldownMs: 20, onStateChange: ({ to }) => changes.push(to) });
    breaker.failure();
    await new Promise((resolve) => setTimeout(resolve, 40));
    breaker.enter();
    breaker.failure();
    expect(changes).toEqual(['open', 'half-open', 'open']);
  });
});
