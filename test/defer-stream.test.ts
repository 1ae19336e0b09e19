/**
 * Issue #15 (5): `@defer` and `@stream`. A slow field no longer holds up the answer: the first part
 * comes as soon as the rest is ready, the deferred one when it is, over multipart/mixed (read by
 * @graphql-tools/executor-http, a real incremental-delivery client) and over SSE (graphql-sse). The
 * limits, the cost and the upstream budget see deferred fragments as part of the operation, and
 * subscriptions still work beside it.
 */
import { buildHTTPExecutor } from '@graphql-tools/executor-http';
import { type ExecutionResult, parse } from 'graphql';
import { createClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalId } from '../src/relay.js';
import { codes, type Stack, startStack } from './helpers/stack.js';
import { subscriptionClient } from './helpers/subscribe.js';

let stack: Stack;
beforeAll(async () => {
  // The clock parked: build 7 stays as it is; budget and cost low enough to be reached on purpose.
  stack = await startStack({ simulator: { tickMs: 3_600_000 }, gateway: { limits: { maxCost: 2000, maxUpstreamCalls: 3 } } });
});
afterAll(() => stack?.close());
afterEach(() => fetch(`${stack.simulator.url}/__sim/faults`, { method: 'DELETE' }));

const BUILD_7 = encodeGlobalId('Build', 'gitlab', '1', '7');
const TRACE_ROUTE = 'GET /api/v4/projects/:id/jobs/:job_id/trace';
const DEFERRED_TRACE = `query Deferred($id: ID!) {
  build(id: $id) {
    name
    status
    ... @defer(label: "log") { trace(limit: 65536) { content complete } }
  }
}`;

async function fault(rule: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${stack.simulator.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  expect(response.status).toBe(201);
}

/** Each result the client yields, with the ms since the request when it arrived. */
async function collect(results: AsyncIterable<ExecutionResult> | ExecutionResult, started: number): Promise<Array<{ at: number; result: ExecutionResult<Record<string, any>> }>> {
  if (!(Symbol.asyncIterator in results)) return [{ at: performance.now() - started, result: results as ExecutionResult<Record<string, any>> }];
  const seen: Array<{ at: number; result: ExecutionResult<Record<string, any>> }> = [];
  for await (const result of results) seen.push({ at: performance.now() - started, result: structuredClone(result) as ExecutionResult<Record<string, any>> });
  return seen;
}

describe('@defer over multipart/mixed', () => {
  it('sends the build, then its log as an incremental part, which the client merges', async () => {
    const executor = buildHTTPExecutor({ endpoint: stack.gateway.url });
    const parts = await collect(await executor({ document: parse(DEFERRED_TRACE), variables: { id: BUILD_7 } }), performance.now());
    expect(parts.length).toBeGreaterThanOrEqual(2);
    const [first, last] = [parts[0]!.result, parts.at(-1)!.result];
    expect(first.errors).toBeUndefined();
    expect(first.data).toEqual({ build: { name: 'teaspoon', status: expect.any(String) } });
    const { body: log } = await stack.rest('/projects/1/jobs/7/trace');
    expect(last.errors).toBeUndefined();
    expect(last.data).toEqual({ build: { name: 'teaspoon', status: first.data!.build.status, trace: { content: log, complete: true } } });
  });

  it('does not hold the first part for the slow log: multipart/mixed parts as the server writes them', async () => {
    // The log takes 700 ms longer than the rest.
    await fault({ route: TRACE_ROUTE, mode: 'latency', ms: 700 });
    const started = performance.now();
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed' },
      body: JSON.stringify({ query: DEFERRED_TRACE, variables: { id: BUILD_7 } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^multipart\/mixed/);
    // Read off the socket chunk by chunk: when did the first part and the last one arrive?
    let body = '';
    let firstAt: number | undefined;
    const decoder = new TextDecoder();
    const reader = response.body!.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      body += decoder.decode(read.value, { stream: true });
      if (firstAt === undefined && body.includes('"hasNext":true')) firstAt = performance.now() - started;
    }
    const lastAt = performance.now() - started;
    expect(body).toMatch(/\{"data":\{"build":\{"name":"teaspoon","status":"[A-Z_]+"\}\},"hasNext":true\}/);
    expect(body).toMatch(/"incremental":\[\{"data":\{"trace":/);
    expect(body).toContain('"label":"log"');
    expect(body).toContain('"hasNext":false');
    expect(firstAt).toBeDefined();
    expect(lastAt - firstAt!).toBeGreaterThan(500);
    console.info(`@defer: first part after ${firstAt!.toFixed(0)} ms, the deferred log after ${lastAt.toFixed(0)} ms`);
  });
});

describe('@defer to a client that reads only JSON', () => {
  it('is answered 406 NOT_ACCEPTABLE, with a code', async () => {
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query: DEFERRED_TRACE, variables: { id: BUILD_7 } }),
    });
    expect(response.status).toBe(406);
    expect(codes((await response.json()) as never)).toEqual(['NOT_ACCEPTABLE']);
  });
});

describe('@defer over SSE', () => {
  it('streams the first part and then the deferred one as graphql-sse events', async () => {
    const client = createClient({ url: stack.gateway.url, retryAttempts: 0 });
    try {
      const events: Array<Record<string, any>> = [];
      for await (const event of client.iterate({ query: DEFERRED_TRACE, variables: { id: BUILD_7 } })) events.push(event as never);
      expect(events.length).toBeGreaterThanOrEqual(2);
      expect(events[0]).toMatchObject({ data: { build: { name: 'teaspoon' } }, hasNext: true });
      expect(events[0]!.data.build.trace).toBeUndefined();
      const incremental = events.slice(1).flatMap((event) => event.incremental ?? []);
      expect(incremental).toEqual([expect.objectContaining({ label: 'log', path: ['build'], data: { trace: expect.objectContaining({ complete: true }) } })]);
      expect(events.at(-1)!.hasNext).toBe(false);
    } finally {
      client.dispose();
    }
  });
});

describe('@defer over graphql-ws', () => {
  it('sends each part as a next message', async () => {
    const client = createWsClient({ url: stack.gateway.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const messages: Array<Record<string, any>> = [];
      for await (const message of client.iterate({ query: DEFERRED_TRACE, variables: { id: BUILD_7 } })) messages.push(message as never);
      expect(messages[0]).toMatchObject({ data: { build: { name: 'teaspoon' } }, hasNext: true });
      expect(messages.slice(1).flatMap((message) => message.incremental ?? [])).toEqual([expect.objectContaining({ label: 'log', data: { trace: expect.objectContaining({ complete: true }) } })]);
      expect(messages.at(-1)!.hasNext).toBe(false);
    } finally {
      await client.dispose();
    }
  });
});

describe('@stream', () => {
  it('streams a list item by item from one upstream request', async () => {
    const { body: jobs } = await stack.rest('/projects/1/jobs?per_page=5');
    await stack.resetStats();
    const executor = buildHTTPExecutor({ endpoint: stack.gateway.url });
    const query = '{ project(upstream: "gitlab", id: "1") { builds(first: 5) { nodes @stream(initialCount: 1) { upstreamId name } } } }';
    const parts = await collect(await executor({ document: parse(query) }), performance.now());
    expect(parts.length).toBeGreaterThan(1);
    expect(parts[0]!.result.data!.project.builds.nodes).toHaveLength(1);
    const nodes = parts.at(-1)!.result.data!.project.builds.nodes as Array<{ upstreamId: string }>;
    expect(nodes.map((node) => node.upstreamId)).toEqual((jobs as Array<{ id: number }>).map((job) => String(job.id)));
    expect((await stack.stats()).total).toBe(1);
  });
});

describe('deferred fragments are part of the operation', () => {
  it('are priced by the cost limit: over it, nothing runs and nothing is asked upstream', async () => {
    await stack.resetStats();
    // 100 builds × (a pipeline with 100 builds): far over maxCost 2000, all of it inside @defer.
    const query = `query($id: ID!) { build(id: $id) { name ... @defer { pipeline { builds(first: 100) { nodes { pipeline { builds(first: 100) { nodes { name } } } } } } } } }`;
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed, application/graphql-response+json' },
      body: JSON.stringify({ query, variables: { id: BUILD_7 } }),
    });
    const body = (await response.json()) as { errors?: Array<{ extensions?: Record<string, any> }> };
    expect(codes(body as never)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(body.errors![0]!.extensions).toMatchObject({ limit: 'maxCost', max: 2000 });
    expect((await stack.stats()).total).toBe(0);
  });

  it('share the upstream budget of the operation: a deferred part past it gets UPSTREAM_BUDGET_EXCEEDED', async () => {
    await stack.resetStats();
    const executor = buildHTTPExecutor({ endpoint: stack.gateway.url });
    // The build (1 request), then three deferred reads of other things: 4 > maxUpstreamCalls 3.
    const query = `query($id: ID!) {
      build(id: $id) { name }
      a: project(upstream: "gitlab", id: "1") { ... @defer { b1: builds(first: 1, scope: [SUCCESS]) { nodes { name } } } }
      b: project(upstream: "gitlab", id: "1") { ... @defer { b2: builds(first: 1, scope: [FAILED]) { nodes { name } } } }
      c: project(upstream: "gitlab", id: "1") { ... @defer { b3: builds(first: 1, scope: [CANCELED]) { nodes { name } } } }
    }`;
    const parts = await collect(await executor({ document: parse(query), variables: { id: BUILD_7 } }), performance.now());
    const errors = parts.flatMap((part) => part.result.errors ?? []);
    expect(parts[0]!.result.data!.build).toEqual({ name: 'teaspoon' });
    expect(errors.map((error) => error.extensions?.code)).toContain('UPSTREAM_BUDGET_EXCEEDED');
    expect((await stack.stats()).total).toBeLessThanOrEqual(3);
  });
});

describe('beside subscriptions', () => {
  it('a trace subscription still streams over SSE and WebSocket', async () => {
    for (const transport of ['sse', 'ws'] as const) {
      const client = subscriptionClient(transport, stack.gateway.url);
      try {
        const sub = client.subscribe<{ complete: boolean }>('subscription($id: ID!) { buildTrace(id: $id) { complete } }', { id: BUILD_7 });
        expect(await sub.done, transport).toEqual({});
        expect(sub.values.at(-1), transport).toEqual({ complete: true });
      } finally {
        await client.dispose();
      }
    }
  });

  it('refuses @defer on a subscription root field, with a code', async () => {
    const result = await stack.graphql('subscription($id: ID!) { ... @defer { buildTrace(id: $id) { complete } } }', { id: BUILD_7 });
    expect(codes(result)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });
});
