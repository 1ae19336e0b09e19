/**
 * Fills the bk-ci store from the seed: project `demo`, its four pipelines and their history, played
 * through the same lifecycle the clock uses (so statuses, times, error lists and logs agree by
 * construction). Each pipeline has a fixed list of stories (pass, fail, retried, canceled, reviewed…)
 * so the interesting cases always exist; the PRNG picks the details (which step fails, branches,
 * commits, durations). History ends at a fixed date like the GitLab data; the parked builds and the one
 * running build are placed just before `now`.
 */
import { Prng, hash32 } from '../prng.js';
import type { BkLifecycle } from './lifecycle.js';
import type { BkBuild, BkPipeline, ContainerRun, ElementRun, Material, StartType } from './model.js';
import { PIPELINE_TEMPLATES, PROJECT_ID, PROJECT_NAME, buildPipeline } from './pipelines.js';
import type { PipelineTemplate } from './pipelines.js';
import type { BkciStore } from './store.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const HISTORY_END = Date.parse('2024-06-01T00:00:00.000Z');
/** Ticks a played build may take before the generator gives up (a template bug, never data). */
const MAX_TICKS = 500;

export type Story =
  | 'pass'
  | 'fail'
  | 'cancel'
  /** Failed, then retried from the failed step (taskId = e-…), then passed. */
  | 'retry-step'
  /** Failed, rebuilt whole (no taskId), failed again at the same step. */
  | 'rebuild-fail'
  /** Failed, retried with skip=true on the failed step, then passed. */
  | 'retry-skip'
  /** Failed, retried by job (taskId = c-…), then passed. */
  | 'retry-job'
  /** Failed, retried by stage with failedContainer=true, then passed. */
  | 'retry-stage-failed-jobs'
  | 'review-pass'
  | 'review-reject'
  /** Parked at the review gate, near now. */
  | 'reviewing'
  /** Parked in QUEUE behind the reviewing build (the pipeline runs one build at a time). */
  | 'queued'
  /** The running build the clock owns at start. */
  | 'live';

/** Stories by pipeline, index = buildNum - 1; 58 builds in all. */
export const STORIES: Readonly<Record<string, readonly Story[]>> = {
  'p-demo': [
    'pass', 'pass', 'pass', 'fail', 'pass', 'retry-step', 'pass', 'pass', 'fail', 'pass', 'pass', 'cancel',
    'pass', 'pass', 'fail', 'pass', 'retry-skip', 'pass', 'pass', 'fail', 'pass', 'retry-job', 'pass', 'live',
  ],
  'p-web': ['pass', 'pass', 'fail', 'pass', 'pass', 'cancel', 'pass', 'fail', 'pass', 'rebuild-fail', 'pass', 'pass', 'fail', 'pass', 'pass', 'pass'],
  'p-nightly': ['pass', 'pass', 'pass', 'pass', 'fail', 'pass', 'pass', 'retry-stage-failed-jobs', 'pass', 'pass', 'fail', 'pass'],
  'p-release': ['review-pass', 'review-pass', 'review-pass', 'review-reject', 'reviewing', 'queued'],
};

const GAP_HOURS: Readonly<Record<string, number>> = { 'p-demo': 6, 'p-web': 9, 'p-nightly': 24, 'p-release': 48 };
const PEOPLE = ['alice', 'alice', 'admin', 'bob'];
const COMMENTS = [
  'fix: 修复日志分页 hasMore 判断',
  'feat: retry keeps the build id',
  'chore: bump undici to 7.x',
  'test: 增加 executeCount 用例 ✓',
  'refactor: split lifecycle from routes',
  'docs: 更新 README 中的 bk-ci 说明',
];
const BUILD_MSG: Readonly<Record<StartType, string>> = { MANUAL: '手动触发', TIME_TRIGGER: '定时触发', WEB_HOOK: '', SERVICE: 'OpenAPI 触发' };

export interface BkGenContext {
  readonly store: BkciStore;
  readonly lifecycle: BkLifecycle;
  readonly seed: number;
  readonly rng: Prng;
}

export interface NewBuildOptions {
  readonly userId: string;
  readonly trigger: StartType;
  readonly params?: Readonly<Record<string, string>>;
  readonly now: number;
}

/** A new QUEUE build of `pipeline` with its material (not yet handed to the clock). */
export function newBuild(ctx: BkGenContext, pipeline: BkPipeline, options: NewBuildOptions): BkBuild {
  const template = PIPELINE_TEMPLATES.find((t) => t.pipelineId === pipeline.pipelineId);
  const branch = options.params?.BRANCH ?? ctx.rng.pick(template?.branches ?? ['master']);
  const material: Material = {
    aliasName: pipeline.repo.alias,
    url: pipeline.repo.url,
    branchName: branch,
    newCommitId: ctx.rng.hex(40),
    newCommitComment: ctx.rng.pick(COMMENTS),
    commitTimes: ctx.rng.int(1, 3),
  };
  const build = ctx.store.createBuild({
    pipeline,
    userId: options.userId,
    trigger: options.trigger,
    queueTime: options.now,
    branch,
    material: [material],
    params: { BRANCH: branch, ...options.params },
    buildMsg: BUILD_MSG[options.trigger] || material.newCommitComment,
  });
  build.failAt = ctx.lifecycle.planFailure(build);
  return build;
}

export function generateBkci(store: BkciStore, lifecycle: BkLifecycle, seed: number, now: number): void {
  const ctx: BkGenContext = { store, lifecycle, seed, rng: new Prng(hash32(seed, 0xb4c3)) };
  store.addProject(PROJECT_ID, PROJECT_NAME);
  PIPELINE_TEMPLATES.forEach((template, index) => {
    const stories = STORIES[template.pipelineId] ?? [];
    const gap = (GAP_HOURS[template.pipelineId] ?? 12) * HOUR;
    const first = HISTORY_END - stories.length * gap;
    const pipeline = store.addPipeline(buildPipeline(seed, index, template, first - 30 * 24 * HOUR));
    stories.forEach((story, i) => playStory(ctx, pipeline, template, story, first + i * gap + ctx.rng.int(0, 90) * MIN, now));
  });
}

function canFailSteps(build: BkBuild, stageFrom = 0): ElementRun[] {
  return build.stages.slice(stageFrom).flatMap((s) => s.containers.flatMap((c) => c.elements.filter((e) => e.spec.canFail)));
}

function playStory(ctx: BkGenContext, pipeline: BkPipeline, template: PipelineTemplate, story: Story, at: number, now: number): void {
  const { lifecycle, rng } = ctx;
  const live = story === 'live' || story === 'reviewing' || story === 'queued';
  let clock = live ? now - (story === 'queued' ? 5 * MIN : story === 'reviewing' ? 40 * MIN : 2 * MIN) : at;
  const step = rng.int(5, 30) * 1000;
  const userId = template.trigger === 'TIME_TRIGGER' ? template.creator : rng.pick(PEOPLE);
  const build = newBuild(ctx, pipeline, { userId, trigger: template.trigger, now: clock });
  const failing = story === 'fail' || story.startsWith('retry') || story === 'rebuild-fail';
  if (story === 'queued') return; // parked: the clock never starts it
  // A parallel stage makes job and stage retries meaningful; otherwise any step that can fail.
  const parallel = build.stages.findIndex((s) => s.containers.length > 1);
  const candidates = canFailSteps(build, story === 'retry-job' || story === 'retry-stage-failed-jobs' ? Math.max(0, parallel) : 0);
  build.failAt = failing ? rng.pick(candidates).spec.id : null;

  const run = (limit = MAX_TICKS): void => {
    for (let i = 0; i < limit && (build.status === 'RUNNING' || build.status === 'QUEUE'); i++) {
      clock += step;
      if (build.status === 'QUEUE') lifecycle.begin(build, clock);
      else lifecycle.advance(build, clock);
    }
    if (build.status === 'RUNNING' && limit === MAX_TICKS) throw new Error(`bk-ci build ${build.id} did not finish in ${MAX_TICKS} ticks`);
  };
  const retry = (taskId: string | undefined, options: { failedContainer?: boolean; skip?: boolean }, failAt: string | null): void => {
    clock += rng.int(10, 60) * MIN;
    const result = lifecycle.retry(build, { taskId, failedContainer: options.failedContainer ?? false, skip: options.skip ?? false }, 'alice', clock);
    if (!('executeCount' in result)) throw new Error(`bk-ci generator: retry of ${build.id} refused: ${result.message}`);
    build.failAt = failAt;
    run();
  };
  const failedStep = (): { element: ElementRun; container: ContainerRun; stage: number } => {
    for (let s = 0; s < build.stages.length; s++) {
      for (const container of build.stages[s]?.containers ?? []) {
        const element = container.elements.find((e) => e.status === 'FAILED');
        if (element) return { element, container, stage: s };
      }
    }
    throw new Error(`bk-ci generator: build ${build.id} has no failed step`);
  };

  if (story === 'live') {
    lifecycle.enqueue(build);
    run(3);
    return;
  }
  if (story === 'cancel') {
    run(rng.int(2, 5));
    if (lifecycle.stop(build, build.userId, clock + step) !== true) throw new Error(`bk-ci generator: build ${build.id} ended before its cancel`);
    return;
  }
  run();
  switch (story) {
    case 'retry-step':
      retry(failedStep().element.spec.id, {}, null);
      break;
    case 'rebuild-fail':
      retry(undefined, {}, build.failAt);
      break;
    case 'retry-skip':
      retry(failedStep().element.spec.id, { skip: true }, null);
      break;
    case 'retry-job':
      retry(failedStep().container.spec.hashId, {}, null);
      break;
    case 'retry-stage-failed-jobs':
      retry(build.stages[failedStep().stage]?.spec.id, { failedContainer: true }, null);
      break;
    case 'review-pass':
    case 'review-reject':
      clock += rng.int(20, 120) * MIN;
      lifecycle.review(build, story === 'review-pass', clock);
      run();
      break;
    default:
      // pass, fail and reviewing (parked at the gate by run()) need nothing more.
      break;
  }
}
