/**
 * GitLab's pipeline mutations (`POST /projects/:id/pipelines/:pipeline_id/{retry,cancel}`, v4 and v3
 * alike: GitLab 8.11+ served them under both) and a runner's jobs (`GET /runners/:id/jobs`, v4 only),
 * for the adapters to delegate to. A mutation is one POST, never retried (http.ts retries GET only).
 */
import { BuildgateError, badUserInput } from '../errors.js';
import { type GitLabJob, type GitLabPipeline, gitlabScope, toPipeline } from './gitlab-entities.js';
import { type UpstreamHttp, encodePath, firstHeader } from './http.js';
import { readOffsetWindow } from './offset-paging.js';
import type { BuildModel, BuildPage, PipelineModel } from '../model.js';
import type { CallContext, RunnerBuildsRequest } from './types.js';

export async function pipelineAction(
  http: UpstreamHttp,
  call: CallContext,
  projectId: string,
  pipelineId: string,
  action: 'retry' | 'cancel',
): Promise<PipelineModel> {
  if (!/^[1-9]\d{0,17}$/.test(pipelineId)) throw badUserInput(`"${pipelineId.slice(0, 80)}" is not a GitLab pipeline id`, { argument: 'id' });
  const { data } = await http.postJson<GitLabPipeline>(call, { path: encodePath`/projects/${projectId}/pipelines/${pipelineId}/${action}` });
  if (!data || typeof data !== 'object' || typeof data.id !== 'number') {
    throw new BuildgateError('UPSTREAM_ERROR', `upstream "${http.upstream}" sent a pipeline without an id`, { upstream: http.upstream });
  }
  return toPipeline(http.upstream, projectId, data);
}

/**
 * A runner's jobs, newest first (`order_by=id&sort=desc`: without `order_by` GitLab ignores `sort`,
 * gitlab #364348). GitLab filters by one `status`; more than one would mean reading every page, so
 * it is refused. Positions count jobs, as in the other offset lists.
 */
export async function listRunnerJobs(
  http: UpstreamHttp,
  call: CallContext,
  request: RunnerBuildsRequest,
  toBuild: (projectId: string, job: GitLabJob) => BuildModel,
): Promise<BuildPage> {
  if (!/^[1-9]\d{0,17}$/.test(request.runnerId)) throw badUserInput(`"${request.runnerId.slice(0, 80)}" is not a GitLab runner id`, { argument: 'id' });
  if ((request.statuses?.length ?? 0) > 1) {
    throw badUserInput('`scope` of `Runner.builds` takes at most one status (GitLab filters a runner\'s jobs by one)', { argument: 'scope' });
  }
  const status = request.statuses?.[0] && gitlabScope(request.statuses[0]);
  const start = parsePosition(request.after);
  const path = encodePath`/runners/${request.runnerId}/jobs`;
  const window = await readOffsetWindow(async (page, perPage) => {
    const { data, headers } = await http.getJson<RunnerJob[]>(call, { path, query: { status, order_by: 'id', sort: 'desc', page, per_page: perPage } });
    if (!Array.isArray(data)) {
      throw new BuildgateError('UPSTREAM_ERROR', `upstream "${http.upstream}" sent a job list that is not an array`, { upstream: http.upstream });
    }
    const next = firstHeader(headers['x-next-page']);
    const total = Number(firstHeader(headers['x-total']) ?? Number.NaN);
    return { items: data, hasNext: next !== undefined && next !== '', total: Number.isSafeInteger(total) ? total : null };
  }, start, request.first);
  const jobs = window.items.slice(0, request.first);
  return {
    builds: jobs.map((job) => toBuild(projectOf(http.upstream, job), job)),
    positions: jobs.map((_, i) => String(start + i + 1)),
    hasNextPage: window.hasNext || window.items.length > request.first,
    hasPreviousPage: start > 0,
    totalCount: window.total,
  };
}

/** A runner's job carries its project (GitLab adds `project {id, name, path_with_namespace…}` to this list). */
type RunnerJob = GitLabJob & { project?: { id?: number } | null };

function projectOf(upstream: string, job: RunnerJob): string {
  const id = job.pipeline?.project_id ?? job.project?.id;
  if (typeof id !== 'number') throw new BuildgateError('UPSTREAM_ERROR', `upstream "${upstream}" sent a runner job without its project`, { upstream });
  return String(id);
}

function parsePosition(position: string | undefined): number {
  if (position === undefined) return 0;
  const offset = Number(position);
  if (!/^\d{1,9}$/.test(position) || !Number.isSafeInteger(offset)) throw badUserInput('`after` is not a cursor of this list', { argument: 'after' });
  return offset;
}
