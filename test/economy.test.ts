/**
 * What a query costs the upstream, counted by the simulator's /__sim/stats.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ simulator: { tickMs: 3_600_000 } });
});
afterAll(() => stack?.close());
beforeEach(() => stack.resetStats());

describe('upstream economy', () => {
  it('answers 20 builds with commit, pipeline { id status } and user { username } with exactly one upstream request', async () => {
    const result = await stack.graphql(`{
      project(upstream: "gitlab", id: "1") {
        builds(first: 20) {
          nodes { id name status commit { sha title message } pipeline { id status } user { username name } runner { name } }
        }
      }
    }`);
    expect(result.errors).toBeUndefined();
    expect(result.data!.project.builds.nodes).toHaveLength(20);
    expect(await stack.stats()).toEqual({ total: 1, routes: { 'GET /api/v4/projects/:id/jobs': 1 } });
  });

  it('loads a field the list does not embed once per distinct pipeline, not once per build', async () => {
    const result = await stack.graphql(`{
      project(upstream: "gitlab", id: "1") { builds(first: 40) { nodes { pipeline { upstreamId duration user { username } } } } }
    }`);
    expect(result.errors).toBeUndefined();
    const pipelines = new Set(result.data!.project.builds.nodes.map((n: any) => n.pipeline.upstreamId));
    expect(pipelines.size).toBeGreaterThan(1);
    const stats = await stack.stats();
    expect(stats.routes['GET /api/v4/projects/:id/jobs']).toBe(1);
    expect(stats.routes['GET /api/v4/projects/:id/pipelines/:pipeline_id']).toBe(pipelines.size);
    expect(stats.total).toBe(1 + pipelines.size);
  });

  it('fetches the same build asked for twice (aliases, node, fragments) once', async () => {
    const list = await stack.graphql('{ project(upstream: "gitlab", id: "1") { build(id: "8") { id } } }');
    const id = list.data!.project.build.id;
    await stack.resetStats();
    const result = await stack.graphql(
      `query($id: ID!) {
        a: build(id: $id) { name }
        b: build(id: $id) { ...F }
        c: node(id: $id) { ... on Build { status } }
        project(upstream: "gitlab", id: "1") { build(id: "8") { name } }
      }
      fragment F on Build { stage }`,
      { id },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.a.name).toBe('rubocop');
    expect(await stack.stats()).toEqual({ total: 1, routes: { 'GET /api/v4/projects/:id/jobs/:job_id': 1 } });
  });

  it('costs nothing for builds a list already returned in the same operation', async () => {
    const result = await stack.graphql(`{
      project(upstream: "gitlab", id: "1") {
        builds(first: 20) { nodes { upstreamId } }
        build(id: "8") { name }
      }
    }`);
    expect(result.errors).toBeUndefined();
    const inList = result.data!.project.builds.nodes.some((n: any) => n.upstreamId === '8');
    expect((await stack.stats()).total).toBe(inList ? 1 : 2);
  });

  it('asks for the project itself only when a field needs it', async () => {
    await stack.graphql('{ project(upstream: "gitlab", id: "1") { id upstreamId builds(first: 1) { nodes { id } } } }');
    expect((await stack.stats()).routes['GET /api/v4/projects/:id']).toBeUndefined();
    await stack.graphql('{ project(upstream: "gitlab", id: "1") { name path webUrl defaultBranch } }');
    expect((await stack.stats()).routes['GET /api/v4/projects/:id']).toBe(1);
  });
});
