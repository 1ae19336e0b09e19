import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_RUNNING, startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import { call, get, post } from './helpers/sim-http.js';
import type { Json } from './helpers/sim-http.js';
import { jobSchemaErrors } from './helpers/sim-schemas.js';

// The timer never fires during the suite; every tick is asked for with simulator.tick().
const JOB_TICKS = 4;
const TOKEN = 'glpat-developer';
let sim: Simulator;
let acmeBuild: number;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: 3_600_000, jobTicks: JOB_TICKS, pendingTicks: 1 });
  acmeBuild = sim.store.projects.get(2)?.builds.find((j) => j.status === 'success')?.id ?? 0;
});
afterAll(async () => {
  await sim.close();
});

const build = async (id: number, token?: string): Promise<Json> => (await get(sim, `/api/v3/projects/1/builds/${id}`, token)).body;
const job = async (id: number): Promise<Json> => (await get(sim, `/api/v4/projects/1/jobs/${id}`)).body;
const running = async (): Promise<Json[]> => (await get(sim, '/api/v3/projects/1/builds?scope=running&per_page=100')).body;

const UNAUTHORIZED = { message: '401 Unauthorized' };
const FORBIDDEN = { message: '403 Forbidden' };
const PROJECT_NOT_FOUND = { message: '404 Project Not Found' };
const NOT_FOUND = { message: '404 Not found' };
const ACTIONS = ['cancel', 'retry', 'erase', 'play', 'artifacts/keep'];

describe('retry across versions', () => {
  it('retries through v3 (201, a new pending build by the caller) and v4 shows the same job', async () => {
    const maxBefore = sim.store.maxJobId;
    const response = await post(sim, '/api/v3/projects/1/builds/6/retry', TOKEN);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ id: maxBefore + 1, name: 'rspec:other', status: 'pending', user: { username: 'alice' }, pipeline: { id: 6 } });
    expect(response.body).not.toHaveProperty('duration');
    const four = await job(response.body.id);
    expect(jobSchemaErrors(four)).toEqual([]);
    expect(four).toMatchObject({ id: response.body.id, name: 'rspec:other', status: 'pending', user: { username: 'alice' } });
    const pipelineJobs = (await get(sim, '/api/v4/projects/1/pipelines/6/jobs?per_page=100')).body as Json[];
    expect(pipelineJobs.map((j) => j.id)).toContain(response.body.id);
    expect(pipelineJobs.map((j) => j.id)).not.toContain(6);
    // It runs through the ordinary lifecycle, seen alike through both versions.
    for (let i = 0; i < 3 * JOB_TICKS && (await build(response.body.id)).status !== 'running'; i++) sim.tick();
    expect((await build(response.body.id)).status).toBe('running');
    expect((await job(response.body.id)).status).toBe('running');
  });

  it('retries through v4 and v3 lists and serves the new job as a build', async () => {
    const response = await post(sim, '/api/v4/projects/1/jobs/8/retry', TOKEN);
    expect(response.status).toBe(201);
    const listed = (await get(sim, '/api/v3/projects/1/builds?per_page=5')).body as Json[];
    expect(listed[0].id).toBe(sim.store.maxJobId);
    const copy = await build(response.body.id);
    expect(copy).toMatchObject({ id: response.body.id, name: 'rubocop', status: 'pending', user: { username: 'alice' } });
    const commitBuilds = (await get(sim, '/api/v3/projects/1/builds/commit/0ff3ae198f8601a285adcf5c0fff204ee6fba5fd?per_page=100')).body as Json[];
    expect(commitBuilds.map((b) => b.id)).toEqual(expect.arrayContaining([response.body.id, 8]));
  });

  it('refuses to retry an unfinished build with v3\'s wording', async () => {
    const [target] = await running();
    const response = await post(sim, `/api/v3/projects/1/builds/${target.id}/retry`, TOKEN);
    expect(response.status).toBe(403);
    expect(response.body).toEqual({ message: '403 Forbidden - Build is not retryable' });
  });
});

describe('the other v3 mutations', () => {
  it('cancel moves a running build to canceled (201), seen by v4, and the clock keeps the minimum running', async () => {
    const [target] = await running();
    const response = await post(sim, `/api/v3/projects/1/builds/${target.id}/cancel`, TOKEN);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ id: target.id, status: 'canceled' });
    expect(response.body.finished_at).not.toBeNull();
    expect((await job(target.id)).status).toBe('canceled');
    expect((await running()).length).toBeGreaterThanOrEqual(MIN_RUNNING);
  });

  it('refuses to cancel a finished build with 403, as the v4 route does, and leaves it as it was', async () => {
    const before = await build(7);
    const response = await post(sim, '/api/v3/projects/1/builds/7/cancel', TOKEN);
    expect(response.status).toBe(403);
    expect(response.body).toEqual({ message: '403 Forbidden - Build is not cancelable' });
    expect(await build(7)).toEqual(before);
  });

  it('play starts a manual build (200, pending) and refuses it again with 400 Unplayable Job', async () => {
    const manual = sim.store.projects.get(1)?.builds.find((j) => j.status === 'manual' && !j.retried);
    expect(manual).toBeDefined();
    const response = await post(sim, `/api/v3/projects/1/builds/${manual?.id}/play`, TOKEN);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: manual?.id, status: 'pending', user: { username: 'alice' } });
    expect((await job(manual?.id ?? 0)).status).toBe('pending');
    const again = await post(sim, `/api/v3/projects/1/builds/${manual?.id}/play`, TOKEN);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ message: '400 Bad request - Unplayable Job' });
  });

  it('keep clears the artifacts\' expiry (200; v4 shows artifacts_expire_at null), 404 without artifacts', async () => {
    expect((await job(7)).artifacts_expire_at).toBe('2016-01-23T17:54:27.895Z');
    const response = await post(sim, '/api/v3/projects/1/builds/7/artifacts/keep', TOKEN);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: 7, artifacts_file: { filename: 'artifacts.zip', size: 1000 } });
    expect((await job(7)).artifacts_expire_at).toBeNull();
    const none = await post(sim, '/api/v3/projects/1/builds/6/artifacts/keep', TOKEN);
    expect(none.status).toBe(404);
    expect(none.body).toEqual(NOT_FOUND);
  });

  it('erase removes the log and artifacts (201; v4 shows erased_at), then refuses with Build is not erasable!', async () => {
    const response = await post(sim, '/api/v3/projects/1/builds/7/erase', TOKEN);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ id: 7, status: 'failed', download_url: null });
    expect(response.body).not.toHaveProperty('artifacts_file');
    expect((await get(sim, '/api/v3/projects/1/builds/7/trace')).text).toBe('');
    const four = await job(7);
    expect(four.erased_at).toMatch(/Z$/);
    expect(four.artifacts).toEqual([]);
    const again = await post(sim, '/api/v3/projects/1/builds/7/erase', TOKEN);
    expect(again.status).toBe(403);
    expect(again.body).toEqual({ message: '403 Forbidden - Build is not erasable!' });
    const [target] = await running();
    expect((await post(sim, `/api/v3/projects/1/builds/${target.id}/erase`, TOKEN)).status).toBe(403);
  });
});

describe('auth on v3, as on v4', () => {
  it('answers 401 to an unknown token everywhere, and accepts the four ways of sending a token', async () => {
    for (const path of ['/api/v3/projects/1/builds', '/api/v3/projects/1/builds/7', '/api/v3/projects/1/builds/7/trace', '/api/v3/projects/1/builds/7/artifacts']) {
      const response = await get(sim, path, 'glpat-nonsense');
      expect(response.status, path).toBe(401);
      expect(response.body).toEqual(UNAUTHORIZED);
    }
    const path = '/api/v3/projects/2/builds?per_page=1';
    expect((await get(sim, path, 'glpat-reporter')).status).toBe(200);
    expect((await call(sim, 'GET', path, { headers: { Authorization: 'Bearer glpat-reporter' } })).status).toBe(200);
    expect((await get(sim, `${path}&private_token=glpat-reporter`)).status).toBe(200);
    expect((await get(sim, `${path}&access_token=glpat-reporter`)).status).toBe(200);
  });

  it('without a token: reads the public project, 401 for the private one and for every mutation', async () => {
    expect((await get(sim, '/api/v3/projects/1/builds')).status).toBe(200);
    expect((await get(sim, '/api/v3/projects/1/builds/8/trace')).status).toBe(200);
    for (const path of ['/api/v3/projects/2/builds', `/api/v3/projects/2/builds/${acmeBuild}`, '/api/v3/projects/acme%2Fprivate/builds', `/api/v3/projects/2/builds/${acmeBuild}/artifacts`]) {
      const response = await get(sim, path);
      expect(response.status, path).toBe(401);
      expect(response.body).toEqual(UNAUTHORIZED);
    }
    for (const action of ACTIONS) {
      const response = await post(sim, `/api/v3/projects/1/builds/8/${action}`);
      expect(response.status, action).toBe(401);
      expect(response.body).toEqual(UNAUTHORIZED);
    }
  });

  it('the outsider reads project 1 but gets 404 for project 2 and 403 for mutations', async () => {
    expect((await build(8, 'glpat-outsider')).id).toBe(8);
    for (const path of ['/api/v3/projects/2/builds', `/api/v3/projects/2/builds/${acmeBuild}`, '/api/v3/projects/acme%2Fprivate/builds/commit/abc']) {
      const response = await get(sim, path, 'glpat-outsider');
      expect(response.status, path).toBe(404);
      expect(response.body).toEqual(PROJECT_NOT_FOUND);
    }
    expect((await post(sim, `/api/v3/projects/2/builds/${acmeBuild}/retry`, 'glpat-outsider')).body).toEqual(PROJECT_NOT_FOUND);
    for (const action of ACTIONS) {
      const response = await post(sim, `/api/v3/projects/1/builds/8/${action}`, 'glpat-outsider');
      expect(response.status, action).toBe(403);
      expect(response.body).toEqual(FORBIDDEN);
    }
  });

  it('the reporter reads both projects but acts on neither (403); an unknown build is 404 first', async () => {
    expect((await get(sim, `/api/v3/projects/2/builds/${acmeBuild}`, 'glpat-reporter')).status).toBe(200);
    expect((await get(sim, `/api/v3/projects/2/builds/${acmeBuild}/trace`, 'glpat-reporter')).status).toBe(200);
    for (const action of ACTIONS) {
      const response = await post(sim, `/api/v3/projects/2/builds/${acmeBuild}/${action}`, 'glpat-reporter');
      expect(response.status, action).toBe(403);
      expect(response.body).toEqual(FORBIDDEN);
    }
    expect((await post(sim, '/api/v3/projects/1/builds/999999/retry', 'glpat-reporter')).body).toEqual(NOT_FOUND);
  });

  it('lets the developer and root act on the private project, by id and by path', async () => {
    const developer = await post(sim, `/api/v3/projects/2/builds/${acmeBuild}/retry`, 'glpat-developer');
    expect(developer.status).toBe(201);
    const root = await post(sim, `/api/v3/projects/acme%2Fprivate/builds/${developer.body.id}/cancel`, 'glpat-root');
    expect(root.status).toBe(201);
    expect(root.body.status).toBe('canceled');
  });

  it('answers GitLab\'s 404 bodies for unknown projects, builds and routes, and for another project\'s build', async () => {
    expect((await get(sim, '/api/v3/projects/999/builds')).body).toEqual(PROJECT_NOT_FOUND);
    expect((await get(sim, '/api/v3/projects/1/builds/999999')).body).toEqual(NOT_FOUND);
    expect((await get(sim, `/api/v3/projects/1/builds/${acmeBuild}`, 'glpat-root')).body).toEqual(NOT_FOUND);
    expect((await get(sim, '/api/v3/projects/foo/bar/builds')).body).toEqual({ error: '404 Not Found' });
    expect((await get(sim, '/api/v3/projects/1/jobs')).body).toEqual({ error: '404 Not Found' });
  });
});
