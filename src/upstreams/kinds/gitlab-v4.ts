/** The GitLab REST v4 kind (the Jobs API). */
import { GitLabV4Upstream } from '../gitlab-v4.js';
import type { UpstreamKindDescriptor } from './descriptor.js';
import { GITLAB_CAPABILITIES, GITLAB_PROJECT_IDS, gitlabCredentials } from './gitlab-common.js';

export const gitlabV4Kind: UpstreamKindDescriptor = {
  kind: 'gitlab-v4',
  graphqlEnum: 'GITLAB_V4',
  ...gitlabCredentials,
  settings: ['keyset'],
  capabilities: GITLAB_CAPABILITIES,
  projectIds: GITLAB_PROJECT_IDS,
  createAdapter: (http, { keyset }) => new GitLabV4Upstream(http, { keyset }),
};
