/** The job mutations: `POST /projects/:id/jobs/:job_id/{cancel,retry,erase,play}`. Facts from GL `lib/api/ci/jobs.rb`. */
import { authorize } from '../../auth.js';
import { ERRORS, rawJson } from '../../http.js';
import type { Reply } from '../../http.js';
import type { Job, TokenGrant } from '../../model.js';
import type { Handler, RequestContext } from '../context.js';
import type { GitlabV4Deps, V4Lookup } from './lookup.js';
import { booleanParam, isReply } from './params.js';

export function v4MutationHandlers({ lifecycle, entities, afterMutation }: GitlabV4Deps, { projectFor, jobIn }: V4Lookup) {
  /**
   * The shared front of the four mutations: 401 without a token (GitLab's `authenticate!` comes first),
   * then project visibility (401/404), then the job (404), then the right to act (403).
   */
  function mutation(kinds: 'build' | 'any', act: (ctx: RequestContext, job: Job, grant: TokenGrant) => Reply): Handler {
    return (ctx) => {
      if (ctx.caller.kind !== 'token') return ERRORS.unauthorized;
      const project = projectFor(ctx, 'read');
      if (isReply(project)) return project;
      const job = jobIn(project, ctx.params.job_id, kinds);
      if (!job) return ERRORS.notFound;
      const denied = authorize(ctx.caller, project, 'act');
      if (denied) return denied;
      const reply = act(ctx, job, ctx.caller.grant);
      afterMutation(ctx.now);
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

  return { cancel, retry, erase, play };
}
