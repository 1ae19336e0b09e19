/**
 * The GitLab REST v3 Builds API adapter (GitLab 8.x–10.x), in both documented shapes: a build's `commit`
 * is the git commit (9.x) or the older CI commit `{id, sha, ref, committed_at}` (GitLab 8.0–8.x), and scopes
 * are statuses (9.x) or, with `legacy`, the coarse `all`/`finished`/`running` of early 8.x, narrowed here.
 * What v3 does not send is derived where it can be (duration) and null where it cannot.
 */
import { GITLAB_MAX_PER_PAGE, GitLabUpstreamBase, parseOffset } from './gitlab-common.js';
import { type GitLabJob, type GitLabPipeline, gitlabScope, isCiCommit, toBuild } from './gitlab-entities.js';
import { type UpstreamHttp, encodePath } from './http.js';
import { type FetchOffsetPage, readFilteredWindow, readOffsetWindow } from './offset-paging.js';
import { forwardOnly, isBackward, readWindow } from './offset-window.js';
import type { BuildListRequest, BuildModel, BuildPage, BuildStatus, PipelineListRequest, PipelinePage } from '../model.js';
import { listGitLabPipelines } from './gitlab-pipelines.js';
import type { CallContext } from './types.js';

export interface GitLabV3Options {
  /**
   * Speak the early 8.x Builds API (GitLab 8.0's `doc/api/builds.md`): scopes `all`/`finished`/`running` only, commit builds at
   * `/builds/commit/:sha`. @default false
   */
  legacy?: boolean;
}

/** The statuses GitLab 9.x's v3 `scope` accepts; no v3 build can be in another one. */
const V3_SCOPES: ReadonlySet<BuildStatus> = new Set(['CREATED', 'PENDING', 'RUNNING', 'FAILED', 'SUCCESS', 'CANCELED', 'SKIPPED', 'MANUAL']);

/** Early 8.x scopes and the statuses each covers; anything else is asked as `all` and narrowed here. */
const LEGACY_SCOPES: ReadonlyArray<[string, ReadonlySet<BuildStatus>]> = [
  ['running', new Set<BuildStatus>(['PENDING', 'RUNNING'])],
  ['finished', new Set<BuildStatus>(['SUCCESS', 'FAILED', 'CANCELED'])],
];

export class GitLabV3Upstream extends GitLabUpstreamBase {
  readonly kind = 'gitlab-v3' as const;
  protected readonly buildsSegment = 'builds';
  readonly #legacy: boolean;

  constructor(http: UpstreamHttp, options: GitLabV3Options = {}) {
    super(http);
    this.#legacy = options.legacy ?? false;
  }

  async listBuilds(call: CallContext, request: BuildListRequest): Promise<BuildPage> {
    const { source } = request;
    const start = parseOffset(request.after);
    // v3 knows no bridges: a pipeline's bridge list is truthfully empty.
    if (source.of === 'pipeline' && source.bridges) return emptyPage(start);
    const wanted = request.statuses?.length ? new Set(request.statuses) : undefined;
    if (wanted && ![...wanted].some((status) => V3_SCOPES.has(status))) return emptyPage(start);

    if (source.of === 'pipeline') {
      // v3 has no pipeline builds endpoint: the builds of the pipeline's commit, narrowed to the pipeline.
      const { data: pipeline } = await this.http.getJson<GitLabPipeline>(call, {
        path: encodePath`/projects/${source.projectId}/pipelines/${source.pipelineId}`,
      });
      const path = this.#commitBuildsPath(source.projectId, pipeline.sha ?? '');
      const keep = (job: GitLabJob) => pipelineIdOf(job) === pipeline.id && (!wanted || wanted.has(this.toBuild(source.projectId, job).status));
      forwardOnly(request, this.name, "a pipeline's builds (the gateway narrows its commit's builds)");
      return this.#filtered(call, path, 'all', keep, start, request.first, source.projectId);
    }

    const path =
      source.of === 'project'
        ? encodePath`/projects/${source.projectId}/builds`
        : this.#commitBuildsPath(source.projectId, source.sha);
    if (this.#legacy && wanted) {
      const scope = LEGACY_SCOPES.find(([, covers]) => [...wanted].every((status) => covers.has(status)))?.[0] ?? 'all';
      const keep = (job: GitLabJob) => wanted.has(this.toBuild(source.projectId, job).status);
      forwardOnly(request, this.name, 'a build list the gateway filters');
      return this.#filtered(call, path, scope, keep, start, request.first, source.projectId);
    }
    const scope = wanted ? [...wanted].filter((status) => V3_SCOPES.has(status)).map(gitlabScope) : undefined;
    const fetch: FetchOffsetPage<GitLabJob> = (page, perPage) => this.fetchJobs(call, path, page, perPage, scope);
    if (isBackward(request)) {
      const page = await readWindow(fetch, { count: request.first, last: request.last, before: request.before }, this.name);
      return { ...page, builds: page.items.map((job) => this.toBuild(source.projectId, job)) };
    }
    const window = await readOffsetWindow(fetch, start, request.first);
    const jobs = window.items.slice(0, request.first);
    return {
      builds: jobs.map((job) => this.toBuild(source.projectId, job)),
      positions: jobs.map((_, i) => String(start + i + 1)),
      hasNextPage: window.hasNext || window.items.length > request.first,
      hasPreviousPage: start > 0,
      totalCount: window.total,
    };
  }

  /** `GET /projects/:id/pipelines` (gitlab-pipelines.ts). */
  listPipelines(call: CallContext, request: PipelineListRequest): Promise<PipelinePage> {
    return listGitLabPipelines(this.http, call, request, 'v3');
  }

  protected toBuild(projectId: string, job: GitLabJob): BuildModel {
    const build = toBuild(this.name, projectId, job, { archiveUrl: this.archiveUrl(projectId, job) });
    if (job.duration === undefined && job.started_at) {
      const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
      const seconds = (end - Date.parse(job.started_at)) / 1000;
      build.duration = Number.isFinite(seconds) ? Math.max(0, seconds) : null;
    }
    if (job.commit && isCiCommit(job.commit)) {
      // The CI commit of 8.x is what later became the pipeline: it names both.
      build.commit = { upstream: this.name, projectId, sha: job.commit.sha, committedDate: job.commit.committed_at };
      build.pipeline ??= { upstream: this.name, projectId, id: String(job.commit.id), sha: job.commit.sha, ref: job.commit.ref };
    }
    return build;
  }

  #commitBuildsPath(projectId: string, sha: string): string {
    return this.#legacy
      ? encodePath`/projects/${projectId}/builds/commit/${sha}`
      : encodePath`/projects/${projectId}/repository/commits/${sha}/builds`;
  }

  async #filtered(
    call: CallContext,
    path: string,
    scope: string,
    keep: (job: GitLabJob) => boolean,
    start: number,
    first: number,
    projectId: string,
  ): Promise<BuildPage> {
    const fetch: FetchOffsetPage<GitLabJob> = (page, perPage) =>
      this.fetchJobs(call, path, page, perPage, scope === 'all' && !this.#legacy ? undefined : scope);
    const window = await readFilteredWindow(fetch, keep, start, first, GITLAB_MAX_PER_PAGE);
    return {
      builds: window.items.map((job) => this.toBuild(projectId, job)),
      positions: window.positions.map(String),
      hasNextPage: window.hasNext,
      hasPreviousPage: start > 0,
      totalCount: null,
    };
  }
}

function pipelineIdOf(job: GitLabJob): number | undefined {
  if (job.pipeline) return job.pipeline.id;
  return job.commit && isCiCommit(job.commit) ? job.commit.id : undefined;
}

function emptyPage(start: number): BuildPage {
  return { builds: [], positions: [], hasNextPage: false, hasPreviousPage: start > 0, totalCount: 0 };
}
