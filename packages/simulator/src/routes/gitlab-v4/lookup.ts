/**
 * What every v4 resource module shares: its dependencies and the lookups GitLab makes before a handler
 * acts (project visibility and rights, a job or pipeline of that project, the params of Link headers).
 */
import { authorize } from '../../auth.js';
import type { Right } from '../../auth.js';
import type { GitlabV4Entities } from '../../entities/gitlab-v4.js';
import { ERRORS } from '../../http.js';
import type { Reply } from '../../http.js';
import type { Lifecycle } from '../../lifecycle.js';
import type { TraceRenderer } from '../../logs.js';
import type { Job, Pipeline, Project } from '../../model.js';
import type { LinkBase } from '../../pagination.js';
import type { QueryValue } from '../../query.js';
import type { LiveSettings } from '../../settings.js';
import type { Store } from '../../store.js';
import type { RequestContext } from '../context.js';
import { withoutConflicts } from './params.js';

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

export interface V4Lookup {
  /** Grape's params for Link headers: the request's, plus route parameters and coerced values. */
  linkBase(ctx: RequestContext, extra: Record<string, QueryValue>): LinkBase;
  projectFor(ctx: RequestContext, right: Right): Project | Reply;
  jobIn(project: Project, id: string | undefined, kinds: 'build' | 'any'): Job | undefined;
  pipelineIn(project: Project, id: string | undefined): Pipeline | undefined;
}

export function v4Lookup({ store, origin }: GitlabV4Deps): V4Lookup {
  return {
    linkBase: (ctx, extra) => ({ origin, path: ctx.path, params: { ...withoutConflicts(ctx.query), ...ctx.params, ...extra } }),
    projectFor(ctx, right) {
      const project = store.findProject(ctx.params.id ?? '');
      if (!project) return ERRORS.projectNotFound;
      return authorize(ctx.caller, project, right) ?? project;
    },
    jobIn(project, id, kinds) {
      const job = store.jobs.get(Number(id));
      if (!job || job.project !== project || (kinds === 'build' && job.kind !== 'build')) return undefined;
      return job;
    },
    pipelineIn(project, id) {
      const pipeline = store.pipelines.get(Number(id));
      return pipeline && pipeline.project === project ? pipeline : undefined;
    },
  };
}
