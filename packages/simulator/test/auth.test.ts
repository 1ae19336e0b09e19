import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATOR_TOKENS, startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import { call, get, post } from './helpers/sim-http.js';

let sim: Simulator;
let finishedJob: number;
let acmeJob: number;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: 3_600_000 });
  finishedJob = 7;
  const acme = sim.store.projects.get(2);
  acmeJob = acme?.builds.find((j) => j.status === 'success')?.id ?? 0;
});
afterAll(async () => {
  await sim.close();
});

const UNAUTHORIZED = { message: '401 Unauthorized' };
const FORBIDDEN = { message: '403 Forbidden' };
const PROJECT_NOT_FOUND = { message: '404 Project Not Found' };

describe('tokens', () => {
  it('documents the four named tokens and their rights', () => {
    expect(Object.keys(SIMULATOR_TOKENS).sort()).toEqual(['glpat-developer', 'glpat-outsider', 'glpat-reporter', 'glpat-root']);
    expect(SIMULATOR_TOKENS['glpat-root'].admin).toBe(true);
    expect(SIMULATOR_TOKENS['glpat-developer'].access).toEqual({ 1: 'developer', 2: 'developer' });
    for (const spec of Object.values(SIMULATOR_TOKENS)) expect(spec.rights.length).toBeGreaterThan(10);
  });

  it('accepts a token as PRIVATE-TOKEN, Bearer, ?private_token= and ?access_token=', async () => {
    const path = '/api/v4/projects/2/jobs?per_page=1';
    expect((await get(sim, path, 'glpat-reporter')).status).toBe(200);
    expect((await call(sim, 'GET', path, { headers: { Authorization: 'Bearer glpat-reporter' } })).status).toBe(200);
    expect((await get(sim, `${path}&private_token=glpat-reporter`)).status).toBe(200);
    expect((await get(sim, `${path}&access_token=glpat-reporter`)).status).toBe(200);
  });

  it('answers 401 to an unknown token on every route, public ones included', async () => {
    for (const path of ['/api/v4/projects/1/jobs', '/api/v4/projects/1/jobs/7', '/api/v4/users/1', '/api/v4/projects/1']) {
      const response = await get(sim, path, 'glpat-nonsense');
      expect(response.status, path).toBe(401);
      expect(response.body).toEqual(UNAUTHORIZED);
    }
    const bearer = await call(sim, 'GET', '/api/v4/projects/1/jobs', { headers: { Authorization: 'Bearer nope' } });
    expect(bearer.status).toBe(401);
    expect((await post(sim, `/api/v4/projects/1/jobs/${finishedJob}/retry`, 'glpat-nonsense')).status).toBe(401);
  });
});

describe('without a token', () => {
  it('reads the public project 1', async () => {
    expect((await get(sim, '/api/v4/projects/1/jobs')).status).toBe(200);
    expect((await get(sim, '/api/v4/projects/1/jobs/7/trace')).status).toBe(200);
    expect((await get(sim, '/api/v4/projects/foo%2Fbar')).status).toBe(200);
  });

  it('gets 401 for the private project 2', async () => {
    for (const path of ['/api/v4/projects/2/jobs', `/api/v4/projects/2/jobs/${acmeJob}`, '/api/v4/projects/acme%2Fprivate', '/api/v4/projects/2/pipelines']) {
      const response = await get(sim, path);
      expect(response.status, path).toBe(401);
      expect(response.body).toEqual(UNAUTHORIZED);
    }
  });

  it('gets 401 for every mutation', async () => {
    for (const action of ['cancel', 'retry', 'erase', 'play']) {
      const response = await post(sim, `/api/v4/projects/1/jobs/${finishedJob}/${action}`);
      expect(response.status, action).toBe(401);
      expect(response.body).toEqual(UNAUTHORIZED);
    }
  });

  it('reads users', async () => {
    expect((await get(sim, '/api/v4/users/1')).body).toMatchObject({ id: 1, username: 'root' });
  });
});

describe('with a token', () => {
  it('lets the outsider read project 1 but not see project 2 (404) or act (403)', async () => {
    expect((await get(sim, '/api/v4/projects/1/jobs/7', 'glpat-outsider')).status).toBe(200);
    const hidden = await get(sim, '/api/v4/projects/2/jobs', 'glpat-outsider');
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual(PROJECT_NOT_FOUND);
    expect((await get(sim, '/api/v4/projects/acme%2Fprivate', 'glpat-outsider')).body).toEqual(PROJECT_NOT_FOUND);
    expect((await post(sim, `/api/v4/projects/2/jobs/${acmeJob}/retry`, 'glpat-outsider')).body).toEqual(PROJECT_NOT_FOUND);
    for (const action of ['cancel', 'retry', 'erase', 'play']) {
      const response = await post(sim, `/api/v4/projects/1/jobs/${finishedJob}/${action}`, 'glpat-outsider');
      expect(response.status, action).toBe(403);
      expect(response.body).toEqual(FORBIDDEN);
    }
  });

  it('lets the reporter read both projects but act on neither (403)', async () => {
    expect((await get(sim, '/api/v4/projects/2/jobs', 'glpat-reporter')).status).toBe(200);
    expect((await get(sim, `/api/v4/projects/2/jobs/${acmeJob}/trace`, 'glpat-reporter')).status).toBe(200);
    for (const [project, job] of [[1, finishedJob], [2, acmeJob]] as const) {
      for (const action of ['cancel', 'retry', 'erase', 'play']) {
        const response = await post(sim, `/api/v4/projects/${project}/jobs/${job}/${action}`, 'glpat-reporter');
        expect(response.status, `${project} ${action}`).toBe(403);
        expect(response.body).toEqual(FORBIDDEN);
      }
    }
  });

  it('checks the job before the right to act: an unknown job is 404 even for the reporter', async () => {
    expect((await post(sim, '/api/v4/projects/1/jobs/999999/retry', 'glpat-reporter')).body).toEqual({ message: '404 Not found' });
  });

  it('lets the developer and root act on project 2', async () => {
    const developer = await post(sim, `/api/v4/projects/2/jobs/${acmeJob}/retry`, 'glpat-developer');
    expect(developer.status).toBe(201);
    expect(developer.body.user.username).toBe('alice');
    const root = await post(sim, `/api/v4/projects/acme%2Fprivate/jobs/${developer.body.id}/cancel`, 'glpat-root');
    expect(root.status).toBe(201);
    expect(root.body.status).toBe('canceled');
  });

  it('allows force-cancel to maintainers and admins only', async () => {
    const canceling = sim.store.projects.get(1)?.builds.find((j) => j.status === 'canceling');
    const path = `/api/v4/projects/1/jobs/${canceling?.id}/cancel`;
    expect((await call(sim, 'POST', path, { token: 'glpat-developer', body: { force: true } })).status).toBe(403);
    const plain = await post(sim, path, 'glpat-developer');
    expect(plain.status).toBe(403);
    expect(plain.body).toEqual({ message: '403 Forbidden - Job is not cancelable' });
    const forced = await call(sim, 'POST', `${path}?force=true`, { token: 'glpat-root' });
    expect(forced.body.status).toBe('canceled');
  });
});
