import { TERMINAL_STATUSES } from '../upstreams/types.js';
import type { BuildResolvers } from '../generated/resolvers.js';
import { badUserInput } from '../errors.js';
import { encodeGlobalId } from '../relay.js';
import { sliceUtf8 } from '../trace/slice.js';

/** The most bytes one `Build.trace` answer carries. */
export const MAX_TRACE_LIMIT = 1024 * 1024;

export const Build: BuildResolvers = {
  id: (build) => encodeGlobalId('Build', build.upstream, build.projectId, build.id),
  upstreamId: (build) => build.id,
  project: (build) => ({ upstream: build.upstream, projectId: build.projectId }),

  trace: async (build, { offset, limit }, context) => {
    const start = offset ?? 0;
    const max = limit ?? MAX_TRACE_LIMIT;
    if (!Number.isInteger(start) || start < 0) throw badUserInput('`offset` must be 0 or more', { argument: 'offset' });
    if (!Number.isInteger(max) || max < 1 || max > MAX_TRACE_LIMIT) {
      throw badUserInput(`\`limit\` must be between 1 and ${MAX_TRACE_LIMIT}`, { argument: 'limit', max: MAX_TRACE_LIMIT });
    }
    const log = await context.loaders.trace.load({ upstream: build.upstream, projectId: build.projectId, id: build.id });
    if (start > log.length) {
      throw badUserInput(`\`offset\` ${start} is beyond the end of the log (${log.length} bytes)`, { argument: 'offset' });
    }
    const slice = sliceUtf8(log, start, max);
    return { ...slice, complete: TERMINAL_STATUSES.has(build.status) && slice.nextOffset === log.length };
  },
};
