import type { GatewayContext } from '../context.js';
import type { ProjectResolvers } from '../generated/resolvers.js';
import { encodeGlobalId } from '../relay.js';
import type { CommitModel, PipelineModel, ProjectModel } from '../model.js';
import { checkNativeId, checkSha, listBuilds, orLoad, selectsOnly } from './helpers.js';
import { listPipelines } from './pipeline-list.js';

const loadProject = (project: ProjectModel, context: GatewayContext) => context.loaders.project.load(project);

/** The upstream's own id: known without a request when the caller used it, else read from the project. */
async function canonicalId(project: ProjectModel, context: GatewayContext): Promise<string> {
  if (project.canonicalId) return project.canonicalId;
  if (/^\d+$/.test(project.projectId)) return project.projectId;
  return (await loadProject(project, context)).canonicalId ?? project.projectId;
}

/** A pipeline id, or a bk-ci run `p-…/b-…` (two native ids): the adapter reads what it is. */
const checkPipelineId = (id: string): string => (/^[^/]+\/[^/]+$/.test(id) ? id.split('/').map((part) => checkNativeId(part)).join('/') : checkNativeId(id));

const CHEAP_PIPELINE_FIELDS = new Set(['__typename', 'id', 'upstreamId', 'upstream', 'builds', 'bridges']);
/** Git names a commit by 40 hex digits (SHA-1) or 64 (SHA-256); anything shorter is an abbreviation. */
const isShortSha = (sha: string): boolean => sha.length !== 40 && sha.length !== 64;

const CHEAP_COMMIT_FIELDS = new Set(['__typename', 'id', 'sha', 'builds', 'pipelines']);

export const Project: ProjectResolvers = {
  id: async (project, _args, context) => encodeGlobalId('Project', project.upstream, await canonicalId(project, context)),
  upstreamId: (project, _args, context) => canonicalId(project, context),
  upstream: (project) => project.upstream,
  name: orLoad('name', loadProject),
  path: orLoad('path', loadProject),
  description: orLoad('description', loadProject),
  defaultBranch: orLoad('defaultBranch', loadProject),
  visibility: orLoad('visibility', loadProject),
  webUrl: orLoad('webUrl', loadProject),

  builds: (project, args, context) =>
    listBuilds(context, project.upstream, { of: 'project', projectId: project.projectId }, args),

  pipelines: (project, args, context) => listPipelines(context, project.upstream, { projectId: project.projectId }, args),

  build: (project, { id }, context) => {
    const { adapter } = context.upstream(project.upstream);
    return context.loaders.build.load({ upstream: project.upstream, projectId: project.projectId, id: adapter.parseBuildLocator(id) });
  },

  pipeline: async (project, { id }, context, info) => {
    const pipeline: PipelineModel = { upstream: project.upstream, projectId: project.projectId, id: checkPipelineId(id) };
    if (selectsOnly(info, CHEAP_PIPELINE_FIELDS)) return pipeline;
    return context.loaders.pipeline.load(pipeline);
  },

  commit: async (project, { sha }, context, info) => {
    const commit: CommitModel = { upstream: project.upstream, projectId: project.projectId, sha: checkSha(sha) };
    // A short SHA names the commit but cannot filter its builds (GitLab's `pipelines?sha=` wants the
    // whole one): read the commit first whatever is selected, so `builds` and `sha` are the full commit's.
    if (selectsOnly(info, CHEAP_COMMIT_FIELDS) && !isShortSha(commit.sha)) return commit;
    return context.loaders.commit.load({ upstream: commit.upstream, projectId: commit.projectId, id: commit.sha });
  },
};
