/**
 * bk-ci's apigw models (`Result`, `BuildHistory`, `ModelDetail`, `QueryLogs`, …, as the Kotlin pojos of
 * github.com/TencentBlueKing/bk-ci name their JSON fields) and their mapping to the domain models.
 */
import type {
  ArtifactModel,
  BuildModel,
  BuildStageModel,
  BuildStatus,
  CommitModel,
  PipelineModel,
  UserModel,
} from '../model.js';

/** Every apigw answer: `status` 0 is success. */
export interface BkciResult<T> {
  status: number;
  message?: string | null;
  data?: T | null;
}

export interface BkciPage<T> {
  count: number;
  page: number;
  pageSize: number;
  totalPages: number;
  records: T[];
}

export interface BkciMaterial {
  aliasName?: string | null;
  url?: string | null;
  branchName?: string | null;
  newCommitId?: string | null;
  newCommitComment?: string | null;
}

export interface BkciErrorInfo {
  taskId?: string;
  taskName?: string;
  errorMsg?: string;
  errorCode?: number;
}

export interface BkciFileInfo {
  name: string;
  fullName?: string;
  path?: string;
  size?: number;
  artifactoryType?: string;
}

/** BuildHistory (history records) and BuildHistoryWithVars (status), the fields we use. */
export interface BkciBuild {
  id: string;
  userId?: string | null;
  buildNum?: number;
  startTime?: number | null;
  endTime?: number | null;
  queueTime?: number | null;
  executeTime?: number | null;
  status: string;
  material?: BkciMaterial[] | null;
  artifactList?: BkciFileInfo[] | null;
  errorInfoList?: BkciErrorInfo[] | null;
  executeCount?: number | null;
  buildMsg?: string | null;
  webhookInfo?: { webhookBranch?: string | null; webhookCommitId?: string | null } | null;
}

export interface BkciPipeline {
  pipelineId: string;
  pipelineName?: string;
  latestBuildStatus?: string | null;
  latestBuildId?: string | null;
  latestBuildStartTime?: number | null;
  latestBuildEndTime?: number | null;
  createTime?: number | null;
  updateTime?: number | null;
  creator?: string | null;
}

interface BkciElement {
  id: string;
  name?: string;
  status?: string | null;
}

interface BkciContainer {
  id?: string;
  containerHashId?: string;
  name?: string;
  status?: string | null;
  elements?: BkciElement[];
}

export interface BkciModelDetail {
  id: string;
  pipelineId: string;
  status: string;
  executeCount?: number;
  model?: { stages?: Array<{ id: string; name?: string; status?: string | null; containers?: BkciContainer[] }> };
}

export interface BkciLogLine {
  lineNo: number;
  message: string;
}

export interface BkciQueryLogs {
  finished: boolean;
  hasMore: boolean;
  logs: BkciLogLine[];
  status?: number;
}

/** bk-ci's BuildStatus names onto ours (bk-ci's `BuildStatus` enum, common-pipeline `enums/BuildStatus.kt`); unknown names are UNKNOWN there and CREATED here. */
const STATUS_BY_BKCI: Record<string, BuildStatus> = {
  QUEUE: 'PENDING',
  QUEUE_CACHE: 'PENDING',
  RETRY: 'PENDING',
  DEPENDENT_WAITING: 'PENDING',
  TRIGGER_REVIEWING: 'PENDING',
  PREPARE_ENV: 'PREPARING',
  RUNNING: 'RUNNING',
  LOOP_WAITING: 'RUNNING',
  CALL_WAITING: 'RUNNING',
  QUALITY_CHECK_WAIT: 'RUNNING',
  REVIEWING: 'MANUAL',
  PAUSE: 'MANUAL',
  SUCCEED: 'SUCCESS',
  STAGE_SUCCESS: 'SUCCESS',
  REVIEW_PROCESSED: 'SUCCESS',
  QUALITY_CHECK_PASS: 'SUCCESS',
  SKIP: 'SKIPPED',
  UNEXEC: 'SKIPPED',
  TRY_FINALLY: 'SKIPPED',
  CANCELED: 'CANCELED',
  FAILED: 'FAILED',
  TERMINATE: 'FAILED',
  REVIEW_ABORT: 'FAILED',
  QUALITY_CHECK_FAIL: 'FAILED',
  QUEUE_TIMEOUT: 'FAILED',
  EXEC_TIMEOUT: 'FAILED',
  HEARTBEAT_TIMEOUT: 'FAILED',
  QUOTA_FAILED: 'FAILED',
  UNKNOWN: 'CREATED',
};

export function bkciStatus(status: string | null | undefined): BuildStatus {
  return STATUS_BY_BKCI[status ?? ''] ?? 'CREATED';
}

const iso = (epochMs: number | null | undefined): string | null =>
  typeof epochMs === 'number' && epochMs > 0 ? new Date(epochMs).toISOString() : null;

export interface BkciMapping {
  upstream: string;
  /** Origin of the bk-ci web console, for web URLs. */
  consoleOrigin: string;
}

export function toBkciUser(upstream: string, userId: string): UserModel {
  // bk-ci's apigw has no user endpoint: a user is its id, and nothing more is known.
  return { upstream, id: userId, username: userId, name: null, state: null, avatarUrl: null, webUrl: null };
}

export function toBkciPipeline(mapping: BkciMapping, projectId: string, pipeline: BkciPipeline): PipelineModel {
  return {
    upstream: mapping.upstream,
    projectId,
    id: pipeline.pipelineId,
    name: pipeline.pipelineName ?? null,
    status: bkciStatus(pipeline.latestBuildStatus),
    upstreamStatus: pipeline.latestBuildStatus ?? '',
    ref: null,
    sha: null,
    source: null,
    createdAt: iso(pipeline.createTime),
    updatedAt: iso(pipeline.updateTime),
    startedAt: iso(pipeline.latestBuildStartTime),
    finishedAt: iso(pipeline.latestBuildEndTime),
    duration: null,
    webUrl: `${mapping.consoleOrigin}/console/pipeline/${projectId}/${pipeline.pipelineId}/history`,
    user: pipeline.creator ? toBkciUser(mapping.upstream, pipeline.creator) : null,
  };
}

function toCommit(upstream: string, projectId: string, material: BkciMaterial | undefined): CommitModel | null {
  const sha = material?.newCommitId;
  if (!sha) return null;
  const message = material.newCommitComment ?? null;
  // The material is all bk-ci tells of a commit; every other field is known to be unknown (null, not undefined).
  return {
    upstream,
    projectId,
    sha,
    shortId: sha.slice(0, 8),
    title: message?.split('\n', 1)[0] ?? null,
    message,
    authorName: null,
    authorEmail: null,
    authoredDate: null,
    committerName: null,
    committerEmail: null,
    committedDate: null,
    createdAt: null,
    webUrl: null,
  };
}

const FINISHED: ReadonlySet<BuildStatus> = new Set(['SUCCESS', 'FAILED', 'CANCELED', 'SKIPPED']);

export function toBkciBuild(mapping: BkciMapping, projectId: string, pipelineId: string, build: BkciBuild): BuildModel {
  const { upstream } = mapping;
  const status = bkciStatus(build.status);
  const material = build.material?.[0];
  const started = build.startTime ?? null;
  const ended = build.endTime ?? null;
  const artifacts: ArtifactModel[] = (build.artifactList ?? []).map((file) => ({
    fileType: 'archive',
    filename: file.name,
    size: file.size ?? null,
    fileFormat: null,
    downloadUrl: null,
  }));
  return {
    upstream,
    projectId,
    id: build.id,
    locator: `${pipelineId}/${build.id}`,
    attempt: build.executeCount ?? 1,
    kind: 'BUILD',
    name: build.buildNum !== undefined ? `#${build.buildNum}` : build.id,
    stage: null,
    status,
    upstreamStatus: build.status,
    ref: material?.branchName ?? build.webhookInfo?.webhookBranch ?? null,
    tag: null,
    allowFailure: null,
    coverage: null,
    createdAt: iso(build.queueTime ?? build.startTime),
    startedAt: iso(started),
    finishedAt: iso(ended),
    erasedAt: null,
    duration: started ? ((ended ?? Date.now()) - started) / 1000 : null,
    queuedDuration: started && build.queueTime ? Math.max(0, started - build.queueTime) / 1000 : null,
    failureReason: status === 'FAILED' ? (build.errorInfoList?.[0]?.errorMsg ?? null) : null,
    webUrl: `${mapping.consoleOrigin}/console/pipeline/${projectId}/${pipelineId}/detail/${build.id}`,
    tagList: null,
    retryable: FINISHED.has(status),
    cancelable: !FINISHED.has(status),
    playable: false,
    commit: toCommit(upstream, projectId, material),
    pipeline: { upstream, projectId, id: pipelineId },
    user: build.userId ? toBkciUser(upstream, build.userId) : null,
    runner: null,
    artifacts,
    artifactsExpireAt: null,
    downstreamPipeline: null,
  };
}

export function toBkciStages(detail: BkciModelDetail): BuildStageModel[] {
  return (detail.model?.stages ?? []).map((stage) => ({
    id: stage.id,
    name: stage.name ?? null,
    status: bkciStatus(stage.status),
    upstreamStatus: stage.status ?? '',
    jobs: (stage.containers ?? []).map((container) => ({
      id: container.containerHashId ?? container.id ?? '',
      name: container.name ?? null,
      status: bkciStatus(container.status),
      upstreamStatus: container.status ?? '',
      steps: (container.elements ?? []).map((element) => ({
        id: element.id,
        name: element.name ?? null,
        status: bkciStatus(element.status),
        upstreamStatus: element.status ?? '',
      })),
    })),
  }));
}
