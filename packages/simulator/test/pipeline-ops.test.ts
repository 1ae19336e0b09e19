import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import type { Pipeline } from '../src/model.js';
import { get, post } from './helpers/sim-http.js';
import type { Json } from './helpers/sim-http.js';
import { jobSchemaErrors } from './helpers/sim-schemas.js';

// The timer never fires during the suite: state changes only by request or simulator.tick().
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: 3_600_000, jobTicks: 4, pendingTicks: 1 });
});
afterAll(async () => {
  await sim.close();
});

const pipelineWith = (projectId: number, test: (p: Pipeline) => boolean): Pipeline => {
  const found = sim.store.projects.get(projectId)?.pipelines.find(test);
  if (!found) throw new Error(`no such pipeline in project ${projectId}`);
  return found;
};
const latestJobs = (p: Pipeline) => p.jobs.filter((j) => !j.retried);

describe('POST /projects/:id/pipelines/:pipeline_id/retry', () => {
  it('retries every failed or canceled job (new pending jobs by the caller) and answers 201 with the pipeline', async () => {
    const pipeline = pipelineWith(1, (p) => p.status === 'failed' && latestJobs(p).some((j) => j.status === 'failed'));
    const failed = latestJobs(pipeline).filter((j) => j.status === 'failed' || j.status === 'canceled').map((j) => j.id);
    const response = await post(sim, `/api/v4/projects/1/pipelines/${pipeline.id}/retry`, 'glpat-developer');
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ id: pipeline.id, status: expect.stringMatching(/^(pending|running|created)$/) });
    const jobs = (await get(sim, `/api/v4/projects/1/pipelines/${pipeline.id}/jobs?per_page=100`)).body as Json[];
    for (const id of failed) expect(jobs.map((j) => j.id)).not.toContain(id);
    const copies = jobs.filter((j) => j.status === 'pending');
    expect(copies.length).toBeGreaterThanOrEqual(failed.length);
    expect(copies.every((j) => j.user.username === 'alice')).toBe(true);
    expect(jobSchemaErrors(copies[0])).toEqual([]);
  });

  it('answers 201 with the pipeline unchanged when nothing failed', async () => {
    const pipeline = pipelineWith(1, (p) => p.status === 'success');
    const jobCount = pipeline.jobs.length;
    const response = await post(sim, `/api/v4/projects/1/pipelines/${pipeline.id}/retry`, 'glpat-developer');
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ id: pipeline.id, status: 'success' });
    expect(pipeline.jobs.length).toBe(jobCount);
  });

  it('is served under /api/v3 too (GitLab 9.x mounted API::Pipelines for both versions)', async () => {
    const pipeline = pipelineWith(1, (p) => p.status === 'success');
    expect((await post(sim, `/api/v3/projects/1/pipelines/${pipeline.id}/retry`, 'glpat-developer')).status).toBe(201);
  });

  it('refuses like GitLab: 401 without a token, 403 for a reporter, 404 for an unknown pipeline or a hidden project', async () => {
    const pipeline = pipelineWith(1, (p) => p.status === 'success');
    expect((await post(sim, `/api/v4/projects/1/pipelines/${pipeline.id}/retry`)).body).toEqual({ message: '401 Unauthorized' });
    const reporter = await post(sim, `/api/v4/projects/1/pipelines/${pipeline.id}/retry`, 'glpat-reporter');
    expect([reporter.status, reporter.body]).toEqual([403, { message: '403 Forbidden' }]);
    expect((await post(sim, '/api/v4/projects/1/pipelines/999999/retry', 'glpat-developer')).status).toBe(404);
    const hidden = pipelineWith(2, () => true);
    expect((await post(sim, `/api/v4/projects/2/pipelines/${hidden.id}/retry`, 'glpat-outsider')).body).toEqual({ message: '404 Project Not Found' });
  });
});

describe('POST /projects/:id/pipelines/:pipeline_id/cancel', () => {
  it('cancels every cancelable job and answers 201 with the canceled pipeline', async () => {
    const pipeline = pipelineWith(1, (p) => latestJobs(p).some((j) => j.status === 'running' || j.status === 'pending'));
    const response = await post(sim, `/api/v4/projects/1/pipelines/${pipeline.id}/cancel`, 'glpat-developer');
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ id: pipeline.id, status: 'canceled' });
    expect(latestJobs(pipeline).some((j) => j.status === 'running' || j.status === 'pending')).toBe(false);
    // Through v3 the same pipeline reads canceled too.
    expect((await get(sim, `/api/v3/projects/1/pipelines/${pipeline.id}`)).body).toMatchObject({ status: 'canceled' });
  });

  it('answers 201 unchanged for a finished pipeline, and 403 for a reporter', async () => {
    const pipeline = pipelineWith(1, (p) => p.status === 'success');
    expect((await post(sim, `/api/v4/projects/1/pipelines/${pipeline.id}/cancel`, 'glpat-developer')).body).toMatchObject({ status: 'success' });
    expect((await post(sim, `/api/v3/projects/1/pipelines/${pipeline.id}/cancel`, 'glpat-reporter')).status).toBe(403);
  });
});

describe('GET /runners/:id/jobs', () => {
  it('pages a runner\'s jobs, newest first with order_by=id&sort=desc, with offset headers and a total', async () => {
    const mine = [...sim.store.jobs.values()].filter((j) => j.runner?.id === 1).map((j) => j.id).sort((a, b) => b - a);
    expect(mine.length).toBeGreaterThan(3);
    const first = await get(sim, '/api/v4/runners/1/jobs?order_by=id&sort=desc&per_page=2', 'glpat-root');
    expect(first.status).toBe(200);
    expect((first.body as Json[]).map((j) => j.id)).toEqual(mine.slice(0, 2));
    expect(first.headers.get('x-next-page')).toBe('2');
    expect(first.headers.get('x-total')).toBe(String(mine.length));
    const second = await get(sim, '/api/v4/runners/1/jobs?order_by=id&sort=desc&per_page=2&page=2', 'glpat-root');
    expect((second.body as Json[]).map((j) => j.id)).toEqual(mine.slice(2, 4));
    expect(jobSchemaErrors((first.body as Json[])[0])).toEqual([]);
    // Without order_by GitLab ignores `sort` and lists ascending (gitlab #364348).
    const plain = await get(sim, '/api/v4/runners/1/jobs?sort=desc&per_page=2', 'glpat-root');
    expect((plain.body as Json[]).map((j) => j.id)).toEqual(mine.slice(-2).reverse());
  });

  it('filters by status', async () => {
    const response = await get(sim, '/api/v4/runners/1/jobs?status=success&per_page=100', 'glpat-root');
    expect((response.body as Json[]).every((j) => j.status === 'success')).toBe(true);
    expect((await get(sim, '/api/v4/runners/1/jobs?status=bogus', 'glpat-root')).status).toBe(400);
  });

  it('refuses: 401 without a token, 403 for a shared runner to a non-admin, 404 for an unknown runner', async () => {
    expect((await get(sim, '/api/v4/runners/1/jobs')).status).toBe(401);
    expect((await get(sim, '/api/v4/runners/1/jobs', 'glpat-developer')).body).toEqual({ message: '403 Forbidden - No access granted' });
    expect((await get(sim, '/api/v4/runners/3/jobs', 'glpat-reporter')).status).toBe(403);
    expect((await get(sim, '/api/v4/runners/3/jobs', 'glpat-developer')).status).toBe(200);
    expect((await get(sim, '/api/v4/runners/999/jobs', 'glpat-root')).body).toEqual({ message: '404 Runner Not Found' });
    expect((await get(sim, '/api/v3/runners/1/jobs', 'glpat-root')).status).toBe(404);
  });
});
