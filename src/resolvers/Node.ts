import type { GatewayContext } from '../context.js';
import type { NodeResolvers } from '../generated/resolvers.js';
import type { DecodedId, NodeType } from '../relay.js';
import type { BuildModel, CommitModel, PipelineModel, ProjectModel, UserModel } from '../model.js';
import { checkNativeId, checkSha } from './helpers.js';
import { canonicalProject, checkedProjectSpelling } from './project-id.js';

export type NodeModel = BuildModel | PipelineModel | CommitModel | ProjectModel | UserModel;

/** `node(id)` hands back plain models; this remembers which GraphQL type each one is. */
const nodeTypes = new WeakMap<object, NodeType>();

export async function loadNode(context: GatewayContext, { type, parts }: DecodedId): Promise<NodeModel> {
  const [upstream, first, second] = parts as [string, string, string | undefined];
  const { adapter } = context.upstream(upstream);
  const { loaders } = context;
  // Every id is checked before the project's canonical id is resolved (which may cost a request).
  const project = type === 'User' ? undefined : checkedProjectSpelling(adapter, first);
  const projectId = () => canonicalProject(context, upstream, project!);
  let model: NodeModel;
  switch (type) {
    case 'Build': {
      const id = adapter.parseBuildLocator(second!);
      model = await loaders.build.load({ upstream, projectId: await projectId(), id });
      break;
    }
    case 'Pipeline': {
      const id = checkNativeId(second!);
      model = await loaders.pipeline.load({ upstream, projectId: await projectId(), id });
      break;
    }
    case 'Commit': {
      const id = checkSha(second!);
      model = await loaders.commit.load({ upstream, projectId: await projectId(), id });
      break;
    }
    case 'Project':
      model = await loaders.project.load({ upstream, projectId: await projectId() });
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
