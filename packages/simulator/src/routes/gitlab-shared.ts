/**
 * The front every GitLab route module shares when it runs on the one simulated GitLab: find the project
 * the caller may see (401/404 as auth.ts decides), find a build in it, and the mutation front
 * (401 without a token, project, build 404, then the right to act 403). The v4 jobs module keeps its own
 * copies of these closures; the v3 module and the artifact routes use these.
 */
import { authorize } from '../auth.js';
import type { Right } from '../auth.js';
import { ERRORS } from '../http.js';
import type { Reply } from '../http.js';
import type { Job, Project, TokenGrant } from '../model.js';
import { CONFLICT } from '../query.js';
import type { Params, QueryValue } from '../query.js';
import type { Store } from '../store.js';
import type { RequestContext } from './context.js';

export const isReply = (value: unknown): value is Reply =>
  typeof value === 'object' && value !== null && typeof (value as Partial<Reply>).status === 'number' && 'body' in value;

export function projectFor(store: Store, ctx: RequestContext, right: Right): Project | Reply {
  const project = store.findProject(ctx.params.id ?? '');
  if (!project) return ERRORS.projectNotFound;
  return authorize(ctx.caller, project, right) ?? project;
}

/** A build (never a bridge) of `project` by its id as the path gave it. */
export function buildIn(store: Store, project: Project, id: string | undefined): Job | undefined {
  const job = store.jobs.get(Number(id));
  return job && job.project === project && job.kind === 'build' ? job : undefined;
}

/** Request parameters without the markers of unusable ones (they are not repeated in Link headers). */
export function withoutConflicts(params: Params): Record<string, QueryValue> {
  const out: Record<string, QueryValue> = {};
  for (const [k, v] of Object.entries(params)) if (v !== CONFLICT) out[k] = v;
  return out;
}

export interface MutationFront {
  readonly store: Store;
  /** The route parameter naming the build (`build_id` in v3, `job_id` in v4). */
  readonly idParam: string;
  /** Called after every mutation so the clock can restore its invariants (enough running jobs). */
  readonly afterMutation: (now: number) => void;
}

/** Wraps a mutation in GitLab's order of checks: `authenticate!` first, then project, build, right to act. */
export function mutation(front: MutationFront, act: (ctx: RequestContext, job: Job, grant: TokenGrant) => Reply) {
  return (ctx: RequestContext): Reply => {
    if (ctx.caller.kind !== 'token') return ERRORS.unauthorized;
    const project = projectFor(front.store, ctx, 'read');
    if (isReply(project)) return project;
    const job = buildIn(front.store, project, ctx.params[front.idParam]);
    if (!job) return ERRORS.notFound;
    const denied = authorize(ctx.caller, project, 'act');
    if (denied) return denied;
    const reply = act(ctx, job, ctx.caller.grant);
    front.afterMutation(ctx.now);
    return reply;
  };
}
