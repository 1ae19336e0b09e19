/**
 * Every error has `extensions.code`, and no answer carries a stack trace or a file path (issue #12),
 * with `production: false` outside NODE_ENV=development: variable coercion
 * errors over POST, GET and SSE are BAD_USER_INPUT, and a corpus of malformed requests across the HTTP
 * surface gets coded GraphQL errors (or, off the GraphQL endpoints, bare statuses), never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers/stack.js';
import { subscriptionClient } from './helpers/subscribe.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ simulator: { tickMs: 3_600_000 }, upstream: { token: 'glpat-developer' }, gateway: { production: false } });
});
afterAll(() => stack?.close());

const JSON_TYPE = { 'content-type': 'application/json' };
const CSRF = { 'x-graphql-yoga-csrf': '1' };
const STACK_OR_PATH = /\bat \/|\bat file:|\.ts:\d|\.js:\d|\.mjs:\d|node_modules|\/work\//;

const BUILD = 'query($id: ID!) { build(id: $id) { id } }';
const TRACE = 'query($offset: Int) { build(id: "eyJ1IjoiZ2l0bGFiIn0") { trace(offset: $offset) { content } } }';
const RETRY = 'mutation($options: RetryOptions) { retryBuild(id: "x", options: $options) { build { id } } }';

/** [name, variables or raw document, expected code]: variables that do not fit their declared types. */
const VARIABLE_CASES: Array<[string, string, Record<string, unknown> | undefined]> = [
  ['null for ID!', BUILD, { id: null }],
  ['a missing variable', BUILD, undefined],
  ['an object for ID!', BUILD, { id: { a: 1 } }],
  ['an Int overflow', TRACE, { offset: 2 ** 40 }],
  ['a string for Int', TRACE, { offset: 'ten' }],
  ['a float for Int', TRACE, { offset: 1.5 }],
  ['an unknown input field', RETRY, { options: { nope: true } }],
  ['an unknown variable type', 'query($id: NoSuchType!) { build(id: "x") { id } }', { id: 'x' }],
  ['an output type as variable type', 'query($id: Build) { upstreams { name } }', { id: 'x' }],
];

describe('variable coercion errors', () => {
  for (const [name, query, variables] of VARIABLE_CASES) {
    it(`${name} is BAD_USER_INPUT over POST and GET, with no upstream request`, async () => {
      await stack.resetStats();
      const post = await stack.graphql(query, variables);
      expect(post.data ?? undefined).toBeUndefined();
      expect(post.errors!.map((e) => e.extensions?.code)).toContain('BAD_USER_INPUT');
      for (const error of post.errors!) expect(error.extensions?.code, error.message).toMatch(/^(BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED)$/);
      const search = new URLSearchParams({ query, ...(variables && { variables: JSON.stringify(variables) }) });
      const get = (await (await fetch(`${stack.gateway.url}?${search}`, { headers: { ...CSRF, accept: 'application/graphql-response+json' } })).json()) as typeof post;
      if (!query.startsWith('mutation')) expect(get.errors!.map((e) => e.extensions?.code)).toContain('BAD_USER_INPUT');
      expect((await stack.stats()).total).toBe(0);
    });
  }

  it('is BAD_USER_INPUT for a subscription over SSE too', async () => {
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { ...JSON_TYPE, accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription($id: ID!) { buildStatus(id: $id) { status } }', variables: { id: null } }),
    });
    const text = await response.text();
    const events = text.split('\n').filter((line) => line.startsWith('data: {')).map((line) => JSON.parse(line.slice(6)));
    expect(events.flatMap((event) => event.errors ?? []).map((e: any) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('variable coercion errors over WebSocket', () => {
  it('are BAD_USER_INPUT for queries and subscriptions', async () => {
    const client = subscriptionClient('ws', stack.gateway.url);
    for (const query of [BUILD, 'subscription($id: ID!) { buildStatus(id: $id) { status } }']) {
      const { errors } = await client.subscribe(query, { id: null }).done;
      expect(errors?.map((e) => e.extensions?.code), query).toEqual(['BAD_USER_INPUT']);
    }
    await client.dispose();
  });
});

type Case = [name: string, path: string, init: RequestInit];
const q = (query: string) => encodeURIComponent(query);

/** Malformed requests across the HTTP surface (GET /graphql/stream is covered in its own suite). */
const CORPUS: Case[] = [
  ['truncated JSON', '/graphql', { method: 'POST', headers: JSON_TYPE, body: '{"query":' }],
  ['an empty JSON body', '/graphql', { method: 'POST', headers: JSON_TYPE, body: '' }],
  ['JSON with a BOM and garbage', '/graphql', { method: 'POST', headers: JSON_TYPE, body: '\ufeff{]' }],
  ['a JSON array (batching off)', '/graphql', { method: 'POST', headers: JSON_TYPE, body: '[{"query":"{ upstreams { name } }"}]' }],
  ['a JSON number', '/graphql', { method: 'POST', headers: JSON_TYPE, body: '42' }],
  ['a JSON null', '/graphql', { method: 'POST', headers: JSON_TYPE, body: 'null' }],
  ['a number as query', '/graphql', { method: 'POST', headers: JSON_TYPE, body: '{"query":1}' }],
  ['no query', '/graphql', { method: 'POST', headers: JSON_TYPE, body: '{}' }],
  ['variables as a string', '/graphql', { method: 'POST', headers: JSON_TYPE, body: '{"query":"{ upstreams { name } }","variables":"{"}' }],
  ['extensions as a number', '/graphql', { method: 'POST', headers: JSON_TYPE, body: '{"query":"{ upstreams { name } }","extensions":1}' }],
  ['an unknown operationName', '/graphql', { method: 'POST', headers: JSON_TYPE, body: '{"query":"{ upstreams { name } }","operationName":"Nope"}' }],
  ['an unsupported media type', '/graphql', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<query/>' }],
  ['an unacceptable Accept', '/graphql', { method: 'POST', headers: { ...JSON_TYPE, accept: 'application/xml' }, body: '{"query":"{ upstreams { name } }"}' }],
  ['GET without query', '/graphql', { headers: CSRF }],
  ['GET with variables that are not JSON', `/graphql?query=${q('{ upstreams { name } }')}&variables=%7Bnope`, { headers: CSRF }],
  ['GET with extensions that are not JSON', `/graphql?query=${q('{ upstreams { name } }')}&extensions=%5B`, { headers: CSRF }],
  ['GET with a repeated query', '/graphql?query=a&query=b', { headers: CSRF }],
  ['GET with a bad percent-encoding', '/graphql?query=%E0%A4%A', { headers: CSRF }],
  ['GET with a long query string', `/graphql?query=${'%7B'.repeat(2500)}`, { headers: CSRF }],
  ['GET with a query string over Node\'s header limit (431)', `/graphql?query=${'a'.repeat(20_000)}`, { headers: CSRF }],
  ['a body over limits.maxBodyBytes (413)', '/graphql', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ query: `{ upstreams { name } } #${'x'.repeat(1.5 * 1024 * 1024)}` }) }],
  ['GET with a deep query', `/graphql?query=${q(`{ ${'project(upstream: "gitlab", id: "1") { '.repeat(40)}`)}`, { headers: CSRF }],
  ['a mutation over GET', `/graphql?query=${q('mutation { cancelBuild(id: "x") { build { id } } }')}`, { headers: CSRF }],
  ['PUT /graphql', '/graphql', { method: 'PUT', headers: JSON_TYPE, body: '{}' }],
  ['DELETE /graphql', '/graphql', { method: 'DELETE' }],
  ['PATCH /graphql', '/graphql', { method: 'PATCH', headers: JSON_TYPE, body: '{}' }],
  ['POST /graphql/stream without a stream', '/graphql/stream', { method: 'POST', headers: JSON_TYPE, body: '{"query":"{ upstreams { name } }"}' }],
  ['POST /graphql/stream with truncated JSON', '/graphql/stream', { method: 'POST', headers: { ...JSON_TYPE, 'x-graphql-event-stream-token': 'nope' }, body: '{"query":' }],
  ['DELETE /graphql/stream', '/graphql/stream', { method: 'DELETE' }],
  ['an unknown path', '/nowhere', {}],
  ['an unknown path below /graphql', '/graphql/nowhere', {}],
  ['POST /metrics', '/metrics', { method: 'POST' }],
  ['POST /health', '/health', { method: 'POST' }],
  ['a path with a NUL', '/graphql%00', {}],
  ['a path traversal', '/../../etc/passwd', {}],
];

describe('the HTTP surface', () => {
  for (const [name, path, init] of CORPUS) {
    it(`${name}: no stack or file path, a code where the answer is GraphQL, never a 500`, async () => {
      await stack.resetStats();
      const response = await fetch(`${new URL(stack.gateway.url).origin}${path}`, init);
      const text = await response.text();
      expect(response.status, text).toBeLessThan(500);
      expect(text).not.toMatch(STACK_OR_PATH);
      expect(text).not.toContain('originalError');
      if (/json/.test(response.headers.get('content-type') ?? '')) {
        const body = JSON.parse(text);
        if (body && typeof body === 'object' && 'errors' in body) {
          expect(body.errors.length).toBeGreaterThan(0);
          for (const error of body.errors) expect(error.extensions?.code, error.message).toMatch(/^[A-Z_]+$/);
        }
      }
      // Node itself answers 431 (headers too large), with no body, before the gateway sees the request.
      const graphqlAnswer = ['/graphql', '/graphql/stream'].includes(new URL(path, 'http://x').pathname) && response.status !== 431;
      if (graphqlAnswer && response.status >= 400) expect(JSON.parse(text).errors[0].extensions.code).toMatch(/^[A-Z_]+$/);
      expect((await stack.stats()).total).toBe(0);
    });
  }
});
