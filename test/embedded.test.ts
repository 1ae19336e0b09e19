/**
 * The embedded default (`npm start` with no configuration): the same operations — list, get, trace,
 * retry, cancel — work on each of its three upstreams, gitlab (v4), gitlab-v3 and bkci.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedUpstreams } from '@buildgate/simulator';
import { type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ simulator: { tickMs: 3_600_000 }, upstreams: embeddedUpstreams });
});
afterAll(() => stack?.close());

const PROJECTS: Record<string, string> = { gitlab: '1', 'gitlab-v3': '1', bkci: 'demo' };

describe.each(Object.keys(PROJECTS))('the embedded upstream %s', (upstream) => {
  const project = PROJECTS[upstream]!;
  const list = (scope: string) =>
    stack.graphql(
      `query($u: String!, $p: ID!, $scope: [BuildStatus!]) { project(upstream: $u, id: $p) { builds(first: 5, scope: $scope) { nodes { id upstream status name } } } }`,
      { u: upstream, p: project, scope: [scope] },
    );

  it('lists, gets and reads the trace of a build', async () => {
    const listed = await list('FAILED');
    expect(listed.errors).toBeUndefined();
    const [first] = listed.data!.project.builds.nodes;
    expect(first).toMatchObject({ upstream, status: 'FAILED' });
    const got = await stack.graphql('query($id: ID!) { build(id: $id) { id name status trace(limit: 100) { content nextOffset } } }', { id: first.id });
    expect(got.errors).toBeUndefined();
    expect(got.data!.build).toMatchObject({ id: first.id, name: first.name, status: 'FAILED' });
    expect(got.data!.build.trace.content.length).toBeGreaterThan(0);
  });

  it('retries a failed build and cancels a running one', async () => {
    const failed = (await list('FAILED')).data!.project.builds.nodes.at(-1);
    const retried = await stack.graphql('mutation($id: ID!) { retryBuild(id: $id) { build { status upstream } } }', { id: failed.id });
    expect(retried.errors).toBeUndefined();
    expect(['PENDING', 'RUNNING']).toContain(retried.data!.retryBuild.build.status);
    const running = (await list('RUNNING')).data!.project.builds.nodes[0];
    const canceled = await stack.graphql('mutation($id: ID!) { cancelBuild(id: $id) { build { status } } }', { id: running.id });
    expect(canceled.errors).toBeUndefined();
    expect(canceled.data!.cancelBuild.build.status).toBe('CANCELED');
  });
});
