import type { UpstreamResolvers } from '../generated/resolvers.js';
import type { UpstreamKind } from '../model.js';

const KIND: Record<UpstreamKind, 'GITLAB_V4' | 'GITLAB_V3' | 'BKCI_APIGW'> = {
  'gitlab-v4': 'GITLAB_V4',
  'gitlab-v3': 'GITLAB_V3',
  'bkci-apigw': 'BKCI_APIGW',
};

export const Upstream: UpstreamResolvers = {
  kind: (upstream) => KIND[upstream.kind],
};
