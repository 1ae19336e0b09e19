/**
 * The GitLab REST v4 adapter: the Jobs API plus the project, pipeline, commit and user endpoints.
 * Paging is GitLab's offset paging (`page`, `per_page` ≤ 100); a position is the number of builds
 * before the next one, so any `first`/`after` pair costs one or two upstream pages.
 */
import { BuildgateError, badUserInput, unsupported } from '../errors.js';
import {
  type GitLabCommit,
  type GitLabJob,
  type GitLabPipeline,
  type GitLabProject,
  type GitLabUser,
  gitlabScope,
  toBuild,
  toCommit,
  toPipeline,
  toProject,
  toUser,
} from './gitlab-entities.js';
import { UpstreamHttp, type UpstreamHttpOptions, encodePath } from './http.js';
import type {
  BuildListRequest,
  BuildModel,
  BuildPage,
  CallContext,
  CommitModel,
  PipelineModel,
  ProjectModel,
  RetryOptions,
  Upstream,
  UserModel,
} from './types.js';

/** GitLab's Kaminari `max_per_page`. */
export const GITLAB_MAX_PER_PAGE = 100;

export type GitLabV4Options = UpstreamHttpOptions;

interface OffsetPage {
  jobs: GitLabJob[];
  hasNext: boolean;
  total: number | null;
}

export class GitLabV4Upstream implements Upstream {
  readonly kind = 'gitlab-v4' as const;
  readonly name: string;
  readonly baseUrl: string;
  readonly #http: UpstreamHttp;

  constructor(options: GitLabV4Options) {
    this.#http = new UpstreamHttp(options);
    this.name = options.upstream;
    this.baseUrl = this.#http.baseUrl;
  }

  async listBuilds(call: CallContext, request: BuildListRequest): Promise<BuildPage> {
    const { source } = request;
    if (source.of === 'commit') return this.#listCommitBuilds(call, request, source.projectId, source.sha);
    const path =
      source.of === 'project'
        ? encodePath`/projects/${source.projectId}/jobs`
        : source.bridges
          ? encodePath`/projects/${source.projectId}/pipelines/${source.pipelineId}/bridges`
          : encodePath`/projects/${source.projectId}/pipelines/${source.pipelineId}/jobs`;
    const start = parseOffset(request.after);
    const window = await this.#readWindow(call, path, request, start);
    return this.#toPage(source.projectId, window, start, request.first);
  }

  getBuild(call: CallContext, projectId: string, buildId: string): Promise<BuildModel> {
    return this.#job(call, 'GET', encodePath`/projects/${projectId}/jobs/${buildId}`, projectId);
  }

  async getTrace(call: CallContext, projectId: string, buildId: string): Promise<Buffer> {
    const { data } = await this.#http.getBuffer(call, { path: encodePath`/projects/${projectId}/jobs/${buildId}/trace` });
    return data;
  }

  async getProject(call: CallContext, projectId: string): Promise<ProjectModel> {
    const { data } = await this.#http.getJson<GitLabProject>(call, { path: encodePath`/projects/${projectId}` });
    return toProject(this.name, projectId, data);
  }

  async getPipeline(call: CallContext, projectId: string, pipelineId: string): Promise<PipelineModel> {
    const { data } = await this.#http.getJson<GitLabPipeline>(call, {
      path: encodePath`/projects/${projectId}/pipelines/${pipelineId}`,
    });
    return toPipeline(this.name, projectId, data);
  }

  async getCommit(call: CallContext, projectId: string, sha: string): Promise<CommitModel> {
    const { data } = await this.#http.getJson<GitLabCommit>(call, {
      path: encodePath`/projects/${projectId}/repository/commits/${sha}`,
    });
    return toCommit(this.name, projectId, data);
  }

  async getUser(call: CallContext, userId: string): Promise<UserModel> {
    const { data } = await this.#http.getJson<GitLabUser>(call, { path: encodePath`/users/${userId}` });
    return toUser(this.name, data);
  }

  retry(call: CallContext, projectId: string, buildId: string, options?: RetryOptions): Promise<BuildModel> {
    if (options && Object.values(options).some((value) => value !== undefined && value !== null)) {
      throw unsupported(this.name, 'RetryOptions');
    }
    return this.#job(call, 'POST', encodePath`/projects/${projectId}/jobs/${buildId}/retry`, projectId);
  }

  cancel(call: CallContext, projectId: string, buildId: string): Promise<BuildModel> {
    return this.#job(call, 'POST', encodePath`/projects/${projectId}/jobs/${buildId}/cancel`, projectId);
  }

  erase(call: CallContext, projectId: string, buildId: string): Promise<BuildModel> {
    return this.#job(call, 'POST', encodePath`/projects/${projectId}/jobs/${buildId}/erase`, projectId);
  }

  play(call: CallContext, projectId: string, buildId: string): Promise<BuildModel> {
    return this.#job(call, 'POST', encodePath`/projects/${projectId}/jobs/${buildId}/play`, projectId);
  }

  close(): Promise<void> {
    return this.#http.close();
  }

  async #job(call: CallContext, method: 'GET' | 'POST', path: string, projectId: string): Promise<BuildModel> {
    const { data } =
      method === 'GET'
        ? await this.#http.getJson<GitLabJob>(call, { path })
        : await this.#http.postJson<GitLabJob>(call, { path });
    if (!data || typeof data !== 'object' || typeof data.id !== 'number') {
      throw new BuildgateError('UPSTREAM_ERROR', `upstream "${this.name}" sent a job without an id`, { upstream: this.name });
    }
    return this.#toBuild(projectId, data);
  }

  #toBuild(projectId: string, job: GitLabJob): BuildModel {
    const project = job.pipeline?.project_id ?? projectId;
    return toBuild(this.name, projectId, job, {
      archiveUrl:
        job.artifacts_file || job.artifacts?.some((artifact) => artifact.file_type === 'archive')
          ? `${this.baseUrl}${encodePath`/projects/${project}/jobs/${job.id}/artifacts`}`
          : null,
    });
  }

  async #fetchPage(call: CallContext, path: string, request: BuildListRequest, page: number, perPage: number): Promise<OffsetPage> {
    const { data, headers } = await this.#http.getJson<GitLabJob[]>(call, {
      path,
      query: {
        page,
        per_page: perPage,
        scope: request.statuses?.length ? request.statuses.map(gitlabScope) : undefined,
      },
    });
    if (!Array.isArray(data)) {
      throw new BuildgateError('UPSTREAM_ERROR', `upstream "${this.name}" sent a job list that is not an array`, {
        upstream: this.name,
      });
    }
    const next = header(headers['x-next-page']);
    const total = header(headers['x-total']);
    return {
      jobs: data,
      hasNext: next !== undefined && next !== '',
      total: total !== undefined && total !== '' && Number.isFinite(Number(total)) ? Number(total) : null,
    };
  }

  /** The builds at positions [start, start + first): one page when aligned, else the two that cover it. */
  async #readWindow(call: CallContext, path: string, request: BuildListRequest, start: number): Promise<OffsetPage> {
    const perPage = request.first;
    const firstPage = Math.floor(start / perPage) + 1;
    const skip = start - (firstPage - 1) * perPage;
    if (skip === 0) return this.#fetchPage(call, path, request, firstPage, perPage);
    const [a, b] = await Promise.all([
      this.#fetchPage(call, path, request, firstPage, perPage),
      this.#fetchPage(call, path, request, firstPage + 1, perPage),
    ]);
    return {
      jobs: [...a.jobs.slice(skip), ...b.jobs.slice(0, skip)],
      hasNext: b.hasNext || b.jobs.length > skip,
      total: a.total,
    };
  }

  #toPage(projectId: string, window: OffsetPage, start: number, first: number): BuildPage {
    const jobs = window.jobs.slice(0, first);
    return {
      builds: jobs.map((job) => this.#toBuild(projectId, job)),
      positions: jobs.map((_, i) => String(start + i + 1)),
      hasNextPage: window.hasNext || window.jobs.length > first,
      hasPreviousPage: start > 0,
      totalCount: window.total,
    };
  }

  /**
   * v4 has no "builds of a commit" endpoint (it was dropped with v3), so a commit's builds are the jobs of
   * its pipelines, newest pipeline first. The position is `pipelineIndex:offsetInPipeline`.
   */
  async #listCommitBuilds(call: CallContext, request: BuildListRequest, projectId: string, sha: string): Promise<BuildPage> {
    const { data: pipelines } = await this.#http.getJson<GitLabPipeline[]>(call, {
      path: encodePath`/projects/${projectId}/pipelines`,
      query: { sha, per_page: GITLAB_MAX_PER_PAGE },
    });
    let [index, offset] = parseCommitPosition(request.after);
    const builds: BuildModel[] = [];
    const positions: string[] = [];
    let hasNextPage = false;
    let totalCount: number | null = pipelines.length === 0 ? 0 : null;
    while (index < pipelines.length) {
      const pipeline = pipelines[index]!;
      const want = request.first - builds.length;
      if (want === 0) {
        hasNextPage = true;
        break;
      }
      const path = encodePath`/projects/${projectId}/pipelines/${pipeline.id}/jobs`;
      const window = await this.#readWindow(call, path, { ...request, first: want }, offset);
      if (pipelines.length === 1) totalCount = window.total;
      const page = this.#toPage(projectId, window, offset, want);
      builds.push(...page.builds);
      positions.push(...page.builds.map((_, i) => `${index}:${offset + i + 1}`));
      if (page.hasNextPage) {
        hasNextPage = true;
        break;
      }
      index += 1;
      offset = 0;
    }
    return { builds, positions, hasNextPage, hasPreviousPage: request.after !== undefined, totalCount };
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseOffset(position: string | undefined): number {
  if (position === undefined) return 0;
  const offset = Number(position);
  if (!Number.isSafeInteger(offset) || offset < 0) throw badUserInput('`after` is not a cursor of this list');
  return offset;
}

function parseCommitPosition(position: string | undefined): [number, number] {
  if (position === undefined) return [0, 0];
  const match = /^(\d+):(\d+)$/.exec(position);
  if (!match) throw badUserInput('`after` is not a cursor of this list');
  return [Number(match[1]), Number(match[2])];
}
