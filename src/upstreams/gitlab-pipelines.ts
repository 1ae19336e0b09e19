/**
 * GitLab's pipelines list, `GET /projects/:id/pipelines`, for both API versions.
 *
 * v4 (https://docs.gitlab.com/api/pipelines/#list-project-pipelines) filters upstream by one `status`,
 * `ref`, `sha` and `source`, ordered `order_by=id&sort=desc`, offset-paged with `X-Total`: every
 * filter but a set of several statuses is GitLab's, and such a list pages both ways.
 *
 * v3 (GitLab 8.11–10.x, `lib/api/v3/pipelines.rb`) takes only `scope` (`running`, `branches`, `tags`)
 * and sends no `source`: the gateway narrows by status, ref and SHA itself (reading on, as
 * offset-paging.ts's filtered window does), such a list pages forward only, and `source` is refused.
 */
import { BuildgateError, unsupported } from '../errors.js';
import type { BuildStatus, PipelineListRequest, PipelinePage } from '../model.js';
import { GITLAB_MAX_PER_PAGE } from './gitlab-common.js';
import { type GitLabPipeline, gitlabScope, toPipeline } from './gitlab-entities.js';
import { type QueryValue, type UpstreamHttp, encodePath, firstHeader } from './http.js';
import { type FetchOffsetPage, type OffsetPage, readFilteredWindow } from './offset-paging.js';
import { forwardOnly, parsePosition, readWindow } from './offset-window.js';
import type { CallContext } from './types.js';

type Dialect = 'v4' | 'v3';

function fetchPipelines(
  http: UpstreamHttp,
  call: CallContext,
  projectId: string,
  query: Record<string, QueryValue>,
): FetchOffsetPage<GitLabPipeline> {
  return async (page, perPage): Promise<OffsetPage<GitLabPipeline>> => {
    const { data, headers } = await http.getJson<GitLabPipeline[]>(call, {
      path: encodePath`/projects/${projectId}/pipelines`,
      query: { ...query, page, per_page: perPage },
    });
    if (!Array.isArray(data)) {
      throw new BuildgateError('UPSTREAM_ERROR', `upstream "${http.upstream}" sent a pipeline list that is not an array`, {
        upstream: http.upstream,
      });
    }
    const next = firstHeader(headers['x-next-page']);
    const total = firstHeader(headers['x-total']);
    return {
      items: data,
      hasNext: next !== undefined && next !== '',
      total: total !== undefined && total !== '' && Number.isFinite(Number(total)) ? Number(total) : null,
    };
  };
}

export async function listGitLabPipelines(
  http: UpstreamHttp,
  call: CallContext,
  request: PipelineListRequest,
  dialect: Dialect,
): Promise<PipelinePage> {
  const { projectId } = request;
  const statuses = request.scope?.length ? new Set(request.scope) : undefined;
  const toModel = (pipeline: GitLabPipeline) => {
    const model = toPipeline(http.upstream, projectId, pipeline);
    // v3's pipeline entity has no `source`: known to be unknown, so no resolver asks again.
    return dialect === 'v3' ? { ...model, source: model.source ?? null } : model;
  };

  let query: Record<string, QueryValue>;
  let keep: ((pipeline: GitLabPipeline) => boolean) | undefined;
  if (dialect === 'v4') {
    query = { order_by: 'id', sort: 'desc', ref: request.ref, sha: request.sha, source: request.source };
    if (statuses?.size === 1) query.status = gitlabScope([...statuses][0]!);
    else if (statuses) keep = (pipeline) => statuses.has(toModel(pipeline).status!);
  } else {
    if (request.source !== undefined) throw unsupported(http.upstream, 'Filtering pipelines by `source` (GitLab v3 does not say it)');
    const onlyRunning = statuses?.size === 1 && statuses.has('RUNNING');
    query = { scope: onlyRunning ? 'running' : undefined };
    const narrow = (statuses && !onlyRunning) || request.ref !== undefined || request.sha !== undefined;
    if (narrow) {
      keep = (pipeline) =>
        (!statuses || statuses.has(toModel(pipeline).status as BuildStatus)) &&
        (request.ref === undefined || pipeline.ref === request.ref) &&
        (request.sha === undefined || pipeline.sha === request.sha);
    }
  }
  const fetch = fetchPipelines(http, call, projectId, query);

  if (keep) {
    forwardOnly(request, http.upstream, 'a pipeline list the gateway filters');
    const start = parsePosition(request.after, 'after');
    const window = await readFilteredWindow(fetch, keep, start, request.perPage, GITLAB_MAX_PER_PAGE);
    return {
      pipelines: window.items.map(toModel),
      positions: window.positions.map(String),
      hasNextPage: window.hasNext,
      hasPreviousPage: start > 0,
      totalCount: null,
    };
  }
  const page = await readWindow(fetch, { count: request.perPage, after: request.after, last: request.last, before: request.before }, http.upstream, GITLAB_MAX_PER_PAGE);
  return {
    pipelines: page.items.map(toModel),
    positions: page.positions,
    hasNextPage: page.hasNextPage,
    hasPreviousPage: page.hasPreviousPage,
    totalCount: page.totalCount,
  };
}
