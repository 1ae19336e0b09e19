import type { GatewayContext } from '../context.js';
import type { QueryResolvers } from '../generated/resolvers.js';
import { decodeGlobalId } from '../relay.js';
import type { BuildModel, ProjectModel } from '../upstreams/types.js';
import { checkProjectId, selectsOnly } from './helpers.js';
import { loadNode } from './Node.js';

/** Fields of Project answerable without the project's own data. */
const CHEAP_PROJECT_FIELDS = new Set(['__typename', 'upstream', 'builds', 'build', 'pipeline', 'commit']);

export async function loadBuild(context: GatewayContext, globalId: string): Promise<BuildModel> {
  return (await loadNode(context, decodeGlobalId(globalId, 'Build'))) as BuildModel;
}

export const Query: QueryResolvers = {
  upstreams: (_parent, _args, context) => context.registry.list().map(({ adapter }) => adapter),

  project: async (_parent, { upstream, id }, context, info) => {
    context.upstream(upstream);
    const project: ProjectModel = { upstream, projectId: checkProjectId(id) };
    const cheap = /^\d+$/.test(id) ? new Set([...CHEAP_PROJECT_FIELDS, 'id', 'upstreamId']) : CHEAP_PROJECT_FIELDS;
    if (selectsOnly(info, cheap)) return project;
    return context.loaders.project.load(project);
  },

  build: (_parent, { id }, context) => loadBuild(context, id),

  node: (_parent, { id }, context) => loadNode(context, decodeGlobalId(id)),
};
