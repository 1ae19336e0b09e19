/**
 * The one interface every upstream adapter implements, and the per-call context each of its methods
 * receives. The domain model the adapters produce is in `../model.ts`.
 */
import type {
  BuildListRequest,
  BuildStatus,
  BuildModel,
  BuildPage,
  BuildStageModel,
  CommitModel,
  Credential,
  PipelineListRequest,
  PipelineModel,
  PipelinePage,
  ProjectModel,
  RetryOptions,
  TraceFrom,
  TraceSlice,
  TraceUnit,
  TraceWindow,
  UpstreamKind,
  UserModel,
} from '../model.js';
import type { UpstreamBudget } from './budget.js';

/** An upstream's counters and breaker state, for metrics (kept by the registry, one per upstream). */
export interface UpstreamStats {
  requests: number;
  retries: number;
  breaker: 'closed' | 'open' | 'half-open';
}

/** Per-call context every adapter method receives. */
export interface CallContext {
  credential?: Credential;
  signal?: AbortSignal;
  /** Epoch ms by which the GraphQL request must be answered: no retry is started past it. */
  deadline?: number;
  /** Sent upstream as `X-Request-Id`, so one request can be followed through both logs. */
  requestId?: string;
  /**
   * The operation's upstream budget (calls and bytes), charged by http.ts; shared by every call of one
   * operation or subscription event. None for the trace hub's shared pollers and readiness probes.
   */
  budget?: UpstreamBudget;
  /**
   * Not charged to the credential's per-minute budget (`upstreams[].budgetPerMinute`): for the gateway's
   * own calls, bounded by their schedule rather than by what clients ask. The trace hub's shared pollers
   * make one poll per interval per build however many watch, with whichever credential may read; charged,
   * they would bill that one credential for every watcher, and once it was spent end every stream.
   * Readiness probes likewise.
   */
  unmetered?: boolean;
  /**
   * Told the ms an upstream asks its pollers to wait between reads (GitLab's `Poll-Interval` header),
   * whenever a response carries one: the trace poller's hint, without it reading headers.
   */
  onPollIntervalHint?: (ms: number) => void;
}

export interface Upstream {
  readonly name: string;
  readonly kind: UpstreamKind;
  readonly baseUrl: string;

  /** What the offsets of this upstream's traces count. */
  readonly traceUnit: TraceUnit;
  /**
   * Whether a build in a terminal status never changes again (GitLab: a retry makes a new build), so a
   * cache may keep it. bk-ci retries a finished build in place: false.
   */
  readonly finishedBuildsAreFinal: boolean;
  /** The most a `TraceWindow.limit` may be, in `traceUnit`s. */
  readonly maxTraceLimit: number;

  /**
   * A build locator from a client's `Project.build(id:)` argument (or a global id), checked so that it
   * can only ever address a build; throws BAD_USER_INPUT otherwise.
   */
  parseBuildLocator(input: string): string;

  listBuilds(call: CallContext, request: BuildListRequest): Promise<BuildPage>;
  /** A project's pipelines (or, with `request.sha`, a commit's), newest first; bk-ci: its pipelines' runs. */
  listPipelines(call: CallContext, request: PipelineListRequest): Promise<PipelinePage>;
  getBuild(call: CallContext, projectId: string, locator: string): Promise<BuildModel>;
  /** The build's stages, jobs and steps; null when the upstream has no such structure. */
  getStages(call: CallContext, projectId: string, locator: string): Promise<BuildStageModel[] | null>;
  readTrace(call: CallContext, projectId: string, locator: string, window: TraceWindow): Promise<TraceSlice>;
  /**
   * The log from `from.offset` to its current end, in pieces that never split a character or a line,
   * without holding the whole log: what the trace hub polls and back-fills with.
   */
  streamTrace(call: CallContext, projectId: string, locator: string, from: TraceFrom): AsyncIterable<TraceSlice>;
  getProject(call: CallContext, projectId: string): Promise<ProjectModel>;
  getPipeline(call: CallContext, projectId: string, pipelineId: string): Promise<PipelineModel>;
  getCommit(call: CallContext, projectId: string, sha: string): Promise<CommitModel>;
  getUser(call: CallContext, userId: string): Promise<UserModel>;

  /**
   * The build mutations. Which of them (and whether `options`) a kind supports is declared in its
   * descriptor's capabilities (kinds/), which the resolvers check before any call; a kind without
   * erase or play leaves the method out.
   */
  retry(call: CallContext, projectId: string, locator: string, options?: RetryOptions): Promise<BuildModel>;
  cancel(call: CallContext, projectId: string, locator: string): Promise<BuildModel>;
  erase?(call: CallContext, projectId: string, locator: string): Promise<BuildModel>;
  play?(call: CallContext, projectId: string, locator: string): Promise<BuildModel>;

  /**
   * The pipeline mutations and a runner's builds, declared per kind in the descriptor's capabilities
   * (`pipelineRetry`, `pipelineCancel`, `runnerBuilds`) and checked before any call; a kind without one
   * leaves the method out. Each mutation is a single upstream POST (plus reads where the kind needs
   * them), never retried.
   */
  retryPipeline?(call: CallContext, projectId: string, pipelineId: string): Promise<PipelineModel>;
  cancelPipeline?(call: CallContext, projectId: string, pipelineId: string): Promise<PipelineModel>;
  listRunnerBuilds?(call: CallContext, request: RunnerBuildsRequest): Promise<BuildPage>;
}

/** A page of the builds a runner ran (`Runner.builds`). */
export interface RunnerBuildsRequest {
  runnerId: string;
  statuses?: readonly BuildStatus[];
  first: number;
  /** The adapter's own position from a previous page (a decoded cursor). */
  after?: string;
}

/** The name codegen's mappers use for the `Upstream` GraphQL type. */
export type UpstreamAdapter = Upstream;
