/** The GitLab REST v3 kind (the Builds API of GitLab 8.x–10.x). */
import { GitLabV3Upstream } from '../gitlab-v3.js';
import type { UpstreamKindDescriptor } from './descriptor.js';
import { GITLAB_CAPABILITIES, GITLAB_PROJECT_IDS, gitlabCredentials } from './gitlab-common.js';

export const gitlabV3Kind: UpstreamKindDescriptor = {
  kind: 'gitlab-v3',
  graphqlEnum: 'GITLAB_V3',
  ...gitlabCredentials,
  settings: ['legacy'],
  // v3's pipelines list sends no `source` (GitLab 9.x `lib/api/v3/pipelines.rb`), so it cannot be filtered by it.
  capabilities: { ...GITLAB_CAPABILITIES, runnerBuilds: false, pipelineFilters: ['ref', 'sha'] },
  projectIds: GITLAB_PROJECT_IDS,
  createAdapter: (http, { legacy }) => new GitLabV3Upstream(http, { legacy }),
};
