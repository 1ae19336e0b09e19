/**
 * Finished pipelines of the past, each following a "story" (passed, failed tests, broken build,
 * canceled, passed after a flaky retry) so the history holds every finished status with plausible
 * timings, logs, retries and bridges. Timestamps run on a fixed timeline from the documented pipeline,
 * so a seed always gives the same history.
 */
import type { BuildContext, Plan } from './factory.js';
import { chooseTemplates, materialize, newCommit, pickCommitter, pickRef } from './factory.js';
import type { Pipeline, Project } from './model.js';
import type { Prng } from './prng.js';
import { STAGES, templateNamed } from './seed-data.js';
import type { JobTemplate } from './seed-data.js';
import type { JobStatus } from './status.js';

const SEC = 1000;
const MIN = 60 * SEC;

export type Story = 'passed' | 'flaky' | 'tests-failed' | 'build-failed' | 'canceled';

export function pickStory(rng: Prng): Story {
  const r = rng.next();
  if (r < 0.7) return 'passed';
  if (r < 0.8) return 'flaky';
  if (r < 0.92) return 'tests-failed';
  if (r < 0.96) return 'build-failed';
  return 'canceled';
}

interface StoryState {
  readonly story: Story;
  readonly victims: ReadonlySet<JobTemplate>;
}

function outcome(rng: Prng, s: StoryState, t: JobTemplate): JobStatus {
  const stage = STAGES[t.stageIdx];
  switch (s.story) {
    case 'build-failed':
      if (stage === 'build') return s.victims.has(t) ? 'failed' : 'success';
      return 'skipped';
    case 'tests-failed':
      if (stage === 'deploy') return 'skipped';
      return s.victims.has(t) ? 'failed' : 'success';
    case 'canceled':
      if (stage === 'build') return 'success';
      return 'canceled';
    default:
      if (t.kind === 'bridge') return 'success';
      if (t.when === 'manual') return rng.chance(0.55) ? 'manual' : 'success';
      if (t.allowFailure && rng.chance(0.2)) return 'failed';
      return 'success';
  }
}

/** Plans for one pipeline's jobs (in creation order; a retry comes last), timed from `t0`. */
export function planPipeline(rng: Prng, story: Story, templates: readonly JobTemplate[], t0: number, downstream: Pipeline | null): Plan[] {
  const tests = templates.filter((t) => t.stage === 'test' && !t.allowFailure);
  const builds = templates.filter((t) => t.stage === 'build');
  const victims = new Set<JobTemplate>();
  if (story === 'build-failed' && builds.length > 0) victims.add(rng.pick(builds));
  if ((story === 'tests-failed' || story === 'flaky') && tests.length > 0) {
    victims.add(rng.pick(tests));
    if (story === 'tests-failed' && rng.chance(0.3)) victims.add(rng.pick(tests));
  }
  const state: StoryState = { story, victims };
  const plans: Plan[] = [];
  const retries: Plan[] = [];
  let stageStart = t0 + rng.int(5, 90) * SEC;
  for (let stageIdx = 0; stageIdx < STAGES.length; stageIdx++) {
    let stageEnd = stageStart;
    for (const t of templates) {
      if (t.stageIdx !== stageIdx) continue;
      let status = outcome(rng, state, t);
      if (story === 'flaky' && victims.has(t)) status = 'failed';
      const manualDelay = t.when === 'manual' && status === 'success' ? rng.int(2, 180) * MIN : 0;
      const plan = timed(rng, t, status, stageStart + manualDelay, t.kind === 'bridge' ? downstream : null);
      plans.push(plan);
      if (t.when !== 'manual') stageEnd = Math.max(stageEnd, plan.finishedAt ?? stageEnd);
      if (story === 'flaky' && victims.has(t)) {
        const again = (plan.finishedAt ?? stageStart) + rng.int(30, 600) * SEC;
        const retry = { ...timed(rng, t, 'success', again, null), createdAt: again };
        plans[plans.length - 1] = { ...plan, retried: true };
        retries.push(retry);
        stageEnd = Math.max(stageEnd, retry.finishedAt ?? stageEnd);
      }
    }
    stageStart = stageEnd + rng.int(1, 5) * SEC;
  }
  return [...plans, ...retries];
}

function timed(rng: Prng, t: JobTemplate, status: JobStatus, queuedAt: number, downstream: Pipeline | null): Plan {
  switch (status) {
    case 'success':
    case 'failed': {
      const startedAt = queuedAt + rng.int(1, 40) * SEC + rng.int(0, 999);
      const runMs = t.kind === 'bridge' ? rng.int(1, 4) * SEC : rng.int(15, 480) * SEC + rng.int(0, 999);
      return { t, status, queuedAt, startedAt, finishedAt: startedAt + runMs, downstream };
    }
    case 'canceled': {
      // Half were running when canceled (a partial log), half never left the queue.
      if (t.kind === 'build' && rng.chance(0.5)) {
        const startedAt = queuedAt + rng.int(1, 20) * SEC;
        return { t, status, queuedAt, startedAt, finishedAt: startedAt + rng.int(5, 90) * SEC, lines: rng.int(1, 12) };
      }
      return { t, status, queuedAt: null, startedAt: null, finishedAt: queuedAt + rng.int(1, 60) * SEC };
    }
    default:
      return { t, status };
  }
}

export interface HistorySpec {
  readonly project: Project;
  /** Builds to create (bridges come on top). */
  readonly budget: number;
  readonly start: number;
  /** Mean gap between pipelines. */
  readonly gapMs: number;
  /** Downstream pipelines for bridges, used round-robin. */
  readonly downstreams: readonly Pipeline[];
  /** Every n-th pipeline gets a `deploy:downstream` bridge (0 = none). */
  readonly bridgeEvery: number;
}

/** @returns the time after the last pipeline */
export function generateHistory(ctx: BuildContext, spec: HistorySpec, now: number): number {
  const { rng, store } = ctx;
  const { project } = spec;
  const bridge = templateNamed('deploy:downstream');
  let left = spec.budget;
  let at = spec.start;
  let bridges = 0;
  for (let index = 0; left > 0; index++) {
    at += rng.int(Math.ceil(spec.gapMs * 0.15), Math.ceil(spec.gapMs * 1.85));
    // Every eleventh pipeline was canceled, so even a small history has one.
    const story = index % 11 === 7 ? 'canceled' : pickStory(rng);
    const size = Math.min(left, rng.int(8, 12));
    const templates = chooseTemplates(rng, story === 'flaky' && size > 3 ? size - 1 : size);
    const flaky = story === 'flaky' && size > 3 ? 'flaky' : story === 'flaky' ? 'passed' : story;
    const withBridge = spec.bridgeEvery > 0 && index % spec.bridgeEvery === 2 && size >= 8;
    const downstream = withBridge && spec.downstreams.length > 0 ? (spec.downstreams[bridges++ % spec.downstreams.length] ?? null) : null;
    // Every seventh pipeline releases a tag of the current default-branch head.
    const tagged = index % 7 === 5;
    const author = pickCommitter(ctx);
    const ref = tagged ? `v1.${index}.0` : pickRef(rng, project);
    const commit = tagged
      ? (project.refHeads.get(project.defaultBranch) ?? newCommit(ctx, { project, ref: project.defaultBranch, author, at: at - 5 * MIN }))
      : newCommit(ctx, { project, ref, author, at: at - rng.int(1, 30) * MIN });
    const source = rng.chance(0.9) ? 'push' : rng.pick(['web', 'schedule'] as const);
    const pipeline = store.createPipeline({ project, commit, ref, tag: tagged, source, user: author, createdAt: at });
    const all = withBridge ? [...templates, bridge] : templates;
    const plans = planPipeline(rng, flaky, all, at, downstream);
    materialize(ctx, pipeline, plans, now);
    finishHistory(pipeline);
    left -= plans.filter((p) => p.t.kind === 'build').length;
  }
  return at;
}

/** A historical pipeline was last updated when its last job finished, not when the simulator started. */
export function finishHistory(pipeline: Pipeline): void {
  let last = pipeline.createdAt;
  for (const job of pipeline.jobs) last = Math.max(last, job.finishedAt ?? job.startedAt ?? job.createdAt);
  pipeline.updatedAt = last;
}
