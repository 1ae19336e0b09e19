import type { UpstreamResolvers } from '../generated/resolvers.js';
import { descriptorOf } from '../upstreams/kinds/index.js';

export const Upstream: UpstreamResolvers = {
  kind: (upstream) => descriptorOf(upstream.kind).graphqlEnum,
  capabilities: (upstream) => descriptorOf(upstream.kind).capabilities,
};
