/**
 * The optional cache of finished builds: it saves upstream requests across requests, never for a
 * running build, never across credentials, and forgets a build a mutation changed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { codes, type Stack, startStack } from './helpers/stack.js';

const ACCESS_RECHECK_MS = 500;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ simulator: { tickMs: 3_600_000 }, gateway: { cache: { enabled: true, ttlMs: 60_000, accessRecheckMs: ACCESS_RECHECK_MS } } as never });
});
afterAll(() => stack?.close());
beforeEach(() => stack.resetStats());

const JOB = 'GET /api/v4/projects/:id/jobs/:job_id';
const TRACE = 'GET /api/v4/projects/:id/jobs/:job_id/trace';
const read = (id: string, token?: string, project = '1') =>
  stack.graphql(`{ project(upstream: "gitlab", id: "${project}") { build(id: "${id}") { id status erasedAt trace { size content } } } }`, undefined, token ? { 'PRIVATE-TOKEN': token } : {});

describe('finished-build cache', () => {
  it('serves a finished build and its log again without an upstream request', async () => {
    const first = await read('8', 'glpat-developer');
    const second = await read('8', 'glpat-developer');
    expect(second).toEqual(first);
    const stats = await stack.stats();
    expect(stats.routes[JOB]).toBe(1);
    expect(stats.routes[TRACE]).toBe(1);
  });

  it('never shares an entry between credentials', async () => {
    await read('6', 'glpat-developer');
    await read('6', 'glpat-reporter');
    await read('6');
    expect((await stack.stats()).routes[JOB]).toBe(3);
  });

  it('never serves a private build to a credential the upstream refuses', async () => {
    const list = await stack.graphql('{ project(upstream: "gitlab", id: "2") { builds(scope: [SUCCESS], first: 1) { nodes { upstreamId } } } }', undefined, { 'PRIVATE-TOKEN': 'glpat-reporter' });
    const id = list.data!.project.builds.nodes[0].upstreamId;
    const allowed = await read(id, 'glpat-reporter', '2');
    expect(allowed.errors).toBeUndefined();
    const outsider = await read(id, 'glpat-outsider', '2');
    expect(codes(outsider)).toEqual(['NOT_FOUND']);
    const anonymous = await read(id, undefined, '2');
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
  });

  it('does not keep a running build', async () => {
    const list = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 1) { nodes { upstreamId } } } }');
    const id = list.data!.project.builds.nodes[0].upstreamId;
    await stack.resetStats();
    await read(id);
    await read(id);
    expect((await stack.stats()).routes[JOB]).toBe(2);
  });

  it('forgets a build that a mutation changed', async () => {
    const before = await read('100', 'glpat-developer');
    expect(before.data!.project.build.status).toMatch(/SUCCESS|FAILED|CANCELED|SKIPPED/);
    const erased = await stack.graphql('mutation($id: ID!) { eraseBuild(id: $id) { build { erasedAt } } }', { id: before.data!.project.build.id }, { 'PRIVATE-TOKEN': 'glpat-developer' });
    expect(erased.errors).toBeUndefined();
    const after = await read('100', 'glpat-developer');
    expect(after.data!.project.build.erasedAt).toEqual(expect.any(String));
    expect(after.data!.project.build.trace).toEqual({ size: 0, content: '' });
  });

  it('stops serving a revoked credential once its access is due a recheck', async () => {
    const token = `glpat-cache-revoke-${Date.now()}`;
    const made = await fetch(`${stack.simulator.url}/__sim/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, like: 'glpat-developer' }),
    });
    expect(made.status).toBe(201);
    const list = await stack.graphql('{ project(upstream: "gitlab", id: "2") { builds(scope: [SUCCESS], first: 1) { nodes { upstreamId } } } }', undefined, { 'PRIVATE-TOKEN': token });
    const id = list.data!.project.builds.nodes[0].upstreamId;
    await stack.resetStats();
    const first = await read(id, token, '2');
    expect(first.errors).toBeUndefined();
    // Within the recheck period the cache answers: no upstream request.
    const cached = await read(id, token, '2');
    expect(cached).toEqual(first);
    expect((await stack.stats()).routes[JOB]).toBe(1);
    await fetch(`${stack.simulator.url}/__sim/tokens/${token}`, { method: 'DELETE' });
    const checkedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, ACCESS_RECHECK_MS + 100));
    expect(Date.now() - checkedAt).toBeGreaterThan(ACCESS_RECHECK_MS);
    await stack.resetStats();
    const revoked = await read(id, token, '2');
    expect(revoked.data?.project?.build ?? null).toBeNull();
    expect(['UNAUTHENTICATED', 'NOT_FOUND']).toContain(codes(revoked)[0]);
    // The recheck is one cheap build read; the cached log is not served and not re-read.
    const stats = await stack.stats();
    expect(stats.routes[JOB]).toBe(1);
    expect(stats.routes[TRACE] ?? 0).toBe(0);
  });

  it('keeps serving a credential whose access the recheck confirms', async () => {
    await read('9', 'glpat-developer');
    await new Promise((resolve) => setTimeout(resolve, ACCESS_RECHECK_MS + 100));
    await stack.resetStats();
    const again = await read('9', 'glpat-developer');
    expect(again.errors).toBeUndefined();
    const stats = await stack.stats();
    // The build is read again (the recheck); its log comes from memory.
    expect(stats.routes[JOB]).toBe(1);
    expect(stats.routes[TRACE] ?? 0).toBe(0);
  });
});
