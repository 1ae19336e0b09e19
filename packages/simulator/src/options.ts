/**
 * The simulator's options, documented where they are declared and normalised once (dataloader's
 * `getValidX` habit): every other module reads `ResolvedOptions` and never restates a default.
 */
import { parseFaultRule } from './faults.js';
import type { FaultRule } from './faults.js';

export interface SimulatorOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /** PRNG seed for deterministic data. @default 1 */
  seed?: number;
  /**
   * Number of jobs (builds, not bridges) generated in project 1; scales to 100000 for benchmarks.
   * At least 60, so the documented pipeline and the always-running pipelines fit. @default 240
   */
  builds?: number;
  /**
   * ms between clock ticks; each tick a running job appends log lines and pending jobs may start.
   * Tests and benchmarks can change it at run time with `POST /__sim/config {"tickMs": 50}`.
   * @default 1000
   */
  tickMs?: number;
  /** Ticks a running job runs before it finishes (success or failed, by the PRNG). @default 20 */
  jobTicks?: number;
  /** Ticks a job stays pending before it starts running. @default 2 */
  pendingTicks?: number;
  /**
   * What a v3 build's `commit` is. `'repo-commit'`: the git commit (GitLab 8.2–9.x `RepoCommit`,
   * `id` = sha). `'ci-commit'`: the early 8.x CI commit `{id: <pipeline id>, sha, ref, committed_at}`
   * (early 8.x `doc/api/builds.md`), which also makes a v3 `scope=running` mean running or pending, as 8.x's did.
   * Tests can switch it at run time with `POST /__sim/config {"v3CommitShape": …}`.
   * @default 'repo-commit'
   */
  v3CommitShape?: V3CommitShape;
  /**
   * Honour `Range: bytes=N-` / `bytes=N-M` on job logs (v4 `…/jobs/:job_id/trace`, v3
   * `…/builds/:build_id/trace`): 206 with `Content-Range`, 416 from the end on. Real GitLab ignores
   * `Range` and always sends the whole log with 200, which is what `false` does. Tests can switch it
   * at run time with `POST /__sim/config {"traceRange": true}`.
   * @default false
   */
  traceRange?: boolean;
  /**
   * Fault rules in force from the start (CLI `--fault <json>`, repeatable); more can be added, listed
   * and cleared at run time with `POST`/`GET`/`DELETE /__sim/faults`. A rule is
   * `{route?, method?, probability?, times?, mode, …}`: `route` as `/__sim/stats` names it
   * (`"GET /api/v4/projects/:id/jobs/:job_id"`), a bare template for any method, or `"*"`; `probability`
   * 0..1 drawn from the seeded PRNG; `times` caps how often it fires. Modes: `{"mode":"latency","ms":N}`,
   * `{"mode":"status","status":500|502|503|504}`, `{"mode":"reset"}`, `{"mode":"rate-limit",
   * "retryAfter":S}`, `{"mode":"truncate"}`, `{"mode":"malformed"}`, `{"mode":"stall","afterBytes":N}`,
   * `{"mode":"hang"}` (faults.ts, fault-inject.ts). The first matching rule that fires wins.
   * @example [{ route: 'POST /api/v4/projects/:id/jobs/:job_id/retry', mode: 'status', status: 502, times: 1 }]
   * @default []
   */
  faults?: readonly FaultRule[];
}

export const V3_COMMIT_SHAPES = ['repo-commit', 'ci-commit'] as const;
export type V3CommitShape = (typeof V3_COMMIT_SHAPES)[number];

export function isV3CommitShape(value: unknown): value is V3CommitShape {
  return (V3_COMMIT_SHAPES as readonly unknown[]).includes(value);
}

export type ResolvedOptions = Required<SimulatorOptions>;

export const MIN_BUILDS = 60;
/** The longest interval `setInterval` takes. */
export const MAX_TICK_MS = 2_147_483_647;

export class InvalidSimulatorOptionError extends TypeError {
  readonly code = 'SIM_INVALID_OPTION';

  constructor(option: string, value: unknown, expected: string) {
    super(`Invalid simulator option ${option}: ${JSON.stringify(value)} (expected ${expected})`);
    this.name = 'InvalidSimulatorOptionError';
  }
}

function getValidInteger(option: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidSimulatorOptionError(option, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

function getValidHost(value: string | undefined): string {
  if (value === undefined) return '127.0.0.1';
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidSimulatorOptionError('host', value, 'a non-empty host name or address');
  }
  return value;
}

function getValidV3CommitShape(value: V3CommitShape | undefined): V3CommitShape {
  if (value === undefined) return 'repo-commit';
  if (!isV3CommitShape(value)) throw new InvalidSimulatorOptionError('v3CommitShape', value, V3_COMMIT_SHAPES.map((s) => `'${s}'`).join(' or '));
  return value;
}

function getValidBoolean(option: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidSimulatorOptionError(option, value, 'true or false');
  return value;
}

/** Each rule's shape (whether its route exists is checked when the simulator has its routes). */
function getValidFaults(value: readonly FaultRule[] | undefined): readonly FaultRule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidSimulatorOptionError('faults', value, 'an array of fault rules');
  return value.map((rule: unknown, i) => {
    const parsed = parseFaultRule(rule);
    if ('error' in parsed) throw new InvalidSimulatorOptionError(`faults[${i}].${parsed.error.field}`, parsed.error.value, parsed.error.expected);
    return parsed.rule;
  });
}

export function resolveOptions(options: SimulatorOptions = {}): ResolvedOptions {
  return {
    port: getValidInteger('port', options.port, 0, 0, 65535),
    host: getValidHost(options.host),
    seed: getValidInteger('seed', options.seed, 1, 0, 0xffffffff),
    builds: getValidInteger('builds', options.builds, 240, MIN_BUILDS, 5_000_000),
    tickMs: getValidInteger('tickMs', options.tickMs, 1000, 1, MAX_TICK_MS),
    jobTicks: getValidInteger('jobTicks', options.jobTicks, 20, 1, 1_000_000),
    pendingTicks: getValidInteger('pendingTicks', options.pendingTicks, 2, 0, 1_000_000),
    v3CommitShape: getValidV3CommitShape(options.v3CommitShape),
    traceRange: getValidBoolean('traceRange', options.traceRange, false),
    faults: getValidFaults(options.faults),
  };
}
