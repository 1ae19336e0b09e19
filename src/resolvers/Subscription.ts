import type { GatewayContext } from '../context.js';
import { badUserInput } from '../errors.js';
import type { SubscriptionResolvers } from '../generated/resolvers.js';
import { decodeGlobalId } from '../relay.js';
import type { WatchRequest } from '../trace/hub.js';
import type { PipelineWatchRequest } from '../trace/pipeline-status.js';
import type { BuildModel, PipelineModel, TraceChunkModel } from '../model.js';
import { checkNativeId } from './helpers.js';
import { canonicalProject, checkedProjectSpelling } from './project-id.js';

/**
 * What the hub needs to watch the build a global id names: checked before any upstream request, then
 * keyed by the canonical project and build ids, so every spelling of a build shares one poller.
 */
async function watchRequest(context: GatewayContext, globalId: string): Promise<WatchRequest> {
  const [upstream, projectId, locator] = decodeGlobalId(globalId, 'Build').parts as [string, string, string];
  const { adapter, call } = context.upstream(upstream);
  const spelling = checkedProjectSpelling(adapter, projectId);
  const buildLocator = adapter.parseBuildLocator(locator);
  return {
    address: { upstream, projectId: await canonicalProject(context, upstream, spelling), locator: buildLocator },
    adapter,
    credential: call.credential,
    serviceCredential: context.registry.get(upstream)?.serviceCredential,
  };
}

/** The pipeline a global id names, checked before any upstream request and keyed by its canonical project. */
async function pipelineWatch(context: GatewayContext, globalId: string): Promise<PipelineWatchRequest> {
  const [upstream, projectId, pipelineId] = decodeGlobalId(globalId, 'Pipeline').parts as [string, string, string];
  const { adapter, call } = context.upstream(upstream);
  const spelling = checkedProjectSpelling(adapter, projectId);
  return {
    address: { upstream, projectId: await canonicalProject(context, upstream, spelling), pipelineId: checkNativeId(pipelineId) },
    adapter,
    credential: call.credential,
    serviceCredential: context.registry.get(upstream)?.serviceCredential,
  };
}

export const Subscription: SubscriptionResolvers = {
  buildTrace: {
    subscribe: async (_parent, { id, offset }, context) => {
      const start = offset ?? 0;
      if (!Number.isSafeInteger(start) || start < 0) throw badUserInput('`offset` must be 0 or more', { argument: 'offset' });
      return context.traceHub.trace(await watchRequest(context, id), start);
    },
    resolve: (chunk: TraceChunkModel) => chunk,
  },
  buildStatus: {
    subscribe: async (_parent, { id }, context) => context.traceHub.status(await watchRequest(context, id)),
    resolve: (build: BuildModel) => build,
  },
  pipelineStatus: {
    subscribe: async (_parent, { id }, context) => context.pipelineHub.watch(await pipelineWatch(context, id)),
    resolve: (pipeline: PipelineModel) => pipeline,
  },
};
