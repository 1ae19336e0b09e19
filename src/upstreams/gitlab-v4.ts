/**
 * The GitLab REST v4 adapter: the Jobs API (seed 003) plus the endpoints shared with v3.
 */
import { GITLAB_MAX_PER_PAGE, GitLabUpstreamBase, parseOffset } from './gitlab-common.js';
import { type GitLabJob, type GitLabPipeline, gitlabScope, toBuild } from './gitlab-entities.js';
import { encodePath } from './http.js';
import { readOffsetWindow, readSequence } from './offset-paging.js';
import type { BuildListRequest, BuildModel, BuildPage, CallContext } from './types.js';

export class GitLabV4Upstream extends GitLabUpstreamBase {
  readonly kind = 'gitlab-v4' as const;
  protected readonly buildsSegment = 'jobs';

  async listBuilds(call: CallContext, request: BuildListRequest): Promise<BuildPage> {
    const { source } = request;
    if (source.of === 'commit') return this.#listCommitBuilds(call, request, source.projectId, source.sha);
    const path =
      source.of === 'project'
        ? encodePath`/projects/${source.projectId}/jobs`
        : encodePath`/projects/${source.projectId}/pipelines/${source.pipelineId}/${source.bridges ? 'bridges' : 'jobs'}`;
    return this.#page(call, path, request, parseOffset(request.after), request.first, source.projectId);
  }

  protected toBuild(projectId: string, job: GitLabJob): BuildModel {
    return toBuild(this.name, projectId, job, { archiveUrl: this.archiveUrl(job.pipeline?.project_id ?? projectId, job) });
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
    const read = async (index: number, start: number, first: number) => {
      const path = encodePath`/projects/${projectId}/pipelines/${pipelines[index]!.id}/jobs`;
      const page = await this.#page(call, path, request, start, first, projectId);
      return { items: page.builds, positions: page.positions.map(Number), hasNext: page.hasNextPage, total: page.totalCount };
    };
    const result = await readSequence(pipelines.length, read, request.after, request.first);
    return {
      builds: result.items,
      positions: result.positions,
      hasNextPage: result.hasNext,
      hasPreviousPage: request.after !== undefined,
      totalCount: result.total,
    };
  }
}
