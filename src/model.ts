/**
 * The domain model every layer shares: what resolvers receive (codegen's `mappers` point the GraphQL
 * types at these), what loaders cache, what adapters produce and the trace hub streams.
 *
 * Models are *partial by design*: a list response embeds only a summary of a build's pipeline, commit
 * and user. A field that is `undefined` was not in the response the model came from, so its resolver
 * loads the full entity; `null` means the upstream said "none". That one rule is what keeps a list of
 * builds at one upstream request while still answering any field.
 */

export type UpstreamKind = 'gitlab-v4' | 'gitlab-v3' | 'bkci-apigw';

export type BuildStatus =
  | 'CREATED'
  | 'WAITING_FOR_RESOURCE'
  | 'PREPARING'
  | 'WAITING_FOR_CALLBACK'
  | 'PENDING'
  | 'RUNNING'
  | 'SUCCESS'
  | 'FAILED'
  | 'CANCELING'
  | 'CANCELED'
  | 'SKIPPED'
  | 'MANUAL'
  | 'SCHEDULED';

export const TERMINAL_STATUSES: ReadonlySet<BuildStatus> = new Set([
  'SUCCESS',
  'FAILED',
  'CANCELED',
  'SKIPPED',
]);

/** How a request authenticates upstream: the caller's own credential, else the upstream's configured one. */
export interface Credential {
  /** Where it travels: a header name (`PRIVATE-TOKEN`, `Authorization`, `X-DEVOPS-UID`, …) or, for `in: 'query'`, a query parameter name (`access_token`). */
  name: string;
  value: string;
  /** @default 'header' */
  in?: 'header' | 'query';
}

/** Identifies a project inside one upstream. `id` is the upstream's id or its path (`foo/bar`). */
export interface ProjectKey {
  upstream: string;
  projectId: string;
}

export interface ProjectModel extends ProjectKey {
  /** The upstream's canonical id once known (GitLab answers paths with a numeric id). */
  canonicalId?: string;
  name?: string | null;
  path?: string | null;
  description?: string | null;
  defaultBranch?: string | null;
  visibility?: string | null;
  webUrl?: string | null;
}

export interface UserModel {
  upstream: string;
  id: string;
  username?: string;
  name?: string | null;
  state?: string | null;
  avatarUrl?: string | null;
  webUrl?: string | null;
}

export interface CommitModel extends ProjectKey {
  sha: string;
  shortId?: string | null;
  title?: string | null;
  message?: string | null;
  authorName?: string | null;
  authorEmail?: string | null;
  authoredDate?: string | null;
  committerName?: string | null;
  committerEmail?: string | null;
  committedDate?: string | null;
  createdAt?: string | null;
  webUrl?: string | null;
}

export interface PipelineModel extends ProjectKey {
  id: string;
  name?: string | null;
  status?: BuildStatus;
  upstreamStatus?: string;
  ref?: string | null;
  sha?: string | null;
  source?: string | null;
  createdAt?: string | null;
  updatedAt?: string | null;
  startedAt?: string | null;
  finishedAt?: string | null;
  duration?: number | null;
  webUrl?: string | null;
  user?: UserModel | null;
}

export interface RunnerModel {
  upstream: string;
  id: string;
  name: string | null;
  description: string | null;
  shared: boolean | null;
  active: boolean | null;
  online: boolean | null;
  status: string | null;
}

export interface ArtifactModel {
  fileType: string;
  filename: string;
  size: number | null;
  fileFormat: string | null;
  downloadUrl: string | null;
}

export type BuildKind = 'BUILD' | 'BRIDGE';

/** One step (bk-ci element) of a build's job. */
export interface BuildStepModel {
  id: string;
  name: string | null;
  status: BuildStatus;
  upstreamStatus: string;
}

/** One job (bk-ci container) of a build's stage. */
export interface BuildJobModel {
  id: string;
  name: string | null;
  status: BuildStatus;
  upstreamStatus: string;
  steps: BuildStepModel[];
}

/** One stage of a build, for upstreams whose builds have inner structure (bk-ci). */
export interface BuildStageModel {
  id: string;
  name: string | null;
  status: BuildStatus;
  upstreamStatus: string;
  jobs: BuildJobModel[];
}

/** A build as every adapter returns it. Build fields are always complete; related entities may be partial. */
export interface BuildModel extends ProjectKey {
  /** The upstream's own id of the build (GitLab's job id, bk-ci's `b-…`). */
  id: string;
  /**
   * What the adapter needs to address the build again inside its project: GitLab's job id, or
   * `pipelineId/buildId` for bk-ci, whose API nests builds under pipelines. Global ids and loader keys use it.
   */
  locator: string;
  /** Which run of the build this is (bk-ci's `executeCount`); null where a retry makes a new build. */
  attempt: number | null;
  /** The build's stages; undefined when the response did not include them (loaded on demand), null when the upstream has none. */
  stages?: BuildStageModel[] | null;
  kind: BuildKind;
  name: string;
  stage: string | null;
  status: BuildStatus;
  upstreamStatus: string;
  ref: string | null;
  tag: boolean | null;
  allowFailure: boolean | null;
  coverage: number | null;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  erasedAt: string | null;
  duration: number | null;
  queuedDuration: number | null;
  failureReason: string | null;
  webUrl: string | null;
  tagList: string[] | null;
  retryable: boolean;
  cancelable: boolean;
  playable: boolean;
  commit: CommitModel | null;
  pipeline: PipelineModel | null;
  user: UserModel | null;
  runner: RunnerModel | null;
  artifacts: ArtifactModel[];
  artifactsExpireAt: string | null;
  downstreamPipeline: PipelineModel | null;
}

/** Where a list of builds comes from. */
export type BuildListSource =
  | { of: 'project'; projectId: string }
  | { of: 'pipeline'; projectId: string; pipelineId: string; bridges?: boolean }
  | { of: 'commit'; projectId: string; sha: string };

export interface BuildListRequest {
  source: BuildListSource;
  statuses?: readonly BuildStatus[];
  /** How many builds the caller wants. */
  first: number;
  /** The adapter's own opaque position from a previous page (decoded from a Relay cursor). */
  after?: string;
  /**
   * Backward paging: the `last` builds before `before` (or, without it, the list's last ones); `first`
   * and `after` are then unused. Offset-paged lists only; others refuse it (UNSUPPORTED_BY_UPSTREAM).
   */
  last?: number;
  /** The adapter's position of the item the backward page ends before (a decoded `before` cursor). */
  before?: string;
}

export interface BuildPage {
  builds: BuildModel[];
  /** The adapter's position after each build, same order as `builds`: the Relay cursor's payload. */
  positions: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  /** Null when the upstream does not say. */
  totalCount: number | null;
}

/**
 * A list of a project's (or, with `sha`, a commit's) pipelines. For bk-ci a pipeline is one run of a
 * pipeline (a history record). Paging fields are those of `BuildListRequest`, `perPage` its `first`.
 */
export interface PipelineListRequest {
  projectId: string;
  /** Only pipelines in these statuses (distinct); all when absent or empty. */
  scope?: readonly BuildStatus[];
  /** Only pipelines of this branch or tag. */
  ref?: string;
  /** Only pipelines started this way (GitLab's `source`: `push`, `web`, `schedule`, …). */
  source?: string;
  /** Only pipelines of this commit (a full SHA). */
  sha?: string;
  /** How many pipelines the caller wants (forward paging). */
  perPage: number;
  /** The adapter's own opaque position from a previous page (decoded from a Relay cursor). */
  after?: string;
  /** Backward paging: the `last` pipelines before `before` (or the list's last ones); `perPage`/`after` unused. */
  last?: number;
  /** The adapter's position of the item the backward page ends before. */
  before?: string;
}

export interface PipelinePage {
  pipelines: PipelineModel[];
  /** The adapter's position after each pipeline, same order as `pipelines`: the Relay cursor's payload. */
  positions: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  /** Null when the upstream does not say. */
  totalCount: number | null;
}

/** A slice of a build's log. Offsets count UTF-8 bytes (GitLab) or lines (bk-ci): see `TraceUnit`. */
export interface TraceSlice {
  offset: number;
  nextOffset: number;
  content: string;
  /** The log's size so far (for line-numbered logs: the next line number the upstream will write). */
  size: number;
  /** True when the slice reaches the end of what the upstream has now. */
  atEnd: boolean;
  /** The content's UTF-8 bytes, where the upstream sent bytes (GitLab's streamed log): keep these rather than `content`. */
  readonly bytes?: Buffer;
  /** The content's lines with their numbers, where the log is line-numbered (bk-ci's `readTrace`): lets narrower windows be cut from one read. */
  readonly numberedLines?: ReadonlyArray<NumberedLine>;
}

/** One line of a line-numbered log; `text` ends with its newline. */
export interface NumberedLine {
  lineNo: number;
  text: string;
}

export type TraceUnit = 'BYTES' | 'LINES';

export interface TraceFrom {
  offset: number;
  /** The attempt whose log to read (bk-ci); the current one when absent. */
  attempt?: number | null;
}

export interface TraceWindow {
  offset: number;
  limit: number;
  /** The build's current attempt when the caller knows it (bk-ci reads logs per attempt). */
  attempt?: number | null;
}

export interface RetryOptions {
  taskId?: string | null;
  failedContainer?: boolean | null;
  skip?: boolean | null;
}

/** A TraceChunk as resolvers hand it to GraphQL. */
export interface TraceChunkModel extends TraceSlice {
  complete: boolean;
}

/** What every build mutation returns. */
export interface BuildPayloadModel {
  build: BuildModel;
}
