/**
 * bk-ci's build model as the simulator keeps it. A pipeline owns its model (stages → containers, i.e. jobs →
 * elements, i.e. steps/plugins) whose ids are fixed per pipeline, as bk-ci's saved model ids are; each build
 * holds the run state of every part of that model. Status names are bk-ci's `BuildStatus` enum
 * (common-pipeline `BuildStatus.kt` in https://github.com/TencentBlueKing/bk-ci), limited to the ones the
 * simulator produces. Nothing here is shared with the GitLab store: bk-ci is another CI system.
 */

export type BkStatus =
  | 'QUEUE'
  | 'RUNNING'
  | 'REVIEWING'
  | 'SUCCEED'
  | 'FAILED'
  | 'CANCELED'
  | 'SKIP'
  | 'UNEXEC'
  | 'STAGE_SUCCESS'
  | 'REVIEW_ABORT';

/** bk-ci's `StartType` names; `trigger` and `startType` of a build both carry one. */
export type StartType = 'MANUAL' | 'TIME_TRIGGER' | 'WEB_HOOK' | 'SERVICE';

/** Build statuses after which nothing runs (bk-ci's `BuildInfo.isFinish()`, STAGE_SUCCESS included). */
const BUILD_FINISHED: ReadonlySet<BkStatus> = new Set(['SUCCEED', 'FAILED', 'CANCELED', 'STAGE_SUCCESS']);

export const isBuildFinished = (status: BkStatus): boolean => BUILD_FINISHED.has(status);

/** A stage, job or step that is still to run or running; everything else is settled for this attempt. */
export const isPending = (status: BkStatus): boolean => status === 'QUEUE' || status === 'RUNNING' || status === 'REVIEWING';

/** What a retry may target: a part that failed or was canceled (bk-ci's `isFailure() || isCancel()`). */
export const isRetryable = (status: BkStatus): boolean => status === 'FAILED' || status === 'CANCELED';

/** Failure beats cancel beats success; SKIP and UNEXEC children count as success (bk-ci's rollup). */
export function rollup(statuses: Iterable<BkStatus>): 'SUCCEED' | 'FAILED' | 'CANCELED' {
  let out: 'SUCCEED' | 'FAILED' | 'CANCELED' = 'SUCCEED';
  for (const status of statuses) {
    if (status === 'FAILED') return 'FAILED';
    if (status === 'CANCELED') out = 'CANCELED';
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The pipeline model (what bk-ci saves when a pipeline is edited).

export interface ElementSpec {
  /** `e-` + 32 hex: the id a client passes as log `tag` or retry `taskId`. */
  readonly id: string;
  readonly name: string;
  readonly atomCode: string;
  /** Jackson's `@type` of the element (`linuxScript`, `marketBuild`, …). */
  readonly classType: string;
  readonly version: string;
  /** Shell script of a `linuxScript` step; shown as the first line of its log. */
  readonly script: string | null;
  /** Body lines one run writes, [min, max]; the run takes ceil(lines / perTick) ticks. */
  readonly lines: readonly [number, number];
  readonly perTick: number;
  /** Runs only when the build's branch matches (bk-ci's custom run condition); else SKIP. */
  readonly onlyOnBranch: string | null;
  /** Test and build steps can fail; checkout and upload do not, so failures look plausible. */
  readonly canFail: boolean;
}

export interface ContainerSpec {
  /** The container's sequence id within the model ("1", "2", …), bk-ci's `id`/`containerId`. */
  readonly seq: string;
  /** `c-` + 32 hex: bk-ci's `containerHashId`, the job id of logs and of retry. */
  readonly hashId: string;
  readonly name: string;
  readonly baseOS: 'LINUX' | 'MACOS' | 'WINDOWS';
  readonly elements: readonly ElementSpec[];
}

export interface StageSpec {
  /** `s-` + 32 hex, shaped like the `c-`/`e-` ids (bk-ci itself names stages `stage-N`). */
  readonly id: string;
  readonly name: string;
  /** A manual review gate before the stage runs (bk-ci's `checkIn.manualTrigger`). */
  readonly review: boolean;
  readonly containers: readonly ContainerSpec[];
}

export interface BkProject {
  readonly projectId: string;
  readonly name: string;
  readonly pipelines: Map<string, BkPipeline>;
}

export interface BkPipeline {
  readonly projectId: string;
  readonly pipelineId: string;
  readonly name: string;
  readonly desc: string;
  readonly creator: string;
  readonly createTime: number;
  readonly deploymentTime: number;
  readonly version: number;
  /** Repository of the build material. */
  readonly repo: { readonly alias: string; readonly url: string };
  readonly stages: readonly StageSpec[];
  /** In build-number order: `builds[n - 1].buildNum === n`. */
  readonly builds: BkBuild[];
}

// ---------------------------------------------------------------------------------------------------
// A build's run state.

/** bk-ci's `ErrorInfo` (one entry of `errorInfoList`). */
export interface ErrorInfo {
  readonly stageId: string;
  readonly containerId: string;
  readonly taskId: string;
  readonly taskName: string;
  readonly atomCode: string;
  /** bk-ci's ErrorType ordinal: 0 SYSTEM, 1 USER, 2 THIRD_PARTY, 3 PLUGIN. */
  readonly errorType: number;
  readonly errorCode: number;
  readonly errorMsg: string;
}

export interface ElementRun {
  readonly spec: ElementSpec;
  status: BkStatus;
  /** The attempt in which this step last ran; kept by steps a retry does not re-run. */
  executeCount: number;
  startEpoch: number | null;
  elapsed: number | null;
  /** Body lines planned for the current run, and written so far. */
  total: number;
  emitted: number;
  error: ErrorInfo | null;
}

export interface ContainerRun {
  readonly spec: ContainerSpec;
  status: BkStatus;
  executeCount: number;
  startEpoch: number | null;
  elapsed: number | null;
  readonly elements: ElementRun[];
}

export interface StageRun {
  readonly spec: StageSpec;
  status: BkStatus;
  startEpoch: number | null;
  elapsed: number | null;
  /** The review gate was passed in this attempt. */
  reviewed: boolean;
  readonly containers: ContainerRun[];
}

export interface Material {
  readonly aliasName: string;
  readonly url: string;
  readonly branchName: string;
  readonly newCommitId: string;
  readonly newCommitComment: string;
  readonly commitTimes: number;
}

export type SegmentKind = 'head' | 'body' | 'ok' | 'fail' | 'cancel';

/**
 * A run of consecutive log line numbers written by one step in one tick. The text is synthesised on
 * demand from the seed (logs.ts), so a build's log costs a few numbers per step and tick.
 */
export interface LogSegment {
  readonly start: number;
  readonly count: number;
  readonly kind: SegmentKind;
  readonly executeCount: number;
  readonly element: ElementSpec;
  readonly container: ContainerSpec;
  /** Index of the first line within the step's body (body segments). */
  readonly from: number;
  /** Timestamp (ms) of the first line; line i is `ts + i * step`. */
  readonly ts: number;
  readonly step: number;
}

export interface BkBuild {
  /** `b-` + 32 hex. */
  readonly id: string;
  /** Creation order across the store; salts the per-build PRNG streams. */
  readonly serial: number;
  readonly pipeline: BkPipeline;
  readonly buildNum: number;
  /** Who started it, or who retried it last (bk-ci's start user). */
  userId: string;
  readonly trigger: StartType;
  status: BkStatus;
  queueTime: number;
  startTime: number | null;
  endTime: number | null;
  updateTime: number;
  executeCount: number;
  readonly stages: StageRun[];
  readonly branch: string;
  readonly material: readonly Material[];
  /** Start parameters (`POST /start` body plus the defaults). */
  readonly params: Readonly<Record<string, string>>;
  readonly buildMsg: string;
  remark: string | null;
  cancelUserId: string | null;
  retry: boolean;
  /** The step that fails in the current attempt (null: every step succeeds). */
  failAt: string | null;
  /** Ticks spent in QUEUE; the clock starts a queued build on its next tick. */
  waited: number;
  readonly log: LogSegment[];
  /** Next line number to allocate (per build, across jobs, steps and attempts; starts at 1). */
  nextLine: number;
}
