import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import { DEMO, bk, buildPath, data, history, steps } from './helpers/sim-bkci.js';
import type { Json } from './helpers/sim-http.js';
import { post } from './helpers/sim-http.js';

// The timer never fires during the suite; every tick is asked for with POST /__sim/tick.
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: 3_600_000 });
});
afterAll(async () => {
  await sim.close();
});

const tick = async (count = 1): Promise<void> => {
  expect((await post(sim, `/__sim/tick?count=${count}`)).status).toBe(204);
};
const statusOf = (pipelineId: string, id: string): Promise<Json> => data(sim, buildPath(pipelineId, id, '/status'));
const detailOf = (pipelineId: string, id: string): Promise<Json> => data(sim, buildPath(pipelineId, id, '/detail'));
const retry = (pipelineId: string, id: string, query = '', user = 'alice') => bk(sim, 'POST', buildPath(pipelineId, id, `/retry${query}`), { user });
const runningBuilds = async (): Promise<Json[]> => {
  const all = await Promise.all(['p-demo', 'p-web', 'p-nightly', 'p-release'].map(async (id) => (await history(sim, id)).map((b) => ({ ...b, pipelineId: id }))));
  return all.flat().filter((b) => b.status === 'RUNNING');
};
/** Ticks until the build has finished (bounded), and answers its last status. */
async function runToEnd(pipelineId: string, id: string, limit = 80): Promise<Json> {
  for (let i = 0; i < limit; i++) {
    const s = await statusOf(pipelineId, id);
    if (!['QUEUE', 'RUNNING'].includes(s.status)) return s;
    await tick();
  }
  throw new Error(`${id} did not finish in ${limit} ticks`);
}
const failedBuilds = async (pipelineId: string): Promise<Json[]> => (await history(sim, pipelineId)).filter((b) => b.status === 'FAILED' && b.executeCount === 1);

describe('the clock', () => {
  it('keeps at least one build RUNNING at every tick, finishing builds and starting new ones', async () => {
    const ended = new Set<string>();
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const now = await runningBuilds();
      expect(now.length, `tick ${i}`).toBeGreaterThanOrEqual(1);
      for (const b of now) seen.add(`${b.pipelineId}/${b.id}`);
      await tick();
      for (const key of seen) {
        const [pipelineId, id] = key.split('/') as [string, string];
        const s = await statusOf(pipelineId, id);
        if (s.status !== 'RUNNING') {
          expect(['SUCCEED', 'FAILED']).toContain(s.status);
          expect(s.endTime).toBeGreaterThanOrEqual(s.startTime);
          ended.add(key);
          seen.delete(key);
        }
      }
    }
    expect(ended.size).toBeGreaterThanOrEqual(2);
  });

  it('advances a running build stage by stage, its log growing every tick until it is finished', async () => {
    const [live] = await runningBuilds();
    let previousLast = 0;
    let lastStageSeen = -1;
    for (let i = 0; i < 80; i++) {
      const s = await statusOf(live.pipelineId, live.id);
      const page = await data(sim, buildPath(live.pipelineId, live.id, `/logs/after?start=${previousLast + 1}`));
      const last = page.logs.at(-1)?.lineNo ?? previousLast;
      if (s.status === 'RUNNING') {
        expect(page.finished).toBe(false);
        expect(s.endTime).toBeNull();
        const current = s.stageStatus.findIndex((st: Json) => st.status === 'RUNNING' || st.status === 'QUEUE');
        expect(current).toBeGreaterThanOrEqual(lastStageSeen);
        lastStageSeen = current;
        expect(s.stageStatus.slice(0, Math.max(0, current)).every((st: Json) => st.status === 'SUCCEED')).toBe(true);
        if (i > 0) expect(last, `tick ${i}`).toBeGreaterThan(previousLast);
      } else {
        expect(['SUCCEED', 'FAILED']).toContain(s.status);
        const end = await data(sim, buildPath(live.pipelineId, live.id, `/logs/after?start=1`));
        expect(end.finished).toBe(true);
        expect(end.hasMore).toBe(false);
        return;
      }
      previousLast = last;
      await tick();
    }
    throw new Error('the running build never finished');
  });
});

describe('start and stop', () => {
  it('start makes a QUEUE build with the next number, RUNNING after the next ticks, params as variables', async () => {
    const before = await data(sim, `${DEMO}/pipelines/p-nightly/status`);
    const response = await bk(sim, 'POST', `${DEMO}/pipelines/p-nightly/builds/start`, { body: { FLAVOUR: '全量' } });
    expect(response.status).toBe(200);
    const id = response.body.data;
    expect(id).toMatchObject({ id: expect.stringMatching(/^b-[0-9a-f]{32}$/), executeCount: 1, num: before.latestBuildNum + 1, pipelineId: 'p-nightly', projectId: 'demo' });
    const queued = await statusOf('p-nightly', id.id);
    expect(queued).toMatchObject({ status: 'QUEUE', userId: 'alice', startType: 'SERVICE', startTime: 0, endTime: null });
    expect(queued.variables.FLAVOUR).toBe('全量');
    await tick(2);
    expect((await statusOf('p-nightly', id.id)).status).toBe('RUNNING');
  });

  it('stop cancels a running build (true), the clock keeps one running, and a second stop is 400 2101179', async () => {
    const [live] = await runningBuilds();
    const response = await bk(sim, 'POST', buildPath(live.pipelineId, live.id, '/stop'));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 0, message: null, data: true });
    const detail = await detailOf(live.pipelineId, live.id);
    expect(detail).toMatchObject({ status: 'CANCELED', cancelUserId: 'alice' });
    expect(detail.endTime).not.toBeNull();
    expect(steps(detail).some(({ element }) => element.status === 'CANCELED')).toBe(true);
    expect(steps(detail).every(({ element }) => !['RUNNING', 'QUEUE'].includes(element.status))).toBe(true);
    expect((await runningBuilds()).length).toBeGreaterThanOrEqual(1);
    const again = await bk(sim, 'POST', buildPath(live.pipelineId, live.id, '/stop'));
    expect(again.status).toBe(400);
    expect(again.body.status).toBe(2101179);
  });
});

describe('retry', () => {
  it('refuses a running build without a failed taskId (400 2101129)', async () => {
    const [live] = await runningBuilds();
    for (const query of ['', `?taskId=${steps(await detailOf(live.pipelineId, live.id))[0]?.element.id}`]) {
      const response = await retry(live.pipelineId, live.id, query);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ status: 2101129, message: '当前构建正在运行中，请勿重复提交重试请求', data: null });
    }
  });

  it('re-runs a failed step of a still-running stage (bk-ci\'s running retry): same id, attempt 2, build keeps running', async () => {
    const started = (await bk(sim, 'POST', `${DEMO}/pipelines/p-nightly/builds/start`)).body.data;
    const detail = await detailOf('p-nightly', started.id);
    const parallel = detail.model.stages.find((s: Json) => s.containers.length > 1);
    const short = parallel.containers.find((c: Json) => c.name.includes('Windows'));
    const taskId = short.elements.at(-1).id;
    // Looking behind the API only to choose which step fails in this attempt.
    const build = sim.bkci.builds.get(started.id);
    if (!build) throw new Error('started build missing');
    build.failAt = taskId;
    let failedWhileRunning = false;
    for (let i = 0; i < 60 && !failedWhileRunning; i++) {
      await tick();
      const now = await detailOf('p-nightly', started.id);
      const step = steps(now).find(({ element }) => element.id === taskId);
      failedWhileRunning = now.status === 'RUNNING' && step?.element.status === 'FAILED';
    }
    expect(failedWhileRunning).toBe(true);
    const notFailed = steps(await detailOf('p-nightly', started.id)).find(({ element }) => element.status === 'RUNNING');
    expect((await retry('p-nightly', started.id, `?taskId=${notFailed?.element.id}`)).body.status).toBe(2101129);
    const response = await retry('p-nightly', started.id, `?taskId=${taskId}`);
    expect(response.status).toBe(200);
    expect(response.body.data).toMatchObject({ id: started.id, executeCount: 2 });
    expect((await statusOf('p-nightly', started.id)).status).toBe('RUNNING');
    await tick();
    const rerun = await data(sim, buildPath('p-nightly', started.id, `/logs/after?start=1&executeCount=2&tag=${taskId}`));
    expect(rerun.logs.length).toBeGreaterThan(0);
    const done = await runToEnd('p-nightly', started.id, 200);
    expect(['SUCCEED', 'FAILED']).toContain(done.status);
  });

  it('re-runs a failed step: same id, executeCount + 1, QUEUE then RUNNING, the step runs again in attempt 2', async () => {
    const [target] = await failedBuilds('p-demo');
    const taskId = target.errorInfoList[0].taskId;
    const response = await retry('p-demo', target.id, `?taskId=${taskId}&failedContainer=false&skip=false&channelCode=BS`);
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ id: target.id, executeCount: 2, num: target.buildNum, pipelineId: 'p-demo', projectId: 'demo' });
    const queued = await statusOf('p-demo', target.id);
    expect(queued).toMatchObject({ status: 'QUEUE', executeCount: 2, retry: true, endTime: null, errorInfoList: [] });
    await tick(2);
    expect((await statusOf('p-demo', target.id)).status).toBe('RUNNING');
    const done = await runToEnd('p-demo', target.id);
    expect(['SUCCEED', 'FAILED']).toContain(done.status);
    const rerun = steps(await detailOf('p-demo', target.id)).find(({ element }) => element.id === taskId);
    expect(rerun?.element.executeCount).toBe(2);
    // A second retry while it runs again would be refused; once finished another attempt is 3.
    if (done.status === 'FAILED') expect((await retry('p-demo', target.id)).body.data.executeCount).toBe(3);
  });

  it('re-runs a failed job by its containerHashId; the other jobs keep their attempt', async () => {
    const target = (await failedBuilds('p-demo'))[1];
    const detail = await detailOf('p-demo', target.id);
    const failing = steps(detail).find(({ element }) => element.status === 'FAILED');
    const response = await retry('p-demo', target.id, `?taskId=${failing?.container.containerHashId}`);
    expect(response.body.data).toMatchObject({ id: target.id, executeCount: 2 });
    await runToEnd('p-demo', target.id);
    const after = await detailOf('p-demo', target.id);
    for (const { container, element } of steps(after)) {
      if (container.containerHashId === failing?.container.containerHashId) expect(element.executeCount).toBe(2);
      else if (element.status === 'SUCCEED' && container.status !== 'UNEXEC') expect([1, 2]).toContain(element.executeCount);
    }
  });

  it('re-runs only the failed jobs of a stage with taskId=s-… and failedContainer=true, and refuses a stage that did not fail', async () => {
    const [target] = await failedBuilds('p-nightly');
    const detail = await detailOf('p-nightly', target.id);
    const stage = detail.model.stages.find((s: Json) => s.status === 'FAILED');
    const passedStage = detail.model.stages.find((s: Json) => s.status === 'SUCCEED');
    const refused = await retry('p-nightly', target.id, `?taskId=${passedStage.id}`);
    expect(refused.status).toBe(400);
    expect(refused.body.status).toBe(2101114);
    const kept = stage.containers.filter((c: Json) => c.status === 'SUCCEED').map((c: Json) => c.containerHashId);
    expect(kept.length).toBeGreaterThan(0);
    expect((await retry('p-nightly', target.id, `?taskId=${stage.id}&failedContainer=true`)).body.data.executeCount).toBe(2);
    await runToEnd('p-nightly', target.id, 200);
    const after = await detailOf('p-nightly', target.id);
    const again = after.model.stages.find((s: Json) => s.id === stage.id);
    for (const c of again.containers) expect(c.executeCount, c.name).toBe(kept.includes(c.containerHashId) ? 1 : 2);
  });

  it('skip=true marks the failed step SKIP and continues the job after it', async () => {
    const [target] = await failedBuilds('p-web');
    const taskId = target.errorInfoList[0].taskId;
    expect((await retry('p-web', target.id, `?taskId=${taskId}&skip=true`)).status).toBe(200);
    const done = await runToEnd('p-web', target.id);
    const skipped = steps(await detailOf('p-web', target.id)).find(({ element }) => element.id === taskId);
    expect(skipped?.element.status).toBe('SKIP');
    expect(done.errorInfoList.map((e: Json) => e.taskId)).not.toContain(taskId);
  });

  it('rebuilds the whole build without a taskId', async () => {
    const target = (await failedBuilds('p-web'))[0];
    expect((await retry('p-web', target.id)).body.data.executeCount).toBe(2);
    const queued = await detailOf('p-web', target.id);
    expect(steps(queued).every(({ element }) => element.status === 'QUEUE')).toBe(true);
    await runToEnd('p-web', target.id);
    const after = await detailOf('p-web', target.id);
    expect(steps(after).filter(({ element }) => element.status !== 'UNEXEC' && element.status !== 'SKIP').every(({ element }) => element.executeCount === 2)).toBe(true);
  });

  it('refuses an unknown taskId with a clear 400, and viewer with 403', async () => {
    const [target] = await failedBuilds('p-demo');
    const response = await retry('p-demo', target.id, '?taskId=e-not-in-this-build');
    expect(response.status).toBe(400);
    expect(response.body.status).toBe(2100002);
    expect(response.body.message).toContain('e-not-in-this-build');
    expect((await retry('p-demo', target.id, '', 'viewer')).status).toBe(403);
    expect((await statusOf('p-demo', target.id)).executeCount).toBe(1);
  });
});

describe('logs', () => {
  const logs = (pipelineId: string, id: string, tail: string): Promise<Json> => data(sim, buildPath(pipelineId, id, `/logs/${tail}`));

  it('answers QueryLogs with LogLine fields, UTF-8 and ANSI in the messages', async () => {
    const [build] = (await history(sim, 'p-demo')).filter((b) => b.status === 'SUCCEED' && b.executeCount === 1);
    const page = await logs('p-demo', build.id, 'init');
    expect(page).toMatchObject({ buildId: build.id, finished: true, hasMore: false, status: 0, subTags: [], message: null });
    expect(page.logs[0]).toEqual({
      lineNo: 1,
      timestamp: expect.any(Number),
      message: expect.any(String),
      priority: 40,
      tag: expect.stringMatching(/^e-/),
      subTag: '',
      jobId: expect.stringMatching(/^c-/),
      executeCount: 1,
      containerHashId: expect.stringMatching(/^c-/),
      stepId: null,
    });
    const text = page.logs.map((l: Json) => l.message).join('\n');
    expect(text).toMatch(/[\u4e00-\u9fff]/);
    expect(text).toContain('✓');
    expect(text).toContain('\u001b[');
  });

  it('after is inclusive (lineNo >= start) and pages with hasMore; the pages add up to init', async () => {
    const [nightly] = (await history(sim, 'p-nightly')).filter((b) => b.executeCount === 1 && b.status === 'SUCCEED');
    const whole = await logs('p-nightly', nightly.id, 'init');
    expect(whole.logs.length).toBeGreaterThan(500);
    expect(whole.hasMore).toBe(false);
    const at7 = await logs('p-nightly', nightly.id, 'after?start=7');
    expect(at7.logs[0].lineNo).toBe(7);
    const collected: Json[] = [];
    let start = 1;
    let pages = 0;
    for (;;) {
      const page = await logs('p-nightly', nightly.id, `after?start=${start}`);
      pages++;
      collected.push(...page.logs);
      if (!page.hasMore) break;
      expect(page.logs).toHaveLength(500);
      start = page.logs.at(-1).lineNo + 1;
    }
    expect(pages).toBe(2);
    expect(collected).toEqual(whole.logs);
  });

  it('more reads a line range from either end; tag and job filters leave gaps in lineNo', async () => {
    const [long] = (await history(sim, 'p-nightly')).filter((b) => b.status === 'SUCCEED' && b.executeCount === 1);
    const fromStart = await logs('p-nightly', long.id, 'more?start=5&end=30&num=10');
    expect(fromStart.logs.map((l: Json) => l.lineNo)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(fromStart.hasMore).toBe(true);
    const fromEnd = await logs('p-nightly', long.id, 'more?start=5&end=30&num=10&fromStart=false');
    expect(fromEnd.logs.map((l: Json) => l.lineNo)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect((await logs('p-nightly', long.id, 'more?start=5&end=30&num=100')).hasMore).toBe(false);
    const [build] = (await history(sim, 'p-demo')).filter((b) => b.status === 'FAILED' && b.executeCount === 1);
    const failedTask = build.errorInfoList[0].taskId;
    const tagged = await logs('p-demo', build.id, `after?start=1&tag=${failedTask}`);
    expect(tagged.logs.length).toBeGreaterThan(2);
    expect(tagged.logs.every((l: Json) => l.tag === failedTask)).toBe(true);
    expect(tagged.logs.at(-1).message).toContain('插件执行失败');
    const job = tagged.logs[0].containerHashId;
    for (const param of ['jobId', 'containerHashId']) {
      const byJob = await logs('p-demo', build.id, `after?start=1&${param}=${job}`);
      expect(byJob.logs.every((l: Json) => l.containerHashId === job)).toBe(true);
      expect(byJob.logs.length).toBeGreaterThanOrEqual(tagged.logs.length);
    }
  });

  it('defaults executeCount to 1: after a retry, a client that omits it keeps reading the first attempt', async () => {
    const target = (await failedBuilds('p-demo')).at(-1);
    const first = await logs('p-demo', target.id, 'after?start=1');
    expect(first.finished).toBe(true);
    expect((await retry('p-demo', target.id, `?taskId=${target.errorInfoList[0].taskId}`)).body.data.executeCount).toBe(2);
    await tick(4);
    const omitted = await logs('p-demo', target.id, 'after?start=1');
    expect(omitted.logs).toEqual(first.logs);
    expect(omitted.finished).toBe(true);
    const second = await logs('p-demo', target.id, 'after?start=1&executeCount=2');
    expect(second.logs.length).toBeGreaterThan(0);
    expect(second.logs.every((l: Json) => l.executeCount === 2)).toBe(true);
    // Line numbers are per build: attempt 2 continues after attempt 1.
    expect(second.logs[0].lineNo).toBeGreaterThan(first.logs.at(-1).lineNo);
    const status = await statusOf('p-demo', target.id);
    if (status.status === 'RUNNING') {
      expect(second.finished).toBe(false);
      await tick();
      const grown = await logs('p-demo', target.id, 'after?start=1&executeCount=2');
      expect(grown.logs.length).toBeGreaterThan(second.logs.length);
    }
    await runToEnd('p-demo', target.id);
    expect((await logs('p-demo', target.id, 'after?start=1&executeCount=2')).finished).toBe(true);
  });

  it('tails a running build with after: no line lost or repeated, finished at the end', async () => {
    const [live] = await runningBuilds();
    const seen: number[] = [];
    let cursor = 0;
    for (let i = 0; i < 80; i++) {
      const page = await logs(live.pipelineId, live.id, `after?start=${cursor}`);
      for (const line of page.logs) seen.push(line.lineNo);
      if (page.logs.length > 0) cursor = page.logs.at(-1).lineNo + 1;
      if (page.finished && !page.hasMore) break;
      await tick();
    }
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
    const final = await data(sim, buildPath(live.pipelineId, live.id, '/logs/last_line_num'));
    expect(final).toEqual({ buildId: live.id, finished: true, lastLineNum: seen.length });
  });
});
