import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidSimulatorOptionError, startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import { call, get, linkRel, post } from './helpers/sim-http.js';
import type { Json } from './helpers/sim-http.js';

const DOC_SHA = '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: 3_600_000 });
});
afterAll(async () => {
  await sim.close();
});

describe('projects, pipelines, commits, users', () => {
  it('serves project 1 by id and by path, and the private project 2 to members', async () => {
    const project = await get(sim, '/api/v4/projects/1');
    expect(project.body).toMatchObject({
      id: 1,
      name: 'Bar',
      path: 'bar',
      path_with_namespace: 'foo/bar',
      name_with_namespace: 'foo / Bar',
      default_branch: 'master',
      visibility: 'public',
      web_url: `${sim.url}/foo/bar`,
      http_url_to_repo: `${sim.url}/foo/bar.git`,
      namespace: { path: 'foo', kind: 'group' },
    });
    expect((await get(sim, '/api/v4/projects/foo%2Fbar')).body).toEqual(project.body);
    expect((await get(sim, '/api/v4/projects/2', 'glpat-developer')).body).toMatchObject({ path_with_namespace: 'acme/private', visibility: 'private' });
  });

  it('lists pipelines id descending with X-Total, and filters by sha, ref, status and scope', async () => {
    const list = await get(sim, '/api/v4/projects/1/pipelines');
    expect(list.headers.get('x-total')).toBe(String(sim.store.projects.get(1)?.pipelines.length));
    expect(Number(list.headers.get('x-total'))).toBeGreaterThanOrEqual(20);
    expect(list.body).toHaveLength(20);
    const ids = list.body.map((p: Json) => p.id);
    expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
    expect(list.body[0]).toEqual(
      expect.objectContaining({ project_id: 1, iid: expect.any(Number), source: expect.any(String), web_url: expect.stringContaining('/foo/bar/-/pipelines/') }),
    );
    expect(linkRel(list.headers.get('link'), 'next')).toBe(`${sim.url}/api/v4/projects/1/pipelines?id=1&order_by=id&page=2&per_page=20&sort=desc`);
    const bySha = await get(sim, `/api/v4/projects/1/pipelines?sha=${DOC_SHA}`);
    expect(bySha.body.map((p: Json) => p.id)).toEqual([6]);
    const failed = await get(sim, '/api/v4/projects/1/pipelines?status=failed&per_page=100');
    expect(failed.body.length).toBeGreaterThan(0);
    expect(failed.body.every((p: Json) => p.status === 'failed')).toBe(true);
    const tags = await get(sim, '/api/v4/projects/1/pipelines?scope=tags');
    expect(tags.body.length).toBeGreaterThan(0);
    expect((await get(sim, `/api/v4/projects/1/pipelines?ref=${tags.body[0].ref}`)).body[0].id).toBe(tags.body[0].id);
    const asc = await get(sim, '/api/v4/projects/1/pipelines?sort=asc&per_page=1');
    expect(asc.body[0].id).toBe(6);
    expect((await get(sim, '/api/v4/projects/1/pipelines?status=nope')).body).toEqual({ error: 'status does not have a valid value' });
    expect((await get(sim, '/api/v4/projects/1/pipelines?scope=nope')).status).toBe(400);
  });

  it('serves a pipeline\'s detail with user, timings and detailed_status', async () => {
    const response = await get(sim, '/api/v4/projects/1/pipelines/6');
    expect(response.body).toMatchObject({
      id: 6,
      iid: 1,
      project_id: 1,
      sha: DOC_SHA,
      ref: 'master',
      status: 'failed',
      source: 'push',
      tag: false,
      yaml_errors: null,
      user: { id: 1, username: 'root' },
      created_at: '2015-12-24T15:50:16.123Z',
      updated_at: '2015-12-24T18:00:44.432Z',
      detailed_status: { icon: 'status_failed', group: 'failed', details_path: '/foo/bar/-/pipelines/6' },
      web_url: `${sim.url}/foo/bar/-/pipelines/6`,
    });
    expect(response.body.duration).toEqual(expect.any(Number));
    expect(response.body).toHaveProperty('before_sha');
    expect(response.body).toHaveProperty('committed_at');
    expect(response.body).toHaveProperty('queued_duration');
    expect(response.body).toHaveProperty('coverage');
    expect(response.body).toHaveProperty('started_at');
    expect(response.body).toHaveProperty('finished_at');
    expect((await get(sim, '/api/v4/projects/1/pipelines/1')).body).toEqual({ message: '404 Not found' });
    expect((await get(sim, '/api/v4/projects/2/pipelines/1', 'glpat-root')).body.project_id).toBe(2);
  });

  it('serves a commit by sha, short sha or branch, with stats and status; 404 otherwise', async () => {
    const commit = await get(sim, `/api/v4/projects/1/repository/commits/${DOC_SHA}`);
    expect(commit.body).toMatchObject({
      id: DOC_SHA,
      short_id: '0ff3ae19',
      title: 'Test the CI integration.',
      message: 'Test the CI integration.',
      author_name: 'Administrator',
      author_email: 'admin@example.com',
      committer_name: 'Administrator',
      created_at: '2015-12-24T15:51:14.000Z',
      parent_ids: [],
      status: 'failed',
      project_id: 1,
      last_pipeline: { id: 6 },
      web_url: `${sim.url}/foo/bar/-/commit/${DOC_SHA}`,
    });
    expect(commit.body.stats).toEqual({ additions: expect.any(Number), deletions: expect.any(Number), total: expect.any(Number) });
    expect((await get(sim, '/api/v4/projects/1/repository/commits/0ff3ae19')).body.id).toBe(DOC_SHA);
    expect((await get(sim, '/api/v4/projects/1/repository/commits/master')).status).toBe(200);
    const missing = await get(sim, '/api/v4/projects/1/repository/commits/deadbeefdeadbeef');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ message: '404 Commit Not Found' });
  });

  it('serves users by id, and GitLab\'s 404 for an unknown one', async () => {
    expect((await get(sim, '/api/v4/users/1')).body).toMatchObject({
      id: 1,
      username: 'root',
      name: 'Administrator',
      state: 'active',
      avatar_url: 'http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon',
      web_url: `${sim.url}/root`,
      created_at: '2015-12-21T13:14:24.077Z',
      bio: null,
    });
    for (const username of ['alice', 'bob', 'carol', 'reporter', 'outsider']) {
      expect((await get(sim, `/api/v4/users?username=${username}`)).body[0].username).toBe(username);
    }
    const missing = await get(sim, '/api/v4/users/4242');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ message: '404 User Not Found' });
  });

  it('answers HEAD like GET without a body, and keeps connections alive', async () => {
    const head = await call(sim, 'HEAD', '/api/v4/projects/1/jobs/7');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(100);
    expect((await get(sim, '/api/v4/projects/1/jobs/7')).headers.get('connection')).toBe('keep-alive');
  });
});

describe('control endpoints', () => {
  it('counts API requests per method and route template, not control requests, and resets', async () => {
    expect((await post(sim, '/__sim/stats/reset')).body).toEqual({ total: 0, routes: {}, bytes: {}, faulted: 0 });
    await get(sim, '/api/v4/projects/1/jobs/7');
    await get(sim, '/api/v4/projects/1/jobs/8');
    await get(sim, '/api/v4/projects/foo%2Fbar/jobs/6');
    await get(sim, '/api/v4/projects/1/jobs?per_page=5');
    await get(sim, '/api/v4/projects/1/jobs/7/trace');
    await post(sim, '/api/v4/projects/1/jobs/7/retry');
    await get(sim, '/api/v4/does/not/exist');
    await get(sim, '/__sim/health');
    const stats = (await get(sim, '/__sim/stats')).body;
    expect(stats).toEqual({
      total: 7,
      routes: {
        'GET /api/v4/projects/:id/jobs/:job_id': 3,
        'GET /api/v4/projects/:id/jobs': 1,
        'GET /api/v4/projects/:id/jobs/:job_id/trace': 1,
        'POST /api/v4/projects/:id/jobs/:job_id/retry': 1,
        'GET (unmatched)': 1,
      },
      bytes: expect.any(Object),
      faulted: 0,
    });
    expect(Object.keys(stats.bytes).sort()).toEqual(Object.keys(stats.routes).sort());
    expect(sim.stats()).toEqual(stats);
    expect((await post(sim, '/__sim/stats/reset')).status).toBe(200);
    expect((await get(sim, '/__sim/stats')).body).toEqual({ total: 0, routes: {}, bytes: {}, faulted: 0 });
  });

  it('answers health with 200 and ticks on request', async () => {
    expect((await get(sim, '/__sim/health')).status).toBe(200);
    expect((await post(sim, '/__sim/tick')).status).toBe(204);
    expect((await post(sim, '/__sim/tick?count=0')).status).toBe(400);
  });
});

describe('options and scale', () => {
  it('rejects a bad option with an error that names it', async () => {
    await expect(startSimulator({ builds: 10 })).rejects.toBeInstanceOf(InvalidSimulatorOptionError);
    await expect(startSimulator({ tickMs: -1 })).rejects.toThrow(/tickMs/);
  });

  it('generates the same data from the same seed, and different data from another', async () => {
    const again = await startSimulator({ port: 0, tickMs: 3_600_000 });
    const other = await startSimulator({ port: 0, tickMs: 3_600_000, seed: 2 });
    try {
      const names = (s: Simulator): string => [...s.store.jobs.values()].filter((j) => j.id < 200).map((j) => `${j.id}:${j.name}:${j.status}`).join(',');
      expect(names(again)).toBe(names(sim));
      expect(names(other)).not.toBe(names(sim));
      expect((await get(other, '/api/v4/projects/1/jobs/7')).body.name).toBe('teaspoon');
    } finally {
      await Promise.all([again.close(), other.close()]);
    }
  });

  it('scales project 1 to 100000 jobs and still pages to the last one', async () => {
    const big = await startSimulator({ port: 0, tickMs: 3_600_000, builds: 100_000 });
    try {
      expect(big.store.projects.get(1)?.builds).toHaveLength(100_000);
      const last = await get(big, '/api/v4/projects/1/jobs?page=5000&per_page=20');
      expect(last.body).toHaveLength(20);
      expect(last.body[19].id).toBe(1);
      expect(last.headers.get('x-next-page')).toBe('');
      const beyond = await get(big, '/api/v4/projects/1/jobs?page=1001&per_page=100');
      expect(beyond.body).toEqual([]);
      const keyset = await get(big, '/api/v4/projects/1/jobs?pagination=keyset&per_page=100');
      const next = linkRel(keyset.headers.get('link'), 'next');
      expect(next).toBeDefined();
      const page2 = await get(big, next ?? '');
      expect(page2.body[0].id).toBeLessThan(keyset.body[99].id);
      expect((await get(big, '/api/v4/projects/1/jobs/50000')).body.id).toBe(50000);
      expect((await get(big, '/api/v4/projects/1/jobs?scope=running')).body.length).toBeGreaterThanOrEqual(3);
    } finally {
      await big.close();
    }
  });

  it('closes idempotently, with keep-alive connections open', async () => {
    const temp = await startSimulator({ port: 0 });
    await get(temp, '/api/v4/projects/1/jobs/7');
    await Promise.all([temp.close(), temp.close()]);
    await temp.close();
    await expect(fetch(`${temp.url}/__sim/health`)).rejects.toThrow();
  });
});
