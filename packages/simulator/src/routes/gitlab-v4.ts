/**
 * GitLab's REST API v4, as far as CI jobs need it: the route table, one module per resource in
 * gitlab-v4/ (jobs, traces, mutations, pipelines, projects and commits, users), sharing the lookups
 * of gitlab-v4/lookup.ts. Facts from GL `lib/api/ci/jobs.rb` and `lib/api/ci/pipelines.rb`; where a
 * reply is a choice rather than a copy, the comment there says so.
 */
import type { RouteModule } from './context.js';
import { v4JobHandlers } from './gitlab-v4/jobs.js';
import { type GitlabV4Deps, v4Lookup } from './gitlab-v4/lookup.js';
import { v4MutationHandlers } from './gitlab-v4/mutations.js';
import { v4PipelineOpHandlers } from './gitlab-v4/pipeline-ops.js';
import { v4PipelineHandlers } from './gitlab-v4/pipelines.js';
import { v4ProjectHandlers } from './gitlab-v4/projects.js';
import { v4TraceHandlers } from './gitlab-v4/traces.js';
import { v4UserHandlers } from './gitlab-v4/users.js';

export type { GitlabV4Deps } from './gitlab-v4/lookup.js';

export function gitlabV4(deps: GitlabV4Deps): RouteModule {
  const lookup = v4Lookup(deps);
  const { listProjectJobs, listPipelineJobs, getJob } = v4JobHandlers(deps, lookup);
  const { getTrace } = v4TraceHandlers(deps, lookup);
  const { cancel, retry, erase, play } = v4MutationHandlers(deps, lookup);
  const { listPipelines, getPipeline } = v4PipelineHandlers(deps, lookup);
  const pipelineOps = v4PipelineOpHandlers(deps, lookup);
  const { getProject, getCommit } = v4ProjectHandlers(deps, lookup);
  const { listUsers, getUser } = v4UserHandlers(deps, lookup);

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
      { method: 'POST', path: '/projects/:id/pipelines/:pipeline_id(int)/retry', handler: pipelineOps.retry },
      { method: 'POST', path: '/projects/:id/pipelines/:pipeline_id(int)/cancel', handler: pipelineOps.cancel },
      { method: 'GET', path: '/runners/:id(int)/jobs', handler: pipelineOps.listRunnerJobs },
      { method: 'GET', path: '/projects/:id/repository/commits/:sha', handler: getCommit },
      { method: 'GET', path: '/projects/:id', handler: getProject },
      { method: 'GET', path: '/users', handler: listUsers },
      { method: 'GET', path: '/users/:id(int)', handler: getUser },
    ],
  };
}
