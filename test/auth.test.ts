/**
 * Credentials: the client's own PRIVATE-TOKEN or Bearer token is what the upstream sees, and the
 * upstream's answer decides what the client may see and do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
// No service token: every request carries only what the client sent.
beforeAll(async () => {
  stack = await startStack({ simulator: { tickMs: 3_600_000 } });
});
afterAll(() => stack?.close());

const PRIVATE_PROJECT = '{ project(upstream: "gitlab", id: "2") { name path builds(first: 3) { nodes { upstreamId } } } }';

describe('auth forwarding', () => {
  it('hides the private project from an anonymous caller (UNAUTHENTICATED)', async () => {
    const result = await stack.graphql(PRIVATE_PROJECT);
    expect(result.data!.project).toBeNull();
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', upstream: 'gitlab', status: 401 });
  });

  it('hides the private project from a token without access (NOT_FOUND), by path too', async () => {
    for (const id of ['2', 'acme/private']) {
      const result = await stack.graphql(`{ project(upstream: "gitlab", id: "${id}") { name builds { nodes { id } } } }`, undefined, {
        'PRIVATE-TOKEN': 'glpat-outsider',
      });
      expect(result.data!.project).toBeNull();
      expect(codes(result)[0]).toBe('NOT_FOUND');
    }
  });

  it('shows the private project to a reporter, with PRIVATE-TOKEN or Authorization: Bearer', async () => {
    for (const headers of [{ 'PRIVATE-TOKEN': 'glpat-reporter' }, { Authorization: 'Bearer glpat-reporter' }] as Array<Record<string, string>>) {
      const result = await stack.graphql(PRIVATE_PROJECT, undefined, headers);
      expect(result.errors).toBeUndefined();
      expect(result.data!.project.path).toBe('acme/private');
      expect(result.data!.project.builds.nodes.length).toBe(3);
    }
  });

  it('lets a reporter read but not cancel (FORBIDDEN), and leaves the build as it was', async () => {
    const list = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 1) { nodes { id upstreamId } } } }', undefined, {
      'PRIVATE-TOKEN': 'glpat-reporter',
    });
    const build = list.data!.project.builds.nodes[0];
    const result = await stack.graphql('mutation($id: ID!) { cancelBuild(id: $id) { build { status } } }', { id: build.id }, {
      'PRIVATE-TOKEN': 'glpat-reporter',
    });
    expect(result.data!.cancelBuild).toBeNull();
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', upstream: 'gitlab', status: 403 });
    const { body } = await stack.rest(`/projects/1/jobs/${build.upstreamId}`);
    expect(body.status).toBe('running');
  });

  it('answers an invalid token with UNAUTHENTICATED and never echoes it', async () => {
    const secret = 'glpat-not-a-real-token-123';
    const result = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 1) { nodes { id } } } }', undefined, {
      'PRIVATE-TOKEN': secret,
    });
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
    expect(JSON.stringify(result)).not.toContain(secret);
  });

  it('a mutation without any credential is UNAUTHENTICATED', async () => {
    const list = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(scope: [FAILED], first: 1) { nodes { id } } } }');
    const result = await stack.graphql('mutation($id: ID!) { retryBuild(id: $id) { build { id } } }', { id: list.data!.project.builds.nodes[0].id });
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
  });
});
