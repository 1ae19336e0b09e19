import type { GatewayContext } from '../context.js';
import { badUserInput } from '../errors.js';
import type { SubscriptionResolvers } from '../generated/resolvers.js';
import { decodeGlobalId } from '../relay.js';
import type { WatchRequest } from '../trace/hub.js';
import type { BuildModel, TraceChunkModel } from '../upstreams/types.js';
import { checkProjectId } from './helpers.js';

/** What the hub needs to watch the build a global id names, checked before any upstream request. */
function watchRequest(context: GatewayContext, globalId: string): WatchRequest {
  const [upstream, projectId, locator] = decodeGlobalId(globalId, 'Build').parts as [string, string, string];
  const { adapter, call } = context.upstream(upstream);
  return {
    address: { upstream, projectId: checkProjectId(projectId), locator: adapter.parseBuildLocator(locator) },
    adapter,
    credential: call.credential,
    serviceCredential: context.registry.get(upstream)?.serviceCredential,
  };
}

export const Subscription: SubscriptionResolvers = {
  buildTrace: {
    subscribe: (_parent, { id, offset }, context) => {
      const start = offset ?? 0;
      if (!Number.isSafeInteger(start) || start < 0) throw badUserInput('`offset` must be 0 or more', { argument: 'offset' });
      return context.traceHub.trace(watchRequest(context, id), start);
    },
    resolve: (chunk: TraceChunkModel) => chunk,
  },
  buildStatus: {
    subscribe: (_parent, { id }, context) => context.traceHub.status(watchRequest(context, id)),
    resolve: (build: BuildModel) => build,
  },
};
