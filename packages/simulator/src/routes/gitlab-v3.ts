/**
 * GitLab's REST API v3 Builds API (GL `lib/api/v3/builds.rb` in 9.x, `lib/api/builds.rb` and
 * `doc/api/builds.md` in 8.x, e.g. https://gitlab.com/gitlab-org/gitlab-foss/-/blob/8-16-stable/doc/api/builds.md),
 * served from the same store as v4: a build created or changed here is the job v4 shows, with the same
 * id, as on GitLab 8.x–9.x, which served both.
 * Auth, error bodies and stats work as for v4. Where a reply is a choice rather than a copy, the
 * comment says so.
 */
import { ERRORS, invalidValue, json, rawJson } from '../http.js';
import type { Reply } from '../http.js';
import type { GitlabV3Entities } from '../entities/gitlab-v3.js';
import type { Lifecycle } from '../lifecycle.js';
import type { TraceRenderer } from '../logs.js';
import type { Commit, Job, Project } from '../model.js';
import type { V3CommitShape } from '../options.js';
import { offsetHeaders, pageRequest } from '../pagination.js';
import type { LinkBase } from '../pagination.js';
import { CONFLICT } from '../query.js';
import type { ParamValue, QueryValue } from '../query.js';
import type { LiveSettings } from '../settings.js';
import type { JobStatus } from '../status.js';
import type { Store } from '../store.js';
import { traceReply } from '../trace-reply.js';
import { artifactHandlers } from './artifacts.js';
import type { RequestContext, RouteModule } from './context.js';
import { buildIn, isReply, mutation, projectFor, withoutConflicts } from './gitlab-shared.js';

export interface GitlabV3Deps {
  readonly store: Store;
  readonly lifecycle: Lifecycle;
  readonly entities: GitlabV3Entities;
  readonly traces: TraceRenderer;
  /**
   * Read per request: the commit shape (and with it the meaning of `scope=running`) and whether job
   * logs honour `Range` (`traceRange`) may change at run time.
   */
  readonly settings: LiveSettings;
  /** The simulator's own origin; Link headers point here. */
  readonly origin: string;
  /** Called after a mutation so the clock can restore its invariants (enough running jobs). */
  readonly afterMutation: (now: number) => void;
}

/** v3 says "build" where v4 says "job"; the refusals are otherwise v4's. */
const frozen = (status: number, message: string): Reply => Object.freeze(json(status, { message }));
const V3_ERRORS = {
  /** v3 `cancel` presented the build unchanged (201); the simulator refuses with 403 as its v4 route does. */
  notCancelable: frozen(403, '403 Forbidden - Build is not cancelable'),
  notRetryable: frozen(403, '403 Forbidden - Build is not retryable'),
  notErasable: frozen(403, '403 Forbidden - Build is not erasable!'),
} as const;

/**
 * The two scope vocabularies, both accepted on every v3 list:
 * - 9.x (`lib/api/v3/builds.rb`, plus `created` and `manual`, which 9.x statuses had):
 *   one word per status.
 * - early 8.x (`lib/api/builds.rb` `filter_builds`): `all` (no filter), `finished`
 *   (`CommitStatus.finished` = success, failed, canceled) and `running`
 *   (`running_or_pending`).
 * `running` is in both. It means the status `running` (9.x), except when the simulator serves the
 * early 8.x shape (`v3CommitShape: 'ci-commit'`), where it means running or pending as 8.x's did: a
 * client of a 9.x GitLab asks `scope[]=pending&scope[]=running` for both, while an 8.x client had no
 * other way to ask for queued builds.
 * Coercion as 9.x's `optional_scope`: a string is one word, a hash gives its values; an array is taken
 * as is (9.x's own coercion sent arrays to 'unknown', but the 8.x doc promised "string|array of
 * strings", and clients send `scope[]=`). Any unknown word → 400, as Grape's `values:` answered.
 */
const STATUS_WORDS: ReadonlySet<string> = new Set(['created', 'pending', 'running', 'failed', 'success', 'canceled', 'skipped', 'manual']);
const FINISHED: readonly JobStatus[] = ['success', 'failed', 'canceled'];

/** @returns the statuses to keep (undefined: all), and the words as given for Link headers */
export function v3Scope(value: ParamValue | undefined, shape: V3CommitShape): { keep: ReadonlySet<JobStatus> | undefined; words: string[] } | Reply {
  if (value === undefined) return { keep: undefined, words: [] };
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : value === CONFLICT ? ['unknown'] : Object.values(value);
  const keep = new Set<JobStatus>();
  let all = false;
  for (const word of list) {
    if (word === 'all') all = true;
    else if (word === 'finished') for (const s of FINISHED) keep.add(s);
    else if (STATUS_WORDS.has(word)) keep.add(word as JobStatus);
    else return invalidValue('scope');
    if (word === 'running' && shape === 'ci-commit') keep.add('pending');
  }
  return { keep: all ? undefined : keep, words: [...new Set(list)] };
}

/** One page of an id-ascending array, newest first, and how many match in all (v3 counted). */
function pageDesc(items: readonly Job[], skip: number, limit: number, keep: ReadonlySet<JobStatus> | undefined): { page: Job[]; total: number } {
  if (!keep) {
    // No filter: the page starts at a computed index, O(per_page) however deep.
    const page: Job[] = [];
    for (let i = items.length - 1 - skip; i >= 0 && page.length < limit; i--) page.push(items[i] as Job);
    return { page, total: items.length };
  }
  const page: Job[] = [];
  let total = 0;
  for (let i = items.length - 1; i >= 0; i--) {
    const job = items[i] as Job;
    if (!keep.has(job.status)) continue;
    if (total >= skip && page.length < limit) page.push(job);
    total++;
  }
  return { page, total };
}

export function gitlabV3(deps: GitlabV3Deps): RouteModule {
  const { store, lifecycle, entities, traces, settings, origin } = deps;
  const front = { store, idParam: 'build_id', afterMutation: deps.afterMutation };
  const artifacts = artifactHandlers(store, 'build_id');

  const linkBase = (ctx: RequestContext, extra: Record<string, QueryValue>): LinkBase => ({
    origin,
    path: ctx.path,
    params: { ...withoutConflicts(ctx.query), ...ctx.params, ...extra },
  });

  /** The shared tail of the three lists: scope, counted offset paging, the v3 entity. */
  function listOf(ctx: RequestContext, builds: readonly Job[]): Reply {
    const shape = settings.v3CommitShape;
    const scope = v3Scope(ctx.query.scope, shape);
    if (isReply(scope)) return scope;
    const request = pageRequest(ctx.query);
    if (isReply(request)) return request;
    const skip = (request.page - 1) * request.perPage;
    const { page, total } = pageDesc(builds, skip, request.perPage, scope.keep);
    const headers = offsetHeaders(linkBase(ctx, scope.words.length > 0 ? { scope: scope.words } : {}), {
      ...request,
      hasNext: skip + request.perPage < total,
      total,
    });
    return rawJson(200, entities.buildsBody(page, shape), headers);
  }

  /** `GET /projects/:id/builds`: the project's builds (bridges never; v3 had none), newest first. */
  function listBuilds(ctx: RequestContext): Reply {
    const project = projectFor(store, ctx, 'read');
    return isReply(project) ? project : listOf(ctx, project.builds);
  }

  /** Builds of every pipeline of one commit, id-ascending (retried ones included, as v3 listed them). */
  const commitBuilds = (commit: Commit): Job[] =>
    commit.pipelines.flatMap((p) => p.jobs.filter((j) => j.kind === 'build')).sort((a, b) => a.id - b.id);

  /**
   * 9.x `repository/commits/:sha/builds`: 404 unless `project.commit(sha)` resolves (a sha, a unique
   * prefix of 7+ hex digits, or a branch or tag), then the builds of the pipelines whose sha is exactly
   * the parameter — so a ref name or a short sha answers 200 with no builds, as 9.x did.
   */
  function listCommitBuilds(ctx: RequestContext): Reply {
    const project = projectFor(store, ctx, 'read');
    if (isReply(project)) return project;
    const wanted = ctx.params.sha ?? '';
    if (!resolveCommit(project, wanted)) return ERRORS.commitNotFound;
    const exact = project.commits.get(wanted);
    return listOf(ctx, exact ? commitBuilds(exact) : []);
  }

  /** Early 8.x `builds/commit/:sha` (as its `doc/api/builds.md` documents it): the CI commit, by its full sha only. */
  function listLegacyCommitBuilds(ctx: RequestContext): Reply {
    const project = projectFor(store, ctx, 'read');
    if (isReply(project)) return project;
    const commit = project.commits.get(ctx.params.sha ?? '');
    if (!commit || commit.pipelines.length === 0) return ERRORS.commitNotFound;
    return listOf(ctx, commitBuilds(commit));
  }

  function getBuild(ctx: RequestContext): Reply {
    const project = projectFor(store, ctx, 'read');
    if (isReply(project)) return project;
    const job = buildIn(store, project, ctx.params.build_id);
    return job ? rawJson(200, entities.buildBody(job, settings.v3CommitShape)) : ERRORS.notFound;
  }

  function getTrace(ctx: RequestContext): Reply {
    const project = projectFor(store, ctx, 'read');
    if (isReply(project)) return project;
    const job = buildIn(store, project, ctx.params.build_id);
    if (!job) return ERRORS.notFound;
    // As v4: the whole log every time, 200 with an empty body when there is none; with `traceRange`
    // on, one byte range is honoured (trace-reply.ts).
    return traceReply({ jobId: job.id, log: traces.bytes(job), headers: ctx.headers, ranges: settings.traceRange });
  }

  const present = (status: number, job: Job): Reply => rawJson(status, entities.buildBody(job, settings.v3CommitShape));

  const cancel = mutation(front, (ctx, job) => (lifecycle.cancel(job, ctx.now) ? present(201, job) : V3_ERRORS.notCancelable));

  const retry = mutation(front, (ctx, job, grant) => {
    const copy = lifecycle.retry(job, grant.user, ctx.now);
    return copy ? present(201, copy) : V3_ERRORS.notRetryable;
  });

  const erase = mutation(front, (ctx, job) => (lifecycle.erase(job, ctx.now) ? present(201, job) : V3_ERRORS.notErasable));

  const play = mutation(front, (ctx, job, grant) => (lifecycle.play(job, grant.user, ctx.now) ? present(200, job) : ERRORS.unplayable));

  /** 9.x `keep_artifacts!`: clears the expiry (v4 then shows `artifacts_expire_at: null`); 404 without artifacts. */
  const keep = mutation(front, (_ctx, job) => {
    if (job.artifacts.length === 0) return ERRORS.notFound;
    job.artifactsExpireAt = null;
    job.rev++;
    return present(200, job);
  });

  return {
    mount: '/api/v3',
    routes: [
      { method: 'GET', path: '/projects/:id/builds', handler: listBuilds },
      { method: 'GET', path: '/projects/:id/repository/commits/:sha/builds', handler: listCommitBuilds },
      { method: 'GET', path: '/projects/:id/builds/commit/:sha', handler: listLegacyCommitBuilds },
      { method: 'GET', path: '/projects/:id/builds/:build_id(int)', handler: getBuild },
      { method: 'GET', path: '/projects/:id/builds/:build_id(int)/trace', handler: getTrace },
      { method: 'GET', path: '/projects/:id/builds/:build_id(int)/artifacts', handler: artifacts.byId },
      { method: 'GET', path: '/projects/:id/builds/artifacts/:ref_name/download', handler: artifacts.byRef },
      { method: 'POST', path: '/projects/:id/builds/:build_id(int)/cancel', handler: cancel },
      { method: 'POST', path: '/projects/:id/builds/:build_id(int)/retry', handler: retry },
      { method: 'POST', path: '/projects/:id/builds/:build_id(int)/erase', handler: erase },
      { method: 'POST', path: '/projects/:id/builds/:build_id(int)/play', handler: play },
      { method: 'POST', path: '/projects/:id/builds/:build_id(int)/artifacts/keep', handler: keep },
    ],
  };
}

/**
 * What a v3 client needs beside builds — the project, one pipeline, one commit, one user — served by
 * the v4 handlers under `/api/v3`. GitLab 9.x mounted `API::Pipelines` and `API::Users` for both
 * versions, so those are copies; its v3 project and commit entities differed a little (v3 projects had
 * `public`/`visibility_level`), which the simulator does not reproduce.
 */
const SHARED_WITH_V4: ReadonlySet<string> = new Set([
  '/projects/:id',
  '/projects/:id/pipelines/:pipeline_id(int)',
  // 8.11's `API::Pipelines` had retry and cancel from the start (GL 8-11-stable `doc/api/pipelines.md`).
  '/projects/:id/pipelines/:pipeline_id(int)/retry',
  '/projects/:id/pipelines/:pipeline_id(int)/cancel',
  '/projects/:id/repository/commits/:sha',
  '/users/:id(int)',
]);

export function gitlabV3FromV4(v4: RouteModule): RouteModule {
  return { mount: '/api/v3', routes: v4.routes.filter((row) => SHARED_WITH_V4.has(row.path)) };
}

/** GitLab's `project.commit(ref)`: a full sha, a branch or tag name, or an unambiguous sha prefix (7+ hex). */
function resolveCommit(project: Project, wanted: string): Commit | undefined {
  const commit = project.commits.get(wanted) ?? project.refHeads.get(wanted);
  if (commit || !/^[0-9a-f]{7,39}$/.test(wanted)) return commit;
  const found = [...project.commits.values()].filter((c) => c.sha.startsWith(wanted));
  return found.length === 1 ? found[0] : undefined;
}
