/**
 * Pipeline-wide state changes, made of the job ones in lifecycle.ts so they share its path: a pipeline
 * retry is GitLab's `Ci::RetryPipelineService` (every latest failed or canceled job retried, the jobs
 * skipped after them processed again), a pipeline cancel is `Ci::CancelPipelineService` (every
 * cancelable job canceled).
 */
import type { Lifecycle } from './lifecycle.js';
import type { Pipeline, User } from './model.js';
import { isCancelable } from './status.js';

/** @returns how many jobs were retried (0: nothing to retry; GitLab still answers 201) */
export function retryPipeline(lifecycle: Lifecycle, pipeline: Pipeline, user: User, now: number): number {
  const latest = pipeline.jobs.filter((j) => !j.retried);
  const again = latest.filter((j) => j.status === 'failed' || j.status === 'canceled');
  // Retried first: their pending copies then hold back the skipped jobs reset below until they pass.
  for (const job of again) lifecycle.retry(job, user, now);
  if (again.length === 0) return 0;
  for (const job of latest) {
    if (job.status !== 'skipped') continue;
    job.status = 'created';
    job.rev++;
  }
  lifecycle.settle(pipeline, now);
  return again.length;
}

/** @returns how many jobs were canceled (0: nothing was cancelable; GitLab still answers 201) */
export function cancelPipeline(lifecycle: Lifecycle, pipeline: Pipeline, now: number): number {
  let canceled = 0;
  for (const job of pipeline.jobs.filter((j) => !j.retried && isCancelable(j.status))) {
    if (lifecycle.cancel(job, now)) canceled++;
  }
  return canceled;
}
