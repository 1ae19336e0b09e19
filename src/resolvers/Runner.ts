import type { GatewayContext } from '../context.js';
import { unsupported } from '../errors.js';
import type { RunnerResolvers } from '../generated/resolvers.js';
import { primeBuilds } from '../loaders/index.js';
import { decodeCursor, listKey, toConnection } from '../relay.js';
import type { BuildPage } from '../model.js';
import { descriptorOf } from '../upstreams/kinds/index.js';
import { DEFAULT_PAGE_SIZE } from './helpers.js';

/**
 * A runner's build pages read in this request, by list and position: the same page asked under twenty
 * builds that ran on one runner (or by aliases) is one upstream request. Keyed by the request's loaders,
 * which are fresh per request and per subscription event, so nothing outlives them.
 */
const pagesByRequest = new WeakMap<GatewayContext['loaders'], Map<string, Promise<BuildPage>>>();

export const Runner: RunnerResolvers = {
  upstreamId: (runner) => runner.id,
  builds: async (runner, args, context) => {
    const { adapter, call } = context.upstream(runner.upstream);
    if (!descriptorOf(adapter.kind).capabilities.runnerBuilds || !adapter.listRunnerBuilds) {
      throw unsupported(runner.upstream, "Listing a runner's builds");
    }
    const first = args.first ?? Math.min(DEFAULT_PAGE_SIZE, context.config.maxPageSize);
    const statuses = args.scope ? [...new Set(args.scope)].sort() : undefined;
    const list = listKey(runner.upstream, 'runner', runner.id, (statuses ?? []).join(','));
    const after = args.after ? decodeCursor(list, args.after) : undefined;
    let pages = pagesByRequest.get(context.loaders);
    if (!pages) pagesByRequest.set(context.loaders, (pages = new Map()));
    const key = JSON.stringify([list, first, after ?? null]);
    let page = pages.get(key);
    if (!page) pages.set(key, (page = adapter.listRunnerBuilds(call, { runnerId: runner.id, statuses, first, after })));
    const result = await page;
    primeBuilds(context.loaders, result.builds);
    return toConnection(list, result);
  },
};
