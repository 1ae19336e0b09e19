/** `GET /projects/:id/jobs/:job_id/trace`: a job's log. */
import { ERRORS } from '../../http.js';
import type { Reply } from '../../http.js';
import { traceReply } from '../../trace-reply.js';
import type { RequestContext } from '../context.js';
import type { GitlabV4Deps, V4Lookup } from './lookup.js';
import { isReply } from './params.js';

export function v4TraceHandlers({ traces, settings }: GitlabV4Deps, { projectFor, jobIn }: V4Lookup) {
  function getTrace(ctx: RequestContext): Reply {
    const project = projectFor(ctx, 'read');
    if (isReply(project)) return project;
    const job = jobIn(project, ctx.params.job_id, 'build');
    if (!job) return ERRORS.notFound;
    // GitLab: the whole log every time (no Range, no offset), 200 with an empty body when there is
    // none. With `traceRange` on, one byte range is honoured (trace-reply.ts).
    return traceReply({ jobId: job.id, log: traces.bytes(job), headers: ctx.headers, ranges: settings.traceRange });
  }

  return { getTrace };
}
