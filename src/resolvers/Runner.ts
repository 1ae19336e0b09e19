import type { RunnerResolvers } from '../generated/resolvers.js';

export const Runner: RunnerResolvers = {
  upstreamId: (runner) => runner.id,
};
