import type { GatewayContext } from '../context.js';
import { unsupported } from '../errors.js';
import type { MutationResolvers } from '../generated/resolvers.js';
import { buildKey, entityKey } from '../loaders/index.js';
import { decodeGlobalId } from '../relay.js';
import type { BuildModel, RetryOptions } from '../model.js';
import { type BuildOperation, descriptorOf } from '../upstreams/kinds/index.js';
import type { CallContext, Upstream } from '../upstreams/types.js';
import { mutatePipeline } from './pipeline-mutations.js';
import { canonicalProject, checkedProjectSpelling } from './project-id.js';

type Action = (adapter: Upstream, call: CallContext, projectId: string, locator: string) => Promise<BuildModel>;

/** How a refusal names each operation. */
const WHAT: Record<BuildOperation, string> = {
  retry: 'Retrying a build',
  cancel: 'Canceling a build',
  erase: 'Erasing a build',
  play: 'Playing a manual build',
};

/**
 * Runs one build mutation, then makes the request's loaders agree with the upstream: the touched
 * build (and its stages) is dropped, and the build the upstream answered is primed. What the upstream's
 * kind does not declare is refused first, before any upstream request.
 */
async function mutate(
  context: GatewayContext,
  globalId: string,
  operation: BuildOperation,
  action: Action,
  options?: RetryOptions,
): Promise<{ build: BuildModel }> {
  const [upstream, spelled, locatorInput] = decodeGlobalId(globalId, 'Build').parts as [string, string, string];
  const { adapter, call } = context.upstream(upstream);
  const spelling = checkedProjectSpelling(adapter, spelled);
  const locator = adapter.parseBuildLocator(locatorInput);
  const { capabilities } = descriptorOf(adapter.kind);
  if (!capabilities[operation]) throw unsupported(upstream, WHAT[operation]);
  if (options && !capabilities.retryOptions && Object.values(options).some((value) => value !== undefined && value !== null)) {
    throw unsupported(upstream, 'Retrying with RetryOptions (this upstream retries whole builds)');
  }
  // The canonical key: what the mutation changes is forgotten under the one key every spelling reads.
  const projectId = await canonicalProject(context, upstream, spelling);
  const build = await action(adapter, call, projectId, locator);
  const touched = { upstream, projectId, id: locator };
  context.loaders.build.clear(touched);
  context.loaders.stages.clear(touched);
  await context.finishedCache?.invalidate({ upstream, projectId, locator });
  const result = buildKey(build);
  if (entityKey(result) !== entityKey(touched)) context.loaders.build.clear(result);
  context.loaders.build.prime(result, build);
  return { build };
}

/** A method the kind declares optional; `mutate` has checked the capability, so a missing one is a bug. */
function declared<T>(method: T | undefined, operation: BuildOperation): T {
  if (!method) throw new TypeError(`the adapter declares ${operation} but does not implement it`);
  return method;
}

export const Mutation: MutationResolvers = {
  retryBuild: (_parent, { id, options }, context) => {
    const retryOptions = (options ?? undefined) as RetryOptions | undefined;
    return mutate(context, id, 'retry', (adapter, call, projectId, buildId) => adapter.retry(call, projectId, buildId, retryOptions), retryOptions);
  },
  cancelBuild: (_parent, { id }, context) =>
    mutate(context, id, 'cancel', (adapter, call, projectId, buildId) => adapter.cancel(call, projectId, buildId)),
  eraseBuild: (_parent, { id }, context) =>
    mutate(context, id, 'erase', (adapter, call, projectId, buildId) => declared(adapter.erase, 'erase').call(adapter, call, projectId, buildId)),
  playBuild: (_parent, { id }, context) =>
    mutate(context, id, 'play', (adapter, call, projectId, buildId) => declared(adapter.play, 'play').call(adapter, call, projectId, buildId)),
  retryPipeline: (_parent, { id }, context) => mutatePipeline(context, id, 'retry'),
  cancelPipeline: (_parent, { id }, context) => mutatePipeline(context, id, 'cancel'),
};
