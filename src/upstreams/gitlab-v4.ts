/**
 * The GitLab REST v4 adapter: the Jobs API (https://docs.gitlab.com/api/jobs/) plus the endpoints shared with v3.
 */
import { BuildgateError, badUserInput } from '../errors.js';
import { GITLAB_MAX_PER_PAGE, GitLabUpstreamBase, parseOffset } from './gitlab-common.js';
import { type GitLabJob, type GitLabPipeline, gitlabScope, toBuild } from './gitlab-entities.js';
import { type UpstreamHttp, encodePath, firstHeader } from './http.js';
import { listRunnerJobs } from './gitlab-pipeline-actions.js';
import { readOffsetWindow, readSequence } from './offset-paging.js';
import { forwardOnly, isBackward, readWindow } from './offset-window.js';
import type { BuildListRequest, BuildModel, BuildPage, PipelineListRequest, PipelinePage } from '../model.js';
import { listGitLabPipelines } from './gitlab-pipelines.js';
import type { CallContext, RunnerBuildsRequest } from './types.js';

export interface GitLabV4Options {
  /**
   * Page a project's jobs with GitLab's keyset pagination (`pagination=keyset`, cursors from `Link:
   * rel="next"`), which stays fast at any depth and has no offset limit. @default true
   */
  keyset?: boolean;
}

interface KeysetPage<T> {
  items: T[];
  /** The upstream cursor of the next page; undefined on the last. */
  next: string | undefined;
}

/** A keyset position: the upstream cursor of a page (empty for the first) and how many of its jobs were read. */
const KEYSET_POSITION = /^K:([A-Za-z0-9_=-]{0,512}):(\d{1,3})$/;

export class GitLabV4Upstream extends GitLabUpstreamBase {
  readonly kind = 'gitlab-v4' as const;
  protected readonly buildsSegment = 'jobs';
  readonly #keyset: boolean;

  constructor(http: UpstreamHttp, options: GitLabV4Options = {}) {
    super(http);
    this.#keyset = options.keyset ?? true;
  }

  async listBuilds(call: CallContext, request: BuildListRequest): Promise<BuildPage> {
    const { source } = request;
    if (source.of === 'commit') {
      forwardOnly(request, this.name, "a commit's builds (its pipelines' job lists one after the other)");
      return this.#listCommitBuilds(call, request, source.projectId, source.sha);
    }
    const keyset = request.after === undefined ? this.#keyset && request.before === undefined : request.after.startsWith('K:');
    if (source.of === 'project' && (keyset || request.before?.startsWith('K:'))) {
      forwardOnly(request, this.name, "a project's builds (GitLab's keyset-paged jobs list)");
      return this.#keysetPage(call, encodePath`/projects/${source.projectId}/jobs`, request, source.projectId);
    }
    const path =
      source.of === 'project'
        ? encodePath`/projects/${source.projectId}/jobs`
        : encodePath`/projects/${source.projectId}/pipelines/${source.pipelineId}/${source.bridges ? 'bridges' : 'jobs'}`;
    if (isBackward(request)) {
      const scope = request.statuses?.map(gitlabScope);
      const page = await readWindow((p, perPage) => this.fetchJobs(call, path, p, perPage, scope), { count: request.first, last: request.last, before: request.before }, this.name);
      return { ...page, builds: page.items.map((job) => this.toBuild(source.projectId, job)) };
    }
    return this.#page(call, path, request, parseOffset(request.after), request.first, source.projectId);
  }

  /** A runner's jobs span projects: each job names its own (`pipeline.project_id`). */
  listRunnerBuilds(call: CallContext, request: RunnerBuildsRequest): Promise<BuildPage> {
    return listRunnerJobs(this.http, call, request, (projectId, job) => this.toBuild(projectId, job));
  }

  /** `GET /projects/:id/pipelines` (gitlab-pipelines.ts). */
  listPipelines(call: CallContext, request: PipelineListRequest): Promise<PipelinePage> {
    return listGitLabPipelines(this.http, call, request, 'v4');
  }

  protected toBuild(projectId: string, job: GitLabJob): BuildModel {
    return toBuild(this.name, projectId, job, { archiveUrl: this.archiveUrl(job.pipeline?.project_id ?? projectId, job) });
  }

  /**
   * GitLab's keyset paging: follow `Link: rel="next"` cursors. The position after a page's last job is
   * the next page's cursor (one request to continue); after any other job it is the page's own cursor
   * and how many of its jobs came before.
   */
  async #keysetPage(call: CallContext, path: string, request: BuildListRequest, projectId: string): Promise<BuildPage> {
    let [cursor, skip] = parseKeysetPosition(request.after);
    const scope = request.statuses?.map(gitlabScope);
    const builds: BuildModel[] = [];
    const positions: string[] = [];
    for (;;) {
      const perPage = Math.min(GITLAB_MAX_PER_PAGE, skip + request.first - builds.length);
      const { items: data, next } = await this.#fetchKeysetPage(call, path, cursor, perPage, scope);
      for (let i = skip; i < data.length; i++) {
        if (builds.length === request.first) {
          return { builds, positions, hasNextPage: true, hasPreviousPage: request.after !== undefined, totalCount: null };
        }
        builds.push(this.toBuild(projectId, data[i]!));
        positions.push(i + 1 === data.length && next ? `K:${next}:0` : `K:${cursor}:${i + 1}`);
      }
      if (!next || builds.length === request.first) {
        return { builds, positions, hasNextPage: next !== undefined, hasPreviousPage: request.after !== undefined, totalCount: null };
      }
      cursor = next;
      skip = 0;
    }
  }

  /** One keyset page of a job list: its jobs, and the cursor of the next page from `Link: rel="next"`. */
  async #fetchKeysetPage(
    call: CallContext,
    path: string,
    cursor: string,
    perPage: number,
    scope: readonly string[] | undefined,
  ): Promise<KeysetPage<GitLabJob>> {
    const { data, headers } = await this.http.getJson<GitLabJob[]>(call, {
      path,
      query: { pagination: 'keyset', order_by: 'id', sort: 'desc', per_page: perPage, cursor: cursor || undefined, scope: scope?.length ? scope : undefined },
    });
    if (!Array.isArray(data)) {
      throw new BuildgateError('UPSTREAM_ERROR', `upstream "${this.name}" sent a job list that is not an array`, { upstream: this.name });
    }
    return { items: data, next: nextCursor(firstHeader(headers.link)) };
  }

  async #page(call: CallContext, path: string, request: BuildListRequest, start: number, first: number, projectId: string): Promise<BuildPage> {
    const scope = request.statuses?.map(gitlabScope);
    const window = await readOffsetWindow((page, perPage) => this.fetchJobs(call, path, page, perPage, scope), start, first);
    const jobs = window.items.slice(0, first);
    return {
      builds: jobs.map((job) => this.toBuild(projectId, job)),
      positions: jobs.map((_, i) => String(start + i + 1)),
      hasNextPage: window.hasNext || window.items.length > first,
      hasPreviousPage: start > 0,
      totalCount: window.total,
    };
  }

  /**
   * v4 has no "builds of a commit" endpoint (it was dropped with v3), so a commit's builds are the jobs of
   * its pipelines, newest pipeline first.
   */
  async #listCommitBuilds(call: CallContext, request: BuildListRequest, projectId: string, sha: string): Promise<BuildPage> {
    const { data: pipelines } = await this.http.getJson<GitLabPipeline[]>(call, {
      path: encodePath`/projects/${projectId}/pipelines`,
      query: { sha, per_page: GITLAB_MAX_PER_PAGE },
    });
    const read = (index: number, after: string | undefined, first: number) =>
      this.#page(call, encodePath`/projects/${projectId}/pipelines/${pipelines[index]!.id}/jobs`, request, parseOffset(after), first, projectId);
    return readSequence(pipelines.length, read, request.after, request.first);
  }
}

function parseKeysetPosition(position: string | undefined): [string, number] {
  if (position === undefined) return ['', 0];
  const match = KEYSET_POSITION.exec(position);
  if (!match) throw badUserInput('`after` is not a cursor of this list', { argument: 'after' });
  return [match[1]!, Number(match[2])];
}

/** The `cursor` parameter of a `Link` header's rel="next" URL. */
function nextCursor(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (!match) continue;
    try {
      return new URL(match[1]!).searchParams.get('cursor') ?? undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
