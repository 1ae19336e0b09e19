/**
 * `POST /projects/:id/pipelines/:pipeline_id/{retry,cancel}` and `GET /runners/:id/jobs`. Facts from
 * GL `lib/api/ci/pipelines.rb` (both mutations present the pipeline with 201, also when nothing
 * changed: GitLab's own TODO there says a non-cancelable pipeline should be an error, and is not) and
 * `lib/api/ci/runners.rb` (`authenticate_list_runners_jobs!`).
 */
import { authorize } from '../../auth.js';
import { ERRORS, invalidValue, json, rawJson } from '../../http.js';
import type { Reply } from '../../http.js';
import type { Job, Pipeline, TokenGrant } from '../../model.js';
import { offsetHeaders, pageRequest } from '../../pagination.js';
import { cancelPipeline, retryPipeline } from '../../pipeline-ops.js';
import { isJobStatus } from '../../status.js';
import type { Handler, RequestContext } from '../context.js';
import type { GitlabV4Deps, V4Lookup } from './lookup.js';
import { isReply, stringParams } from './params.js';

const RUNNER_NOT_FOUND: Reply = Object.freeze(json(404, { message: '404 Runner Not Found' }));
const NO_ACCESS: Reply = Object.freeze(json(403, { message: '403 Forbidden - No access granted' }));

export function v4PipelineOpHandlers(deps: GitlabV4Deps, { linkBase, projectFor, pipelineIn }: V4Lookup) {
  const { store, lifecycle, entities, afterMutation } = deps;

  /** Like the job mutations: 401 without a token, then visibility (401/404), the pipeline (404), the right to act (403). */
  function mutation(act: (ctx: RequestContext, pipeline: Pipeline, grant: TokenGrant) => void): Handler {
    return (ctx) => {
      if (ctx.caller.kind !== 'token') return ERRORS.unauthorized;
      const project = projectFor(ctx, 'read');
      if (isReply(project)) return project;
      const pipeline = pipelineIn(project, ctx.params.pipeline_id);
      if (!pipeline) return ERRORS.notFound;
      const denied = authorize(ctx.caller, project, 'act');
      if (denied) return denied;
      act(ctx, pipeline, ctx.caller.grant);
      afterMutation(ctx.now);
      return json(201, entities.pipelineDetail(pipeline, ctx.now));
    };
  }

  const retry = mutation((ctx, pipeline, grant) => void retryPipeline(lifecycle, pipeline, grant.user, ctx.now));
  const cancel = mutation((ctx, pipeline) => void cancelPipeline(lifecycle, pipeline, ctx.now));

  /**
   * A runner's jobs. Instance (shared) runners are the admin's; a project runner's jobs are shown to
   * whoever may act on a project (the simulator assigns project runners to no project in particular),
   * only those of projects they may act on. `status` filters; `order_by=id` with `sort` orders, and
   * without `order_by` the order is ascending id whatever `sort` says (gitlab #364348).
   */
  function listRunnerJobs(ctx: RequestContext): Reply {
    if (ctx.caller.kind !== 'token') return ERRORS.unauthorized;
    const runner = store.runners.find((r) => String(r.id) === ctx.params.id);
    if (!runner) return RUNNER_NOT_FOUND;
    const { grant } = ctx.caller;
    const caller = ctx.caller;
    const actsOn = [...store.projects.values()].filter((p) => authorize(caller, p, 'act') === null);
    if (!grant.admin && (runner.isShared || actsOn.length === 0)) return NO_ACCESS;
    const q = stringParams(ctx.query, ['status', 'order_by', 'sort']);
    if (isReply(q)) return q;
    if (q.status !== undefined && !isJobStatus(q.status)) return invalidValue('status');
    if (q.order_by !== undefined && q.order_by !== 'id') return invalidValue('order_by');
    if (q.sort !== undefined && q.sort !== 'asc' && q.sort !== 'desc') return invalidValue('sort');
    const request = pageRequest(ctx.query);
    if (isReply(request)) return request;
    const visible = grant.admin ? undefined : new Set(actsOn);
    const jobs: Job[] = [];
    // A scan of every job: the simulator keeps no per-runner index, and runner lists are rare.
    for (const job of store.jobs.values()) {
      if (job.runner !== runner || (q.status !== undefined && job.status !== q.status)) continue;
      if (visible && !visible.has(job.project)) continue;
      jobs.push(job);
    }
    jobs.sort((a, b) => a.id - b.id);
    if (q.order_by === 'id' && q.sort !== 'asc') jobs.reverse();
    const start = (request.page - 1) * request.perPage;
    const page = jobs.slice(start, start + request.perPage);
    const headers = offsetHeaders(linkBase(ctx, {}), { ...request, hasNext: start + request.perPage < jobs.length, total: jobs.length });
    return rawJson(200, entities.jobsBody(page, ctx.now), headers);
  }

  return { retry, cancel, listRunnerJobs };
}
