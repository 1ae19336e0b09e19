/**
 * The bk-ci open API gateway kind. Credentials: `X-DEVOPS-UID` (a user name, behind a trusted gateway)
 * or the BlueKing API gateway's `X-Bkapi-Authorization`; a service credential may also be an
 * `access_token` query parameter.
 */
import { checkedCredential } from '../../credentials.js';
import type { Credential } from '../../model.js';
import { BkciApigwUpstream, describeBkciError } from '../bkci-apigw.js';
import type { TokenHeader, UpstreamKindDescriptor } from './descriptor.js';

export const bkciApigwKind: UpstreamKindDescriptor = {
  kind: 'bkci-apigw',
  graphqlEnum: 'BKCI_APIGW',
  clientCredential(headers: Headers): Credential | undefined {
    const bkapi = headers.get('x-bkapi-authorization');
    if (bkapi) return { name: 'X-Bkapi-Authorization', value: checkedCredential('X-Bkapi-Authorization', bkapi) };
    const uid = headers.get('x-devops-uid');
    if (uid) return { name: 'X-DEVOPS-UID', value: checkedCredential('X-DEVOPS-UID', uid) };
    return undefined;
  },
  tokenHeaders: ['X-DEVOPS-UID', 'X-Bkapi-Authorization', 'access_token'],
  tokenHeaderHelp: 'X-DEVOPS-UID (default: the token is a user name), X-Bkapi-Authorization (sent as is), or access_token (a query parameter)',
  serviceCredential(tokenHeader: TokenHeader, token: string): Credential {
    return tokenHeader === 'access_token' ? { name: 'access_token', value: token, in: 'query' } : { name: tokenHeader, value: token };
  },
  secretHeaders: ['x-bkapi-authorization', 'x-devops-uid'],
  secretParams: ['access_token'],
  settings: [],
  // A retry runs the same build again (with options); there is no erase, no manual job and no commit API.
  capabilities: {
    retry: true,
    cancel: true,
    erase: false,
    play: false,
    retryOptions: true,
    stages: true,
    commits: false,
    // A pipeline run is one build: its retry and stop endpoints.
    pipelineRetry: true,
    pipelineCancel: true,
    // The apigw has no builds-by-agent read.
    runnerBuilds: false,
    traceUnit: 'LINES',
    // Runs narrow by their material branch; the v3 history knows no commit filter and no trigger filter.
    pipelineFilters: ['ref'],
  },
  // A project id is a code bk-ci matches exactly.
  projectIds: { numericIds: false, resolvesPaths: false },
  http: { describeError: describeBkciError },
  createAdapter: (http) => new BkciApigwUpstream(http),
};
