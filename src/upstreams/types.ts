/**
 * The one interface every upstream adapter implements, and the domain models the resolvers receive
 * (codegen's `mappers` point the GraphQL types at these).
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
  /** Header name, e.g. `PRIVATE-TOKEN` or `Authorization`. */
  header: string;
  value: string;
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

/** A build as every adapter returns it. Build fields are always complete; related entities may be partial. */
export interface BuildModel extends ProjectKey {
  id: string;
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
  tagList: string[];
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

/** A slice of a build's log. */
export interface TraceSlice {
  offset: number;
  nextOffset: number;
  content: string;
  /** The log's size so far. */
  size: number;
}

export interface RetryOptions {
  taskId?: string | null;
  failedContainer?: boolean | null;
  skip?: boolean | null;
}

/** Per-call context every adapter method receives. */
export interface CallContext {
  credential?: Credential;
  signal?: AbortSignal;
}

export interface Upstream {
  readonly name: string;
  readonly kind: UpstreamKind;
  readonly baseUrl: string;

  listBuilds(call: CallContext, request: BuildListRequest): Promise<BuildPage>;
  getBuild(call: CallContext, projectId: string, buildId: string): Promise<BuildModel>;
  /** The whole log as the upstream has it now (GitLab only serves the whole log). */
  getTrace(call: CallContext, projectId: string, buildId: string): Promise<Buffer>;
  getProject(call: CallContext, projectId: string): Promise<ProjectModel>;
  getPipeline(call: CallContext, projectId: string, pipelineId: string): Promise<PipelineModel>;
  getCommit(call: CallContext, projectId: string, sha: string): Promise<CommitModel>;
  getUser(call: CallContext, userId: string): Promise<UserModel>;

  retry(call: CallContext, projectId: string, buildId: string, options?: RetryOptions): Promise<BuildModel>;
  cancel(call: CallContext, projectId: string, buildId: string): Promise<BuildModel>;
  erase(call: CallContext, projectId: string, buildId: string): Promise<BuildModel>;
  play(call: CallContext, projectId: string, buildId: string): Promise<BuildModel>;

  /** Closes the connection pool. Idempotent. */
  close(): Promise<void>;
}

/** The name codegen's mappers use for the `Upstream` GraphQL type. */
export type UpstreamAdapter = Upstream;

/** A TraceChunk as resolvers hand it to GraphQL. */
export interface TraceChunkModel extends TraceSlice {
  complete: boolean;
}

/** What every build mutation returns. */
export interface BuildPayloadModel {
  build: BuildModel;
}
