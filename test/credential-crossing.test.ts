/**
 * A GitLab credential never reaches bk-ci and a bk-ci credential never reaches GitLab (issue #12, 10b):
 * with both kinds of upstream behind one gateway, a client that sends both kinds of credential at once
 * (and a gateway that holds service credentials of both kinds) is seen upstream, request by request,
 * with only the credentials of that upstream's kind. The simulator records what arrived
 * (`/__sim/credentials`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialRecord } from '@buildgate/simulator';
import { type Stack, startStack } from './helpers/stack.js';
import { subscriptionClient } from './helpers/subscribe.js';

const GITLAB_TOKEN = 'glpat-developer';
const BKAPI = JSON.stringify({ access_token: 'bk-alice-token' });
/** Both kinds at once, as a browser extension or a careless script might send them. */
const BOTH = { 'PRIVATE-TOKEN': GITLAB_TOKEN, Authorization: `Bearer ${GITLAB_TOKEN}`, 'X-DEVOPS-UID': 'alice', 'X-Bkapi-Authorization': BKAPI };
const GITLAB_PLACES = new Set(['private-token', 'authorization', '?private_token', '?access_token', '?job_token', 'job-token']);
const BKCI_PLACES = new Set(['x-devops-uid', 'x-bkapi-authorization', '?access_token']);
const GITLAB_SECRETS = [GITLAB_TOKEN];
const BKCI_SECRETS = ['alice', 'bk-alice-token'];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    upstreams: (url) => [
      { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: GITLAB_TOKEN },
      { name: 'legacy', kind: 'gitlab-v3', baseUrl: `${url}/api/v3`, token: GITLAB_TOKEN, tokenHeader: 'Authorization' },
      { name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3`, token: 'alice' },
      { name: 'bkci-token', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3`, token: 'bk-alice-token', tokenHeader: 'access_token' },
    ],
  });
});
afterAll(() => stack?.close());

/** Fails naming the request when a credential of the other kind arrived; returns the requests per upstream kind. */
function assertNoCrossing(requests: CredentialRecord[]): { gitlab: CredentialRecord[]; bkci: CredentialRecord[] } {
  for (const request of requests) {
    const places = request.upstream === 'gitlab' ? GITLAB_PLACES : BKCI_PLACES;
    const foreign = request.upstream === 'gitlab' ? BKCI_SECRETS : GITLAB_SECRETS;
    for (const [place, value] of Object.entries(request.credentials)) {
      expect(places.has(place), `${request.upstream} ${request.route} got ${place}`).toBe(true);
      for (const secret of foreign) expect(value, `${request.upstream} ${request.route} ${place}`).not.toContain(secret);
    }
  }
  return { gitlab: requests.filter((r) => r.upstream === 'gitlab'), bkci: requests.filter((r) => r.upstream === 'bkci') };
}

const SPANNING = `{
  gitlab: project(upstream: "gitlab", id: "1") { builds(first: 3) { nodes { id name user { username } trace(limit: 10) { content } } } }
  legacy: project(upstream: "legacy", id: "1") { builds(first: 2) { nodes { id name } } }
  bkci: project(upstream: "bkci", id: "demo") { pipeline(id: "p-demo") { builds(first: 3) { nodes { id name status } } } }
  bkciToken: project(upstream: "bkci-token", id: "demo") { pipeline(id: "p-demo") { name } }
}`;

describe('credentials across upstream kinds', () => {
  it('a query spanning GitLab v4, v3 and bk-ci with both kinds of client credential sends each only its own', async () => {
    await stack.recordCredentials();
    const result = await stack.graphql(SPANNING, undefined, BOTH);
    expect(result.errors).toBeUndefined();
    const { gitlab, bkci } = assertNoCrossing(await stack.credentials());
    expect(gitlab.length).toBeGreaterThanOrEqual(3);
    expect(bkci.length).toBeGreaterThanOrEqual(2);
    // The client's own credentials were forwarded, each to its kind.
    expect(gitlab.every((r) => r.credentials['private-token'] === GITLAB_TOKEN)).toBe(true);
    expect(bkci.every((r) => r.credentials['x-bkapi-authorization'] === BKAPI)).toBe(true);
  });

  it('with no client credential, each upstream gets only its own service credential', async () => {
    await stack.recordCredentials();
    const result = await stack.graphql(SPANNING);
    expect(result.errors).toBeUndefined();
    const { gitlab, bkci } = assertNoCrossing(await stack.credentials());
    expect(gitlab.map((r) => r.credentials)).toContainEqual({ 'private-token': GITLAB_TOKEN });
    expect(gitlab.map((r) => r.credentials)).toContainEqual({ authorization: `Bearer ${GITLAB_TOKEN}` });
    expect(bkci.map((r) => r.credentials)).toContainEqual({ 'x-devops-uid': 'alice' });
    expect(bkci.map((r) => r.credentials)).toContainEqual({ '?access_token': 'bk-alice-token' });
  });

  it('a trace subscription and a bk-ci read with both credentials keep them apart too (SSE and WebSocket)', async () => {
    const list = await stack.graphql<any>('{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 1) { nodes { id } } } }');
    const id = list.data.project.builds.nodes[0].id;
    await stack.recordCredentials();
    for (const transport of ['sse', 'ws'] as const) {
      const client = subscriptionClient(transport, stack.gateway.url, BOTH);
      const sub = client.subscribe<{ content: string }>('subscription($id: ID!) { buildTrace(id: $id) { content } }', { id });
      await expect.poll(() => sub.values.length, { timeout: 15_000 }).toBeGreaterThan(0);
      sub.stop();
      await client.dispose();
    }
    await stack.graphql('{ project(upstream: "bkci", id: "demo") { pipeline(id: "p-demo") { builds(first: 1) { nodes { status } } } } }', undefined, BOTH);
    const { gitlab, bkci } = assertNoCrossing(await stack.credentials());
    expect(gitlab.length).toBeGreaterThan(0);
    expect(bkci.length).toBeGreaterThan(0);
  });
});
