/** The GitLab REST v3 kind (the Builds API of GitLab 8.x–10.x). */
import { GitLabV3Upstream } from '../gitlab-v3.js';
import type { UpstreamKindDescriptor } from './descriptor.js';
import { GITLAB_CAPABILITIES, gitlabCredentials } from './gitlab-credentials.js';

export const gitlabV3Kind: UpstreamKindDescriptor = {
  kind: 'gitlab-v3',
  graphqlEnum: 'GITLAB_V3',
  ...gitlabCredentials,
  settings: ['legacy'],
  capabilities: GITLAB_CAPABILITIES,
  createAdapter: (http, { legacy }) => new GitLabV3Upstream(http, { legacy }),
};
