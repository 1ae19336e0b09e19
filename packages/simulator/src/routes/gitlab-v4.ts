/**
 * GitLab's REST API v4, as far as CI jobs need it: jobs (list, single, trace, cancel/retry/erase/play),
 * pipeline jobs and bridges, projects, pipelines, commits and users. Facts from GL `lib/api/ci/jobs.rb`
 * and `lib/api/ci/pipelines.rb`; where a reply is a choice rather than a copy, the comment says so.
 */
import { authorize } from '../auth.js';
import type { Right } from '../auth.js';
import type { GitlabV4Entities } from '../entities/gitlab-v4.js';
import { ERRORS, invalidParam, invalidValue, json, rawJson } from '../http.js';
import type { Reply } from '../http.js';
import type { Lifecycle } from '../lifecycle.js';
import type { TraceRenderer } from '../logs.js';
import type { Job, Pipeline, Project, TokenGrant } from '../model.js';
import { encodeCursor, keysetHeaders, keysetRequest, offsetHeaders, pageRequest } from '../pagination.js';
import type { LinkBase } from '../pagination.js';
import { CONFLICT } from '../query.js';
import type { ParamValue, Params, QueryValue } from '../query.js';
import type { LiveSettings } from '../settings.js';
import { isCompleted, isJobStatus } from '../status.js';
import type { Store } from '../store.js';
import { traceReply } from '../trace-reply.js';
import type { RequestContext, RouteModule } from './context.js';

export interface GitlabV4Deps {
  readonly store: Store;
  readonly lifecycle: Lifecycle;
  readonly entities: GitlabV4Entities;
  readonly traces: TraceRenderer;
  /** Read per request: whether job logs honour `Range` (`traceRange`) may change at run time. */
  readonly settings: LiveSettings;
  /** The simulator's own origin; Link headers and web URLs point here (GitLab uses its configured host). */
  readonly origin: string;
  /** Called after a mutation so the clock can restore its invariants (enough running jobs). */
  readonly afterMutation: (now: number) => void;
}

const isReply = (value: unknown): value is Reply =>
  typeof value === 'object' && value !== null && typeof (value as Partial<Reply>).status === 'number' && 'body' in value;

/** GitLab's `optional_scope` coercion: a string, an array, or a hash's values; anything else is invalid. */
export function coerceScope(value: ParamValue | undefined): ReadonlySet<string> | undefined | Reply {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : value === CONFLICT ? ['unknown'] : Object.values(value);
  if (!list.every(isJobStatus)) return invalidValue('scope');
  return new Set(list);
}

const TRUE = new Set(['true', '1', 't', 'yes', 'y']);
const FALSE = new Set(['false', '0', 'f', 'no', 'n']);

function booleanParam(params: Params, name: string, fallback: boolean): boolean | Reply {
  const value = params[name];
  if (value === undefined) return fallback;
  if (typeof value === 'string' && TRUE.has(value.toLowerCase())) return true;
  if (typeof value === 'string' && FALSE.has(value.toLowerCase())) return false;
  return invalidParam(name);
}

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

function withoutConflicts(params: Params): Record<string, QueryValue> {
  const out: Record<string, QueryValue> = {};
  for (const [k, v] of Object.entries(params)) if (v !== CONFLICT) out[k] = v;
  return out;
}

/** Plain string parameters; an array or hash where a string is expected is Grape's "is invalid". */
function stringParams(params: Params, names: readonly string[]): Record<string, string | undefined> | Reply {
  const out: Record<string, string | undefined> = {};
  for (const name of names) {
    const value = params[name];
    if (value !== undefined && typeof value !== 'string') return invalidParam(name);
    out[name] = value;
  }
  return out;
}

const PIPELINE_SCOPES = new Set(['running', 'pending', 'finished', 'branches', 'tags']);
const PIPELINE_ORDERS = new Set(['id', 'status', 'ref', 'updated_at', 'user_id']);

export function gitlabV4(deps: GitlabV4Deps): RouteModule {
  const { store, lifecycle, entities, traces, settings, origin } = deps;

  /** Grape's params for Link headers: the request's, plus route parameters and coerced values. */
  const linkBase = (ctx: RequestContext, extra: Record<string, QueryValue>): LinkBase => ({
    origin,
    path: ctx.path,
    params: { ...withoutConflicts(ctx.query), ...ctx.params, ...extra },
  });

  const projectFor = (ctx: RequestContext, right: Right): Project | Reply => {
    const project = store.findProject(ctx.params.id ?? '');
    if (!project) return ERRORS.projectNotFound;
    return authorize(ctx.caller, project, right) ?? project;
  };

  const jobIn = (project: Project, id: string | undefined, kinds: 'build' | 'any'): Job | undefined => {
    const job = store.jobs.get(Number(id));
    if (!job || job.project !== project || (kinds === 'build' && job.kind !== 'build')) return undefined;
    return job;
  };

  const pipelineIn = (project: Project, id: string | undefined): Pipeline | undefined => {
    const pipeline = store.pipelines.get(Number(id));
    return pipeline && pipeline.project === project ? pipeline : undefined;
  };

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

  function listPipelineJobs(kind: 'build' | 'bridge') {
    return (ctx: RequestContext): Reply => {
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

  function getTrace(ctx: RequestContext): Reply {
    const project = projectFor(ctx, 'read');
    if (isReply(project)) return project;
    const job = jobIn(project, ctx.params.job_id, 'build');
    if (!job) return ERRORS.notFound;
    // GitLab: the whole log every time (no Range, no offset), 200 with an empty body when there is
    // none. With `traceRange` on, one byte range is honoured (trace-reply.ts).
    return traceReply({ jobId: job.id, log: traces.bytes(job), headers: ctx.headers, ranges: settings.traceRange });
  }

  /**
   * The shared front of the four mutations: 401 without a token (GitLab's `authenticate!` comes first),
   * then project visibility (401/404), then the job (404), then the right to act (403).
   */
  function mutation(kinds: 'build' | 'any', act: (ctx: RequestContext, job: Job, grant: TokenGrant) => Reply) {
    return (ctx: RequestContext): Reply => {
      if (ctx.caller.kind !== 'token') return ERRORS.unauthorized;
      const project = projectFor(ctx, 'read');
      if (isReply(project)) return project;
      const job = jobIn(project, ctx.params.job_id, kinds);
      if (!job) return ERRORS.notFound;
      const denied = authorize(ctx.caller, project, 'act');
      if (denied) return denied;
      const reply = act(ctx, job, ctx.caller.grant);
      deps.afterMutation(ctx.now);
      return reply;
    };
  }

  const present = (status: number, job: Job, now: number): Reply => rawJson(status, entities.jobBody(job, now));

  const cancel = mutation('build', (ctx, job, grant) => {
    const force = booleanParam({ ...ctx.query, ...ctx.body }, 'force', false);
    if (isReply(force)) return force;
    if (force && !grant.admin && grant.access.get(job.project.id) !== 'maintainer') return ERRORS.forbidden;
    // A deliberate deviation: GitLab's REST handler fires the state-machine `cancel` event and presents
    // the job either way, so a finished job comes back unchanged with 201 (GL `lib/api/ci/jobs.rb`,
    // `post ':id/jobs/:job_id/cancel'`). buildgate's contract wants the refusal visible, so this
    // answers 403 the way retry and erase refuse; a client of real GitLab must also read a 201 whose
    // status did not change as "not canceled".
    if (!lifecycle.cancel(job, ctx.now, force)) return ERRORS.notCancelable;
    return present(201, job, ctx.now);
  });

  const retry = mutation('any', (ctx, job, grant) => {
    const copy = lifecycle.retry(job, grant.user, ctx.now);
    return copy ? present(201, copy, ctx.now) : ERRORS.notRetryable;
  });

  const erase = mutation('build', (ctx, job) => (lifecycle.erase(job, ctx.now) ? present(201, job, ctx.now) : ERRORS.notErasable));

  const play = mutation('any', (ctx, job, grant) => (lifecycle.play(job, grant.user, ctx.now) ? present(200, job, ctx.now) : ERRORS.unplayable));

  function getProject(ctx: RequestContext): Reply {
    const project = projectFor(ctx, 'read');
    return isReply(project) ? project : json(200, entities.project(project));
  }

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

  /** A full sha, a branch or tag name, or an unambiguous sha prefix (7+ hex digits), as GitLab resolves them. */
  function getCommit(ctx: RequestContext): Reply {
    const project = projectFor(ctx, 'read');
    if (isReply(project)) return project;
    const wanted = ctx.params.sha ?? '';
    let commit = project.commits.get(wanted) ?? project.refHeads.get(wanted);
    if (!commit && /^[0-9a-f]{7,39}$/.test(wanted)) {
      const found = [...project.commits.values()].filter((c) => c.sha.startsWith(wanted));
      if (found.length === 1) commit = found[0];
    }
    return commit ? json(200, entities.commitDetail(commit)) : ERRORS.commitNotFound;
  }

  function getUser(ctx: RequestContext): Reply {
    const user = store.users.get(Number(ctx.params.id));
    return user ? json(200, entities.user(user)) : ERRORS.userNotFound;
  }

  function listUsers(ctx: RequestContext): Reply {
    const request = pageRequest(ctx.query);
    if (isReply(request)) return request;
    const username = ctx.query.username;
    const all = [...store.users.values()].filter((u) => username === undefined || u.username === username);
    const start = (request.page - 1) * request.perPage;
    const headers = offsetHeaders(linkBase(ctx, {}), { ...request, hasNext: start + request.perPage < all.length, total: all.length });
    return json(200, all.slice(start, start + request.perPage).map((u) => entities.user(u)), headers);
  }

  return {
    mount: '/api/v4',
    routes: [
      { method: 'GET', path: '/projects/:id/jobs', handler: listProjectJobs },
      { method: 'GET', path: '/projects/:id/jobs/:job_id(int)', handler: getJob },
      { method: 'GET', path: '/projects/:id/jobs/:job_id(int)/trace', handler: getTrace },
      { method: 'POST', path: '/projects/:id/jobs/:job_id(int)/cancel', handler: cancel },
      { method: 'POST', path: '/projects/:id/jobs/:job_id(int)/retry', handler: retry },
      { method: 'POST', path: '/projects/:id/jobs/:job_id(int)/erase', handler: erase },
      { method: 'POST', path: '/projects/:id/jobs/:job_id(int)/play', handler: play },
      { method: 'GET', path: '/projects/:id/pipelines/:pipeline_id(int)/jobs', handler: listPipelineJobs('build') },
      { method: 'GET', path: '/projects/:id/pipelines/:pipeline_id(int)/bridges', handler: listPipelineJobs('bridge') },
      { method: 'GET', path: '/projects/:id/pipelines', handler: listPipelines },
      { method: 'GET', path: '/projects/:id/pipelines/:pipeline_id(int)', handler: getPipeline },
      { method: 'GET', path: '/projects/:id/repository/commits/:sha', handler: getCommit },
      { method: 'GET', path: '/projects/:id', handler: getProject },
      { method: 'GET', path: '/users', handler: listUsers },
      { method: 'GET', path: '/users/:id(int)', handler: getUser },
    ],
  };
}
