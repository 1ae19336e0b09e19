/**
 * Job lists and single jobs: `GET /projects/:id/jobs` (offset or keyset pages, `scope[]`), a pipeline's
 * jobs or bridges, and `GET /projects/:id/jobs/:job_id`. Facts from GL `lib/api/ci/jobs.rb`.
 */
import { ERRORS, rawJson } from '../../http.js';
import type { Reply } from '../../http.js';
import type { Job } from '../../model.js';
import { encodeCursor, keysetHeaders, keysetRequest, offsetHeaders, pageRequest } from '../../pagination.js';
import type { LinkBase } from '../../pagination.js';
import type { QueryValue } from '../../query.js';
import type { Handler, RequestContext } from '../context.js';
import type { GitlabV4Deps, V4Lookup } from './lookup.js';
import { booleanParam, coerceScope, isReply, withoutConflicts } from './params.js';

/** Walks an id-ascending array from `from` downwards: `skip` matches, then up to `limit`. */
function collectDesc(items: readonly Job[], from: number, skip: number, limit: number, keep: (job: Job) => boolean): { page: Job[]; more: boolean } {
  const page: Job[] = [];
  let seen = 0;
  for (let i = from; i >= 0; i--) {
    const job = items[i] as Job;
    if (!keep(job)) continue;
    if (page.length === limit) return { page, more: true };
    if (seen++ >= skip) page.push(job);
  }
  return { page, more: false };
}

/** Index of the last element with id < `id` in an id-ascending array (-1 when none). */
function lastBelow(items: readonly { id: number }[], id: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((items[mid] as { id: number }).id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

export function v4JobHandlers({ entities, origin }: GitlabV4Deps, { linkBase, projectFor, jobIn, pipelineIn }: V4Lookup) {
  function listProjectJobs(ctx: RequestContext): Reply {
    const project = projectFor(ctx, 'read');
    if (isReply(project)) return project;
    const scope = coerceScope(ctx.query.scope);
    if (isReply(scope)) return scope;
    const keep = scope ? (job: Job) => scope.has(job.status) : () => true;
    const builds = project.builds;
    if (ctx.query.pagination === 'keyset') {
      const request = keysetRequest(ctx.query);
      if (isReply(request)) return request;
      const from = request.before === undefined ? builds.length - 1 : lastBelow(builds, request.before);
      const { page, more } = collectDesc(builds, from, 0, request.perPage, keep);
      const last = page[page.length - 1];
      const { cursor: _cursor, ...raw } = withoutConflicts(ctx.query);
      const base: LinkBase = { origin, path: ctx.path, params: raw };
      return rawJson(200, entities.jobsBody(page, ctx.now), keysetHeaders(base, more && last ? encodeCursor(last.id) : undefined));
    }
    const request = pageRequest(ctx.query);
    if (isReply(request)) return request;
    // Without a scope the page starts at a computed index: O(per_page) however deep the page is.
    const skip = (request.page - 1) * request.perPage;
    const { page, more } = scope
      ? collectDesc(builds, builds.length - 1, skip, request.perPage, keep)
      : collectDesc(builds, builds.length - 1 - skip, 0, request.perPage, keep);
    // GitLab's jobs list is paginated `without_count`: no X-Total, no X-Total-Pages, no rel="last".
    const headers = offsetHeaders(linkBase(ctx, scope ? { scope: [...scope] } : {}), { ...request, hasNext: more });
    return rawJson(200, entities.jobsBody(page, ctx.now), headers);
  }

  function listPipelineJobs(kind: 'build' | 'bridge'): Handler {
    return (ctx) => {
      const project = projectFor(ctx, 'read');
      if (isReply(project)) return project;
      const pipeline = pipelineIn(project, ctx.params.pipeline_id);
      if (!pipeline) return ERRORS.notFound;
      const scope = coerceScope(ctx.query.scope);
      if (isReply(scope)) return scope;
      const retried = kind === 'build' ? booleanParam(ctx.query, 'include_retried', false) : false;
      if (isReply(retried)) return retried;
      const request = pageRequest(ctx.query);
      if (isReply(request)) return request;
      const matching = pipeline.jobs.filter(
        (j) => j.kind === kind && (retried || !j.retried) && (!scope || scope.has(j.status)),
      );
      matching.reverse();
      const start = (request.page - 1) * request.perPage;
      const page = matching.slice(start, start + request.perPage);
      const extra: Record<string, QueryValue> = scope ? { scope: [...scope] } : {};
      if (kind === 'build') extra.include_retried = retried;
      const headers = offsetHeaders(linkBase(ctx, extra), {
        ...request,
        hasNext: start + request.perPage < matching.length,
        total: matching.length,
      });
      return rawJson(200, entities.jobsBody(page, ctx.now), headers);
    };
  }

  function getJob(ctx: RequestContext): Reply {
    const project = projectFor(ctx, 'read');
    if (isReply(project)) return project;
    const job = jobIn(project, ctx.params.job_id, 'build');
    return job ? rawJson(200, entities.jobBody(job, ctx.now)) : ERRORS.notFound;
  }

  return { listProjectJobs, listPipelineJobs, getJob };
}
