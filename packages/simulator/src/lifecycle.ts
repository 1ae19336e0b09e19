/**
 * State changes of jobs and pipelines, in one place: the clock (runner.ts), the generator's live
 * pipelines and the mutation routes all go through here, so a job retried by a client runs through the
 * same pending → running → success/failed path as one started by the clock.
 */
import type { Artifact, Job, Pipeline, Runner, User } from './model.js';
import { hash32 } from './prng.js';
import { linesPerTick } from './logs.js';
import { findTemplate } from './seed-data.js';
import { compositeStatus, isCancelable, isCompleted, isRetryable } from './status.js';
import type { JobStatus } from './status.js';
import type { Store } from './store.js';

const DAY_MS = 86_400_000;
/** Share of clock-run jobs that fail, decided per job id so a rerun with the same seed agrees. */
const FAILURE_PERCENT = 6;

/** Statuses that hold back later stages (a manual job that may fail does not). */
const BLOCKING: ReadonlySet<JobStatus> = new Set([
  'created',
  'waiting_for_resource',
  'preparing',
  'waiting_for_callback',
  'pending',
  'running',
  'canceling',
  'scheduled',
]);

/** A runner whose tags cover the job's, picked by `salt`; null when none fits (the job would be stuck). */
export function runnerFor(runners: readonly Runner[], tagList: readonly string[], salt: number): Runner | null {
  const fit = runners.filter((r) => tagList.every((t) => r.tags.includes(t)));
  if (fit.length === 0) return null;
  return fit[salt % fit.length] ?? null;
}

function artifactsFor(kind: 'build' | 'test', salt: number): Artifact[] {
  const list: Artifact[] = [
    { fileType: 'archive', size: 1000 + (salt % 90_000), filename: 'artifacts.zip', fileFormat: 'zip' },
    { fileType: 'metadata', size: 150 + (salt % 400), filename: 'metadata.gz', fileFormat: 'gzip' },
    { fileType: 'trace', size: 1200 + (salt % 8000), filename: 'job.log', fileFormat: 'raw' },
  ];
  if (kind === 'test') list.push({ fileType: 'junit', size: 500 + (salt % 3000), filename: 'junit.xml.gz', fileFormat: 'gzip' });
  return list;
}

/**
 * What a successful build leaves behind, the same for seeded and clock-run jobs: artifacts for about
 * half of the jobs whose template produces them, coverage for the test jobs that report it.
 */
export function recordSuccessOutputs(job: Job, salt: number): void {
  const template = findTemplate(job.name);
  if (!template || job.kind !== 'build') return;
  if (template.artifacts !== null && salt % 2 === 0) {
    job.artifacts = artifactsFor(template.artifacts, salt);
    job.artifactsExpireAt = (job.finishedAt ?? job.createdAt) + 30 * DAY_MS;
  }
  if (template.coverage) job.coverage = 70 + (salt % 250) / 10;
}

export class Lifecycle {
  readonly #store: Store;
  readonly #seed: number;

  constructor(store: Store, seed: number) {
    this.#store = store;
    this.#seed = seed;
  }

  /** Hands the job to the clock as pending. */
  enqueue(job: Job, now: number): void {
    job.status = 'pending';
    job.queuedAt = now;
    job.ticks = 0;
    job.rev++;
    this.#store.active.add(job);
    this.#store.livePipelines.add(job.pipeline);
  }

  /** A runner whose tags fit the job can take it; a job nobody can take stays pending ("stuck"). */
  canStart(job: Job): boolean {
    return job.kind === 'bridge' || runnerFor(this.#store.runners, job.tagList, 0) !== null;
  }

  start(job: Job, now: number): void {
    job.status = 'running';
    job.queuedAt ??= now;
    job.startedAt = now;
    job.ticks = 0;
    if (job.kind === 'build') {
      job.runner = runnerFor(this.#store.runners, job.tagList, hash32(this.#seed, job.id, 0x5e1));
      job.trace = { kind: 'open', lines: 0 };
    }
    job.rev++;
  }

  /** One clock tick of a running job: its log grows by a few lines. */
  advance(job: Job): void {
    job.ticks++;
    if (job.trace.kind === 'open') {
      job.trace = { kind: 'open', lines: job.trace.lines + linesPerTick(this.#seed, job.id) };
    }
    job.rev++;
  }

  /** Ends a running job: with `outcome` when given (bench jobs), else success or failed by the job's hash. */
  finish(job: Job, now: number, outcome?: 'success' | 'failed'): void {
    const salt = hash32(this.#seed, job.id, 0xfa11);
    const failed = outcome === undefined ? job.kind === 'build' && salt % 100 < FAILURE_PERCENT : outcome === 'failed';
    job.status = failed ? 'failed' : 'success';
    job.failureReason = failed ? 'script_failure' : null;
    job.finishedAt = now;
    if (job.trace.kind !== 'none') job.trace = { kind: 'closed', lines: job.trace.lines };
    if (!failed) recordSuccessOutputs(job, salt);
    this.#store.active.delete(job);
    job.rev++;
  }

  /**
   * GitLab's `cancel` event (running, pending, created, manual… → canceled); `force` also ends a
   * `canceling` job. A finished job cannot be canceled.
   * @returns whether the job was canceled
   */
  cancel(job: Job, now: number, force = false): boolean {
    if (!(isCancelable(job.status) || (force && job.status === 'canceling'))) return false;
    job.status = 'canceled';
    job.finishedAt = now;
    this.#store.active.delete(job);
    job.rev++;
    this.settle(job.pipeline, now);
    return true;
  }

  /** A new pending job replacing `job` (which becomes "retried"), or null when not retryable. */
  retry(job: Job, user: User, now: number): Job | null {
    if (!isRetryable(job.status)) return null;
    const copy = this.#store.createJob({
      kind: job.kind,
      name: job.name,
      stage: job.stage,
      stageIdx: job.stageIdx,
      pipeline: job.pipeline,
      user,
      status: 'created',
      createdAt: now,
      when: job.when,
      allowFailure: job.allowFailure,
      tagList: job.tagList,
    });
    job.retried = true;
    job.rev++;
    this.enqueue(copy, now);
    this.settle(job.pipeline, now);
    return copy;
  }

  /** GitLab's `erasable?`: finished, and there is a log or artifacts to remove. */
  erasable(job: Job): boolean {
    return job.kind === 'build' && isCompleted(job.status) && (job.trace.kind !== 'none' || job.artifacts.length > 0);
  }

  erase(job: Job, now: number): boolean {
    if (!this.erasable(job)) return false;
    job.trace = { kind: 'none' };
    job.artifacts = [];
    job.artifactsExpireAt = null;
    job.erasedAt = now;
    job.rev++;
    return true;
  }

  /** Manual jobs, and delayed (scheduled) ones which GitLab also lets you start at once. */
  playable(job: Job): boolean {
    return job.status === 'manual' || job.status === 'scheduled';
  }

  play(job: Job, user: User, now: number): boolean {
    if (!this.playable(job)) return false;
    job.user = user;
    this.enqueue(job, now);
    this.settle(job.pipeline, now);
    return true;
  }

  /**
   * Moves a pipeline along: once a stage has nothing blocking, the next stage's created jobs become
   * pending (or manual/scheduled), or skipped after a failure; then the pipeline's status is derived.
   */
  settle(pipeline: Pipeline, now: number): void {
    const latest = pipeline.jobs.filter((j) => !j.retried);
    for (;;) {
      let stage = Infinity;
      for (const j of latest) if (j.status === 'created' && j.stageIdx < stage) stage = j.stageIdx;
      if (stage === Infinity) break;
      const earlier = latest.filter((j) => j.stageIdx < stage);
      if (earlier.some((j) => BLOCKING.has(j.status) || (j.status === 'manual' && !j.allowFailure))) break;
      const broken = earlier.some((j) => (j.status === 'failed' && !j.allowFailure) || j.status === 'canceled');
      for (const j of latest) {
        if (j.stageIdx !== stage || j.status !== 'created') continue;
        if (broken) j.status = 'skipped';
        else if (j.when === 'manual') j.status = 'manual';
        else if (j.when === 'delayed') j.status = 'scheduled';
        else {
          this.enqueue(j, now);
          continue;
        }
        j.rev++;
      }
    }
    this.#derive(pipeline, latest, now);
  }

  #derive(pipeline: Pipeline, latest: readonly Job[], now: number): void {
    const status = compositeStatus(latest);
    let started: number | null = null;
    let finished: number | null = null;
    for (const j of latest) {
      if (j.startedAt !== null && (started === null || j.startedAt < started)) started = j.startedAt;
      if (j.finishedAt !== null && (finished === null || j.finishedAt > finished)) finished = j.finishedAt;
    }
    const done = isCompleted(status) || status === 'manual';
    if (status !== pipeline.status) {
      pipeline.status = status;
      pipeline.updatedAt = now;
      pipeline.rev++;
    }
    pipeline.startedAt = started;
    pipeline.finishedAt = done ? (finished ?? now) : null;
    if (!latest.some((j) => j.status === 'created' || this.#store.active.has(j))) this.#store.livePipelines.delete(pipeline);
  }
}
