/** `GET /projects/:id/pipelines` (filters, order, pages) and `GET /projects/:id/pipelines/:pipeline_id`. Facts from GL `lib/api/ci/pipelines.rb`. */
import { ERRORS, invalidValue, json } from '../../http.js';
import type { Reply } from '../../http.js';
import type { Pipeline } from '../../model.js';
import { offsetHeaders, pageRequest } from '../../pagination.js';
import { isCompleted, isJobStatus } from '../../status.js';
import type { RequestContext } from '../context.js';
import type { GitlabV4Deps, V4Lookup } from './lookup.js';
import { isReply, stringParams } from './params.js';

const PIPELINE_SCOPES = new Set(['running', 'pending', 'finished', 'branches', 'tags']);
const PIPELINE_ORDERS = new Set(['id', 'status', 'ref', 'updated_at', 'user_id']);

export function v4PipelineHandlers({ entities }: GitlabV4Deps, { linkBase, projectFor, pipelineIn }: V4Lookup) {
  function listPipelines(ctx: RequestContext): Reply {
    const project = projectFor(ctx, 'read');
    if (isReply(project)) return project;
    const q = stringParams(ctx.query, ['scope', 'status', 'ref', 'sha', 'username', 'source', 'order_by', 'sort']);
    if (isReply(q)) return q;
    const { scope, status, ref, sha, username, source, order_by: orderBy = 'id', sort = 'desc' } = q;
    if (scope !== undefined && !PIPELINE_SCOPES.has(scope)) return invalidValue('scope');
    if (status !== undefined && !isJobStatus(status)) return invalidValue('status');
    if (!PIPELINE_ORDERS.has(orderBy)) return invalidValue('order_by');
    if (sort !== 'asc' && sort !== 'desc') return invalidValue('sort');
    const request = pageRequest(ctx.query);
    if (isReply(request)) return request;
    const inScope = (p: Pipeline): boolean => {
      switch (scope) {
        case undefined:
          return true;
        case 'finished':
          return isCompleted(p.status);
        case 'branches':
          return !p.tag;
        case 'tags':
          return p.tag;
        default:
          return p.status === scope;
      }
    };
    const list = project.pipelines.filter(
      (p) =>
        inScope(p) &&
        (status === undefined || p.status === status) &&
        (ref === undefined || p.ref === ref) &&
        (sha === undefined || p.commit.sha === sha) &&
        (username === undefined || p.user.username === username) &&
        (source === undefined || p.source === source),
    );
    if (orderBy !== 'id') {
      const key = (p: Pipeline): string | number =>
        orderBy === 'status' ? p.status : orderBy === 'ref' ? p.ref : orderBy === 'updated_at' ? p.updatedAt : p.user.id;
      list.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.id - b.id));
    }
    if (sort === 'desc') list.reverse();
    const start = (request.page - 1) * request.perPage;
    const page = list.slice(start, start + request.perPage);
    const headers = offsetHeaders(linkBase(ctx, { order_by: orderBy, sort }), {
      ...request,
      hasNext: start + request.perPage < list.length,
      total: list.length,
    });
    return json(200, page.map((p) => entities.pipelineBasic(p)), headers);
  }

  function getPipeline(ctx: RequestContext): Reply {
    const project = projectFor(ctx, 'read');
    if (isReply(project)) return project;
    const pipeline = pipelineIn(project, ctx.params.pipeline_id);
    return pipeline ? json(200, entities.pipelineDetail(pipeline, ctx.now)) : ERRORS.notFound;
  }

  return { listPipelines, getPipeline };
}
