/**
 * GitLab's job status vocabulary and the rules derived from it (GL `Ci::HasStatus`,
 * `Gitlab::Ci::Status::Composite`). Kept apart from the lifecycle so routes, generator and clock agree.
 */

export const JOB_STATUSES = [
  'created',
  'waiting_for_resource',
  'preparing',
  'waiting_for_callback',
  'pending',
  'running',
  'success',
  'failed',
  'canceling',
  'canceled',
  'skipped',
  'manual',
  'scheduled',
] as const;

export type JobStatus = (typeof JOB_STATUSES)[number];

const STATUS_SET: ReadonlySet<string> = new Set(JOB_STATUSES);

export function isJobStatus(value: string): value is JobStatus {
  return STATUS_SET.has(value);
}

const COMPLETED: ReadonlySet<JobStatus> = new Set(['success', 'failed', 'canceled', 'skipped']);

export function isCompleted(status: JobStatus): boolean {
  return COMPLETED.has(status);
}

/** GitLab's `cancel` event: alive statuses, created, scheduled and manual; `canceling` needs `force`. */
const CANCELABLE: ReadonlySet<JobStatus> = new Set([
  'created',
  'waiting_for_resource',
  'preparing',
  'waiting_for_callback',
  'pending',
  'running',
  'scheduled',
  'manual',
]);

export function isCancelable(status: JobStatus): boolean {
  return CANCELABLE.has(status);
}

const RETRYABLE: ReadonlySet<JobStatus> = new Set(['success', 'failed', 'canceled']);

export function isRetryable(status: JobStatus): boolean {
  return RETRYABLE.has(status);
}

export interface StatusCarrier {
  readonly status: JobStatus;
  readonly allowFailure: boolean;
}

/**
 * The pipeline status GitLab derives from its latest jobs. A failed job that may fail, and a manual job
 * that may fail (GitLab's default for `when: manual`), are "ignored": they do not hold the pipeline back.
 */
export function compositeStatus(jobs: Iterable<StatusCarrier>): JobStatus {
  const seen = new Set<string>();
  for (const job of jobs) {
    const ignored = job.allowFailure && (job.status === 'failed' || job.status === 'manual');
    seen.add(ignored ? 'ignored' : job.status);
  }
  if (seen.size === 0) return 'skipped';
  const onlyOf = (...allowed: string[]): boolean => [...seen].every((s) => allowed.includes(s));
  const anyOf = (...wanted: string[]): boolean => wanted.some((s) => seen.has(s));
  if (onlyOf('skipped', 'ignored')) return 'skipped';
  if (onlyOf('success', 'skipped', 'ignored')) return 'success';
  if (onlyOf('created', 'ignored')) return 'created';
  if (onlyOf('preparing', 'ignored')) return 'preparing';
  if (onlyOf('canceled', 'success', 'skipped', 'ignored')) return 'canceled';
  if (onlyOf('pending', 'created', 'skipped', 'ignored')) return 'pending';
  if (anyOf('canceling')) return 'canceling';
  if (anyOf('running', 'pending')) return 'running';
  if (anyOf('waiting_for_resource')) return 'waiting_for_resource';
  if (anyOf('waiting_for_callback')) return 'waiting_for_callback';
  if (anyOf('manual')) return 'manual';
  if (anyOf('scheduled')) return 'scheduled';
  if (anyOf('preparing')) return 'preparing';
  if (anyOf('created')) return 'running';
  return 'failed';
}
