/**
 * The hand-written pipelines: GitLab's documented pipeline 6 (jobs 6, 7, 8 exactly as in
 * doc/api/jobs.md), three "parked" pipelines holding the statuses a clock never produces on its own
 * (preparing, waiting_for_resource, waiting_for_callback, scheduled, canceling, and a pending job no
 * runner can take), and the live pipelines whose jobs are running when the simulator starts.
 */
import type { BuildContext, Plan } from './factory.js';
import { materialize, newCommit } from './factory.js';
import type { Pipeline, Project } from './model.js';
import { DOC_EXAMPLE, templateNamed } from './seed-data.js';
import { finishHistory } from './history.js';

const SEC = 1000;
const MIN = 60 * SEC;
const iso = (s: string): number => Date.parse(s);

/** Pipeline 6 with jobs 1–10; 6, 7 and 8 carry the documentation's timestamps, tags and artifacts. */
export function docPipeline(ctx: BuildContext, project: Project, now: number): Pipeline {
  const root = ctx.store.userByName('root');
  const commit = newCommit(ctx, {
    project,
    ref: 'master',
    author: root,
    at: iso(DOC_EXAMPLE.commitCreatedAt),
    sha: DOC_EXAMPLE.sha,
    title: DOC_EXAMPLE.commitTitle,
  });
  const created = iso(DOC_EXAMPLE.pipelineCreatedAt);
  const pipeline = ctx.store.createPipeline({
    id: DOC_EXAMPLE.pipelineId,
    project,
    commit,
    ref: 'master',
    tag: false,
    source: 'push',
    user: root,
    createdAt: created,
  });
  const jobCreated = iso(DOC_EXAMPLE.jobs[0].createdAt) - 5 * 75;
  const compileEnd = iso('2015-12-24T17:54:10.336Z');
  const testQueued = compileEnd + 1;
  const ran = (name: string, offsetSec: number, runSec: number, i: number): Plan => ({
    t: templateNamed(name),
    status: 'success',
    createdAt: jobCreated + i * 75,
    queuedAt: testQueued,
    startedAt: testQueued + offsetSec * SEC + 573,
    finishedAt: testQueued + (offsetSec + runSec) * SEC + 911,
    artifacts: [],
  });
  const plans: Plan[] = [
    {
      t: templateNamed('compile'),
      status: 'success',
      createdAt: jobCreated,
      queuedAt: created + 66 * SEC,
      startedAt: iso('2015-12-24T17:50:02.114Z'),
      finishedAt: compileEnd,
    },
    ran('rspec:unit', 2, 268, 1),
    ran('rspec:integration', 4, 341, 2),
    ran('spinach', 6, 105, 3),
    ran('jest', 9, 71, 4),
    ...DOC_EXAMPLE.jobs.map(
      (doc): Plan => ({
        t: templateNamed(doc.name),
        status: 'failed',
        createdAt: iso(doc.createdAt),
        queuedAt: testQueued,
        startedAt: iso(doc.startedAt),
        finishedAt: iso(doc.finishedAt),
        failureReason: 'script_failure',
        lines: 3,
        tagList: doc.tagList,
        artifacts: doc.artifacts,
        artifactsExpireAt: iso(doc.artifactsExpireAt),
        noRunner: true,
      }),
    ),
    { ...ran('lint', 22, 29, 8), createdAt: iso(DOC_EXAMPLE.jobs[2].createdAt) + 75 },
    { t: templateNamed('deploy:staging'), status: 'skipped', createdAt: iso(DOC_EXAMPLE.jobs[2].createdAt) + 150 },
  ];
  materialize(ctx, pipeline, plans, now);
  finishHistory(pipeline);
  pipeline.updatedAt = iso(DOC_EXAMPLE.pipelineUpdatedAt);
  return pipeline;
}

/** Builds the three parked pipelines, oldest first, ending before `until`. */
export function parkedPipelines(ctx: BuildContext, project: Project, until: number, now: number): Pipeline[] {
  const { store } = ctx;
  const make = (at: number, ref: string, username: string, plans: (t0: number) => Plan[]): Pipeline => {
    const author = store.userByName(username);
    const commit = newCommit(ctx, { project, ref, author, at: at - 3 * MIN });
    const pipeline = store.createPipeline({ project, commit, ref, tag: false, source: 'push', user: author, createdAt: at });
    materialize(ctx, pipeline, plans(at), now);
    finishHistory(pipeline);
    return pipeline;
  };
  const ok = (name: string, t0: number, startMin: number, runMin: number): Plan => ({
    t: templateNamed(name),
    status: 'success',
    queuedAt: t0 + startMin * MIN - 5 * SEC,
    startedAt: t0 + startMin * MIN,
    finishedAt: t0 + (startMin + runMin) * MIN,
  });
  const t = templateNamed;
  return [
    // Tests still preparing, and a GPU job no runner can take ("stuck"), so deploy waits as created.
    make(until - 3 * 60 * MIN, 'master', 'carol', (t0) => [
      ok('compile', t0, 1, 4),
      ok('rspec:unit', t0, 6, 7),
      { t: t('rspec:integration'), status: 'preparing', queuedAt: t0 + 6 * MIN },
      { t: t('build:gpu'), status: 'pending', queuedAt: t0 + 6 * MIN },
      ok('rubocop', t0, 6, 2),
      { t: t('deploy:staging'), status: 'created' },
      { t: t('deploy:production'), status: 'created' },
    ]),
    // Deployments: one waiting on its resource group, one on an external callback, one delayed, and
    // a manual one (so even the smallest history has a manual job).
    make(until - 2 * 60 * MIN, 'master', 'root', (t0) => [
      ok('compile', t0, 1, 3),
      ok('rspec:unit', t0, 5, 6),
      ok('rubocop', t0, 5, 2),
      { t: t('deploy:staging'), status: 'waiting_for_resource' },
      { t: t('deploy:production'), status: 'manual' },
      { t: t('deploy:canary'), status: 'scheduled' },
      { t: t('deploy:approval'), status: 'waiting_for_callback', queuedAt: t0 + 12 * MIN },
    ]),
    // Canceled by a user while tests ran; one job is still winding down (canceling).
    make(until - 60 * MIN, 'fix/flaky-spec', 'bob', (t0) => [
      ok('compile', t0, 1, 3),
      { t: t('rspec:unit'), status: 'canceling', queuedAt: t0 + 4 * MIN, startedAt: t0 + 4 * MIN + 3 * SEC, lines: 9 },
      { t: t('rubocop'), status: 'canceled', queuedAt: t0 + 4 * MIN, startedAt: t0 + 4 * MIN + 5 * SEC, finishedAt: t0 + 6 * MIN, lines: 4 },
      { t: t('lint'), status: 'canceled', finishedAt: t0 + 6 * MIN },
      { t: t('deploy:staging'), status: 'canceled', finishedAt: t0 + 6 * MIN },
    ]),
  ];
}

export interface LiveTiming {
  readonly tickMs: number;
  readonly jobTicks: number;
  readonly pendingTicks: number;
}

/** Ticks a live job has already run at `fraction` of its course (it still has at least one to go). */
const ticksAt = (jobTicks: number, fraction: number): number => Math.max(0, Math.min(jobTicks - 1, Math.floor(jobTicks * fraction)));

/** When the first live pipeline was created: early enough for its most advanced job's progress. */
export function liveStart(timing: LiveTiming, now: number): number {
  return now - (ticksAt(timing.jobTicks, 0.85) + 1) * timing.tickMs - 2 * SEC - 6 * MIN;
}

/**
 * Two pipelines in flight: tests running in one (four jobs at staggered progress, two queued), the
 * build running in the other. With the clock's capacity of five, five jobs run from the first moment.
 */
export function livePipelines(ctx: BuildContext, project: Project, timing: LiveTiming, now: number): Pipeline[] {
  const { store } = ctx;
  const { tickMs, jobTicks } = timing;
  const t = templateNamed;
  const running = (name: string, fraction: number, queuedAt: number): Plan => {
    const ticks = ticksAt(jobTicks, fraction);
    return { t: t(name), status: 'running', ticks, queuedAt, startedAt: now - ticks * tickMs - 250 };
  };
  const pending = (name: string, queuedAt: number): Plan => ({ t: t(name), status: 'pending', ticks: timing.pendingTicks, queuedAt });
  const make = (at: number, ref: string, username: string, plans: Plan[]): Pipeline => {
    const author = store.userByName(username);
    const commit = newCommit(ctx, { project, ref, author, at: at - 2 * MIN });
    const pipeline = store.createPipeline({ project, commit, ref, tag: false, source: 'push', user: author, createdAt: at });
    materialize(ctx, pipeline, plans, now);
    return pipeline;
  };

  const first = liveStart(timing, now);
  const testQueued = first + 6 * MIN;
  const buildDone = (name: string, offsetMin: number): Plan => ({
    t: t(name),
    status: 'success',
    queuedAt: first + 10 * SEC,
    startedAt: first + offsetMin * MIN,
    finishedAt: testQueued - 1,
  });
  const second = now - (ticksAt(jobTicks, 0.5) + 1) * tickMs - 30 * SEC;
  return [
    make(first, 'master', 'alice', [
      buildDone('compile', 1),
      buildDone('assets:precompile', 2),
      running('rspec:unit', 0.85, testQueued),
      running('rspec:integration', 0.6, testQueued),
      running('rspec:other', 0.35, testQueued),
      running('teaspoon', 0.1, testQueued),
      pending('rubocop', testQueued),
      pending('lint', testQueued),
      { t: t('deploy:staging'), status: 'created' },
      { t: t('deploy:production'), status: 'created' },
    ]),
    make(second, 'feature/login-form', 'bob', [
      running('compile', 0.5, second + 5 * SEC),
      pending('assets:precompile', second + 5 * SEC),
      { t: t('rspec:unit'), status: 'created' },
      { t: t('jest'), status: 'created' },
      { t: t('rubocop'), status: 'created' },
      { t: t('lint'), status: 'created' },
      { t: t('deploy:staging'), status: 'created' },
    ]),
  ];
}

/** Jobs of the hand-written pipelines, so the generator can size the history around them. */
export const FIXTURE_BUILDS = { doc: 10, parked: 7 + 7 + 5, live: 10 + 7 } as const;
