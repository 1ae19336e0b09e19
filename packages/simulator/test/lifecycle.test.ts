import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_RUNNING, startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import { get, post, walk } from './helpers/sim-http.js';
import type { Json } from './helpers/sim-http.js';
import { jobSchemaErrors } from './helpers/sim-schemas.js';

// The timer never fires during the suite; every tick is asked for with POST /__sim/tick.
const JOB_TICKS = 4;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: 3_600_000, jobTicks: JOB_TICKS, pendingTicks: 1 });
});
afterAll(async () => {
  await sim.close();
});

const tick = async (count = 1): Promise<void> => {
  const response = await post(sim, `/__sim/tick?count=${count}`);
  expect(response.status).toBe(204);
};
const running = async (): Promise<Json[]> => (await get(sim, '/api/v4/projects/1/jobs?scope=running&per_page=100')).body;
const job = async (id: number, token?: string): Promise<Json> => (await get(sim, `/api/v4/projects/1/jobs/${id}`, token)).body;
const TOKEN = 'glpat-developer';

describe('the clock', () => {
  it(`keeps at least ${MIN_RUNNING} jobs of project 1 running at every tick, while jobs finish`, async () => {
    const seen = new Set<number>();
    let finishedAlongTheWay = 0;
    for (let i = 0; i < 3 * JOB_TICKS + 4; i++) {
      const now = await running();
      expect(now.length, `tick ${i}`).toBeGreaterThanOrEqual(MIN_RUNNING);
      for (const j of now) seen.add(j.id);
      await tick();
      for (const id of seen) if (!['running'].includes((await job(id)).status)) finishedAlongTheWay++;
      seen.clear();
    }
    expect(finishedAlongTheWay).toBeGreaterThan(MIN_RUNNING);
  });

  it('finishes a running job after jobTicks with success or failed, a duration, and a closed log', async () => {
    const [target] = await running();
    for (let i = 0; i <= JOB_TICKS && (await job(target.id)).status === 'running'; i++) await tick();
    const done = await job(target.id);
    expect(['success', 'failed']).toContain(done.status);
    expect(done.finished_at).not.toBeNull();
    expect(done.duration).toBeGreaterThanOrEqual(0);
    expect(done.runner).not.toBeNull();
    expect(jobSchemaErrors(done)).toEqual([]);
    const trace = (await get(sim, `/api/v4/projects/1/jobs/${target.id}/trace`)).text;
    expect(trace).toMatch(done.status === 'success' ? /Job succeeded\u001b\[0;m\n$/ : /ERROR: Job failed: exit code 1\u001b\[0;m\n$/);
  });

  it('grows a running job\'s trace each tick, always as an extension of what was served before', async () => {
    const [target] = await running();
    const before = (await get(sim, `/api/v4/projects/1/jobs/${target.id}/trace`)).text;
    await tick();
    const after = (await get(sim, `/api/v4/projects/1/jobs/${target.id}/trace`)).text;
    expect(Buffer.byteLength(after)).toBeGreaterThan(Buffer.byteLength(before));
    expect(after.startsWith(before)).toBe(true);
  });

  it('moves pipelines through their stages and derives their status from the jobs', async () => {
    const pipelines = (await get(sim, '/api/v4/projects/1/pipelines?per_page=100')).body as Json[];
    for (const p of pipelines.slice(0, 5)) {
      const detail = (await get(sim, `/api/v4/projects/1/pipelines/${p.id}`)).body;
      const jobs = (await get(sim, `/api/v4/projects/1/pipelines/${p.id}/jobs?per_page=100`)).body as Json[];
      if (jobs.some((j) => j.status === 'running')) expect(['running', 'canceling']).toContain(detail.status);
      const stageOf = (name: string): number => ['build', 'test', 'deploy'].indexOf(name);
      const firstCreated = Math.min(...jobs.filter((j) => j.status === 'created').map((j) => stageOf(j.stage)));
      const lastActive = Math.max(-1, ...jobs.filter((j) => ['pending', 'running'].includes(j.status)).map((j) => stageOf(j.stage)));
      expect(lastActive).toBeLessThan(firstCreated);
    }
  });
});

describe('mutations', () => {
  it('retry makes a new pending job (max id + 1) by the caller, and hides the old one in the pipeline', async () => {
    const maxBefore = sim.store.maxJobId;
    const response = await post(sim, '/api/v4/projects/1/jobs/6/retry', TOKEN);
    expect(response.status).toBe(201);
    const copy = response.body;
    expect(jobSchemaErrors(copy)).toEqual([]);
    expect(copy).toMatchObject({
      id: maxBefore + 1,
      name: 'rspec:other',
      stage: 'test',
      ref: 'master',
      status: 'pending',
      started_at: null,
      finished_at: null,
      duration: null,
      runner: null,
      artifacts: [],
      pipeline: { id: 6 },
      commit: { id: '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd' },
      user: { username: 'alice' },
    });
    expect((await get(sim, `/api/v4/projects/1/jobs/${copy.id}/trace`)).text).toBe('');
    const latest = (await get(sim, '/api/v4/projects/1/pipelines/6/jobs?per_page=100')).body as Json[];
    expect(latest.map((j) => j.id)).toContain(copy.id);
    expect(latest.map((j) => j.id)).not.toContain(6);
    const all = (await get(sim, '/api/v4/projects/1/pipelines/6/jobs?per_page=100&include_retried=true')).body as Json[];
    expect(all.map((j) => j.id)).toContain(6);
    expect((await get(sim, '/api/v4/projects/1/pipelines/6')).body.status).not.toBe('failed');
    // The new job runs through the ordinary lifecycle.
    for (let i = 0; i < 3 * JOB_TICKS && (await job(copy.id)).status !== 'running'; i++) await tick();
    expect((await job(copy.id)).status).toBe('running');
    for (let i = 0; i <= JOB_TICKS && (await job(copy.id)).status === 'running'; i++) await tick();
    expect(['success', 'failed']).toContain((await job(copy.id)).status);
  });

  it('refuses to retry a job that is not finished (403 Job is not retryable)', async () => {
    const [target] = await running();
    const response = await post(sim, `/api/v4/projects/1/jobs/${target.id}/retry`, TOKEN);
    expect(response.status).toBe(403);
    expect(response.body).toEqual({ message: '403 Forbidden - Job is not retryable' });
  });

  it('cancel moves a running job to canceled with finished_at, and the clock keeps the minimum running', async () => {
    const [target] = await running();
    const response = await post(sim, `/api/v4/projects/1/jobs/${target.id}/cancel`, TOKEN);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ id: target.id, status: 'canceled' });
    expect(response.body.finished_at).not.toBeNull();
    expect(jobSchemaErrors(response.body)).toEqual([]);
    expect((await running()).length).toBeGreaterThanOrEqual(MIN_RUNNING);
    await tick();
    expect((await job(target.id)).status).toBe('canceled');
  });

  it('refuses to cancel a finished job (403 Job is not cancelable) and leaves it as it was', async () => {
    const before = await job(7);
    const response = await post(sim, '/api/v4/projects/1/jobs/7/cancel', TOKEN);
    expect(response.status).toBe(403);
    expect(response.body).toEqual({ message: '403 Forbidden - Job is not cancelable' });
    expect(await job(7)).toEqual(before);
  });

  it('play starts a manual job (200, pending, then running) and refuses anything else with 400', async () => {
    const manual = sim.store.projects.get(1)?.builds.find((j) => j.status === 'manual' && !j.retried);
    expect(manual).toBeDefined();
    const response = await post(sim, `/api/v4/projects/1/jobs/${manual?.id}/play`, TOKEN);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: manual?.id, status: 'pending', user: { username: 'alice' } });
    expect(jobSchemaErrors(response.body)).toEqual([]);
    for (let i = 0; i < 3 * JOB_TICKS && (await job(manual?.id ?? 0)).status === 'pending'; i++) await tick();
    expect(['running', 'success', 'failed']).toContain((await job(manual?.id ?? 0)).status);
    const again = await post(sim, `/api/v4/projects/1/jobs/${manual?.id}/play`, TOKEN);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ message: '400 Bad request - Unplayable Job' });
  });

  it('erase clears the log and artifacts and sets erased_at; a second erase is 403', async () => {
    const response = await post(sim, '/api/v4/projects/1/jobs/7/erase', TOKEN);
    expect(response.status).toBe(201);
    expect(jobSchemaErrors(response.body)).toEqual([]);
    expect(response.body).toMatchObject({ id: 7, status: 'failed', artifacts: [], artifacts_expire_at: null });
    expect(response.body).not.toHaveProperty('artifacts_file');
    expect(response.body.erased_at).toMatch(/Z$/);
    const trace = await get(sim, '/api/v4/projects/1/jobs/7/trace');
    expect(trace.status).toBe(200);
    expect(trace.text).toBe('');
    const again = await post(sim, '/api/v4/projects/1/jobs/7/erase', TOKEN);
    expect(again.status).toBe(403);
    expect(again.body).toEqual({ message: '403 Forbidden - Job is not erasable!' });
  });

  it('refuses to erase an unfinished job', async () => {
    const [target] = await running();
    expect((await post(sim, `/api/v4/projects/1/jobs/${target.id}/erase`, TOKEN)).body).toEqual({ message: '403 Forbidden - Job is not erasable!' });
  });

  it('keeps every job valid against job.json after all these changes', async () => {
    const { jobs } = await walk(sim, '/api/v4/projects/1/jobs?per_page=100');
    expect(jobs.flatMap((j: Json) => jobSchemaErrors(j))).toEqual([]);
  });
});
