/**
 * retryBuild, cancelBuild, eraseBuild and playBuild: each one's effect, seen through the gateway and
 * checked against the upstream's REST API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ simulator: { tickMs: 3_600_000 }, upstream: { token: 'glpat-developer' } });
});
afterAll(() => stack?.close());

async function buildIdOf(scope: string): Promise<{ id: string; upstreamId: string; name: string }> {
  const result = await stack.graphql(
    `query($scope: [BuildStatus!]) { project(upstream: "gitlab", id: "1") { builds(scope: $scope, first: 1) { nodes { id upstreamId name } } } }`,
    { scope: [scope] },
  );
  const node = result.data!.project.builds.nodes[0];
  expect(node, `a ${scope} build in the simulator`).toBeDefined();
  return node;
}

const PAYLOAD = '{ build { id upstreamId name stage status retryable cancelable playable erasedAt artifacts { fileType } trace { content size } } }';

describe('mutations', () => {
  it('retryBuild creates a new pending build with the same name and stage', async () => {
    const failed = await buildIdOf('FAILED');
    await stack.resetStats();
    const result = await stack.graphql(`mutation($id: ID!) { retryBuild(id: $id) ${PAYLOAD} }`, { id: failed.id });
    expect(result.errors).toBeUndefined();
    const build = result.data!.retryBuild.build;
    expect(build.upstreamId).not.toBe(failed.upstreamId);
    expect(build).toMatchObject({ name: failed.name, status: 'PENDING', cancelable: true, retryable: false });
    const { body: rest } = await stack.rest(`/projects/1/jobs/${build.upstreamId}`);
    expect(rest).toMatchObject({ id: Number(build.upstreamId), status: 'pending', name: failed.name });
    expect((await stack.stats()).routes['POST /api/v4/projects/:id/jobs/:job_id/retry']).toBe(1);
  });

  it('cancelBuild moves a running build to CANCELED', async () => {
    const running = await buildIdOf('RUNNING');
    const result = await stack.graphql(`mutation($id: ID!) { cancelBuild(id: $id) ${PAYLOAD} }`, { id: running.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.cancelBuild.build).toMatchObject({ upstreamId: running.upstreamId, status: 'CANCELED', cancelable: false, retryable: true });
    const { body: rest } = await stack.rest(`/projects/1/jobs/${running.upstreamId}`);
    expect(rest.status).toBe('canceled');
  });

  it('cancelBuild refuses a finished build with a coded error', async () => {
    const done = await buildIdOf('SUCCESS');
    const result = await stack.graphql(`mutation($id: ID!) { cancelBuild(id: $id) { build { status } } }`, { id: done.id });
    expect(result.data!.cancelBuild).toBeNull();
    expect(result.errors![0]!.extensions).toMatchObject({ upstream: 'gitlab' });
    expect(['FORBIDDEN', 'BAD_USER_INPUT']).toContain(result.errors![0]!.extensions!.code);
    const { body: rest } = await stack.rest(`/projects/1/jobs/${done.upstreamId}`);
    expect(rest.status).toBe('success');
  });

  it('playBuild starts a manual build', async () => {
    const manual = await buildIdOf('MANUAL');
    const result = await stack.graphql(`mutation($id: ID!) { playBuild(id: $id) ${PAYLOAD} }`, { id: manual.id });
    expect(result.errors).toBeUndefined();
    const build = result.data!.playBuild.build;
    expect(build.upstreamId).toBe(manual.upstreamId);
    expect(['PENDING', 'RUNNING']).toContain(build.status);
    expect(build.playable).toBe(false);
  });

  it('eraseBuild removes the log and artifacts and sets erasedAt', async () => {
    const done = await buildIdOf('SUCCESS');
    const before = await stack.graphql(`query($id: ID!) { build(id: $id) { trace { size } } }`, { id: done.id });
    expect(before.data!.build.trace.size).toBeGreaterThan(0);
    const result = await stack.graphql(`mutation($id: ID!) { eraseBuild(id: $id) ${PAYLOAD} }`, { id: done.id });
    expect(result.errors).toBeUndefined();
    const build = result.data!.eraseBuild.build;
    expect(build.erasedAt).toEqual(expect.any(String));
    expect(build.artifacts).toEqual([]);
    expect(build.trace).toEqual({ content: '', size: 0 });
    const { body: log } = await stack.rest(`/projects/1/jobs/${done.upstreamId}/trace`);
    expect(log).toBe('');
  });

  it('answers RetryOptions on GitLab with UNSUPPORTED_BY_UPSTREAM and makes no request', async () => {
    const failed = await buildIdOf('FAILED');
    await stack.resetStats();
    const result = await stack.graphql(`mutation($id: ID!) { retryBuild(id: $id, options: { taskId: "t-1" }) { build { id } } }`, { id: failed.id });
    expect(codes(result)).toEqual(['UNSUPPORTED_BY_UPSTREAM']);
    expect((await stack.stats()).total).toBe(0);
  });

  it('a build read in the same operation after a mutation is the mutated one', async () => {
    const running = await buildIdOf('RUNNING');
    const result = await stack.graphql(
      `mutation($id: ID!) { cancelBuild(id: $id) { build { status } } }`,
      { id: running.id },
    );
    expect(result.data!.cancelBuild.build.status).toBe('CANCELED');
    const after = await stack.graphql(`query($id: ID!) { build(id: $id) { status } }`, { id: running.id });
    expect(after.data!.build.status).toBe('CANCELED');
  });
});
