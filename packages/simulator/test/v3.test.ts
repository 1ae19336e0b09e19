import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidSimulatorOptionError, startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import { call, get, linkRel, post, walk } from './helpers/sim-http.js';
import type { Json } from './helpers/sim-http.js';

// A clock that never ticks on its own: the data stays exactly as generated while we read it.
const HOUR = 3_600_000;
const DOC_SHA = '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: HOUR });
});
afterAll(async () => {
  await sim.close();
});

const v3 = async (path: string, token?: string): Promise<Json> => (await get(sim, `/api/v3${path}`, token)).body;
const v4 = async (path: string, token?: string): Promise<Json> => (await get(sim, `/api/v4${path}`, token)).body;
const ids = (list: Json[]): number[] => list.map((j) => j.id as number);

/** The v4 view of exactly what a v3 build shows, so the two can be compared with one toEqual. */
function v4AsV3(job: Json): Json {
  const { id, status, stage, name, ref, tag, coverage, created_at, started_at, finished_at, user, commit, runner, pipeline } = job;
  return {
    id,
    status,
    stage,
    name,
    ref,
    tag,
    coverage,
    created_at,
    started_at,
    finished_at,
    user: { id: user.id, name: user.name, username: user.username, state: user.state, avatar_url: user.avatar_url, created_at: user.created_at },
    ...(job.artifacts_file ? { artifacts_file: job.artifacts_file } : {}),
    commit: (({ web_url: _w, trailers: _t, extended_trailers: _e, ...rest }) => rest)(commit),
    runner: runner && { id: runner.id, description: runner.description, active: runner.active, is_shared: runner.is_shared, name: runner.name },
    pipeline: { id: pipeline.id, sha: pipeline.sha, ref: pipeline.ref, status: pipeline.status },
  };
}

function v3Shared(build: Json): Json {
  const { download_url: _d, user, ...rest } = build;
  return { ...rest, user: { id: user.id, name: user.name, username: user.username, state: user.state, avatar_url: user.avatar_url, created_at: user.created_at } };
}

const V4_ONLY = ['duration', 'queued_duration', 'allow_failure', 'web_url', 'erased_at', 'failure_reason', 'artifacts', 'artifacts_expire_at', 'tag_list', 'project', 'archived', 'runner_manager'];

describe('one store behind v3 and v4', () => {
  it('shows a v3 build and the v4 job with the same id alike on every shared field', async () => {
    const page = await v3('/projects/1/builds?per_page=100');
    const running = page.find((b: Json) => b.status === 'running');
    const withArchive = page.find((b: Json) => b.artifacts_file);
    const targets = [6, 7, 8, running.id, withArchive.id, page[0].id];
    for (const id of targets) {
      const [build, job] = await Promise.all([v3(`/projects/1/builds/${id}`), v4(`/projects/1/jobs/${id}`)]);
      expect(v3Shared(build), `build ${id}`).toEqual(v4AsV3(job));
    }
    // Lists serve the same entity as the single build.
    const docBuilds = await v3(`/projects/1/builds/commit/${DOC_SHA}`);
    expect(docBuilds.find((b: Json) => b.id === 7)).toEqual(await v3('/projects/1/builds/7'));
    expect(page[0]).toEqual(await v3(`/projects/1/builds/${page[0].id}`));
  });

  it('lists exactly the builds v4 lists (no bridges), newest first', async () => {
    const [three, four] = await Promise.all([walk(sim, '/api/v3/projects/1/builds?per_page=100'), walk(sim, '/api/v4/projects/1/jobs?per_page=100')]);
    expect(ids(three.jobs)).toEqual(ids(four.jobs));
    expect(three.jobs).toHaveLength(240);
    const bridge = [...sim.store.jobs.values()].find((j) => j.kind === 'bridge' && j.project.id === 1);
    expect(bridge).toBeDefined();
    expect(ids(three.jobs)).not.toContain(bridge?.id);
    expect((await get(sim, `/api/v3/projects/1/builds/${bridge?.id}`)).body).toEqual({ message: '404 Not found' });
  });
});

describe('what a v3 client reads beside builds', () => {
  it('serves the project, a pipeline, a commit and a user under /api/v3 as v4 does (9.x mounted them for both)', async () => {
    for (const path of ['/projects/1', '/projects/foo%2Fbar', '/projects/1/pipelines/6', `/projects/1/repository/commits/${DOC_SHA}`, '/users/1']) {
      const [three, four] = await Promise.all([get(sim, `/api/v3${path}`), get(sim, `/api/v4${path}`)]);
      expect(three.status, path).toBe(200);
      expect(three.body, path).toEqual(four.body);
    }
    expect((await get(sim, '/api/v3/projects/2/pipelines/1')).body).toEqual({ message: '401 Unauthorized' });
    expect((await get(sim, '/api/v3/projects/1/repository/commits/deadbeefdead')).body).toEqual({ message: '404 Commit Not Found' });
    // Only those: the v4 jobs routes are not v3 routes.
    expect((await get(sim, '/api/v3/projects/1/jobs/7')).body).toEqual({ error: '404 Not Found' });
  });
});

describe('the v3 Build entity', () => {
  it('has the 9.x fields in order, 8.x download_url, and none of the v4-only fields', async () => {
    const seven = await v3('/projects/1/builds/7');
    expect(Object.keys(seven)).toEqual([
      'id', 'status', 'stage', 'name', 'ref', 'tag', 'coverage', 'created_at', 'started_at', 'finished_at',
      'user', 'download_url', 'artifacts_file', 'commit', 'runner', 'pipeline',
    ]);
    for (const field of V4_ONLY) expect(seven, field).not.toHaveProperty(field);
    expect(seven).toMatchObject({
      id: 7,
      name: 'teaspoon',
      status: 'failed',
      download_url: `${sim.url}/foo/bar/builds/7/artifacts/download`,
      artifacts_file: { filename: 'artifacts.zip', size: 1000 },
      runner: null,
      pipeline: { id: 6, sha: DOC_SHA, ref: 'master', status: 'failed' },
    });
    expect(Object.keys(seven.pipeline)).toEqual(['id', 'sha', 'ref', 'status']);
    const six = await v3('/projects/1/builds/6');
    expect(six.download_url).toBeNull();
    expect(six).not.toHaveProperty('artifacts_file');
  });

  it('embeds the 9.x user (is_admin, /u/ web_url), the git commit and the 9.x runner', async () => {
    const seven = await v3('/projects/1/builds/7');
    expect(seven.user).toEqual({
      id: 1,
      name: 'Administrator',
      username: 'root',
      state: 'active',
      avatar_url: 'http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon',
      web_url: `${sim.url}/u/root`,
      created_at: '2015-12-21T13:14:24.077Z',
      is_admin: true,
      bio: null,
      location: null,
      skype: '',
      linkedin: '',
      twitter: '',
      website_url: '',
      organization: '',
    });
    expect(seven.commit).toMatchObject({
      id: DOC_SHA,
      short_id: '0ff3ae19',
      title: 'Test the CI integration.',
      message: 'Test the CI integration.',
      author_name: 'Administrator',
      author_email: 'admin@example.com',
      created_at: '2015-12-24T15:51:14.000Z',
    });
    const ran = (await v3('/projects/1/builds?per_page=100')).find((b: Json) => b.runner !== null);
    expect(Object.keys(ran.runner)).toEqual(['id', 'description', 'active', 'is_shared', 'name']);
    expect((await v3('/projects/1/builds/8', 'glpat-developer')).user.is_admin).toBe(true);
    const alice = (await v3('/projects/1/builds?per_page=100')).find((b: Json) => b.user.username === 'alice');
    expect(alice.user).toMatchObject({ is_admin: false, web_url: `${sim.url}/u/alice` });
  });

  it('sends the whole log as text/plain with the infile disposition, the same bytes as v4', async () => {
    const [three, four] = await Promise.all([get(sim, '/api/v3/projects/1/builds/7/trace'), get(sim, '/api/v4/projects/1/jobs/7/trace')]);
    expect(three.status).toBe(200);
    expect(three.headers.get('content-type')).toBe('text/plain');
    expect(three.headers.get('content-disposition')).toBe('infile; filename="7.log"');
    expect(three.text).toBe(four.text);
    expect(three.text.length).toBeGreaterThan(100);
  });
});

describe('GET /api/v3/projects/:id/builds paging', () => {
  it('counts: X-Total, X-Total-Pages, X-Page, X-Per-Page, X-Next-Page, X-Prev-Page and Link with rel="last"', async () => {
    const first = await get(sim, '/api/v3/projects/1/builds');
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(20);
    expect(first.headers.get('x-total')).toBe('240');
    expect(first.headers.get('x-total-pages')).toBe('12');
    expect(first.headers.get('x-page')).toBe('1');
    expect(first.headers.get('x-per-page')).toBe('20');
    expect(first.headers.get('x-next-page')).toBe('2');
    expect(first.headers.get('x-prev-page')).toBe('');
    const link = first.headers.get('link');
    expect(linkRel(link, 'next')).toBe(`${sim.url}/api/v3/projects/1/builds?id=1&page=2&per_page=20`);
    expect(linkRel(link, 'first')).toBe(`${sim.url}/api/v3/projects/1/builds?id=1&page=1&per_page=20`);
    expect(linkRel(link, 'last')).toBe(`${sim.url}/api/v3/projects/1/builds?id=1&page=12&per_page=20`);
    expect(ids(first.body)).toEqual([...ids(first.body)].sort((a, b) => b - a));

    const last = await get(sim, '/api/v3/projects/1/builds?page=12');
    expect(last.headers.get('x-next-page')).toBe('');
    expect(last.headers.get('x-prev-page')).toBe('11');
    expect(last.body.at(-1).id).toBe(1);
    const beyond = await get(sim, '/api/v3/projects/1/builds?page=13');
    expect(beyond.body).toEqual([]);
    expect(beyond.headers.get('x-total')).toBe('240');
  });

  it('clamps per_page to 1…100 and rejects a non-number', async () => {
    const big = await get(sim, '/api/v3/projects/1/builds?per_page=500');
    expect(big.body).toHaveLength(100);
    expect(big.headers.get('x-per-page')).toBe('100');
    expect(big.headers.get('x-total-pages')).toBe('3');
    expect((await get(sim, '/api/v3/projects/1/builds?per_page=0')).body).toHaveLength(1);
    expect((await get(sim, '/api/v3/projects/1/builds?per_page=lots')).body).toEqual({ error: 'per_page is invalid' });
  });

  it('serves the project by URL-encoded path too', async () => {
    expect(ids(await v3('/projects/foo%2Fbar/builds?per_page=5'))).toEqual(ids(await v3('/projects/1/builds?per_page=5')));
  });
});

describe('scope, in both vocabularies', () => {
  const statusesOf = async (query: string): Promise<Set<string>> => new Set((await walk(sim, `/api/v3/projects/1/builds?per_page=100&${query}`)).jobs.map((j: Json) => j.status));
  const countOf = async (query: string): Promise<number> => Number((await get(sim, `/api/v3/projects/1/builds?per_page=1&${query}`)).headers.get('x-total'));

  it('filters by the 9.x words as a string, scope[] or scope[0], and counts the filtered total', async () => {
    expect(await statusesOf('scope=failed')).toEqual(new Set(['failed']));
    expect(await statusesOf('scope[]=success&scope[]=manual')).toEqual(new Set(['success', 'manual']));
    expect(await statusesOf('scope%5B0%5D=created&scope%5B1%5D=skipped')).toEqual(new Set(['created', 'skipped']));
    const failed = sim.store.projects.get(1)?.builds.filter((j) => j.status === 'failed').length;
    expect(await countOf('scope=failed')).toBe(failed);
    const paged = await get(sim, '/api/v3/projects/1/builds?scope=success&per_page=5');
    expect(linkRel(paged.headers.get('link'), 'next')).toBe(`${sim.url}/api/v3/projects/1/builds?id=1&page=2&per_page=5&scope%5B%5D=success`);
  });

  it('reads the 8.x words: all = everything, finished = success+failed+canceled, running = the status (9.x default)', async () => {
    expect(await countOf('scope=all')).toBe(240);
    expect(await countOf('scope[]=all&scope[]=failed')).toBe(240);
    expect(await statusesOf('scope=finished')).toEqual(new Set(['success', 'failed', 'canceled']));
    expect(await countOf('scope=finished')).toBe((await countOf('scope=success')) + (await countOf('scope=failed')) + (await countOf('scope=canceled')));
    expect(await statusesOf('scope=running')).toEqual(new Set(['running']));
  });

  it('answers 400 for an unknown word, in any form', async () => {
    for (const query of ['scope=done', 'scope[]=running&scope[]=nope', 'scope=running&scope[]=failed', 'scope=preparing', 'scope[]=']) {
      const response = await get(sim, `/api/v3/projects/1/builds?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body).toEqual({ error: 'scope does not have a valid value' });
    }
  });
});

describe('commit builds', () => {
  it('lists the builds of a sha at /repository/commits/:sha/builds and at /builds/commit/:sha alike', async () => {
    const nine = await get(sim, `/api/v3/projects/1/repository/commits/${DOC_SHA}/builds?per_page=100`);
    const eight = await get(sim, `/api/v3/projects/1/builds/commit/${DOC_SHA}?per_page=100`);
    expect(nine.status).toBe(200);
    expect(ids(nine.body)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(eight.body).toEqual(nine.body);
    expect(nine.headers.get('x-total')).toBe('10');
    const scoped = await get(sim, `/api/v3/projects/1/builds/commit/${DOC_SHA}?scope=failed&per_page=2`);
    expect(ids(scoped.body)).toEqual([8, 7]);
    expect(scoped.headers.get('x-total')).toBe('3');
    expect(scoped.headers.get('x-next-page')).toBe('2');
    expect(linkRel(scoped.headers.get('link'), 'next')).toBe(
      `${sim.url}/api/v3/projects/1/builds/commit/${DOC_SHA}?id=1&page=2&per_page=2&scope%5B%5D=failed&sha=${DOC_SHA}`,
    );
    const finished = await v3(`/projects/1/repository/commits/${DOC_SHA}/builds?scope=finished`);
    expect(ids(finished)).toEqual(ids(nine.body.filter((b: Json) => ['success', 'failed', 'canceled'].includes(b.status))));
  });

  it('gathers the builds of every pipeline of the sha (a branch and a tag sharing one commit)', async () => {
    const shared = [...(sim.store.projects.get(1)?.commits.values() ?? [])].find((c) => c.pipelines.length > 1);
    expect(shared).toBeDefined();
    const expected = shared?.pipelines.flatMap((p) => p.jobs.filter((j) => j.kind === 'build').map((j) => j.id)).sort((a, b) => b - a);
    const list = await v3(`/projects/1/repository/commits/${shared?.sha}/builds?per_page=100`);
    expect(ids(list)).toEqual(expected);
    expect(new Set(list.map((b: Json) => b.pipeline.id)).size).toBe(shared?.pipelines.length);
  });

  it('answers 404 Commit Not Found for an unknown sha on both paths, and 9.x\'s empty list for a ref name', async () => {
    for (const path of ['/repository/commits/deadbeefdeadbeef/builds', '/builds/commit/deadbeefdeadbeef', '/builds/commit/0ff3ae19', '/builds/commit/master']) {
      const response = await get(sim, `/api/v3/projects/1${path}`);
      expect(response.status, path).toBe(404);
      expect(response.body).toEqual({ message: '404 Commit Not Found' });
    }
    // 9.x resolved the commit (a branch or short sha exists) but matched pipelines on the exact sha.
    const byRef = await get(sim, '/api/v3/projects/1/repository/commits/master/builds');
    expect(byRef.status).toBe(200);
    expect(byRef.body).toEqual([]);
    expect(byRef.headers.get('x-total')).toBe('0');
    expect((await get(sim, '/api/v3/projects/999/builds/commit/abc')).body).toEqual({ message: '404 Project Not Found' });
  });
});

describe('the two commit shapes', () => {
  it('switches to the early 8.x CI commit with POST /__sim/config and back, on single builds and lists', async () => {
    expect((await get(sim, '/__sim/config')).body).toMatchObject({ v3CommitShape: 'repo-commit' });
    const before = await v3('/projects/1/builds/7');
    const switched = await call(sim, 'POST', '/__sim/config', { body: { v3CommitShape: 'ci-commit' } });
    try {
      expect(switched.status).toBe(200);
      expect(switched.body).toMatchObject({ v3CommitShape: 'ci-commit' });
      const seven = await v3('/projects/1/builds/7');
      expect(seven.commit).toEqual({ id: 6, sha: DOC_SHA, ref: null, committed_at: '2015-12-24T15:51:14.000Z' });
      expect(typeof seven.commit.id).toBe('number');
      expect({ ...seven, commit: undefined }).toEqual({ ...before, commit: undefined });
      const list = await v3(`/projects/1/builds/commit/${DOC_SHA}?per_page=3`);
      expect(list.map((b: Json) => b.commit)).toEqual(Array(3).fill(seven.commit));
      // v4 is not affected.
      expect((await v4('/projects/1/jobs/7')).commit.id).toBe(DOC_SHA);
    } finally {
      await call(sim, 'POST', '/__sim/config', { body: { v3CommitShape: 'repo-commit' } });
    }
    expect(await v3('/projects/1/builds/7')).toEqual(before);
  });

  it('in the 8.x shape, scope=running means running or pending, as 8.x\'s running_or_pending', async () => {
    const nineRunning = (await walk(sim, '/api/v3/projects/1/builds?scope=running&per_page=100')).jobs;
    const pending = (await walk(sim, '/api/v3/projects/1/builds?scope=pending&per_page=100')).jobs;
    await call(sim, 'POST', '/__sim/config', { body: { v3CommitShape: 'ci-commit' } });
    try {
      const eightRunning = (await walk(sim, '/api/v3/projects/1/builds?scope=running&per_page=100')).jobs;
      expect(new Set(eightRunning.map((b: Json) => b.status))).toEqual(new Set(['running', 'pending']));
      expect(ids(eightRunning)).toEqual([...ids(nineRunning), ...ids(pending)].sort((a, b) => b - a));
    } finally {
      await call(sim, 'POST', '/__sim/config', { body: { v3CommitShape: 'repo-commit' } });
    }
  });

  it('refuses an unknown shape or setting with 400 and changes nothing; control requests are not counted', async () => {
    sim.resetStats();
    for (const body of [{ v3CommitShape: 'sha' }, { v3CommitShape: 'ci-commit', colour: 'red' }]) {
      const response = await call(sim, 'POST', '/__sim/config', { body });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatch(/ does not have a valid value$/);
    }
    expect((await get(sim, '/__sim/config')).body).toMatchObject({ v3CommitShape: 'repo-commit' });
    expect(sim.stats()).toEqual({ total: 0, routes: {}, bytes: {}, faulted: 0 });
  });

  it('starts in the 8.x shape with the v3CommitShape option, and rejects a bad one naming it', async () => {
    const old = await startSimulator({ port: 0, tickMs: HOUR, v3CommitShape: 'ci-commit' });
    try {
      expect(old.options.v3CommitShape).toBe('ci-commit');
      expect((await get(old, '/api/v3/projects/1/builds/8')).body.commit).toMatchObject({ id: 6, sha: DOC_SHA });
    } finally {
      await old.close();
    }
    expect(sim.options.v3CommitShape).toBe('repo-commit');
    // @ts-expect-error: not a shape
    await expect(startSimulator({ v3CommitShape: 'git' })).rejects.toBeInstanceOf(InvalidSimulatorOptionError);
    // @ts-expect-error: not a shape
    await expect(startSimulator({ v3CommitShape: 'git' })).rejects.toThrow(/v3CommitShape/);
  });
});

describe('stats', () => {
  it('counts v3 requests by route template', async () => {
    await post(sim, '/__sim/stats/reset');
    await get(sim, '/api/v3/projects/1/builds');
    await get(sim, '/api/v3/projects/foo%2Fbar/builds?scope=failed');
    await get(sim, '/api/v3/projects/1/builds/7');
    await get(sim, '/api/v3/projects/1/builds/7/trace');
    await get(sim, `/api/v3/projects/1/repository/commits/${DOC_SHA}/builds`);
    await get(sim, `/api/v3/projects/1/builds/commit/${DOC_SHA}`);
    await post(sim, '/api/v3/projects/1/builds/7/retry');
    await get(sim, '/api/v3/projects/1/builds/abc');
    await get(sim, '/api/v3/projects/1/pipelines/6');
    expect(sim.stats()).toEqual({
      total: 9,
      routes: {
        'GET /api/v3/projects/:id/builds': 2,
        'GET /api/v3/projects/:id/builds/:build_id': 1,
        'GET /api/v3/projects/:id/builds/:build_id/trace': 1,
        'GET /api/v3/projects/:id/repository/commits/:sha/builds': 1,
        'GET /api/v3/projects/:id/builds/commit/:sha': 1,
        'POST /api/v3/projects/:id/builds/:build_id/retry': 1,
        'GET (unmatched)': 1,
        'GET /api/v3/projects/:id/pipelines/:pipeline_id': 1,
      },
      bytes: expect.any(Object),
      faulted: 0,
    });
  });
});
