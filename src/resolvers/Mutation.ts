import type { GatewayContext } from '../context.js';
import type { MutationResolvers } from '../generated/resolvers.js';
import { buildKey, entityKey } from '../loaders/index.js';
import { decodeGlobalId } from '../relay.js';
import type { BuildModel, RetryOptions } from '../model.js';
import type { CallContext, Upstream } from '../upstreams/types.js';
import { canonicalProject, checkedProjectSpelling } from './project-id.js';

type Action = (adapter: Upstream, call: CallContext, projectId: string, locator: string) => Promise<BuildModel>;

/**
 * Runs one build mutation, then makes the request's loaders agree with the upstream: the touched
 * build (and its stages) is dropped, and the build the upstream answered is primed.
 */
async function mutate(context: GatewayContext, globalId: string, action: Action): Promise<{ build: BuildModel }> {
  const [upstream, spelled, locatorInput] = decodeGlobalId(globalId, 'Build').parts as [string, string, string];
  const { adapter, call } = context.upstream(upstream);
  const spelling = checkedProjectSpelling(adapter, spelled);
  const locator = adapter.parseBuildLocator(locatorInput);
  // The canonical key: what the mutation changes is forgotten under the one key every spelling reads.
  const projectId = await canonicalProject(context, upstream, spelling);
  const build = await action(adapter, call, projectId, locator);
  const touched = { upstream, projectId, id: locator };
  context.loaders.build.clear(touched);
  context.loaders.stages.clear(touched);
  context.finishedCache?.invalidate({ upstream, projectId, locator });
  const result = buildKey(build);
  if (entityKey(result) !== entityKey(touched)) context.loaders.build.clear(result);
  context.loaders.build.prime(result, build);
  return { build };
}

export const Mutation: MutationResolvers = {
  retryBuild: (_parent, { id, options }, context) =>
    mutate(context, id, (adapter, call, projectId, buildId) =>
      adapter.retry(call, projectId, buildId, (options ?? undefined) as RetryOptions | undefined),
    ),
  cancelBuild: (_parent, { id }, context) =>
    mutate(context, id, (adapter, call, projectId, buildId) => adapter.cancel(call, projectId, buildId)),
  eraseBuild: (_parent, { id }, context) =>
    mutate(context, id, (adapter, call, projectId, buildId) => adapter.erase(call, projectId, buildId)),
  playBuild: (_parent, { id }, context) =>
    mutate(context, id, (adapter, call, projectId, buildId) => adapter.play(call, projectId, buildId)),
};
