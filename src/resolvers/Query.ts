import type { GatewayContext } from '../context.js';
import type { QueryResolvers } from '../generated/resolvers.js';
import { decodeGlobalId } from '../relay.js';
import type { BuildModel, ProjectModel } from '../model.js';
import { selectsOnly } from './helpers.js';
import { loadNode } from './Node.js';
import { canonicalProject, checkedProjectSpelling } from './project-id.js';

/** Fields of Project answerable without the project's own data. */
const CHEAP_PROJECT_FIELDS = new Set(['__typename', 'upstream', 'builds', 'pipelines', 'build', 'pipeline', 'commit']);

export async function loadBuild(context: GatewayContext, globalId: string): Promise<BuildModel> {
  return (await loadNode(context, decodeGlobalId(globalId, 'Build'))) as BuildModel;
}

export const Query: QueryResolvers = {
  upstreams: (_parent, _args, context) => context.registry.list().map(({ adapter }) => adapter),

  project: async (_parent, { upstream, id }, context, info) => {
    const spelling = checkedProjectSpelling(context.upstream(upstream).adapter, id);
    // Every spelling of the project is one key (and one global id) from here on.
    const project: ProjectModel = { upstream, projectId: await canonicalProject(context, upstream, spelling) };
    const cheap = /^\d+$/.test(project.projectId) ? new Set([...CHEAP_PROJECT_FIELDS, 'id', 'upstreamId']) : CHEAP_PROJECT_FIELDS;
    if (selectsOnly(info, cheap)) return project;
    return context.loaders.project.load(project);
  },

  build: (_parent, { id }, context) => loadBuild(context, id),

  node: (_parent, { id }, context) => loadNode(context, decodeGlobalId(id)),
};
