/**
 * Building blocks shared by the seed generator and the clock: commits, template choice, and
 * `materialize`, which turns a plan (what each job went through) into stored jobs with consistent
 * runners, logs, artifacts and coverage.
 */
import type { Lifecycle } from './lifecycle.js';
import { recordSuccessOutputs, runnerFor } from './lifecycle.js';
import { linesPerTick } from './logs.js';
import type { Artifact, Commit, Job, Pipeline, Project, TraceState, User } from './model.js';
import { Prng, hash32 } from './prng.js';
import { COMMITTERS, COMMIT_TITLES, FEATURE_BRANCHES, JOB_TEMPLATES } from './seed-data.js';
import type { JobTemplate } from './seed-data.js';
import type { JobStatus } from './status.js';
import type { Store } from './store.js';


/** Everything the builders need; `seed` feeds the per-job hashes (runner, log, artifacts). */
export interface BuildContext {
  readonly store: Store;
  readonly lifecycle: Lifecycle;
  readonly seed: number;
  readonly rng: Prng;
}

export interface CommitSpec {
  readonly project: Project;
  readonly ref: string;
  readonly author: User;
  readonly at: number;
  readonly sha?: string;
  readonly title?: string;
}

export function newCommit(ctx: BuildContext, spec: CommitSpec): Commit {
  const { rng, store } = ctx;
  const parent = spec.project.refHeads.get(spec.ref) ?? spec.project.refHeads.get(spec.project.defaultBranch);
  const title = spec.title ?? rng.pick(COMMIT_TITLES);
  const body = rng.chance(0.4) ? `\n\n${rng.pick(['Closes #12', 'See the runbook → ops/ci.md', 'Co-authored-by: Carol Ng <carol@example.com>'])}` : '';
  return store.createCommit({
    sha: spec.sha ?? rng.hex(40),
    title,
    message: title + body,
    author: spec.author,
    authoredAt: spec.at,
    committedAt: spec.at,
    parentIds: parent ? [parent.sha] : [],
    additions: rng.int(1, 400),
    deletions: rng.int(0, 200),
    project: spec.project,
  });
}

export function pickRef(rng: Prng, project: Project): string {
  return rng.chance(0.75) ? project.defaultBranch : rng.pick(FEATURE_BRANCHES);
}

export function pickCommitter(ctx: BuildContext): User {
  return ctx.store.userByName(ctx.rng.pick(COMMITTERS));
}

/** `size` templates in pipeline order: the mandatory ones first, then a random draw of the rest. */
export function chooseTemplates(rng: Prng, size: number): JobTemplate[] {
  const mandatory = JOB_TEMPLATES.filter((t) => t.mandatory).slice(0, size);
  const optional = JOB_TEMPLATES.filter((t) => !t.mandatory);
  const chosen = new Set<JobTemplate>(mandatory);
  while (chosen.size < Math.min(size, JOB_TEMPLATES.length)) chosen.add(rng.pick(optional));
  return JOB_TEMPLATES.filter((t) => chosen.has(t));
}

/** What one job went through. Fields left out are derived (see `materialize`). */
export interface Plan {
  readonly t: JobTemplate;
  readonly status: JobStatus;
  readonly createdAt?: number;
  readonly queuedAt?: number | null;
  readonly startedAt?: number | null;
  readonly finishedAt?: number | null;
  readonly failureReason?: string;
  readonly retried?: boolean;
  /** Script lines in the log; defaults from the job's hash. */
  readonly lines?: number;
  /** Live jobs only: ticks already spent pending or running; the job joins the clock's active set. */
  readonly ticks?: number;
  readonly tagList?: readonly string[];
  readonly artifacts?: readonly Artifact[];
  readonly artifactsExpireAt?: number | null;
  /** Leave the runner empty although the job ran (GitLab's documented examples do). */
  readonly noRunner?: boolean;
  readonly downstream?: Pipeline | null;
}

/** Stores the planned jobs in order (so ids follow the plan) and derives the pipeline's status. */
export function materialize(ctx: BuildContext, pipeline: Pipeline, plans: readonly Plan[], now: number): Job[] {
  const { store, seed } = ctx;
  const jobs = plans.map((plan, index) => {
    const t = plan.t;
    const isBuild = t.kind === 'build';
    const started = plan.startedAt ?? null;
    const tagList = plan.tagList ?? t.tags;
    const job = store.createJob({
      kind: t.kind,
      name: t.name,
      stage: t.stage,
      stageIdx: t.stageIdx,
      pipeline,
      user: pipeline.user,
      status: plan.status,
      createdAt: plan.createdAt ?? pipeline.createdAt + 40 + index * 75,
      when: t.when,
      allowFailure: t.allowFailure,
      tagList,
      queuedAt: plan.queuedAt ?? null,
      startedAt: started,
      finishedAt: plan.finishedAt ?? null,
      failureReason: plan.status === 'failed' ? (plan.failureReason ?? 'script_failure') : null,
      retried: plan.retried ?? false,
      downstream: plan.downstream ?? null,
    });
    const salt = hash32(seed, job.id, 0xa27);
    if (isBuild && started !== null) {
      if (!plan.noRunner) job.runner = runnerFor(store.runners, tagList, salt);
      job.trace = traceFor(plan, seed, job.id, salt);
    }
    if (plan.status === 'success') recordSuccessOutputs(job, salt);
    if (plan.artifacts) {
      job.artifacts = plan.artifacts;
      job.artifactsExpireAt = plan.artifactsExpireAt ?? null;
    }
    if (plan.ticks !== undefined && (plan.status === 'pending' || plan.status === 'running')) {
      job.ticks = plan.ticks;
      store.active.add(job);
      store.livePipelines.add(pipeline);
    }
    return job;
  });
  ctx.lifecycle.settle(pipeline, now);
  return jobs;
}

function traceFor(plan: Plan, seed: number, jobId: number, salt: number): TraceState {
  if (plan.status === 'running') return { kind: 'open', lines: (plan.ticks ?? 0) * linesPerTick(seed, jobId) };
  const lines = plan.lines ?? 12 + (salt % 50);
  return plan.status === 'success' || plan.status === 'failed' ? { kind: 'closed', lines } : { kind: 'open', lines };
}

/**
 * A fresh pipeline for the clock: a new commit, 8–12 jobs all `created`, then settled so the first
 * stage is pending. This is how a busy project keeps running jobs forever.
 */
export function spawnPipeline(ctx: BuildContext, project: Project, now: number): Pipeline {
  const author = pickCommitter(ctx);
  const ref = pickRef(ctx.rng, project);
  const commit = newCommit(ctx, { project, ref, author, at: now - 60_000 });
  const pipeline = ctx.store.createPipeline({ project, commit, ref, tag: false, source: 'push', user: author, createdAt: now });
  const plans = chooseTemplates(ctx.rng, ctx.rng.int(8, 12)).map((t): Plan => ({ t, status: 'created', createdAt: now }));
  materialize(ctx, pipeline, plans, now);
  return pipeline;
}
