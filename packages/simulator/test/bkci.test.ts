import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BKCI_TOKENS, BKCI_USERS, startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import { APIGW, DEMO, bk, buildPath, data, history, steps } from './helpers/sim-bkci.js';
import type { Json } from './helpers/sim-http.js';

// The timer never fires during the suite: the data only changes when a test asks for it.
let sim: Simulator;
let running: Json;
let failed: Json;
let finished: Json;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: 3_600_000 });
  const demo = await history(sim, 'p-demo');
  running = demo.find((b) => b.status === 'RUNNING');
  failed = demo.find((b) => b.status === 'FAILED');
  finished = demo.find((b) => b.status === 'SUCCEED');
});
afterAll(async () => {
  await sim.close();
});

const withoutClock = (value: Json): Json => JSON.parse(JSON.stringify(value, (k, v) => (k === 'currentTimestamp' ? undefined : v)));

describe('the Result wrapper and error bodies', () => {
  it('wraps a success as HTTP 200 {status: 0, message: null, data}', async () => {
    const response = await bk(sim, 'GET', `${DEMO}/pipelines`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(response.body)).toEqual(['status', 'message', 'data']);
    expect(response.body).toMatchObject({ status: 0, message: null });
    const page = response.body.data;
    expect(page).toMatchObject({ count: 4, page: 1, pageSize: 20, totalPages: 1 });
    expect(page.records.map((p: Json) => p.pipelineId)).toEqual(['p-demo', 'p-web', 'p-nightly', 'p-release']);
    expect(page.records[0]).toMatchObject({ projectId: 'demo', pipelineId: 'p-demo', pipelineName: 'demo-pipeline', canManualStartup: true, latestBuildStatus: 'RUNNING', latestBuildNum: 24, latestBuildId: running.id, creator: 'alice' });
    for (const key of ['pipelineDesc', 'taskCount', 'buildCount', 'latestBuildStartTime', 'latestBuildEndTime', 'deploymentTime', 'createTime', 'updateTime']) expect(page.records[0]).toHaveProperty(key);
  });

  it('pages the pipeline list with page and pageSize', async () => {
    const second = await data(sim, `${DEMO}/pipelines?page=2&pageSize=3`);
    expect(second).toMatchObject({ count: 4, page: 2, pageSize: 3, totalPages: 2 });
    expect(second.records.map((p: Json) => p.pipelineId)).toEqual(['p-release']);
  });

  it('serves one pipeline at …/pipelines/{pipelineId}/status with the list record shape', async () => {
    const list = await data(sim, `${DEMO}/pipelines`);
    const one = await data(sim, `${DEMO}/pipelines/p-web/status`);
    expect(withoutClock(one)).toEqual(withoutClock(list.records[1]));
  });

  it('answers errors with the HTTP status and {status: errorCode, message, data: null}', async () => {
    const noBuild = await bk(sim, 'GET', buildPath('p-demo', 'b-0123456789abcdef0123456789abcdef', '/status'));
    expect(noBuild.status).toBe(404);
    expect(noBuild.body).toEqual({ status: 2101163, message: '流水线构建[b-0123456789abcdef0123456789abcdef]不存在', data: null });
    const noPipeline = await bk(sim, 'GET', `${DEMO}/pipelines/p-nope/builds/history`);
    expect(noPipeline.status).toBe(404);
    expect(noPipeline.body).toEqual({ status: 2101164, message: '流水线[p-nope]不存在', data: null });
    // A build is only found under its own pipeline.
    expect((await bk(sim, 'GET', buildPath('p-web', running.id, '/status'))).body.status).toBe(2101163);
    const stop = await bk(sim, 'POST', buildPath('p-demo', finished.id, '/stop'));
    expect(stop.status).toBe(400);
    expect(stop.body).toMatchObject({ status: 2101179, data: null });
    expect(stop.body.message).toContain(finished.id);
  });

  it('refuses an unknown route under the apigw prefix with a wrapped 404', async () => {
    const response = await bk(sim, 'GET', `${DEMO}/pipelines/p-demo/nothing-here`);
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ status: 404, message: 'HTTP 404 Not Found', data: null });
  });

  it('requires start/end on logs/more and numbers where numbers go (400, status ≠ 0)', async () => {
    const missing = await bk(sim, 'GET', buildPath('p-demo', finished.id, '/logs/more?end=10'));
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ status: 2100001, data: null });
    const bad = await bk(sim, 'GET', `${DEMO}/pipelines/p-demo/builds/history?pageSize=lots`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 2100002, data: null });
  });
});

describe('the three apigw prefixes and the path filter', () => {
  it('serves apigw, apigw-user and apigw-app alike', async () => {
    const [a, u, p] = await Promise.all(
      ['apigw', 'apigw-user', 'apigw-app'].map((type) => data(sim, `/ms/openapi/api/${type}/v3/projects/demo/pipelines/p-demo/builds/${finished.id}/detail`)),
    );
    expect(withoutClock(u)).toEqual(withoutClock(a));
    expect(withoutClock(p)).toEqual(withoutClock(a));
  });

  it('answers any other /ms/openapi/api/<x>/ path with the plain-text 400 of ApiPathFilter', async () => {
    for (const path of ['/ms/openapi/api/op/v3/projects/demo/pipelines', '/ms/openapi/api/apigw-admin/v3/projects/demo/pipelines', '/ms/openapi/swagger.json']) {
      const response = await bk(sim, 'GET', path);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(response.text).toBe(`Devops OpenAPI Auth fail: path(${path}) illegal!`);
    }
  });
});

describe('auth', () => {
  const status = (): string => buildPath('p-demo', finished.id, '/status');

  it('exports its users and tokens', () => {
    expect(Object.keys(BKCI_USERS).sort()).toEqual(['admin', 'alice', 'mallory', 'viewer']);
    expect(BKCI_TOKENS).toEqual({ 'bk-admin-token': 'admin', 'bk-alice-token': 'alice', 'bk-viewer-token': 'viewer' });
  });

  it('refuses a call without any identity with a plain-text 400', async () => {
    const response = await bk(sim, 'GET', status(), { user: null });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(response.text).toBe('Request user is empty.');
  });

  it('takes the caller from ?access_token=, and refuses a bad one with a plain-text 400', async () => {
    expect((await bk(sim, 'GET', `${status()}?access_token=bk-alice-token`, { user: null })).status).toBe(200);
    const bad = await bk(sim, 'GET', `${status()}?access_token=nope`, { user: null });
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('Verification failed : token invalid');
    // The token's user wins over the header, as AccessTokenFilter rewrites X-DEVOPS-UID.
    const asViewer = await bk(sim, 'POST', buildPath('p-demo', running.id, '/stop') + '?access_token=bk-viewer-token', { user: 'admin' });
    expect(asViewer.status).toBe(403);
  });

  it('takes the caller from X-Bkapi-Authorization: an access token, or an app acting for bk_username', async () => {
    const header = (value: object) => ({ user: null, headers: { 'X-Bkapi-Authorization': JSON.stringify(value) } });
    expect((await bk(sim, 'GET', status(), header({ access_token: 'bk-viewer-token' }))).status).toBe(200);
    expect((await bk(sim, 'GET', status(), header({ access_token: 'bk-nope' }))).text).toBe('Verification failed : token invalid');
    const app = { bk_app_code: 'buildgate', bk_app_secret: 'buildgate-app-secret' };
    expect((await bk(sim, 'GET', status(), header({ ...app, bk_username: 'alice' }))).status).toBe(200);
    expect((await bk(sim, 'GET', status(), header({ ...app, bk_username: 'mallory' }))).status).toBe(403);
    const wrong = await bk(sim, 'GET', status(), header({ ...app, bk_app_secret: 'guess', bk_username: 'admin' }));
    expect(wrong.status).toBe(400);
    expect(wrong.text).toBe('Devops OpenAPI Auth fail：app auth fail.');
    expect((await bk(sim, 'GET', status(), { user: null, headers: { 'X-Bkapi-Authorization': 'not json' } })).status).toBe(400);
  });

  it('lets viewer read but not start, stop or retry (403 + permission code)', async () => {
    expect((await bk(sim, 'GET', status(), { user: 'viewer' })).status).toBe(200);
    for (const path of [`${DEMO}/pipelines/p-demo/builds/start`, buildPath('p-demo', running.id, '/stop'), buildPath('p-demo', failed.id, '/retry')]) {
      const response = await bk(sim, 'POST', path, { user: 'viewer' });
      expect(response.status, path).toBe(403);
      expect(response.body).toMatchObject({ status: 2119042, data: null });
      expect(response.body.message).toContain('viewer');
    }
    expect((await data(sim, buildPath('p-demo', running.id, '/status'))).status).toBe('RUNNING');
  });

  it('refuses mallory every read with 403, and alice a project she has no rights on', async () => {
    const reads = [
      `${DEMO}/pipelines`,
      `${DEMO}/pipelines/p-demo/status`,
      `${DEMO}/pipelines/p-demo/builds/history`,
      status(),
      buildPath('p-demo', finished.id, '/detail'),
      buildPath('p-demo', finished.id, '/logs/after?start=1'),
    ];
    for (const path of reads) {
      const response = await bk(sim, 'GET', path, { user: 'mallory' });
      expect(response.status, path).toBe(403);
      expect(response.body.status).toBe(2119042);
    }
    expect((await bk(sim, 'GET', `${APIGW}/projects/other/pipelines`)).status).toBe(403);
    // admin may read anything; a project without pipelines is an empty page.
    expect((await data(sim, `${APIGW}/projects/other/pipelines`, { user: 'admin' })).count).toBe(0);
  });
});

describe('the seeded data', () => {
  it('has at least 50 builds over four pipelines, numbered 1..N per pipeline, with b- ids', async () => {
    let total = 0;
    for (const id of ['p-demo', 'p-web', 'p-nightly', 'p-release']) {
      const records = await history(sim, id);
      expect(records.map((b) => b.buildNum)).toEqual(records.map((_, i) => records.length - i));
      for (const b of records) expect(b.id).toMatch(/^b-[0-9a-f]{32}$/);
      total += records.length;
    }
    expect(total).toBeGreaterThanOrEqual(50);
  });

  it('covers the statuses a client must map, a retried build, SKIP steps, and error lists on failures', async () => {
    const all = (await Promise.all(['p-demo', 'p-web', 'p-nightly', 'p-release'].map((id) => history(sim, id)))).flat();
    const statuses = new Set(all.map((b) => b.status));
    for (const s of ['SUCCEED', 'FAILED', 'CANCELED', 'RUNNING', 'REVIEWING', 'STAGE_SUCCESS', 'QUEUE']) expect(statuses).toContain(s);
    expect(all.filter((b) => b.status === 'RUNNING')).toHaveLength(1);
    expect(all.some((b) => b.executeCount === 2 && b.retry === true && b.status === 'FAILED')).toBe(true);
    expect(all.some((b) => b.executeCount === 2 && b.status === 'SUCCEED')).toBe(true);
    for (const b of all.filter((x) => x.status === 'FAILED')) {
      expect(b.errorInfoList.length, b.id).toBeGreaterThan(0);
      expect(b.errorInfoList[0]).toMatchObject({ taskId: expect.stringMatching(/^e-/), stageId: expect.stringMatching(/^s-/), atomCode: expect.any(String), errorCode: expect.any(Number) });
    }
    const skipped = await data(sim, buildPath('p-demo', all.find((b) => b.buildNum === 17 && b.executeCount === 2)?.id ?? '', '/detail'));
    expect(steps(skipped).some(({ element }) => element.status === 'SKIP')).toBe(true);
  });

  it('pages history newest first, pageSize capped at 100, updateTimeDesc by update time', async () => {
    const first = await data(sim, `${DEMO}/pipelines/p-demo/builds/history`);
    expect(first).toMatchObject({ count: 24, page: 1, pageSize: 20, totalPages: 2, hasDownloadPermission: true });
    expect(first.records.map((b: Json) => b.buildNum)).toEqual(Array.from({ length: 20 }, (_, i) => 24 - i));
    const second = await data(sim, `${DEMO}/pipelines/p-demo/builds/history?page=2`);
    expect(second.records.map((b: Json) => b.buildNum)).toEqual([4, 3, 2, 1]);
    expect((await data(sim, `${DEMO}/pipelines/p-demo/builds/history?page=9`)).records).toEqual([]);
    expect((await data(sim, `${DEMO}/pipelines/p-demo/builds/history?pageSize=500`)).pageSize).toBe(100);
    const byUpdate = (await data(sim, `${DEMO}/pipelines/p-web/builds/history?updateTimeDesc=true&pageSize=100`)).records.map((b: Json) => b.updateTime);
    expect(byUpdate).toEqual([...byUpdate].sort((a, b) => b - a));
    const record = first.records[0];
    for (const key of ['id', 'userId', 'trigger', 'buildNum', 'pipelineVersion', 'startTime', 'endTime', 'status', 'stageStatus', 'currentTimestamp', 'material', 'queueTime', 'totalTime', 'executeTime', 'artifactList', 'remark', 'buildParameters', 'startType', 'retry', 'errorInfoList', 'buildMsg', 'buildNumAlias', 'executeCount', 'updateTime']) {
      expect(record, key).toHaveProperty(key);
    }
  });

  it('agrees between status and detail for every build of a pipeline', async () => {
    for (const record of await history(sim, 'p-web')) {
      const status = await data(sim, buildPath('p-web', record.id, '/status'));
      const detail = await data(sim, buildPath('p-web', record.id, '/detail'));
      expect(status).toMatchObject({ id: record.id, buildNum: record.buildNum, status: record.status, executeCount: record.executeCount, startTime: record.startTime, endTime: record.endTime });
      expect(typeof status.variables).toBe('object');
      expect(detail).toMatchObject({ id: record.id, pipelineId: 'p-web', status: status.status, buildNum: status.buildNum, executeCount: status.executeCount, startTime: status.startTime, endTime: status.endTime, userId: status.userId });
      expect(detail.model.stages.map((s: Json) => [s.id, s.status])).toEqual(status.stageStatus.map((s: Json) => [s.stageId, s.status]));
      const failedSteps = steps(detail).filter(({ element }) => element.status === 'FAILED').map(({ element }) => element.id);
      expect(status.errorInfoList.map((e: Json) => e.taskId)).toEqual(failedSteps);
      for (const { stage, container, element } of steps(detail)) {
        expect(stage.id).toMatch(/^s-[0-9a-f]{32}$/);
        expect(container.containerHashId).toMatch(/^c-[0-9a-f]{32}$/);
        expect(element.id).toMatch(/^e-[0-9a-f]{32}$/);
        expect(typeof element.atomCode).toBe('string');
      }
      if (status.status === 'RUNNING' || status.status === 'QUEUE') expect(status.endTime).toBeNull();
      else expect(status.endTime).toBeGreaterThanOrEqual(status.startTime);
    }
  });

  it('is the same for the same seed', async () => {
    const twin = await startSimulator({ port: 0, tickMs: 3_600_000 });
    try {
      const ids = (s: Simulator): string[] => [...s.bkci.builds.values()].filter((b) => b.status !== 'RUNNING').map((b) => `${b.id}:${b.status}:${b.nextLine}`);
      expect(ids(twin)).toEqual(ids(sim));
    } finally {
      await twin.close();
    }
  });
});

describe('stats', () => {
  it('counts the bk-ci route templates, one key per prefix', async () => {
    sim.resetStats();
    await data(sim, buildPath('p-demo', finished.id, '/status'));
    await data(sim, buildPath('p-demo', finished.id, '/status'));
    await data(sim, `/ms/openapi/api/apigw-user/v3/projects/demo/pipelines/p-demo/builds/${finished.id}/logs/after?start=1`);
    await bk(sim, 'GET', '/ms/openapi/api/op/v3/x');
    const { routes, total } = sim.stats();
    expect(total).toBe(4);
    expect(routes['GET /ms/openapi/api/apigw/v3/projects/:projectId/pipelines/:pipelineId/builds/:buildId/status']).toBe(2);
    expect(routes['GET /ms/openapi/api/apigw-user/v3/projects/:projectId/pipelines/:pipelineId/builds/:buildId/logs/after']).toBe(1);
    expect(routes['GET (unmatched)']).toBe(1);
  });
});
