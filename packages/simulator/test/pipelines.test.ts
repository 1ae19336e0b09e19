import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import { get, linkRel } from './helpers/sim-http.js';
import type { Json } from './helpers/sim-http.js';
import { pipelineDetailSchemaErrors, pipelineListSchemaErrors } from './helpers/sim-pipeline-schemas.js';

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: 3_600_000 });
});
afterAll(async () => {
  await sim.close();
});

const count = () => sim.store.projects.get(1)!.pipelines.length;

describe('v4 pipelines list, as GitLab documents it', () => {
  it('matches GitLab\'s pipelines.json and, one by one, pipeline/detail.json', async () => {
    const list = await get(sim, '/api/v4/projects/1/pipelines?per_page=100');
    expect(list.status).toBe(200);
    expect(pipelineListSchemaErrors(list.body)).toEqual([]);
    // The schemas bite: a pipeline without `web_url`, or with a detailed status GitLab never sends, fails.
    const { web_url: _url, ...bare } = (list.body as Json[])[0];
    expect(pipelineListSchemaErrors([bare])).not.toEqual([]);
    const one = (await get(sim, `/api/v4/projects/1/pipelines/${bare.id}`)).body as Json;
    expect(pipelineDetailSchemaErrors({ ...one, detailed_status: { ...one.detailed_status, extra: 1 } })).not.toEqual([]);
    for (const p of (list.body as Json[]).slice(0, 10)) {
      const one = await get(sim, `/api/v4/projects/1/pipelines/${p.id}`);
      expect(pipelineDetailSchemaErrors(one.body)).toEqual([]);
    }
  });

  it('pages by offset with X-Page, X-Next-Page, X-Prev-Page, X-Total and Link rel="next"/"prev"', async () => {
    const first = await get(sim, '/api/v4/projects/1/pipelines?per_page=5&order_by=id&sort=desc');
    expect(first.headers.get('x-page')).toBe('1');
    expect(first.headers.get('x-per-page')).toBe('5');
    expect(first.headers.get('x-next-page')).toBe('2');
    expect(first.headers.get('x-prev-page')).toBe('');
    expect(first.headers.get('x-total')).toBe(String(count()));
    const next = linkRel(first.headers.get('link'), 'next')!;
    expect(new URL(next).searchParams.get('page')).toBe('2');
    const second = await get(sim, next);
    expect(second.headers.get('x-prev-page')).toBe('1');
    expect(linkRel(second.headers.get('link'), 'prev')).toBeDefined();
    const ids = [...(first.body as Json[]), ...(second.body as Json[])].map((p) => p.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('filters by status, ref, source and sha, and refuses an unknown status', async () => {
    const all = (await get(sim, '/api/v4/projects/1/pipelines?per_page=100')).body as Json[];
    const sample = all[0]!;
    for (const [param, value] of [['status', sample.status], ['ref', sample.ref], ['source', sample.source], ['sha', sample.sha]]) {
      const filtered = (await get(sim, `/api/v4/projects/1/pipelines?per_page=100&${param}=${encodeURIComponent(value)}`)).body as Json[];
      expect(filtered.length).toBeGreaterThan(0);
      expect(filtered.every((p) => p[param] === value)).toBe(true);
      expect(filtered).toEqual(all.filter((p) => p[param] === value).slice(0, filtered.length));
    }
    expect((await get(sim, '/api/v4/projects/1/pipelines?status=bogus')).status).toBe(400);
  });
});

describe('v3 pipelines list (GitLab 8.11+, lib/api/v3/pipelines.rb)', () => {
  it('serves the v3 entity, newest first, counted, with the same ids as v4', async () => {
    const v3 = await get(sim, '/api/v3/projects/1/pipelines?per_page=5');
    const v4 = await get(sim, '/api/v4/projects/1/pipelines?per_page=5');
    expect(v3.status).toBe(200);
    expect((v3.body as Json[]).map((p) => p.id)).toEqual((v4.body as Json[]).map((p) => p.id));
    expect(v3.headers.get('x-total')).toBe(String(count()));
    expect(v3.headers.get('x-next-page')).toBe('2');
    const keys = Object.keys((v3.body as Json[])[0]).sort();
    expect(keys).toEqual(
      ['before_sha', 'committed_at', 'coverage', 'created_at', 'duration', 'finished_at', 'id', 'ref', 'sha', 'started_at', 'status', 'tag', 'updated_at', 'user', 'yaml_errors'].sort(),
    );
  });

  it('takes scope running, branches or tags only, and ignores v4\'s filters', async () => {
    const running = (await get(sim, '/api/v3/projects/1/pipelines?scope=running&per_page=100')).body as Json[];
    expect(running.every((p) => p.status === 'running')).toBe(true);
    const tags = (await get(sim, '/api/v3/projects/1/pipelines?scope=tags&per_page=100')).body as Json[];
    expect(tags.every((p) => p.tag === true)).toBe(true);
    expect((await get(sim, '/api/v3/projects/1/pipelines?scope=finished')).status).toBe(400);
    const unfiltered = await get(sim, '/api/v3/projects/1/pipelines?per_page=100');
    const withStatus = await get(sim, '/api/v3/projects/1/pipelines?per_page=100&status=success&ref=nope');
    expect(withStatus.body).toEqual(unfiltered.body);
  });

  it('answers 404 for an unknown project, as v3 did', async () => {
    expect((await get(sim, '/api/v3/projects/999/pipelines')).status).toBe(404);
  });
});
