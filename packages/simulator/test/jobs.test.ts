import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_STATUSES, startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import { get, linkRel, walk } from './helpers/sim-http.js';
import type { Json } from './helpers/sim-http.js';
import { jobSchemaErrors } from './helpers/sim-schemas.js';

// A clock that never ticks on its own: the data stays exactly as generated while we read it.
const HOUR = 3_600_000;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: HOUR });
});
afterAll(async () => {
  await sim.close();
});

describe('GET /projects/:id/jobs (offset)', () => {
  it('serves every job of project 1, id descending, each valid against GitLab job.json', async () => {
    const { jobs } = await walk(sim, '/api/v4/projects/1/jobs?per_page=100');
    expect(jobs).toHaveLength(240);
    const ids = jobs.map((j: Json) => j.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(ids.length);
    expect(jobs.flatMap((j: Json) => jobSchemaErrors(j))).toEqual([]);
  });

  it('has a schema check that catches an unknown property and a misplaced failure_reason', async () => {
    const job = (await get(sim, '/api/v4/projects/1/jobs/9')).body;
    expect(jobSchemaErrors(job)).toEqual([]);
    expect(jobSchemaErrors({ ...job, surprise: true })).not.toEqual([]);
    expect(jobSchemaErrors({ ...job, failure_reason: 'script_failure' })).not.toEqual([]);
    expect(jobSchemaErrors({ ...job, created_at: '2015-12-24T15:51:21+01:00' })).not.toEqual([]);
  });

  it('holds all 13 job statuses, several failed (with failure_reason) and several manual', async () => {
    const { jobs } = await walk(sim, '/api/v4/projects/1/jobs?per_page=100');
    const statuses = new Set(jobs.map((j: Json) => j.status));
    expect([...statuses].sort()).toEqual([...JOB_STATUSES].sort());
    const failed = jobs.filter((j: Json) => j.status === 'failed');
    expect(failed.length).toBeGreaterThanOrEqual(5);
    expect(failed.every((j: Json) => j.failure_reason === 'script_failure')).toBe(true);
    expect(jobs.filter((j: Json) => j.status === 'manual').length).toBeGreaterThanOrEqual(3);
    expect(jobs.filter((j: Json) => j.status === 'running').length).toBeGreaterThanOrEqual(3);
    expect(jobs.some((j: Json) => j.artifacts_file && j.artifacts.length > 0)).toBe(true);
    expect(jobs.some((j: Json) => j.runner !== null)).toBe(true);
    expect(jobs.some((j: Json) => j.tag === true)).toBe(true);
    expect(new Set(jobs.map((j: Json) => j.ref)).size).toBeGreaterThan(2);
  });

  it('serves the documented jobs 6, 7 and 8 of pipeline 6 as doc/api/jobs.md shows them', async () => {
    const [six, seven, eight] = await Promise.all([6, 7, 8].map(async (id) => (await get(sim, `/api/v4/projects/1/jobs/${id}`)).body));
    for (const job of [six, seven, eight]) {
      expect(job).toMatchObject({
        stage: 'test',
        ref: 'master',
        status: 'failed',
        tag: false,
        coverage: null,
        allow_failure: false,
        runner: null,
        user: { id: 1, username: 'root', name: 'Administrator', state: 'active' },
        commit: {
          id: '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd',
          short_id: '0ff3ae19',
          title: 'Test the CI integration.',
          message: 'Test the CI integration.',
          author_name: 'Administrator',
          author_email: 'admin@example.com',
        },
        pipeline: { id: 6, project_id: 1, ref: 'master', sha: '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd' },
      });
      expect(job.user.avatar_url).toBe('http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon');
      expect(job.web_url).toBe(`${sim.url}/foo/bar/-/jobs/${job.id}`);
    }
    expect(six).toMatchObject({ id: 6, name: 'rspec:other', created_at: '2015-12-24T15:51:21.727Z', started_at: '2015-12-24T17:54:24.729Z', finished_at: '2015-12-24T17:54:24.921Z', duration: 0.192, artifacts: [] });
    expect(seven).toMatchObject({
      id: 7,
      name: 'teaspoon',
      created_at: '2015-12-24T15:51:21.802Z',
      started_at: '2015-12-24T17:54:27.722Z',
      finished_at: '2015-12-24T17:54:27.895Z',
      duration: 0.173,
      artifacts_file: { filename: 'artifacts.zip', size: 1000 },
      artifacts: [
        { file_type: 'archive', size: 1000, filename: 'artifacts.zip', file_format: 'zip' },
        { file_type: 'metadata', size: 186, filename: 'metadata.gz', file_format: 'gzip' },
        { file_type: 'trace', size: 1500, filename: 'job.log', file_format: 'raw' },
        { file_type: 'junit', size: 750, filename: 'junit.xml.gz', file_format: 'gzip' },
      ],
      artifacts_expire_at: '2016-01-23T17:54:27.895Z',
      tag_list: ['docker runner', 'ubuntu18'],
    });
    expect(eight).toMatchObject({ id: 8, name: 'rubocop', created_at: '2015-12-24T15:51:21.880Z', duration: 0.465, tag_list: ['docker runner', 'macos-10.15'] });
    expect(six).not.toHaveProperty('artifacts_file');
  });

  it('pages with X-Page/X-Per-Page/X-Next-Page/X-Prev-Page and Link, but no X-Total', async () => {
    const first = await get(sim, '/api/v4/projects/1/jobs');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json');
    expect(first.body).toHaveLength(20);
    expect(first.headers.get('x-page')).toBe('1');
    expect(first.headers.get('x-per-page')).toBe('20');
    expect(first.headers.get('x-next-page')).toBe('2');
    expect(first.headers.get('x-prev-page')).toBe('');
    expect(first.headers.has('x-total')).toBe(false);
    expect(first.headers.has('x-total-pages')).toBe(false);
    const link = first.headers.get('link');
    expect(linkRel(link, 'next')).toBe(`${sim.url}/api/v4/projects/1/jobs?id=1&page=2&per_page=20`);
    expect(linkRel(link, 'first')).toBe(`${sim.url}/api/v4/projects/1/jobs?id=1&page=1&per_page=20`);
    expect(linkRel(link, 'prev')).toBeUndefined();
    expect(linkRel(link, 'last')).toBeUndefined();

    const second = await get(sim, '/api/v4/projects/1/jobs?page=2');
    expect(second.headers.get('x-prev-page')).toBe('1');
    expect(linkRel(second.headers.get('link'), 'prev')).toBe(`${sim.url}/api/v4/projects/1/jobs?id=1&page=1&per_page=20`);
    expect(second.body[0].id).toBe(first.body[19].id - 1);

    const last = await get(sim, '/api/v4/projects/1/jobs?page=12');
    expect(last.body).toHaveLength(20);
    expect(last.headers.get('x-next-page')).toBe('');
    expect(linkRel(last.headers.get('link'), 'next')).toBeUndefined();
    expect((await get(sim, '/api/v4/projects/1/jobs?page=13')).body).toEqual([]);
  });

  it('clamps per_page silently to 100 at the top and 1 at the bottom, and rejects a non-number', async () => {
    const big = await get(sim, '/api/v4/projects/1/jobs?per_page=500');
    expect(big.body).toHaveLength(100);
    expect(big.headers.get('x-per-page')).toBe('100');
    expect(linkRel(big.headers.get('link'), 'next')).toContain('per_page=100');
    const small = await get(sim, '/api/v4/projects/1/jobs?per_page=0');
    expect(small.body).toHaveLength(1);
    expect(small.headers.get('x-per-page')).toBe('1');
    const bad = await get(sim, '/api/v4/projects/1/jobs?per_page=many');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: 'per_page is invalid' });
  });

  it('filters by scope given as a string, as scope[] or as scope[0], and repeats it Rails-style in Link', async () => {
    const asString = await get(sim, '/api/v4/projects/1/jobs?scope=failed&per_page=100');
    expect(asString.body.length).toBeGreaterThan(0);
    expect(asString.body.every((j: Json) => j.status === 'failed')).toBe(true);
    const asArray = await get(sim, '/api/v4/projects/1/jobs?scope[]=failed&scope[]=manual&per_page=100');
    expect(new Set(asArray.body.map((j: Json) => j.status))).toEqual(new Set(['failed', 'manual']));
    const asHash = await get(sim, '/api/v4/projects/1/jobs?scope%5B0%5D=failed&scope%5B1%5D=manual&per_page=100');
    expect(asHash.body.map((j: Json) => j.id)).toEqual(asArray.body.map((j: Json) => j.id));
    // A repeated plain `scope=` keeps only the last value (Rack), the classic client bug.
    const repeated = await get(sim, '/api/v4/projects/1/jobs?scope=failed&scope=manual&per_page=100');
    expect(new Set(repeated.body.map((j: Json) => j.status))).toEqual(new Set(['manual']));
    const paged = await get(sim, '/api/v4/projects/1/jobs?scope=success&per_page=5');
    expect(linkRel(paged.headers.get('link'), 'next')).toBe(`${sim.url}/api/v4/projects/1/jobs?id=1&page=2&per_page=5&scope%5B%5D=success`);
  });

  it('answers 400 for an unknown scope value', async () => {
    for (const query of ['scope=done', 'scope[]=running&scope[]=nope', 'scope=running&scope[]=failed']) {
      const response = await get(sim, `/api/v4/projects/1/jobs?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body).toEqual({ error: 'scope does not have a valid value' });
    }
  });
});

describe('GET /projects/:id/jobs (keyset)', () => {
  it('walks every job once through Link rel="next" cursors, with no X-Page headers', async () => {
    const first = await get(sim, '/api/v4/projects/1/jobs?pagination=keyset&per_page=50&order_by=id&sort=desc');
    expect(first.headers.has('x-page')).toBe(false);
    expect(first.headers.has('x-next-page')).toBe(false);
    expect(first.headers.has('x-total')).toBe(false);
    const next = linkRel(first.headers.get('link'), 'next');
    expect(next).toMatch(/[?&]cursor=[A-Za-z0-9_-]+/);
    expect(next).toContain('pagination=keyset');
    const { jobs, requests } = await walk(sim, '/api/v4/projects/1/jobs?pagination=keyset&per_page=50&order_by=id&sort=desc');
    expect(requests).toBe(5);
    const ids = jobs.map((j: Json) => j.id as number);
    expect(ids).toHaveLength(240);
    expect(new Set(ids).size).toBe(240);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('combines keyset with scope, and defaults order_by/sort', async () => {
    const { jobs } = await walk(sim, '/api/v4/projects/1/jobs?pagination=keyset&per_page=3&scope[]=success');
    const offset = await walk(sim, '/api/v4/projects/1/jobs?scope[]=success&per_page=100');
    expect(jobs.map((j: Json) => j.id)).toEqual(offset.jobs.map((j: Json) => j.id));
  });

  it('refuses sort=asc and other orders with 405, and a garbled cursor with 400', async () => {
    const asc = await get(sim, '/api/v4/projects/1/jobs?pagination=keyset&order_by=id&sort=asc');
    expect(asc.status).toBe(405);
    expect(asc.body).toEqual({ error: 'Keyset pagination is not yet available for this type of request' });
    expect((await get(sim, '/api/v4/projects/1/jobs?pagination=keyset&order_by=name')).status).toBe(405);
    expect((await get(sim, '/api/v4/projects/1/jobs?pagination=keyset&cursor=%25%25%25')).status).toBe(400);
  });
});

describe('single jobs, projects by path, and not-found replies', () => {
  it('serves a job by numeric project id and by URL-encoded path alike', async () => {
    const byId = await get(sim, '/api/v4/projects/1/jobs/7');
    const byPath = await get(sim, '/api/v4/projects/foo%2Fbar/jobs/7');
    expect(byPath.status).toBe(200);
    expect(byPath.body).toEqual(byId.body);
    expect(jobSchemaErrors(byId.body)).toEqual([]);
    expect((await get(sim, '/api/v4/projects/FOO%2Fbar/jobs/7')).status).toBe(200);
    expect((await get(sim, '/api/v4/projects/foo%2Fbar/jobs?per_page=2')).body).toHaveLength(2);
  });

  it('does not match an unencoded slash in the project id (404 route not found)', async () => {
    const response = await get(sim, '/api/v4/projects/foo/bar/jobs/7');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: '404 Not Found' });
  });

  it('answers GitLab\'s 404 bodies for unknown projects, jobs, routes and non-numeric job ids', async () => {
    expect((await get(sim, '/api/v4/projects/999/jobs')).body).toEqual({ message: '404 Project Not Found' });
    expect((await get(sim, '/api/v4/projects/nope%2Fnope/jobs/7')).body).toEqual({ message: '404 Project Not Found' });
    const job = await get(sim, '/api/v4/projects/1/jobs/999999');
    expect(job.status).toBe(404);
    expect(job.body).toEqual({ message: '404 Not found' });
    expect((await get(sim, '/api/v4/projects/1/jobs/abc')).body).toEqual({ error: '404 Not Found' });
    expect((await get(sim, '/api/v4/nothing/here')).body).toEqual({ error: '404 Not Found' });
    // A job of another project is not found through this one.
    const acmeJob = sim.store.projects.get(2)?.builds[0]?.id;
    expect((await get(sim, `/api/v4/projects/1/jobs/${acmeJob}`, 'glpat-root')).status).toBe(404);
  });

  it('sends the whole log as text/plain with the infile disposition, ANSI, sections and UTF-8', async () => {
    const trace = await get(sim, '/api/v4/projects/1/jobs/7/trace');
    expect(trace.status).toBe(200);
    expect(trace.headers.get('content-type')).toBe('text/plain');
    expect(trace.headers.get('content-disposition')).toBe('infile; filename="7.log"');
    expect(trace.text).toMatch(/\u001b\[0Ksection_start:\d+:prepare_executor\r\u001b\[0K/);
    expect(trace.text).toMatch(/section_start:\d+:get_sources\[collapsed=true\]/);
    expect(trace.text).toMatch(/\u001b\[0Ksection_end:\d+:step_script\r\u001b\[0K/);
    expect(trace.text).toContain('\u001b[32;1m');
    expect(trace.text).toMatch(/[✓→é]/);
    expect(trace.text.endsWith('ERROR: Job failed: exit code 1\u001b[0;m\n')).toBe(true);
    expect(Number(trace.headers.get('content-length'))).toBe(Buffer.byteLength(trace.text));
    expect((await get(sim, '/api/v4/projects/1/jobs/7/trace')).text).toBe(trace.text);
  });

  it('sends 200 with an empty body for a job without a log', async () => {
    const created = sim.store.projects.get(1)?.builds.find((j) => j.status === 'created');
    const trace = await get(sim, `/api/v4/projects/1/jobs/${created?.id}/trace`);
    expect(trace.status).toBe(200);
    expect(trace.text).toBe('');
  });
});

describe('pipeline jobs and bridges', () => {
  it('lists a pipeline\'s jobs newest first with X-Total and X-Total-Pages', async () => {
    const response = await get(sim, '/api/v4/projects/1/pipelines/6/jobs?per_page=4');
    expect(response.headers.get('x-total')).toBe('10');
    expect(response.headers.get('x-total-pages')).toBe('3');
    expect(response.body.map((j: Json) => j.id)).toEqual([10, 9, 8, 7]);
    expect(linkRel(response.headers.get('link'), 'last')).toBe(
      `${sim.url}/api/v4/projects/1/pipelines/6/jobs?id=1&include_retried=false&page=3&per_page=4&pipeline_id=6`,
    );
    expect(response.body.flatMap((j: Json) => jobSchemaErrors(j))).toEqual([]);
    const scoped = await get(sim, '/api/v4/projects/1/pipelines/6/jobs?scope[]=failed');
    expect(scoped.body.map((j: Json) => j.id)).toEqual([8, 7, 6]);
    expect((await get(sim, '/api/v4/projects/1/pipelines/6/jobs?scope=bogus')).status).toBe(400);
    expect((await get(sim, '/api/v4/projects/1/pipelines/424242/jobs')).body).toEqual({ message: '404 Not found' });
  });

  it('hides retried jobs unless include_retried=true', async () => {
    const retried = sim.store.projects.get(1)?.builds.find((j) => j.retried);
    expect(retried).toBeDefined();
    const pipelineId = retried?.pipeline.id;
    const latest = await get(sim, `/api/v4/projects/1/pipelines/${pipelineId}/jobs?per_page=100`);
    const all = await get(sim, `/api/v4/projects/1/pipelines/${pipelineId}/jobs?per_page=100&include_retried=true`);
    expect(latest.body.map((j: Json) => j.id)).not.toContain(retried?.id);
    expect(all.body.map((j: Json) => j.id)).toContain(retried?.id);
    expect(Number(all.headers.get('x-total'))).toBe(Number(latest.headers.get('x-total')) + 1);
    // The project's job list shows retried jobs too, as GitLab's does.
    expect((await get(sim, `/api/v4/projects/1/jobs/${retried?.id}`)).status).toBe(200);
  });

  it('lists bridges with downstream_pipeline, and keeps them out of the jobs lists', async () => {
    const bridge = [...sim.store.jobs.values()].find((j) => j.kind === 'bridge' && j.downstream !== null);
    expect(bridge).toBeDefined();
    const response = await get(sim, `/api/v4/projects/1/pipelines/${bridge?.pipeline.id}/bridges`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-total')).toBe('1');
    const [entity] = response.body;
    expect(entity).toMatchObject({ id: bridge?.id, name: 'deploy:downstream', stage: 'deploy', downstream_pipeline: { project_id: 2 } });
    expect(entity).not.toHaveProperty('artifacts');
    const jobs = await get(sim, `/api/v4/projects/1/pipelines/${bridge?.pipeline.id}/jobs?per_page=100`);
    expect(jobs.body.map((j: Json) => j.id)).not.toContain(bridge?.id);
    expect((await get(sim, `/api/v4/projects/1/jobs/${bridge?.id}`)).status).toBe(404);
  });
});
