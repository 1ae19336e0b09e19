/**
 * `GET /api/v3/projects/:id/pipelines`, as GitLab 9.x's `lib/api/v3/pipelines.rb` served it (added in
 * 8.11): paged (`page`, `per_page`, counted), newest first, `scope` one of `running`, `branches`,
 * `tags` (another word → 400, Grape's `values:`), and no other filter: `status`, `ref`, `sha` and
 * `source` are v4's and Grape ignored parameters it did not declare. The entity is 9.x's
 * `API::Entities::Pipeline`: id, sha, ref, status, before_sha, tag, yaml_errors, user, the timestamps,
 * duration and coverage; no `source`, `web_url` or `project_id` (v4 added them).
 */
import { invalidValue, json } from '../http.js';
import type { Reply } from '../http.js';
import type { GitlabV3Entities } from '../entities/gitlab-v3.js';
import type { Pipeline } from '../model.js';
import { offsetHeaders, pageRequest } from '../pagination.js';
import type { QueryValue } from '../query.js';
import type { Store } from '../store.js';
import type { RequestContext, RouteModule } from './context.js';
import { isReply, projectFor, withoutConflicts } from './gitlab-shared.js';

const V3_PIPELINE_SCOPES: ReadonlySet<string> = new Set(['running', 'branches', 'tags']);

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

function v3Pipeline(entities: GitlabV3Entities, pipeline: Pipeline, now: number): object {
  const started = pipeline.startedAt;
  const coverages = pipeline.jobs.filter((j) => !j.retried && j.coverage !== null).map((j) => j.coverage as number);
  return {
    id: pipeline.id,
    sha: pipeline.commit.sha,
    ref: pipeline.ref,
    status: pipeline.status,
    before_sha: pipeline.beforeSha,
    tag: pipeline.tag,
    yaml_errors: null,
    user: entities.user(pipeline.user),
    created_at: iso(pipeline.createdAt),
    updated_at: iso(pipeline.updatedAt),
    started_at: isoOrNull(started),
    finished_at: isoOrNull(pipeline.finishedAt),
    committed_at: null,
    duration: started === null ? null : Math.round(((pipeline.finishedAt ?? now) - started) / 1000),
    coverage: coverages.length === 0 ? null : (coverages.reduce((a, b) => a + b, 0) / coverages.length).toFixed(2),
  };
}

export function gitlabV3Pipelines(deps: { store: Store; entities: GitlabV3Entities; origin: string }): RouteModule {
  const { store, entities, origin } = deps;

  function listPipelines(ctx: RequestContext): Reply {
    const project = projectFor(store, ctx, 'read');
    if (isReply(project)) return project;
    const scope = ctx.query.scope;
    if (scope !== undefined && (typeof scope !== 'string' || !V3_PIPELINE_SCOPES.has(scope))) return invalidValue('scope');
    const request = pageRequest(ctx.query);
    if (isReply(request)) return request;
    const list = project.pipelines.filter(
      (p) => scope === undefined || (scope === 'running' ? p.status === 'running' : scope === 'tags' ? p.tag : !p.tag),
    );
    list.reverse();
    const start = (request.page - 1) * request.perPage;
    const page = list.slice(start, start + request.perPage);
    const params: Record<string, QueryValue> = { ...withoutConflicts(ctx.query), ...ctx.params };
    const headers = offsetHeaders({ origin, path: ctx.path, params }, { ...request, hasNext: start + request.perPage < list.length, total: list.length });
    return json(200, page.map((p) => v3Pipeline(entities, p, ctx.now)), headers);
  }

  return { mount: '/api/v3', routes: [{ method: 'GET', path: '/projects/:id/pipelines', handler: listPipelines }] };
}
