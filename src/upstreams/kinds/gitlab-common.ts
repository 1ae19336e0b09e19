/**
 * What GitLab's v4 and v3 kinds share. How GitLab takes credentials: `PRIVATE-TOKEN`, `Authorization: Bearer`, or the
 * `private_token` / `access_token` / `job_token` query parameters it also reads.
 */
import { checkedCredential } from '../../credentials.js';
import type { Credential } from '../../model.js';
import type { TokenHeader, UpstreamKindDescriptor } from './descriptor.js';

type GitLabCredentials = Pick<
  UpstreamKindDescriptor,
  'clientCredential' | 'tokenHeaders' | 'tokenHeaderHelp' | 'serviceCredential' | 'secretHeaders' | 'secretParams'
>;

export const gitlabCredentials: GitLabCredentials = {
  clientCredential(headers: Headers): Credential | undefined {
    const privateToken = headers.get('private-token');
    if (privateToken) return { name: 'PRIVATE-TOKEN', value: checkedCredential('PRIVATE-TOKEN', privateToken) };
    const authorization = headers.get('authorization');
    if (authorization && /^Bearer\s+\S+$/i.test(authorization)) {
      return { name: 'Authorization', value: checkedCredential('Authorization', authorization) };
    }
    return undefined;
  },
  tokenHeaders: ['PRIVATE-TOKEN', 'Authorization'],
  tokenHeaderHelp: 'PRIVATE-TOKEN (default) or Authorization (sends `Bearer <token>`)',
  serviceCredential(tokenHeader: TokenHeader, token: string): Credential {
    return tokenHeader === 'Authorization' ? { name: 'Authorization', value: `Bearer ${token}` } : { name: tokenHeader, value: token };
  },
  secretHeaders: ['private-token', 'authorization', 'job-token'],
  secretParams: ['private_token', 'access_token', 'job_token'],
};

/** What both GitLab APIs can do: every job mutation, whole jobs only; no stages; logs count bytes. */
export const GITLAB_CAPABILITIES = {
  retry: true,
  cancel: true,
  erase: true,
  play: true,
  retryOptions: false,
  stages: false,
  commits: true,
  // GitLab 8.11+ served pipeline retry and cancel under v3 and v4 alike.
  pipelineRetry: true,
  pipelineCancel: true,
  // `GET /runners/:id/jobs` came with v4 (10.3); v3 never had it (kinds/gitlab-v3.ts).
  runnerBuilds: true,
  traceUnit: 'BYTES',
  pipelineFilters: ['ref', 'source', 'sha'],
} as const;

/** A GitLab project is its numeric id or its path, which GitLab resolves to the id. */
export const GITLAB_PROJECT_IDS = { numericIds: true, resolvesPaths: true } as const;
