/**
 * One descriptor per upstream kind: the capabilities every kind declares, read back through the schema;
 * what a kind does not declare is refused before any upstream request; and an injected undici
 * dispatcher (the bench's constant one) replaces an upstream's connection pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { constantDispatcher } from '../bench/lib/constant-dispatcher.mjs';
import { parseConfig } from '../src/config.js';
import { startGateway } from '../src/server.js';
import { KINDS } from '../src/upstreams/kinds/index.js';
import { codes, type Stack, startStack, stackOf } from './helpers/stack.js';

const BKCI_FAILED = 'p-demo/b-8737a7af414b435fd3bbeac4d79b6169';
const CAPABILITIES = 'capabilities { retry retryOptions cancel erase play stages commits traceUnit }';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    upstreams: (url) => [
      { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: 'glpat-developer' },
      { name: 'legacy', kind: 'gitlab-v3', baseUrl: `${url}/api/v3`, token: 'glpat-developer' },
      { name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3`, token: 'alice' },
    ],
  });
});
afterAll(() => stack?.close());

async function firstBuild(upstream: string, project: string, scope: string): Promise<string> {
  const result = await stack.graphql(
    `query($scope: [BuildStatus!]) { project(upstream: "${upstream}", id: "${project}") { builds(scope: $scope, first: 1) { nodes { id } } } }`,
    { scope: [scope] },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.project.builds.nodes[0].id;
}

describe('upstream kinds', () => {
  it('declares every kind\'s capabilities on Upstream', async () => {
    const result = await stack.graphql(`{ upstreams { name kind ${CAPABILITIES} } }`);
    expect(result.errors).toBeUndefined();
    const gitlab = { retry: true, retryOptions: false, cancel: true, erase: true, play: true, stages: false, commits: true, traceUnit: 'BYTES' };
    expect(result.data!.upstreams).toEqual([
      { name: 'gitlab', kind: 'GITLAB_V4', capabilities: gitlab },
      { name: 'legacy', kind: 'GITLAB_V3', capabilities: gitlab },
      {
        name: 'bkci',
        kind: 'BKCI_APIGW',
        capabilities: { retry: true, retryOptions: true, cancel: true, erase: false, play: false, stages: true, commits: false, traceUnit: 'LINES' },
      },
    ]);
  });

  it('makes adapters that agree with their declaration', () => {
    for (const { adapter, descriptor } of stack.gateway.registry.list()) {
      expect(descriptor).toBe(KINDS[adapter.kind]);
      expect(adapter.traceUnit, adapter.name).toBe(descriptor.capabilities.traceUnit);
      expect(typeof adapter.erase === 'function', `${adapter.name} erase`).toBe(descriptor.capabilities.erase);
      expect(typeof adapter.play === 'function', `${adapter.name} play`).toBe(descriptor.capabilities.play);
    }
  });

  it('refuses an undeclared mutation with UNSUPPORTED_BY_UPSTREAM and 0 upstream requests', async () => {
    const bkciBuild = await stack.graphql('query($id: ID!) { project(upstream: "bkci", id: "demo") { build(id: $id) { id } } }', { id: BKCI_FAILED });
    const legacyBuild = await firstBuild('legacy', '1', 'FAILED');
    await stack.resetStats();
    const refused = [
      await stack.graphql('mutation($id: ID!) { playBuild(id: $id) { build { id } } }', { id: bkciBuild.data!.project.build.id }),
      await stack.graphql('mutation($id: ID!) { eraseBuild(id: $id) { build { id } } }', { id: bkciBuild.data!.project.build.id }),
      await stack.graphql('mutation($id: ID!) { retryBuild(id: $id, options: { skip: true }) { build { id } } }', { id: legacyBuild }),
    ];
    for (const result of refused) {
      expect(codes(result)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
      expect(result.data?.playBuild ?? result.data?.eraseBuild ?? result.data?.retryBuild ?? null).toBeNull();
    }
    expect(refused[0]!.errors![0]!.extensions).toMatchObject({ upstream: 'bkci' });
    expect((await stack.stats()).total).toBe(0);
  });
});

describe('an injected dispatcher', () => {
  let ceiling: Stack;
  let dispatcher: ReturnType<typeof constantDispatcher>;
  beforeAll(async () => {
    const baseUrl = `${stack.simulator.url}/api/v4`;
    const config = parseConfig({ port: 0, host: '127.0.0.1', logLevel: 'silent', upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl }] });
    dispatcher = constantDispatcher(baseUrl);
    const gateway = await startGateway(config, { dispatchers: { gitlab: dispatcher } });
    // The ceiling's own simulator is the shared one: it must see no request at all.
    ceiling = stackOf(stack.simulator, gateway);
  });
  afterAll(async () => {
    await ceiling?.gateway.close();
    await dispatcher?.close();
  });

  it('answers a build and a 20-build list from the bench\'s constants, sending nothing to the upstream', async () => {
    await stack.resetStats();
    const single = await ceiling.graphql(
      `{ project(upstream: "gitlab", id: "1") { build(id: "123") { upstreamId name status commit { sha } pipeline { upstreamId } user { username } } } }`,
    );
    expect(single.errors).toBeUndefined();
    expect(single.data!.project.build).toEqual({
      upstreamId: '123',
      name: 'teaspoon',
      status: 'FAILED',
      commit: { sha: '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd' },
      pipeline: { upstreamId: '6' },
      user: { username: 'root' },
    });
    const list = await ceiling.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 20) { nodes { upstreamId } pageInfo { hasNextPage endCursor } } } }');
    expect(list.errors).toBeUndefined();
    const page = list.data!.project.builds;
    expect(page.nodes).toHaveLength(20);
    expect(page.nodes[0].upstreamId).toBe('100000');
    expect(page.pageInfo.hasNextPage).toBe(true);
    const next = await ceiling.graphql('query($after: String) { project(upstream: "gitlab", id: "1") { builds(first: 20, after: $after) { nodes { upstreamId } } } }', {
      after: page.pageInfo.endCursor,
    });
    expect(next.errors).toBeUndefined();
    expect(next.data!.project.builds.nodes).toHaveLength(20);
    expect((await stack.stats()).total).toBe(0);
  });

  it('answers what the constants do not hold as GitLab would: NOT_FOUND', async () => {
    const result = await ceiling.graphql('{ project(upstream: "gitlab", id: "1") { pipeline(id: "6") { status } } }');
    expect(codes(result)).toEqual(['NOT_FOUND']);
    expect((await stack.stats()).total).toBe(0);
  });
});
