/**
 * Credentials are never mixed: concurrent callers with different tokens, on the same private build,
 * through every shared part of the gateway (loaders, the finished-build cache, the trace hub), each get
 * exactly what their own token may see.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers/stack.js';
import { subscriptionClient } from './helpers/subscribe.js';

let stack: Stack;
let privateBuild: { id: string; upstreamId: string };
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    gateway: { cache: { enabled: true }, trace: { pollIntervalMs: 30 } } as never,
  });
  const list = await stack.graphql('{ project(upstream: "gitlab", id: "2") { builds(scope: [SUCCESS], first: 1) { nodes { id upstreamId } } } }', undefined, { 'PRIVATE-TOKEN': 'glpat-reporter' });
  privateBuild = list.data!.project.builds.nodes[0];
});
afterAll(() => stack?.close());

const QUERY = 'query($id: ID!) { build(id: $id) { name trace { content } } node(id: $id) { id } }';

describe('credential isolation', () => {
  it('answers interleaved requests of an allowed and a refused token each by its own rights', async () => {
    const tokens = ['glpat-reporter', 'glpat-outsider', 'glpat-developer', undefined, 'glpat-nope'];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const token = tokens[i % tokens.length];
        return stack.graphql(QUERY, { id: privateBuild.id }, token ? { 'PRIVATE-TOKEN': token } : {}).then((result) => ({ token, result }));
      }),
    );
    for (const { token, result } of results) {
      if (token === 'glpat-reporter' || token === 'glpat-developer') {
        expect(result.errors).toBeUndefined();
        expect(result.data!.build.trace.content.length).toBeGreaterThan(0);
      } else {
        expect(result.data!.build).toBeNull();
        expect(result.data!.node).toBeNull();
        expect(JSON.stringify(result)).not.toMatch(/Job succeeded|section_/);
        expect(result.errors![0]!.extensions!.code).toBe(token === 'glpat-outsider' ? 'NOT_FOUND' : 'UNAUTHENTICATED');
      }
    }
  });

  it('never lets a refused subscriber share the bytes an allowed one is receiving', async () => {
    const allowed = subscriptionClient('ws', stack.gateway.url, { 'PRIVATE-TOKEN': 'glpat-reporter' });
    const refused = subscriptionClient('sse', stack.gateway.url, { 'PRIVATE-TOKEN': 'glpat-outsider' });
    const good = allowed.subscribe<{ content: string }>('subscription($id: ID!) { buildTrace(id: $id) { content complete } }', { id: privateBuild.id });
    const bad = refused.subscribe<{ content: string }>('subscription($id: ID!) { buildTrace(id: $id) { content complete } }', { id: privateBuild.id });
    const [goodEnd, badEnd] = await Promise.all([good.done, bad.done]);
    await Promise.all([allowed.dispose(), refused.dispose()]);
    expect(goodEnd.errors).toBeUndefined();
    expect(good.values.map((chunk) => chunk.content).join('').length).toBeGreaterThan(0);
    expect(bad.values).toEqual([]);
    expect(badEnd.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
