/**
 * `Build.logSearch` and `Build.failure` (schema/log.graphql): arguments checked before any upstream
 * request, then one streamed pass over the build's log (src/trace/log-search.ts, failure.ts).
 */
import type { BuildResolvers } from '../generated/resolvers.js';
import { checkSearchOptions, searchLog } from '../trace/log-search.js';
import { findFailure } from '../trace/failure.js';

export const LogSearchFields: Pick<BuildResolvers, 'logSearch' | 'failure'> = {
  logSearch: async (build, args, context) => {
    const options = {
      pattern: args.pattern,
      regex: args.regex ?? false,
      caseSensitive: args.caseSensitive ?? false,
      context: args.context ?? 0,
      // Range-checked with every `first` before execution (useArgumentChecks).
      first: args.first ?? 20,
    };
    const matcher = checkSearchOptions(options);
    const { adapter, call } = context.upstream(build.upstream);
    return searchLog(adapter, call, build, { maxBytes: context.config.limits.maxSearchBytes }, options, matcher);
  },

  failure: async (build, _args, context) => {
    if (build.status !== 'FAILED') return null;
    const { adapter, call } = context.upstream(build.upstream);
    return findFailure(adapter, call, build, { maxBytes: context.config.limits.maxSearchBytes });
  },
};
