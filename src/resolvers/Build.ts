import type { BuildResolvers } from '../generated/resolvers.js';
import { badUserInput } from '../errors.js';
import { buildKey } from '../loaders/index.js';
import { encodeGlobalId } from '../relay.js';
import { TERMINAL_STATUSES } from '../model.js';

export const Build: BuildResolvers = {
  id: (build) => encodeGlobalId('Build', build.upstream, build.projectId, build.locator),
  upstreamId: (build) => build.id,
  project: (build) => ({ upstream: build.upstream, projectId: build.projectId }),

  stages: async (build, _args, context) =>
    build.stages !== undefined ? build.stages : context.loaders.stages.load(buildKey(build)),

  trace: async (build, { offset, limit }, context) => {
    const { adapter, call } = context.upstream(build.upstream);
    const start = offset ?? 0;
    const max = limit ?? adapter.maxTraceLimit;
    if (!Number.isInteger(start) || start < 0) throw badUserInput('`offset` must be 0 or more', { argument: 'offset' });
    if (!Number.isInteger(max) || max < 1 || max > adapter.maxTraceLimit) {
      throw badUserInput(`\`limit\` must be between 1 and ${adapter.maxTraceLimit}`, { argument: 'limit', max: adapter.maxTraceLimit });
    }
    const finished = TERMINAL_STATUSES.has(build.status);
    const cache = finished && adapter.finishedBuildsAreFinal ? context.finishedCache : undefined;
    const key = { upstream: build.upstream, projectId: build.projectId, locator: build.locator };
    const window = `${start}:${max}`;
    let slice = await cache?.getTrace(key, call.credential, window);
    if (!slice) {
      // Every window of this build in this operation shares one upstream read.
      slice = await context.loaders.trace.load({ ...key, attempt: build.attempt, offset: start, limit: max });
      await cache?.setTrace(key, call.credential, window, slice);
    }
    return { ...slice, complete: finished && slice.atEnd };
  },
};
