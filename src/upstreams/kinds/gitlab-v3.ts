/** The GitLab REST v3 kind (the Builds API of GitLab 8.x–10.x). */
import { GitLabV3Upstream } from '../gitlab-v3.js';
import type { UpstreamKindDescriptor } from './descriptor.js';
import { GITLAB_CAPABILITIES, GITLAB_PROJECT_IDS, gitlabCredentials } from './gitlab-common.js';

export const gitlabV3Kind: UpstreamKindDescriptor = {
  kind: 'gitlab-v3',
  graphqlEnum: 'GITLAB_V3',
  ...gitlabCredentials,
  settings: ['legacy'],
  capabilities: { ...GITLAB_CAPABILITIES, runnerBuilds: false },
  projectIds: GITLAB_PROJECT_IDS,
  createAdapter: (http, { legacy }) => new GitLabV3Upstream(http, { legacy }),
};
