/**
 * Artifact archive downloads, the same on v3 (`builds`, GL `lib/api/v3/builds.rb`) and v4 (`jobs`,
 * GL `lib/api/ci/job_artifacts.rb`): by build id, and by ref plus job name. The archive is a real zip
 * (see artifacts.ts). Reading needs the right to read the project, as for the build itself.
 */
import { archiveBytes, archiveOf, latestSuccessful } from '../artifacts.js';
import { ERRORS, invalidParam, json } from '../http.js';
import type { Reply } from '../http.js';
import type { Job } from '../model.js';
import type { Store } from '../store.js';
import type { Handler, RequestContext, RouteModule } from './context.js';
import { buildIn, isReply, projectFor } from './gitlab-shared.js';

/** Grape's answer to a missing `requires` parameter. */
const JOB_MISSING: Reply = Object.freeze(json(400, { error: 'job is missing' }));

/** The archive as GitLab's `present_artifacts!` sends it; 404 when there is none (never made, or erased). */
function archiveReply(job: Job): Reply {
  const archive = archiveOf(job);
  if (!archive) return ERRORS.notFound;
  return {
    status: 200,
    headers: { 'content-type': 'application/zip', 'content-disposition': `attachment; filename=${archive.filename}` },
    body: archiveBytes(job, archive),
  };
}

export interface ArtifactHandlers {
  /** `…/:build_id/artifacts` or `…/:job_id/artifacts`. */
  readonly byId: Handler;
  /** `…/artifacts/:ref_name/download?job=NAME` (the ref URL-encoded when it has a `/`). */
  readonly byRef: Handler;
}

export function artifactHandlers(store: Store, idParam: 'build_id' | 'job_id'): ArtifactHandlers {
  return {
    byId(ctx: RequestContext): Reply {
      const project = projectFor(store, ctx, 'read');
      if (isReply(project)) return project;
      const job = buildIn(store, project, ctx.params[idParam]);
      return job ? archiveReply(job) : ERRORS.notFound;
    },
    byRef(ctx: RequestContext): Reply {
      const project = projectFor(store, ctx, 'read');
      if (isReply(project)) return project;
      const name = ctx.query.job;
      if (name === undefined) return JOB_MISSING;
      if (typeof name !== 'string') return invalidParam('job');
      const job = latestSuccessful(project, ctx.params.ref_name ?? '', name);
      return job ? archiveReply(job) : ERRORS.notFound;
    },
  };
}

/** The v4 download routes, mounted beside the v4 jobs module (its rows stay untouched). */
export function gitlabV4Artifacts(store: Store): RouteModule {
  const handlers = artifactHandlers(store, 'job_id');
  return {
    mount: '/api/v4',
    routes: [
      { method: 'GET', path: '/projects/:id/jobs/:job_id(int)/artifacts', handler: handlers.byId },
      { method: 'GET', path: '/projects/:id/jobs/artifacts/:ref_name/download', handler: handlers.byRef },
    ],
  };
}
