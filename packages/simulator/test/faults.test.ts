/**
 * Fault injection in the simulator: every mode as a client sees it on the wire, which requests a rule
 * hits (route, method, times, probability), the `/__sim/faults` API, rules given by options and by the
 * CLI, and that stalled or hanging requests neither hurt the simulator nor outlive `close()`. The only
 * waits are the short client timeouts that stalls and hangs are about.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CliUsageError, parseCli } from '../src/cli.js';
import { InvalidSimulatorOptionError, startSimulator } from '../src/index.js';
import type { FaultRule, Simulator } from '../src/index.js';
import { call, get, post } from './helpers/sim-http.js';
import type { Json } from './helpers/sim-http.js';

const JOB = 'GET /api/v4/projects/:id/jobs/:job_id';
const JOB_7 = '/api/v4/projects/1/jobs/7';
const BK_HISTORY = '/ms/openapi/api/apigw/v3/projects/demo/pipelines/p-demo/builds/history';
/** How long a client waits for a stalled or hanging answer before giving up. */
const CLIENT_TIMEOUT_MS = 300;

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: 3_600_000 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  expect((await call(sim, 'DELETE', '/__sim/faults')).status).toBe(204);
  sim.resetStats();
});

async function addFaults(rules: unknown, on: Simulator = sim): Promise<Json> {
  const response = await call(on, 'POST', '/__sim/faults', { body: rules });
  expect(response.status, response.text).toBe(201);
  return response.body;
}

/** A raw GET: status, headers and the body as bytes, with no JSON parsing (faulted bodies are not JSON). */
async function raw(path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const response = await fetch(`${sim.url}${path}`, init);
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

const bkHeaders = { 'X-DEVOPS-UID': 'alice' };

async function expectHealthy(): Promise<void> {
  expect((await get(sim, '/__sim/health')).status).toBe(200);
  expect((await get(sim, JOB_7)).body.id).toBe(7);
}

describe('modes', () => {
  it.each([500, 502, 503, 504] as const)('status %i answers GitLab\'s {"message"} body on a GitLab route', async (status) => {
    await addFaults({ route: JOB, mode: 'status', status });
    const response = await get(sim, JOB_7);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.body).toEqual({ message: `${status} ${{ 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }[status]}` });
  });

  it('status on a bk-ci route: a Result for 500, the gateway\'s HTML page for 502-504', async () => {
    await addFaults({ route: `GET ${BK_HISTORY.replace('demo/pipelines/p-demo', ':projectId/pipelines/:pipelineId')}`, mode: 'status', status: 500, times: 1 });
    const app = await call(sim, 'GET', BK_HISTORY, { headers: bkHeaders });
    expect(app.status).toBe(500);
    expect(app.body).toEqual({ status: 500, message: 'Internal Server Error', data: null });
    await addFaults({ route: '*', mode: 'status', status: 502, times: 1 });
    const gateway = await call(sim, 'GET', BK_HISTORY, { headers: bkHeaders });
    expect(gateway.status).toBe(502);
    expect(gateway.headers.get('content-type')).toBe('text/html');
    expect(gateway.text).toContain('<title>502 Bad Gateway</title>');
    expect((await call(sim, 'GET', BK_HISTORY, { headers: bkHeaders })).body.status).toBe(0);
  });

  it('rate-limit answers 429 "Retry later" with Retry-After and GitLab\'s RateLimit-* headers', async () => {
    await addFaults({ route: JOB, mode: 'rate-limit', retryAfter: 7 });
    const before = Math.floor(Date.now() / 1000);
    const response = await get(sim, JOB_7);
    expect(response.status).toBe(429);
    expect(response.text).toBe('Retry later\n');
    expect(response.headers.get('content-type')).toBe('text/plain');
    const h = (name: string): string | null => response.headers.get(name);
    expect(h('retry-after')).toBe('7');
    expect(h('ratelimit-name')).toBe('throttle_authenticated_api');
    expect(h('ratelimit-limit')).toBe('600');
    expect(Number(h('ratelimit-observed'))).toBeGreaterThan(600);
    expect(h('ratelimit-remaining')).toBe('0');
    const reset = Number(h('ratelimit-reset'));
    expect(reset).toBeGreaterThanOrEqual(before + 7);
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 7);
    expect(h('ratelimit-resettime')).toBe(new Date(reset * 1000).toUTCString());
  });

  it('truncate sends the first half of the real body, complete by its Content-Length and not JSON', async () => {
    const whole = await raw(JOB_7);
    await addFaults({ route: JOB, mode: 'truncate' });
    const cut = await raw(JOB_7);
    expect(cut.status).toBe(200);
    expect(cut.headers.get('content-type')).toBe(whole.headers.get('content-type'));
    expect(cut.bytes.length).toBe(Math.floor(whole.bytes.length / 2));
    expect(Number(cut.headers.get('content-length'))).toBe(cut.bytes.length);
    expect(cut.bytes.equals(whole.bytes.subarray(0, cut.bytes.length))).toBe(true);
    expect(() => JSON.parse(cut.bytes.toString('utf8'))).toThrow(SyntaxError);
  });

  it('truncate keeps a log\'s text/plain', async () => {
    const whole = await raw(`${JOB_7}/trace`);
    await addFaults({ route: `${JOB}/trace`, mode: 'truncate' });
    const cut = await raw(`${JOB_7}/trace`);
    expect(cut.headers.get('content-type')).toBe('text/plain');
    expect(cut.bytes.equals(whole.bytes.subarray(0, Math.floor(whole.bytes.length / 2)))).toBe(true);
  });

  it('malformed answers 200 application/json with an HTML body', async () => {
    await addFaults({ route: JOB, mode: 'malformed' });
    const response = await raw(JOB_7);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.bytes.toString()).toMatch(/^<html>/);
    expect(() => JSON.parse(response.bytes.toString())).toThrow(SyntaxError);
  });

  it('reset drops the connection without an answer; the client sees a socket error', async () => {
    await addFaults({ route: JOB, mode: 'reset', times: 1 });
    const error = await fetch(`${sim.url}${JOB_7}`).then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: { code?: string } },
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error?.cause?.code).toBe('ECONNRESET');
    await expectHealthy();
    expect(sim.stats().routes[JOB]).toBe(2);
    expect(sim.stats().faulted).toBe(1);
  });

  it('stall sends the headers and afterBytes of the body, then nothing until the client gives up', async () => {
    const whole = await raw(JOB_7);
    await addFaults({ route: JOB, mode: 'stall', afterBytes: 10, times: 1 });
    const response = await fetch(`${sim.url}${JOB_7}`, { signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('content-length'))).toBe(whole.bytes.length);
    const reader = response.body!.getReader();
    let received = 0;
    const failure = await (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return undefined;
          received += value.length;
        }
      } catch (error) {
        return error as Error;
      }
    })();
    expect(failure?.name).toBe('TimeoutError');
    expect(received).toBe(10);
    await expectHealthy();
  });

  it('hang never answers: the client times out and the simulator stays healthy', async () => {
    await addFaults({ route: JOB, mode: 'hang', times: 1 });
    const started = Date.now();
    const error = await fetch(`${sim.url}${JOB_7}`, { signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeGreaterThanOrEqual(CLIENT_TIMEOUT_MS - 20);
    await expectHealthy();
    expect(sim.stats()).toMatchObject({ total: 2, faulted: 1 });
  });

  it('latency answers normally, ms later', async () => {
    await addFaults({ route: JOB, mode: 'latency', ms: 150 });
    const started = performance.now();
    const response = await get(sim, JOB_7);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(7);
  });
});

describe('which requests a rule hits', () => {
  it('a route rule hits only that method and template; a bare template any method; "*" every API request', async () => {
    await addFaults({ route: JOB, mode: 'status', status: 503 });
    expect((await get(sim, JOB_7)).status).toBe(503);
    expect((await get(sim, `${JOB_7}/trace`)).status).toBe(200);
    expect((await get(sim, '/api/v4/projects/1/jobs')).status).toBe(200);
    expect((await call(sim, 'HEAD', JOB_7)).status).toBe(200);
    await call(sim, 'DELETE', '/__sim/faults');

    await addFaults({ route: '/api/v4/projects/:id/jobs/:job_id', mode: 'status', status: 503 });
    expect((await call(sim, 'HEAD', JOB_7)).status).toBe(503);
    expect((await get(sim, JOB_7)).status).toBe(503);
    await call(sim, 'DELETE', '/__sim/faults');

    await addFaults({ mode: 'status', status: 504 });
    expect((await get(sim, '/api/v3/projects/1/builds/7')).status).toBe(504);
    expect((await call(sim, 'GET', BK_HISTORY, { headers: bkHeaders })).status).toBe(504);
    expect((await get(sim, '/api/v4/no/such/route')).status).toBe(504);
  });

  it('never faults control endpoints, and does not count them', async () => {
    await addFaults({ route: '*', mode: 'hang' });
    expect((await get(sim, '/__sim/health')).status).toBe(200);
    expect((await get(sim, '/__sim/faults')).status).toBe(200);
    expect((await get(sim, '/__sim/stats')).body).toEqual({ total: 0, routes: {}, bytes: {}, faulted: 0 });
  });

  it('a method rule faults a mutation before it runs: counted once in stats, the job unchanged', async () => {
    const failed = (await get(sim, '/api/v4/projects/1/jobs?scope=failed&per_page=1', 'glpat-developer')).body[0];
    const retry = `/api/v4/projects/1/jobs/${failed.id}/retry`;
    await addFaults({ method: 'POST', mode: 'status', status: 502 });
    expect((await get(sim, `/api/v4/projects/1/jobs/${failed.id}`)).status).toBe(200);
    expect((await post(sim, retry, 'glpat-developer')).status).toBe(502);
    expect(sim.stats().routes['POST /api/v4/projects/:id/jobs/:job_id/retry']).toBe(1);
    expect(sim.stats().faulted).toBe(1);
    expect(sim.store.jobs.get(failed.id)?.status).toBe('failed');
    expect(sim.store.jobs.get(failed.id)?.retried).toBeFalsy();
  });

  it('times: a rule fires that many times, then retires and stays listed', async () => {
    const { id } = await addFaults({ route: JOB, mode: 'status', status: 503, times: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(sim, JOB_7)).status);
    expect(statuses).toEqual([503, 503, 200, 200]);
    expect((await get(sim, '/__sim/faults')).body).toEqual([
      { id, route: JOB, probability: 1, times: 2, mode: 'status', status: 503, fired: 2, retired: true },
    ]);
    expect(sim.stats()).toMatchObject({ total: 4, faulted: 2 });
  });

  it('the first matching rule that fires wins', async () => {
    await addFaults([
      { route: JOB, mode: 'status', status: 500, times: 1 },
      { route: '*', mode: 'status', status: 503 },
    ]);
    expect((await get(sim, JOB_7)).status).toBe(500);
    expect((await get(sim, JOB_7)).status).toBe(503);
  });

  it('probability draws from the seeded PRNG: about half of 100 requests, the same ones for the same seed', async () => {
    const pattern = async (seed: number): Promise<boolean[]> => {
      const fresh = await startSimulator({ port: 0, seed, tickMs: 3_600_000 });
      try {
        await addFaults({ route: JOB, mode: 'status', status: 503, probability: 0.5 }, fresh);
        const out: boolean[] = [];
        for (let i = 0; i < 100; i++) out.push((await get(fresh, JOB_7)).status === 503);
        const listed = (await get(fresh, '/__sim/faults')).body[0];
        expect(listed.fired).toBe(out.filter(Boolean).length);
        expect(fresh.stats().faulted).toBe(listed.fired);
        return out;
      } finally {
        await fresh.close();
      }
    };
    const first = await pattern(42);
    const fired = first.filter(Boolean).length;
    expect(fired).toBeGreaterThanOrEqual(30);
    expect(fired).toBeLessThanOrEqual(70);
    expect(await pattern(42)).toEqual(first);
    expect(await pattern(43)).not.toEqual(first);
  });

  it('probability 0 never fires', async () => {
    await addFaults({ route: JOB, mode: 'status', status: 503, probability: 0 });
    for (let i = 0; i < 20; i++) expect((await get(sim, JOB_7)).status).toBe(200);
  });
});

describe('/__sim/faults', () => {
  it('adds a list of rules (201 ids), lists them with defaults and fired counts, clears one (204, then 404) or all', async () => {
    const { ids } = await addFaults([
      { route: JOB, mode: 'latency', ms: 1 },
      { method: 'POST', mode: 'reset', probability: 0.25 },
    ]);
    expect(ids).toHaveLength(2);
    await get(sim, JOB_7);
    expect((await get(sim, '/__sim/faults')).body).toEqual([
      { id: ids[0], route: JOB, probability: 1, mode: 'latency', ms: 1, fired: 1, retired: false },
      { id: ids[1], route: '*', method: 'POST', probability: 0.25, mode: 'reset', fired: 0, retired: false },
    ]);
    expect((await call(sim, 'DELETE', `/__sim/faults/${ids[0]}`)).status).toBe(204);
    expect((await call(sim, 'DELETE', `/__sim/faults/${ids[0]}`)).body).toEqual({ message: '404 Fault Not Found' });
    expect((await get(sim, '/__sim/faults')).body.map((r: Json) => r.id)).toEqual([ids[1]]);
    expect((await call(sim, 'DELETE', '/__sim/faults')).status).toBe(204);
    expect((await get(sim, '/__sim/faults')).body).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['an unknown mode', { mode: 'explode' }, 'mode'],
    ['a mode without its field', { mode: 'latency' }, 'ms'],
    ['a status that is not 5xx', { mode: 'status', status: 404 }, 'status'],
    ['a misspelt field', { mode: 'rate-limit', retry_after: 5 }, 'retry_after'],
    ['a probability above 1', { mode: 'hang', probability: 1.5 }, 'probability'],
    ['times of 0', { mode: 'hang', times: 0 }, 'times'],
    ['a route nobody serves', { route: 'GET /api/v4/nope', mode: 'hang' }, 'route'],
    ['a route without its slash', { route: 'GET api/v4/projects/:id', mode: 'hang' }, 'route'],
    ['a method the route contradicts', { route: JOB, method: 'POST', mode: 'hang' }, 'method'],
    ['a bad rule in a list', [{ mode: 'hang' }, { mode: 'stall' }], '[1].afterBytes'],
  ])('refuses %s with 400 naming the field, and adds nothing', async (_, rule, field) => {
    const response = await call(sim, 'POST', '/__sim/faults', { body: rule });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: `${field} does not have a valid value`, expected: expect.any(String) });
    expect((await get(sim, '/__sim/faults')).body).toEqual([]);
  });
});

describe('rules from options and the CLI', () => {
  it('applies rules given at start, listed like the others', async () => {
    const faults: FaultRule[] = [{ route: JOB, mode: 'status', status: 502, times: 1 }];
    const started = await startSimulator({ port: 0, tickMs: 3_600_000, faults });
    try {
      expect((await get(started, JOB_7)).status).toBe(502);
      expect((await get(started, JOB_7)).status).toBe(200);
      expect((await get(started, '/__sim/faults')).body).toEqual([{ id: 1, route: JOB, probability: 1, times: 1, mode: 'status', status: 502, fired: 1, retired: true }]);
      expect(started.options.faults).toEqual(faults);
    } finally {
      await started.close();
    }
  });

  it('refuses a bad rule at start with an error naming it', async () => {
    await expect(startSimulator({ port: 0, faults: [{ mode: 'hang' }, { mode: 'nope' } as unknown as FaultRule] })).rejects.toThrow(
      /Invalid simulator option faults\[1\]\.mode: "nope"/,
    );
    await expect(startSimulator({ port: 0, faults: [{ route: 'GET /api/v9/x', mode: 'hang' }] })).rejects.toBeInstanceOf(InvalidSimulatorOptionError);
  });

  it('parses --fault, repeatable, each a rule or an array of rules', () => {
    const options = parseCli([
      '--port',
      '0',
      '--fault',
      '{"route":"GET /api/v4/projects/:id/jobs","mode":"status","status":502}',
      '--fault',
      '[{"mode":"reset","times":1},{"mode":"latency","ms":5}]',
    ]);
    expect(options).toEqual({
      port: 0,
      faults: [
        { route: 'GET /api/v4/projects/:id/jobs', mode: 'status', status: 502 },
        { mode: 'reset', times: 1 },
        { mode: 'latency', ms: 5 },
      ],
    });
    expect(() => parseCli(['--fault', '{mode: hang}'])).toThrow(CliUsageError);
  });
});

describe('close()', () => {
  it('ends stalled and hanging requests, so neither the client nor the test waits on them', async () => {
    const held = await startSimulator({
      port: 0,
      tickMs: 3_600_000,
      faults: [
        { route: JOB, mode: 'stall', afterBytes: 5 },
        { route: `${JOB}/trace`, mode: 'hang' },
        { route: 'GET /api/v4/projects/:id', mode: 'latency', ms: 600_000 },
      ],
    });
    // Each outcome is caught at once: a rejection nobody has awaited yet must not count as unhandled.
    const outcome = (pending: Promise<unknown>): Promise<string> => pending.then(() => 'answered', (error: Error) => error.name);
    const stalled = await fetch(`${held.url}${JOB_7}`);
    const stalledBody = outcome(stalled.text());
    const hanging = outcome(fetch(`${held.url}${JOB_7}/trace`));
    const delayed = outcome(fetch(`${held.url}/api/v4/projects/1`));
    await vi.waitFor(() => expect(held.stats().faulted).toBe(3));
    await held.close();
    expect(await Promise.all([stalledBody, hanging, delayed])).toEqual(['TypeError', 'TypeError', 'TypeError']);
  });
});
