/**
 * What the simulator offers a log-tailing gateway and its benchmarks: `Range` on job logs (off by
 * default, as GitLab), revocable and copyable tokens, bench jobs with big or fast logs, the run-time
 * tick interval, and response bytes per route in the stats.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MIN_RUNNING, startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import { call, get, post } from './helpers/sim-http.js';
import type { Json } from './helpers/sim-http.js';
import { jobSchemaErrors } from './helpers/sim-schemas.js';

// The timer never fires unless a test asks for a short tickMs; every other tick is simulator.tick().
const HOUR = 3_600_000;
const JOB_TICKS = 6;
const TRACE = 'GET /api/v4/projects/:id/jobs/:job_id/trace';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: HOUR, jobTicks: JOB_TICKS, pendingTicks: 1 });
});
afterAll(async () => {
  await sim.close();
});

interface Raw {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Buffer;
}

async function raw(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  const response = await fetch(`${sim.url}${path}`, { method, headers });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

const v4Trace = (id: number): string => `/api/v4/projects/1/jobs/${id}/trace`;
const v3Trace = (id: number): string => `/api/v3/projects/1/builds/${id}/trace`;
const ranged = (path: string, range: string): Promise<Raw> => raw(path, { range });

async function configure(body: Record<string, unknown>): Promise<Json> {
  const response = await call(sim, 'POST', '/__sim/config', { body });
  expect(response.status).toBe(200);
  return response.body;
}

/** Runs `body` with `traceRange` on, and switches it back off whatever happens. */
async function withRanges(body: () => Promise<void>): Promise<void> {
  await configure({ traceRange: true });
  try {
    await body();
  } finally {
    await configure({ traceRange: false });
  }
}

async function runningJob(): Promise<Json> {
  const jobs = (await get(sim, '/api/v4/projects/1/jobs?scope=running&per_page=100')).body as Json[];
  const job = jobs.find((j) => j.name !== 'bench:tail');
  if (!job) throw new Error('no running job');
  return job;
}

async function benchJob(body: Record<string, unknown>): Promise<number> {
  const response = await call(sim, 'POST', '/__sim/jobs', { body });
  expect(response.status, response.text).toBe(201);
  return response.body.id as number;
}

const jobStatus = async (id: number): Promise<string> => (await get(sim, `/api/v4/projects/1/jobs/${id}`)).body.status;
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('Range on job logs, off (GitLab: the whole log, always)', () => {
  it('answers 200 with the whole log even with a Range header, with Content-Length and a weak ETag', async () => {
    const { id } = await runningJob();
    for (const path of [v4Trace(id), v3Trace(id)]) {
      const whole = await raw(path);
      expect(whole.status).toBe(200);
      expect(whole.bytes.length).toBeGreaterThan(0);
      expect(whole.headers.get('content-length')).toBe(String(whole.bytes.length));
      expect(whole.headers.get('etag')).toBe(`W/"${id}-${whole.bytes.length}"`);
      expect(whole.headers.get('content-type')).toBe('text/plain');
      expect(whole.headers.get('accept-ranges')).toBeNull();
      for (const range of ['bytes=10-', 'bytes=0-4', `bytes=${whole.bytes.length}-`]) {
        const response = await ranged(path, range);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-range')).toBeNull();
        expect(response.bytes.equals(whole.bytes)).toBe(true);
      }
    }
  });
});

describe('Range on job logs, on', () => {
  it('is off unless asked for, by option or by POST /__sim/config', async () => {
    expect(sim.options.traceRange).toBe(false);
    expect((await get(sim, '/__sim/config')).body).toMatchObject({ traceRange: false, tickMs: HOUR });
    const other = await startSimulator({ port: 0, tickMs: HOUR, traceRange: true });
    try {
      expect(other.options.traceRange).toBe(true);
      expect((await get(other, '/__sim/config')).body).toMatchObject({ traceRange: true });
      const response = await fetch(`${other.url}/api/v4/projects/1/jobs/7/trace`, { headers: { range: 'bytes=3-' } });
      await response.arrayBuffer();
      expect(response.status).toBe(206);
    } finally {
      await other.close();
    }
    // @ts-expect-error: not a boolean
    await expect(startSimulator({ port: 0, traceRange: 'yes' })).rejects.toThrow(/traceRange/);
  });

  it('answers bytes=N- and bytes=N-M with 206, the exact bytes, Content-Range, Content-Length and Accept-Ranges', async () => {
    await withRanges(async () => {
      const { id } = await runningJob();
      for (const path of [v4Trace(id), v3Trace(id)]) {
        const whole = (await raw(path)).bytes;
        const total = whole.length;
        const cases: [string, number, number][] = [
          ['bytes=5-', 5, total - 1],
          ['bytes=5-9', 5, 9],
          ['bytes=0-0', 0, 0],
          [`bytes=${total - 1}-`, total - 1, total - 1],
          ['bytes=3-99999999', 3, total - 1],
          ['BYTES=7-', 7, total - 1],
          [' bytes=7-'.trim(), 7, total - 1],
          ['bytes= 7-20 ,', 7, 20],
        ];
        for (const [range, first, last] of cases) {
          const response = await ranged(path, range);
          expect(response.status, range).toBe(206);
          expect(response.headers.get('content-range'), range).toBe(`bytes ${first}-${last}/${total}`);
          expect(response.headers.get('content-length'), range).toBe(String(last - first + 1));
          expect(response.headers.get('accept-ranges')).toBe('bytes');
          expect(response.headers.get('etag')).toBe(`W/"${id}-${total}"`);
          expect(response.headers.get('content-type')).toBe('text/plain');
          expect(response.bytes.equals(whole.subarray(first, last + 1)), range).toBe(true);
        }
        const plain = await raw(path);
        expect(plain.status).toBe(200);
        expect(plain.headers.get('accept-ranges')).toBe('bytes');
      }
    });
  });

  it('answers 416 with Content-Range bytes */TOTAL from the end on, also for an empty log', async () => {
    await withRanges(async () => {
      const { id } = await runningJob();
      const total = (await raw(v4Trace(id))).bytes.length;
      for (const range of [`bytes=${total}-`, `bytes=${total + 10}-`, `bytes=${total}-${total + 5}`]) {
        const response = await ranged(v4Trace(id), range);
        expect(response.status, range).toBe(416);
        expect(response.headers.get('content-range')).toBe(`bytes */${total}`);
        expect(response.bytes.length).toBe(0);
      }
      // A retried job's new copy is pending: no log yet.
      const copy = await post(sim, '/api/v4/projects/1/jobs/7/retry', 'glpat-developer');
      expect(copy.status).toBe(201);
      const none = await ranged(v4Trace(copy.body.id), 'bytes=0-');
      expect(none.status).toBe(416);
      expect(none.headers.get('content-range')).toBe('bytes */0');
    });
  });

  it('ignores suffix, multiple, reversed, malformed and other-unit ranges, and any If-Range: 200 with the whole log', async () => {
    await withRanges(async () => {
      const { id } = await runningJob();
      const whole = (await raw(v4Trace(id))).bytes;
      for (const range of ['bytes=-5', 'bytes=0-1,3-4', 'bytes=0-1, 3-', 'bytes=5-3', 'bytes=abc', 'bytes=1.5-', 'bytes 0-', 'items=0-', 'bytes=', '']) {
        const response = await ranged(v4Trace(id), range);
        expect(response.status, range).toBe(200);
        expect(response.headers.get('content-range')).toBeNull();
        expect(response.bytes.equals(whole), range).toBe(true);
      }
      const conditional = await raw(v4Trace(id), { range: 'bytes=5-', 'if-range': `W/"${id}-${whole.length}"` });
      expect(conditional.status).toBe(200);
      expect(conditional.bytes.equals(whole)).toBe(true);
    });
  });

  it('reassembles the whole log byte for byte from ranged reads while the job runs, splitting characters', async () => {
    await withRanges(async () => {
      const { id } = await runningJob();
      const parts: Buffer[] = [];
      let offset = 0;
      let nothingNew = 0;
      for (let i = 0; i < 3 * JOB_TICKS; i++) {
        // Odd windows, so reads end inside multibyte characters and ANSI sequences.
        const response = await ranged(v4Trace(id), i % 2 === 0 ? `bytes=${offset}-` : `bytes=${offset}-${offset + 37}`);
        if (response.status === 416) nothingNew++;
        else {
          expect(response.status).toBe(206);
          parts.push(response.bytes);
          offset += response.bytes.length;
        }
        if (i % 2 === 1) sim.tick();
      }
      expect(await jobStatus(id)).not.toBe('running');
      for (;;) {
        const response = await ranged(v4Trace(id), `bytes=${offset}-`);
        if (response.status === 416) break;
        parts.push(response.bytes);
        offset += response.bytes.length;
      }
      const whole = (await raw(v4Trace(id))).bytes;
      expect(Buffer.concat(parts).equals(whole)).toBe(true);
      expect(whole.toString('utf8')).toMatch(/(Job succeeded|ERROR: Job failed: exit code 1)\u001b\[0;m\n$/);
      expect(nothingNew).toBeGreaterThan(0);
      // A range may end inside a character: the bytes are the log's, decoding is the client's business.
      const check = whole.indexOf('✓');
      expect(check).toBeGreaterThan(0);
      const head = await ranged(v4Trace(id), `bytes=0-${check}`);
      const tail = await ranged(v4Trace(id), `bytes=${check + 1}-`);
      expect(head.bytes[head.bytes.length - 1]).toBe(0xe2);
      expect(Buffer.concat([head.bytes, tail.bytes]).equals(whole)).toBe(true);
    });
  });
});

describe('tokens', () => {
  const TOKEN_PATHS: [string, string][] = [
    ['GET', '/api/v4/projects/1/jobs'],
    ['GET', '/api/v4/projects/2/jobs'],
    ['GET', '/api/v4/projects/1/jobs/7'],
    ['GET', '/api/v4/projects/1/jobs/7/trace'],
    ['GET', '/api/v4/projects/1/jobs/7/artifacts'],
    ['GET', '/api/v4/projects/1/jobs/artifacts/master/download?job=compile'],
    ['GET', '/api/v4/projects/1/pipelines'],
    ['GET', '/api/v4/projects/1/pipelines/6'],
    ['GET', '/api/v4/projects/1/pipelines/6/jobs'],
    ['GET', '/api/v4/projects/1/pipelines/6/bridges'],
    ['GET', '/api/v4/projects/1/repository/commits/master'],
    ['GET', '/api/v4/projects/1'],
    ['GET', '/api/v4/users'],
    ['GET', '/api/v4/users/1'],
    ['POST', '/api/v4/projects/1/jobs/7/retry'],
    ['POST', '/api/v4/projects/1/jobs/7/cancel'],
    ['POST', '/api/v4/projects/1/jobs/7/erase'],
    ['POST', '/api/v4/projects/1/jobs/7/play'],
    ['GET', '/api/v3/projects/1/builds'],
    ['GET', '/api/v3/projects/1/builds/7'],
    ['GET', '/api/v3/projects/1/builds/7/trace'],
    ['GET', '/api/v3/projects/1/builds/7/artifacts'],
    ['GET', '/api/v3/projects/1/pipelines/6'],
    ['POST', '/api/v3/projects/1/builds/7/retry'],
    ['POST', '/api/v3/projects/1/builds/7/artifacts/keep'],
  ];

  it('adds a token with the rights of another: 201, then it reads and acts like its model', async () => {
    const [privateJob] = (await get(sim, '/api/v4/projects/2/jobs?scope=success', 'glpat-root')).body as Json[];
    const other = privateJob.id as number;
    const created = await call(sim, 'POST', '/__sim/tokens', { body: { token: 'glpat-dev-2', like: 'glpat-developer' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ token: 'glpat-dev-2', like: 'glpat-developer', username: 'alice' });
    const reader = await call(sim, 'POST', '/__sim/tokens', { body: { token: 'glpat-rep-2', like: 'glpat-reporter' } });
    expect(reader.status).toBe(201);
    for (const [copy, model] of [['glpat-dev-2', 'glpat-developer'], ['glpat-rep-2', 'glpat-reporter']] as const) {
      for (const path of ['/api/v4/projects/2/jobs?per_page=5', `/api/v4/projects/2/jobs/${other}`, `/api/v3/projects/2/builds/${other}/trace`]) {
        const [a, b] = [await get(sim, path, copy), await get(sim, path, model)];
        expect(a.status, `${copy} ${path}`).toBe(b.status);
        expect(a.text).toBe(b.text);
      }
    }
    // The reporter's copy may not act; the developer's may.
    expect((await post(sim, `/api/v4/projects/2/jobs/${other}/retry`, 'glpat-rep-2')).status).toBe(403);
    const retried = await post(sim, `/api/v4/projects/2/jobs/${other}/retry`, 'glpat-dev-2');
    expect(retried.status).toBe(201);
    expect(retried.body.user.username).toBe('alice');
  });

  it('refuses a token that exists (409), an unknown model or a bad token (400)', async () => {
    expect((await call(sim, 'POST', '/__sim/tokens', { body: { token: 'glpat-root', like: 'glpat-reporter' } })).status).toBe(409);
    const unknown = await call(sim, 'POST', '/__sim/tokens', { body: { token: 'glpat-x', like: 'glpat-nobody' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ error: 'like does not have a valid value' });
    for (const body of [{ like: 'glpat-root' }, { token: 'has space', like: 'glpat-root' }, { token: '', like: 'glpat-root' }, { token: 'glpat-y' }]) {
      expect((await call(sim, 'POST', '/__sim/tokens', { body })).status, JSON.stringify(body)).toBe(400);
    }
    expect((await get(sim, '/api/v4/projects/1/jobs/7', 'glpat-x')).status).toBe(401);
  });

  it('revokes a token: 204, then 401 {"message":"401 Unauthorized"} on every route and in every way it is presented', async () => {
    expect((await call(sim, 'POST', '/__sim/tokens', { body: { token: 'glpat-doomed', like: 'glpat-root' } })).status).toBe(201);
    expect((await get(sim, '/api/v4/projects/2', 'glpat-doomed')).status).toBe(200);
    const revoked = await call(sim, 'DELETE', '/__sim/tokens/glpat-doomed');
    expect(revoked.status).toBe(204);
    expect(revoked.text).toBe('');
    for (const [method, path] of TOKEN_PATHS) {
      const response = await call(sim, method, path, { token: 'glpat-doomed' });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.body).toEqual({ message: '401 Unauthorized' });
    }
    const bearer = await call(sim, 'GET', '/api/v4/projects/1/jobs/7', { headers: { authorization: 'Bearer glpat-doomed' } });
    expect(bearer.status).toBe(401);
    expect((await get(sim, '/api/v4/projects/1/jobs/7?private_token=glpat-doomed')).status).toBe(401);
    expect((await get(sim, '/api/v4/projects/1/jobs/7?access_token=glpat-doomed')).status).toBe(401);
    // Other tokens are untouched; revoking twice is 404.
    expect((await get(sim, '/api/v4/projects/2', 'glpat-root')).status).toBe(200);
    expect((await call(sim, 'DELETE', '/__sim/tokens/glpat-doomed')).status).toBe(404);
    expect((await call(sim, 'DELETE', '/__sim/tokens/glpat-never')).body).toEqual({ message: '404 Token Not Found' });
  });

  it('revokes a seeded token too, and a copy made before keeps working', async () => {
    expect((await call(sim, 'POST', '/__sim/tokens', { body: { token: 'glpat-out-2', like: 'glpat-outsider' } })).status).toBe(201);
    expect((await call(sim, 'DELETE', '/__sim/tokens/glpat-outsider')).status).toBe(204);
    expect((await get(sim, '/api/v4/projects/1/jobs/7', 'glpat-outsider')).status).toBe(401);
    expect((await get(sim, '/api/v4/projects/1/jobs/7', 'glpat-out-2')).status).toBe(200);
    expect((await get(sim, '/api/v4/projects/2', 'glpat-out-2')).status).toBe(404);
  });

  it('does not count token control requests in stats', async () => {
    sim.resetStats();
    await call(sim, 'POST', '/__sim/tokens', { body: { token: 'glpat-uncounted', like: 'glpat-root' } });
    await call(sim, 'DELETE', '/__sim/tokens/glpat-uncounted');
    expect(sim.stats()).toEqual({ total: 0, routes: {}, bytes: {}, faulted: 0 });
  });
});

describe('bench jobs', () => {
  it('creates a running job in a new pipeline of project 1, shown by every API like any job and valid against job.json', async () => {
    const maxBefore = sim.store.maxJobId;
    const created = await call(sim, 'POST', '/__sim/jobs', {
      body: { project: 1, name: 'bench:tail', logBytesPerTick: 4096, totalBytes: 65536, status: 'running' },
    });
    expect(created.status).toBe(201);
    const { id, pipelineId } = created.body;
    expect(id).toBe(maxBefore + 1);
    const job = (await get(sim, `/api/v4/projects/1/jobs/${id}`)).body;
    expect(job).toMatchObject({ id, name: 'bench:tail', status: 'running', pipeline: { id: pipelineId, status: 'running' } });
    expect(job.runner).not.toBeNull();
    expect(jobSchemaErrors(job)).toEqual([]);
    const running = (await get(sim, '/api/v4/projects/1/jobs?scope=running&per_page=100')).body as Json[];
    expect(running.map((j) => j.id)).toContain(id);
    const inPipeline = (await get(sim, `/api/v4/projects/1/pipelines/${pipelineId}/jobs`)).body as Json[];
    expect(inPipeline.map((j) => j.id)).toEqual([id]);
    expect((await get(sim, `/api/v3/projects/1/builds/${id}`)).body).toMatchObject({ id, status: 'running' });
    const log = (await raw(v4Trace(id))).bytes.toString('utf8');
    expect(log).toMatch(/^\u001b\[0KRunning with gitlab-runner/);
    expect(log).toContain('section_start:');
    expect(log).toContain('step_script');
  });

  it('grows its log by exactly logBytesPerTick whole lines each tick, with colours, sections and multibyte UTF-8', async () => {
    const id = await benchJob({ logBytesPerTick: 4096, totalBytes: 1 << 20 });
    let length = (await raw(v4Trace(id))).bytes.length;
    for (let i = 0; i < 5; i++) {
      sim.tick();
      const log = (await raw(v4Trace(id))).bytes;
      expect(log.length - length).toBe(4096);
      expect(log[log.length - 1]).toBe(0x0a);
      length = log.length;
    }
    for (let i = 0; i < 20; i++) sim.tick();
    const text = new TextDecoder('utf-8', { fatal: true }).decode((await raw(v4Trace(id))).bytes);
    for (const piece of ['✓', 'é', '中', '\u001b[32m', 'section_start:', 'section_end:', '[collapsed=true]']) expect(text).toContain(piece);
    expect(await jobStatus(id)).toBe('running');
  });

  it('is neither counted nor finished by the clock\'s running-jobs rule', async () => {
    const id = await benchJob({ logBytesPerTick: 100, totalBytes: 1 << 20 });
    for (let i = 0; i < 3 * JOB_TICKS; i++) {
      sim.tick();
      const running = (await get(sim, '/api/v4/projects/1/jobs?scope=running&per_page=100')).body as Json[];
      const clockRun = running.filter((j) => j.name !== 'bench:tail');
      expect(clockRun.length, `tick ${i}`).toBeGreaterThanOrEqual(MIN_RUNNING);
    }
    expect(await jobStatus(id)).toBe('running');
  });

  it('succeeds on its own at totalBytes, footer included, and its pipeline with it', async () => {
    const created = await call(sim, 'POST', '/__sim/jobs', { body: { logBytesPerTick: 3000, totalBytes: 10_000 } });
    const { id, pipelineId } = created.body;
    for (let i = 0; i < 10 && (await jobStatus(id)) === 'running'; i++) sim.tick();
    const job = (await get(sim, `/api/v4/projects/1/jobs/${id}`)).body;
    expect(job.status).toBe('success');
    expect(jobSchemaErrors(job)).toEqual([]);
    const log = (await raw(v4Trace(id))).bytes;
    expect(log.length).toBe(10_000);
    expect(log.toString('utf8')).toMatch(/section_end:\d+:step_script\r\u001b\[0K\n[^]*Job succeeded\u001b\[0;m\n$/);
    expect((await get(sim, `/api/v4/projects/1/pipelines/${pipelineId}`)).body.status).toBe('success');
    sim.tick();
    expect((await raw(v4Trace(id))).bytes.equals(log)).toBe(true);
  });

  it('finishes on demand with POST /__sim/jobs/:id/finish (200), then 409; 404 for other jobs; 400 for a bad status', async () => {
    const id = await benchJob({ logBytesPerTick: 2048, totalBytes: 1 << 20 });
    sim.tick();
    const before = (await raw(v4Trace(id))).bytes;
    expect((await call(sim, 'POST', `/__sim/jobs/${id}/finish`, { body: { status: 'done' } })).status).toBe(400);
    const finished = await call(sim, 'POST', `/__sim/jobs/${id}/finish`, { body: { status: 'failed' } });
    expect(finished.status).toBe(200);
    expect(finished.body).toEqual({ id, status: 'failed' });
    const job = (await get(sim, `/api/v4/projects/1/jobs/${id}`)).body;
    expect(job).toMatchObject({ status: 'failed', failure_reason: 'script_failure' });
    expect(jobSchemaErrors(job)).toEqual([]);
    const after = (await raw(v4Trace(id))).bytes;
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    expect(after.toString('utf8')).toMatch(/ERROR: Job failed: exit code 1\u001b\[0;m\n$/);
    const again = await call(sim, 'POST', `/__sim/jobs/${id}/finish`, { body: { status: 'success' } });
    expect(again.status).toBe(409);
    expect((await call(sim, 'POST', '/__sim/jobs/7/finish', { body: {} })).status).toBe(404);
    expect((await call(sim, 'POST', '/__sim/jobs/99999999/finish', { body: {} })).status).toBe(404);
    // No status means success.
    const other = await benchJob({ totalBytes: 8192 });
    expect((await call(sim, 'POST', `/__sim/jobs/${other}/finish`)).body).toEqual({ id: other, status: 'success' });
  });

  it('refuses bad specs with 400 and an unknown project with 404', async () => {
    for (const body of [
      { totalBytes: 256 * 1024 * 1024 + 1 },
      { totalBytes: 100 },
      { totalBytes: 'lots' },
      { logBytesPerTick: 0 },
      { logBytesPerTick: 64 * 1024 * 1024 + 1 },
      { status: 'pending' },
      { name: '' },
    ]) {
      const response = await call(sim, 'POST', '/__sim/jobs', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect((await call(sim, 'POST', '/__sim/jobs', { body: { project: 999 } })).body).toEqual({ message: '404 Project Not Found' });
  });

  it('streams a 20 MiB log whole and in ranges: same length, same hash', async () => {
    const totalBytes = 20 * 1024 * 1024;
    const id = await benchJob({ logBytesPerTick: 3 * 1024 * 1024, totalBytes });
    await withRanges(async () => {
      const incremental = createHash('sha256');
      let offset = 0;
      for (let i = 0; i < 12; i++) {
        sim.tick();
        const response = await ranged(v4Trace(id), `bytes=${offset}-`);
        if (response.status === 416) continue;
        expect(response.status).toBe(206);
        incremental.update(response.bytes);
        offset += response.bytes.length;
      }
      expect(await jobStatus(id)).toBe('success');
      expect(offset).toBe(totalBytes);
      // The whole log over a plain socket: Content-Length first, the body in many pieces.
      const { length, hash, pieces, contentLength } = await new Promise<{ length: number; hash: string; pieces: number; contentLength: string | undefined }>(
        (resolve, reject) => {
          const req = request(`${sim.url}${v4Trace(id)}`, (res) => {
            const digest = createHash('sha256');
            let received = 0;
            let count = 0;
            res.on('data', (chunk: Buffer) => {
              digest.update(chunk);
              received += chunk.length;
              count++;
            });
            res.on('end', () => resolve({ length: received, hash: digest.digest('hex'), pieces: count, contentLength: res.headers['content-length'] }));
            res.on('error', reject);
          });
          req.on('error', reject);
          req.end();
        },
      );
      expect(contentLength).toBe(String(totalBytes));
      expect(length).toBe(totalBytes);
      expect(hash).toBe(incremental.digest('hex'));
      expect(pieces).toBeGreaterThan(1);
      const v3 = (await raw(v3Trace(id))).bytes;
      expect(v3.length).toBe(totalBytes);
      expect(sha256(v3)).toBe(hash);
    });
  });
});

describe('run-time settings', () => {
  it('changes the tick interval with POST /__sim/config {"tickMs": N}, restarting the timer', async () => {
    const id = await benchJob({ logBytesPerTick: 1000, totalBytes: 1 << 20 });
    const start = (await raw(v4Trace(id))).bytes.length;
    expect(await configure({ tickMs: 20 })).toMatchObject({ tickMs: 20 });
    try {
      await vi.waitFor(async () => expect((await raw(v4Trace(id))).bytes.length).toBeGreaterThanOrEqual(start + 3000), { timeout: 5000, interval: 20 });
    } finally {
      await configure({ tickMs: HOUR });
    }
    const settled = (await raw(v4Trace(id))).bytes.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await raw(v4Trace(id))).bytes.length).toBe(settled);
    expect(sim.options.tickMs).toBe(HOUR);
  });

  it('refuses a bad tickMs or traceRange with 400 and changes nothing', async () => {
    const before = (await get(sim, '/__sim/config')).body;
    for (const body of [{ tickMs: 0 }, { tickMs: 'fast' }, { tickMs: 2 ** 31 }, { traceRange: 'yes' }, { traceRange: true, tickMs: -1 }]) {
      const response = await call(sim, 'POST', '/__sim/config', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error).toMatch(/^(tickMs|traceRange) does not have a valid value$/);
    }
    expect((await get(sim, '/__sim/config')).body).toEqual(before);
  });
});

describe('stats', () => {
  it('counts ranged reads under the trace route and adds up the body bytes sent per route', async () => {
    const id = await benchJob({ logBytesPerTick: 5000, totalBytes: 1 << 20 });
    sim.tick();
    await withRanges(async () => {
      sim.resetStats();
      const whole = (await raw(v4Trace(id))).bytes.length;
      expect((await ranged(v4Trace(id), 'bytes=100-199')).status).toBe(206);
      expect((await ranged(v4Trace(id), `bytes=${whole - 10}-`)).status).toBe(206);
      expect((await ranged(v4Trace(id), `bytes=${whole}-`)).status).toBe(416);
      expect((await raw(v4Trace(id), {}, 'HEAD')).status).toBe(200);
      const v3 = (await ranged(v3Trace(id), 'bytes=0-49')).bytes.length;
      const job = (await raw(`/api/v4/projects/1/jobs/${id}`)).bytes.length;
      await get(sim, '/__sim/health');
      const stats = sim.stats();
      expect(stats.routes).toEqual({
        [TRACE]: 4,
        'HEAD /api/v4/projects/:id/jobs/:job_id/trace': 1,
        'GET /api/v3/projects/:id/builds/:build_id/trace': 1,
        'GET /api/v4/projects/:id/jobs/:job_id': 1,
      });
      expect(stats.bytes).toEqual({
        [TRACE]: whole + 100 + 10,
        'HEAD /api/v4/projects/:id/jobs/:job_id/trace': 0,
        'GET /api/v3/projects/:id/builds/:build_id/trace': v3,
        'GET /api/v4/projects/:id/jobs/:job_id': job,
      });
      expect(v3).toBe(50);
      expect((await get(sim, '/__sim/stats')).body).toEqual(sim.stats());
    });
  });

  it('counts bk-ci bytes too, and an unmatched route', async () => {
    sim.resetStats();
    const unmatched = (await raw('/api/v4/nothing/here')).bytes.length;
    const bk = await raw('/ms/openapi/api/apigw/v3/projects/demo/pipelines', { 'X-DEVOPS-UID': 'admin' });
    const stats = sim.stats();
    expect(stats.bytes['GET (unmatched)']).toBe(unmatched);
    expect(Object.keys(stats.bytes).sort()).toEqual(Object.keys(stats.routes).sort());
    expect(Object.values(stats.bytes).reduce((a, b) => a + b, 0)).toBe(unmatched + bk.bytes.length);
  });
});
