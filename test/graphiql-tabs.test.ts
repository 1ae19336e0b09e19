/**
 * Issue #15 (7): GraphiQL's example tabs, in the embedded setup `npm start` makes (the simulator's
 * `startEmbedded`, as main.ts loads it). Every tab is a document the gateway's schema accepts, and
 * every query tab runs without an error. The Tail tab subscribes to a build that is running at
 * start-up, so it streams live.
 */
import { type Simulator, startEmbedded } from '@buildgate/simulator';
import { type GraphQLSchema, buildClientSchema, getIntrospectionQuery, parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayConfig, parseConfig } from '../src/config.js';
import { exampleTabs } from '../src/graphiql.js';
import { startGateway } from '../src/server.js';
import { type Stack, stackOf } from './helpers/stack.js';
import { subscriptionClient, until } from './helpers/subscribe.js';

let embedded: { simulator: Simulator; close(): Promise<void> };
let config: GatewayConfig;
let stack: Stack;
let schema: GraphQLSchema;

beforeAll(async () => {
  const started = await startEmbedded();
  embedded = started;
  config = parseConfig({ port: 0, host: '127.0.0.1', logLevel: 'silent', upstreams: started.upstreams });
  stack = stackOf(started.simulator, await startGateway(config));
  const introspection = await stack.graphql(getIntrospectionQuery());
  expect(introspection.errors).toBeUndefined();
  schema = buildClientSchema(introspection.data as never);
});
afterAll(async () => {
  await stack?.gateway.close();
  await embedded?.close();
});

const tabNamed = (name: string) => exampleTabs(config).find((tab) => new RegExp(`^(query|mutation|subscription) ${name}\\b`, 'm').test(tab.query));

describe('GraphiQL example tabs', () => {
  it('has tabs for the feed, a failure with its log deferred, a log search, a retry and the tail', () => {
    for (const name of ['RecentBuilds', 'Feed', 'WhyFailed', 'LogSearch', 'Retry', 'Tail']) expect(tabNamed(name), name).toBeDefined();
    expect(tabNamed('Feed')!.query).toMatch(/builds\(sources: \[\s*\{ upstream: "gitlab", project: "1" \}\s*\{ upstream: "gitlab-v3", project: "1" \}\s*\{ upstream: "bkci", project: "demo" \}\s*\]/);
    expect(tabNamed('WhyFailed')!.query).toMatch(/failure \{ line lineNumber offset section \}/);
    expect(tabNamed('WhyFailed')!.query).toMatch(/\.\.\. @defer/);
    expect(tabNamed('LogSearch')!.query).toMatch(/logSearch\(pattern: "error"[^)]*\) \{\s*matches \{ lineNumber offset line \}\s*scannedBytes\s*truncated/);
  });

  it("every tab validates against the gateway's schema", () => {
    for (const tab of exampleTabs(config)) expect(validate(schema, parse(tab.query)).map((error) => error.message), tab.query).toEqual([]);
  });

  it('runs the query tabs without errors', async () => {
    for (const tab of exampleTabs(config)) {
      if (!/^query /m.test(tab.query) || /@defer/.test(tab.query)) continue;
      const result = await stack.graphql(tab.query, tab.variables ? JSON.parse(tab.variables) : undefined);
      expect(result.errors, tab.query).toBeUndefined();
    }
  });

  it('the rendered page carries the tabs', async () => {
    const page = await (await fetch(stack.gateway.url, { headers: { accept: 'text/html' } })).text();
    for (const name of ['query Feed', 'query WhyFailed', 'query LogSearch', 'subscription Tail']) expect(page).toContain(name);
  });

  it('the Tail tab names a build running at start-up, and its subscription streams live', async () => {
    const tail = tabNamed('Tail')!;
    const { id } = JSON.parse(tail.variables!) as { id: string };
    const build = await stack.graphql('query($id: ID!) { build(id: $id) { name status } }', { id });
    expect(build.data).toEqual({ build: { name: 'demo:live-log', status: 'RUNNING' } });
    // Faster ticks, so the log grows within the test; it still runs for hours.
    await fetch(`${embedded.simulator.url}/__sim/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tickMs: 50 }) });
    const client = subscriptionClient('sse', stack.gateway.url);
    try {
      const sub = client.subscribe<{ nextOffset: number; complete: boolean; lines: string[] }>(tail.query, { id });
      await until(() => sub.values.length >= 3, 15_000, 'three pieces of the live log');
      sub.stop();
      const offsets = sub.values.map((value) => value.nextOffset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      expect(new Set(offsets).size).toBe(offsets.length);
      expect(sub.values.some((value) => value.complete)).toBe(false);
      expect(sub.values.flatMap((value) => value.lines).join('\n')).toMatch(/Running with gitlab-runner/);
    } finally {
      await client.dispose();
    }
  });
});
