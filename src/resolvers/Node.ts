import type { GatewayContext } from '../context.js';
import type { NodeResolvers } from '../generated/resolvers.js';
import type { DecodedId, NodeType } from '../relay.js';
import type { BuildModel, CommitModel, PipelineModel, ProjectModel, UserModel } from '../upstreams/types.js';
import { checkNativeId, checkProjectId, checkSha } from './helpers.js';

export type NodeModel = BuildModel | PipelineModel | CommitModel | ProjectModel | UserModel;

/** `node(id)` hands back plain models; this remembers which GraphQL type each one is. */
const nodeTypes = new WeakMap<object, NodeType>();

export async function loadNode(context: GatewayContext, { type, parts }: DecodedId): Promise<NodeModel> {
  const [upstream, first, second] = parts as [string, string, string | undefined];
  const { adapter } = context.upstream(upstream);
  const { loaders } = context;
  let model: NodeModel;
  switch (type) {
    case 'Build':
      model = await loaders.build.load({ upstream, projectId: checkProjectId(first), id: adapter.parseBuildLocator(second!) });
      break;
    case 'Pipeline':
      model = await loaders.pipeline.load({ upstream, projectId: checkProjectId(first), id: checkNativeId(second!) });
      break;
    case 'Commit':
      model = await loaders.commit.load({ upstream, projectId: checkProjectId(first), id: checkSha(second!) });
      break;
    case 'Project':
      model = await loaders.project.load({ upstream, projectId: checkProjectId(first) });
      break;
    case 'User':
      model = await loaders.user.load({ upstream, id: checkNativeId(first) });
      break;
  }
  nodeTypes.set(model, type);
  return model;
}

export const Node: NodeResolvers = {
  __resolveType: (parent) => nodeTypes.get(parent) ?? null,
};
