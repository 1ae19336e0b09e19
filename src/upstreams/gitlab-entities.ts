/**
 * GitLab's REST entities (v4, and the parts v3 shares) and their mapping to the domain models.
 * Field lists follow `lib/api/entities/ci/*.rb` and the JSON schemas in shared/anchors.
 */
import type {
  ArtifactModel,
  BuildModel,
  BuildStatus,
  CommitModel,
  PipelineModel,
  ProjectModel,
  RunnerModel,
  UserModel,
} from '../model.js';

export interface GitLabUser {
  id: number;
  username: string;
  name?: string;
  state?: string;
  avatar_url?: string | null;
  web_url?: string;
}

export interface GitLabCommit {
  id: string;
  short_id?: string;
  title?: string;
  message?: string;
  author_name?: string;
  author_email?: string;
  authored_date?: string;
  committer_name?: string;
  committer_email?: string;
  committed_date?: string;
  created_at?: string;
  web_url?: string;
}

/** The older v3 shape of a build's commit (GitLab 8.0–8.x): the CI commit, which later became the pipeline. */
export interface GitLabCiCommit {
  id: number;
  sha: string;
  ref: string | null;
  committed_at?: string | null;
}

export function isCiCommit(commit: GitLabCommit | GitLabCiCommit): commit is GitLabCiCommit {
  return typeof commit.id === 'number';
}

export interface GitLabPipeline {
  id: number;
  project_id?: number;
  sha?: string;
  ref?: string;
  status: string;
  source?: string;
  created_at?: string;
  updated_at?: string;
  started_at?: string | null;
  finished_at?: string | null;
  duration?: number | null;
  web_url?: string;
  user?: GitLabUser | null;
}

export interface GitLabRunner {
  id: number;
  description?: string | null;
  active?: boolean;
  is_shared?: boolean;
  name?: string | null;
  online?: boolean;
  status?: string;
}

export interface GitLabArtifact {
  file_type: string;
  size?: number;
  filename: string;
  file_format?: string;
}

export interface GitLabJob {
  id: number;
  /** v3 (GitLab 8.x): the web-UI artifacts URL. */
  download_url?: string | null;
  status: string;
  stage?: string;
  name: string;
  ref?: string;
  tag?: boolean;
  coverage?: number | null;
  allow_failure?: boolean;
  created_at?: string;
  started_at?: string | null;
  finished_at?: string | null;
  erased_at?: string | null;
  duration?: number | null;
  queued_duration?: number | null;
  failure_reason?: string;
  web_url?: string;
  user?: GitLabUser | null;
  commit?: GitLabCommit | GitLabCiCommit | null;
  pipeline?: GitLabPipeline;
  runner?: GitLabRunner | null;
  artifacts?: GitLabArtifact[];
  artifacts_file?: { filename: string; size: number } | null;
  artifacts_expire_at?: string | null;
  tag_list?: string[];
  archived?: boolean;
  /** Bridges only. */
  downstream_pipeline?: GitLabPipeline | null;
}

export interface GitLabProject {
  id: number;
  name?: string;
  path_with_namespace?: string;
  description?: string | null;
  default_branch?: string | null;
  visibility?: string;
  web_url?: string;
}

const STATUS_BY_GITLAB: Record<string, BuildStatus> = {
  created: 'CREATED',
  waiting_for_resource: 'WAITING_FOR_RESOURCE',
  preparing: 'PREPARING',
  waiting_for_callback: 'WAITING_FOR_CALLBACK',
  pending: 'PENDING',
  running: 'RUNNING',
  success: 'SUCCESS',
  failed: 'FAILED',
  canceling: 'CANCELING',
  canceled: 'CANCELED',
  skipped: 'SKIPPED',
  manual: 'MANUAL',
  scheduled: 'SCHEDULED',
};

/**
 * GitLab's status word to ours. A word GitLab may add later is shown as CREATED (the least committal
 * state) while `upstreamStatus` keeps the original, so clients are never broken by a new status.
 */
export function gitlabStatus(status: string): BuildStatus {
  return STATUS_BY_GITLAB[status] ?? 'CREATED';
}

/** Our status to GitLab's `scope` word. */
export function gitlabScope(status: BuildStatus): string {
  return status.toLowerCase();
}

// GitLab's Ci::HasStatus groups: what may be canceled, retried, played.
const CANCELABLE = new Set(['created', 'waiting_for_resource', 'preparing', 'waiting_for_callback', 'pending', 'running', 'scheduled']);
const RETRYABLE = new Set(['success', 'failed', 'canceled']);
const PLAYABLE = new Set(['manual', 'scheduled']);

export function toUser(upstream: string, user: GitLabUser): UserModel {
  return {
    upstream,
    id: String(user.id),
    username: user.username,
    name: user.name,
    state: user.state,
    avatarUrl: user.avatar_url,
    webUrl: user.web_url,
  };
}

export function toCommit(upstream: string, projectId: string, commit: GitLabCommit): CommitModel {
  return {
    upstream,
    projectId,
    sha: commit.id,
    shortId: commit.short_id,
    title: commit.title,
    message: commit.message,
    authorName: commit.author_name,
    authorEmail: commit.author_email,
    authoredDate: commit.authored_date,
    committerName: commit.committer_name,
    committerEmail: commit.committer_email,
    committedDate: commit.committed_date,
    createdAt: commit.created_at,
    webUrl: commit.web_url,
  };
}

/** Fields absent from `pipeline` stay undefined, so the resolver knows to load the full pipeline. */
export function toPipeline(upstream: string, projectId: string, pipeline: GitLabPipeline): PipelineModel {
  return {
    upstream,
    projectId,
    id: String(pipeline.id),
    status: gitlabStatus(pipeline.status),
    upstreamStatus: pipeline.status,
    ref: pipeline.ref,
    sha: pipeline.sha,
    source: pipeline.source,
    createdAt: pipeline.created_at,
    updatedAt: pipeline.updated_at,
    startedAt: pipeline.started_at,
    finishedAt: pipeline.finished_at,
    duration: pipeline.duration,
    webUrl: pipeline.web_url,
    user: pipeline.user === undefined ? undefined : pipeline.user && toUser(upstream, pipeline.user),
  };
}

export function toRunner(upstream: string, runner: GitLabRunner): RunnerModel {
  return {
    upstream,
    id: String(runner.id),
    name: runner.name ?? null,
    description: runner.description ?? null,
    shared: runner.is_shared ?? null,
    active: runner.active ?? null,
    online: runner.online ?? null,
    status: runner.status ?? null,
  };
}

export function toProject(upstream: string, projectId: string, project: GitLabProject): ProjectModel {
  return {
    upstream,
    projectId,
    canonicalId: String(project.id),
    name: project.name ?? null,
    path: project.path_with_namespace ?? null,
    description: project.description ?? null,
    defaultBranch: project.default_branch ?? null,
    visibility: project.visibility ?? null,
    webUrl: project.web_url ?? null,
  };
}

export interface ToBuildOptions {
  /** Where the artifacts archive of this build can be downloaded, if it has one. */
  archiveUrl: string | null;
}

/**
 * A job as GitLab sends it, in a list or alone. The project id in the model is the numeric one from
 * `pipeline.project_id` when GitLab sends it, so that global ids do not depend on how the caller named
 * the project.
 */
export function toBuild(upstream: string, projectId: string, job: GitLabJob, options: ToBuildOptions): BuildModel {
  const canonicalProject = job.pipeline?.project_id !== undefined ? String(job.pipeline.project_id) : projectId;
  const artifacts: ArtifactModel[] = (job.artifacts ?? []).map((artifact) => ({
    fileType: artifact.file_type,
    filename: artifact.filename,
    size: artifact.size ?? null,
    fileFormat: artifact.file_format ?? null,
    downloadUrl: artifact.file_type === 'archive' ? options.archiveUrl : null,
  }));
  if (artifacts.length === 0 && job.artifacts_file) {
    artifacts.push({
      fileType: 'archive',
      filename: job.artifacts_file.filename,
      size: job.artifacts_file.size,
      fileFormat: 'zip',
      downloadUrl: options.archiveUrl,
    });
  }
  const archived = job.archived === true;
  return {
    upstream,
    projectId: canonicalProject,
    id: String(job.id),
    locator: String(job.id),
    attempt: null,
    stages: null,
    kind: job.downstream_pipeline !== undefined ? 'BRIDGE' : 'BUILD',
    name: job.name,
    stage: job.stage ?? null,
    status: gitlabStatus(job.status),
    upstreamStatus: job.status,
    ref: job.ref ?? null,
    tag: job.tag ?? null,
    allowFailure: job.allow_failure ?? null,
    coverage: job.coverage ?? null,
    createdAt: job.created_at ?? null,
    startedAt: job.started_at ?? null,
    finishedAt: job.finished_at ?? null,
    erasedAt: job.erased_at ?? null,
    duration: job.duration ?? null,
    queuedDuration: job.queued_duration ?? null,
    failureReason: job.failure_reason ?? null,
    webUrl: job.web_url ?? null,
    tagList: job.tag_list ?? null,
    retryable: !archived && RETRYABLE.has(job.status),
    cancelable: CANCELABLE.has(job.status),
    playable: !archived && PLAYABLE.has(job.status),
    commit: job.commit && !isCiCommit(job.commit) ? toCommit(upstream, canonicalProject, job.commit) : null,
    pipeline: job.pipeline ? toPipeline(upstream, canonicalProject, job.pipeline) : null,
    user: job.user ? toUser(upstream, job.user) : null,
    runner: job.runner ? toRunner(upstream, job.runner) : null,
    artifacts,
    artifactsExpireAt: job.artifacts_expire_at ?? null,
    downstreamPipeline: job.downstream_pipeline
      ? toPipeline(upstream, String(job.downstream_pipeline.project_id ?? canonicalProject), job.downstream_pipeline)
      : null,
  };
}
