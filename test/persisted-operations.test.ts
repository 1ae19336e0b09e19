/**
 * Issue #15 (6): persisted documents over real HTTP. Automatic persisted queries as Apollo's protocol
 * has them (driven by @graphql-tools/executor-http's `apq` client), with a store bounded in entries and
 * bytes; trusted documents from `persistedOperations.file` (the map graphql-codegen's client-preset
 * writes), and with `only: true` nothing else runs, on any transport, and nothing registers.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHTTPExecutor } from '@graphql-tools/executor-http';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';
import { encodeGlobalId } from '../src/relay.js';
import { startGateway } from '../src/server.js';
import { codes, type GraphQLResponse, type Stack, startStack } from './helpers/stack.js';
import { subscriptionClient } from './helpers/subscribe.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const BUILD_7 = encodeGlobalId('Build', 'gitlab', '1', '7');

/** A request with Apollo's extension, over POST or GET; the text is sent only when given. */
async function persisted(url: string, hash: string, options: { query?: string; variables?: Record<string, unknown>; method?: 'GET' | 'POST' } = {}) {
  const extensions = { persistedQuery: { version: 1, sha256Hash: hash } };
  // A GET needs a header a cross-site page cannot send (use-csrf-prevention.ts).
  const headers = { accept: 'application/graphql-response+json, application/json', 'x-graphql-yoga-csrf': '1' };
  const response =
    options.method === 'GET'
      ? await fetch(`${url}?${new URLSearchParams({ extensions: JSON.stringify(extensions), ...(options.variables && { variables: JSON.stringify(options.variables) }) })}`, { headers })
      : await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ query: options.query, variables: options.variables, extensions }) });
  return { status: response.status, body: (await response.json()) as GraphQLResponse };
}

describe('automatic persisted queries', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ simulator: { tickMs: 3_600_000 }, gateway: { persistedOperations: { apqMaxEntries: 3, apqMaxBytes: 64 * 1024 } } });
  });
  afterAll(() => stack?.close());

  it('an APQ client sends the hash, is told PERSISTED_QUERY_NOT_FOUND, sends the text once, then the hash alone', async () => {
    const query = 'query Apq($id: ID!) { build(id: $id) { name } }';
    const calls: Array<{ query?: string; hash?: string }> = [];
    const executor = buildHTTPExecutor({
      endpoint: stack.gateway.url,
      apq: true,
      fetch: async (input, init) => {
        const body = JSON.parse(String(init?.body ?? '{}'));
        calls.push({ query: body.query, hash: body.extensions?.persistedQuery?.sha256Hash });
        return fetch(input as string, init as RequestInit);
      },
    });
    expect(await executor({ document: parse(query), variables: { id: BUILD_7 } })).toEqual({ data: { build: { name: 'teaspoon' } } });
    expect(await executor({ document: parse(query), variables: { id: BUILD_7 } })).toEqual({ data: { build: { name: 'teaspoon' } } });
    // Hash alone (refused), hash and text (registered), hash alone (served). The client hashes its own printing.
    const hash = sha256(calls[1]!.query!);
    expect(calls).toEqual([{ hash }, { query: calls[1]!.query, hash }, { hash }]);
  });

  it('answers an unknown hash 404 PERSISTED_QUERY_NOT_FOUND, before any upstream request', async () => {
    await stack.resetStats();
    const { status, body } = await persisted(stack.gateway.url, sha256('query Never { upstreams { name } }'));
    expect(status).toBe(404);
    expect(codes(body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(body.errors![0]!.message).toBe('PersistedQueryNotFound');
    expect((await stack.stats()).total).toBe(0);
  });

  it('refuses a text that does not have the hash sent with it (PERSISTED_QUERY_MISMATCH), and keeps nothing', async () => {
    const query = '{ upstreams { name kind } }';
    const wrong = sha256('{ upstreams { name } }');
    const mismatch = await persisted(stack.gateway.url, wrong, { query });
    expect(mismatch.status).toBe(400);
    expect(codes(mismatch.body)).toEqual(['PERSISTED_QUERY_MISMATCH']);
    expect(codes((await persisted(stack.gateway.url, wrong)).body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('serves a registered hash over GET too', async () => {
    const query = 'query Get($id: ID!) { build(id: $id) { name status } }';
    expect((await persisted(stack.gateway.url, sha256(query), { query, variables: { id: BUILD_7 } })).body.errors).toBeUndefined();
    const { status, body } = await persisted(stack.gateway.url, sha256(query), { method: 'GET', variables: { id: BUILD_7 } });
    expect(status).toBe(200);
    expect(body.data).toEqual({ build: { name: 'teaspoon', status: expect.any(String) } });
  });

  it('keeps at most apqMaxEntries documents: the least recently used goes', async () => {
    const queries = [1, 2, 3, 4].map((n) => `query Entry${n} { upstreams { name } }`);
    for (const query of queries) expect((await persisted(stack.gateway.url, sha256(query), { query })).body.errors).toBeUndefined();
    expect(codes((await persisted(stack.gateway.url, sha256(queries[0]!))).body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    for (const query of queries.slice(1)) expect((await persisted(stack.gateway.url, sha256(query))).body.errors).toBeUndefined();
  });

  it('keeps at most apqMaxBytes: a document over the budget runs but is not kept', async () => {
    // 40,000 characters are 80 KB as UTF-16, over the 64 KB budget.
    const query = `query Big { upstreams { name } } ${'#'.repeat(40_000)}\n`;
    const first = await persisted(stack.gateway.url, sha256(query), { query });
    expect(first.body).toEqual({ data: { upstreams: [{ name: 'gitlab' }] } });
    expect(codes((await persisted(stack.gateway.url, sha256(query))).body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });
});

describe('the APQ store is bounded in bytes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ simulator: { tickMs: 3_600_000 }, gateway: { persistedOperations: { apqMaxEntries: 1000, apqMaxBytes: 64 * 1024 } } });
  });
  afterAll(() => stack?.close());

  it('keeps only the newest documents that fit in apqMaxBytes, however many are registered', async () => {
    // Ten documents of ~10,000 characters (~20 KB each as counted): three fit in 64 KiB.
    const queries = Array.from({ length: 10 }, (_, n) => `query Fill${n} { upstreams { name } } #${'x'.repeat(10_000)}\n`);
    for (const query of queries) expect((await persisted(stack.gateway.url, sha256(query), { query })).body.errors).toBeUndefined();
    const kept: boolean[] = [];
    for (const query of queries) kept.push((await persisted(stack.gateway.url, sha256(query))).body.errors === undefined);
    expect(kept).toEqual([false, false, false, false, false, false, false, true, true, true]);
  });
});

describe('trusted documents (persistedOperations.file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'buildgate-trusted-'));
  const BUILD = 'query TrustedBuild($id: ID!) { build(id: $id) { name status } }';
  const TAIL = 'subscription TrustedTail($id: ID!) { buildTrace(id: $id) { complete } }';
  const file = join(dir, 'persisted-documents.json');
  // As client-preset writes it: ids `sha256:<hex>`; Apollo clients send the bare hex.
  writeFileSync(file, JSON.stringify({ [`sha256:${sha256(BUILD)}`]: BUILD, [`sha256:${sha256(TAIL)}`]: TAIL }));
  let only: Stack;
  let open: Stack;
  beforeAll(async () => {
    only = await startStack({ simulator: { tickMs: 3_600_000 }, gateway: { persistedOperations: { file, only: true } } });
    open = await startStack({ simulator: { tickMs: 3_600_000 }, gateway: { persistedOperations: { file } } });
  });
  afterAll(async () => {
    await Promise.all([only?.close(), open?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a trusted document by its id (bare or sha256:-prefixed), over POST and GET', async () => {
    for (const method of ['POST', 'GET'] as const) {
      for (const id of [sha256(BUILD), `sha256:${sha256(BUILD)}`]) {
        const { status, body } = await persisted(only.gateway.url, id, { method, variables: { id: BUILD_7 } });
        expect(body.errors, method).toBeUndefined();
        expect(status, method).toBe(200);
        expect(body, method).toEqual({ data: { build: { name: 'teaspoon', status: expect.any(String) } } });
      }
    }
  });

  it('with only: refuses an ad-hoc query with PERSISTED_QUERY_ONLY before any upstream request', async () => {
    await only.resetStats();
    const response = await only.graphql('{ build(id: "x") { name } }');
    expect(codes(response)).toEqual(['PERSISTED_QUERY_ONLY']);
    // Even the text of a trusted document: over HTTP the id is what is trusted.
    expect(codes(await only.graphql(BUILD, { id: BUILD_7 }))).toEqual(['PERSISTED_QUERY_ONLY']);
    expect((await only.stats()).total).toBe(0);
  });

  it('with only: an unknown id is PERSISTED_QUERY_NOT_FOUND, and APQ registers nothing', async () => {
    const query = '{ upstreams { name } }';
    const register = await persisted(only.gateway.url, sha256(query), { query });
    expect(codes(register.body)).toEqual(['PERSISTED_QUERY_ONLY']);
    const again = await persisted(only.gateway.url, sha256(query));
    expect(again.status).toBe(404);
    expect(codes(again.body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const empty = await fetch(only.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(codes((await empty.json()) as GraphQLResponse)).toEqual(['PERSISTED_QUERY_ONLY']);
  });

  it('with only: graphql-ws and the graphql-sse endpoint run trusted texts and refuse any other', async () => {
    for (const transport of ['ws', 'sse-single'] as const) {
      const client = subscriptionClient(transport, only.gateway.url);
      try {
        const refused = client.subscribe('subscription($id: ID!) { buildStatus(id: $id) { status } }', { id: BUILD_7 });
        const done = await refused.done;
        // graphql-sse's client keeps only the status of a refused operation; the body is read below.
        if (transport === 'ws') expect(done.errors?.map((error) => error.extensions?.code)).toEqual(['PERSISTED_QUERY_ONLY']);
        else expect(done.errors?.[0]?.message).toMatch(/400/);
        const trusted = client.subscribe<{ complete: boolean }>(TAIL, { id: BUILD_7 });
        expect(await trusted.done, transport).toEqual({});
        expect(trusted.values.at(-1), transport).toEqual({ complete: true });
      } finally {
        await client.dispose();
      }
    }
  });

  it('with only: the graphql-sse endpoint answers an ad-hoc operation 400 PERSISTED_QUERY_ONLY', async () => {
    const stream = `${only.gateway.url}/stream`;
    const reserved = await fetch(stream, { method: 'PUT', headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(reserved.status).toBe(201);
    const token = await reserved.text();
    const response = await fetch(stream, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
      body: JSON.stringify({ query: 'subscription($id: ID!) { buildStatus(id: $id) { status } }', variables: { id: BUILD_7 }, extensions: { operationId: '1' } }),
    });
    expect(response.status).toBe(400);
    expect(codes((await response.json()) as GraphQLResponse)).toEqual(['PERSISTED_QUERY_ONLY']);
  });

  it('with only: a trusted subscription runs by its id over SSE on /graphql', async () => {
    const url = `${only.gateway.url}?${new URLSearchParams({ extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: sha256(TAIL) } }), variables: JSON.stringify({ id: BUILD_7 }) })}`;
    const response = await fetch(url, { headers: { accept: 'text/event-stream', 'x-graphql-yoga-csrf': '1' } });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    expect(text).toContain('"complete":true');
    expect(text).toContain('event: complete');
  });

  it('without only: trusted ids, ad-hoc queries and APQ all run', async () => {
    // The prefixed id is not the text's APQ hash: APQ must not check what the trusted map supplied.
    for (const id of [sha256(BUILD), `sha256:${sha256(BUILD)}`]) {
      expect((await persisted(open.gateway.url, id, { variables: { id: BUILD_7 } })).body).toEqual({ data: { build: { name: 'teaspoon', status: expect.any(String) } } });
    }
    expect((await open.graphql('{ upstreams { name } }')).data).toEqual({ upstreams: [{ name: 'gitlab' }] });
    const query = 'query OpenApq { upstreams { kind } }';
    expect(codes((await persisted(open.gateway.url, sha256(query))).body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect((await persisted(open.gateway.url, sha256(query), { query })).body.errors).toBeUndefined();
    expect((await persisted(open.gateway.url, sha256(query))).body.data).toEqual({ upstreams: [{ kind: 'GITLAB_V4' }] });
  });

  it('persisted documents are validated, limited and priced like any other', async () => {
    const deep = 'query Costly { project(upstream: "gitlab", id: "1") { builds(first: 100) { nodes { pipeline { builds(first: 100) { nodes { pipeline { builds(first: 100) { nodes { name } } } } } } } } } }';
    const costly = join(dir, 'costly.json');
    writeFileSync(costly, JSON.stringify({ [sha256(deep)]: deep }));
    const stack = await startStack({ simulator: { tickMs: 3_600_000 }, gateway: { persistedOperations: { file: costly, only: true } } });
    try {
      const { body } = await persisted(stack.gateway.url, sha256(deep));
      expect(codes(body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(body.errors![0]!.extensions).toMatchObject({ limit: 'maxCost' });
      expect((await stack.stats()).total).toBe(0);
    } finally {
      await stack.close();
    }
  });

  it('refuses to start on a broken file, naming it and the entry', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ abc123: 'query { nope' }));
    const config = parseConfig({ port: 0, logLevel: 'silent', upstreams: [], persistedOperations: { file: broken } });
    await expect(startGateway(config)).rejects.toThrow(/persistedOperations\.file .*broken\.json: "abc123" does not parse/);
    const missing = parseConfig({ port: 0, logLevel: 'silent', upstreams: [], persistedOperations: { file: join(dir, 'absent.json') } });
    await expect(startGateway(missing)).rejects.toThrow(/cannot read it \(ENOENT\)/);
    expect(() => parseConfig({ persistedOperations: { only: true } })).toThrow(ConfigError);
    expect(() => parseConfig({ persistedOperations: { only: true } })).toThrow(/persistedOperations\.only: needs persistedOperations\.file/);
  });
});
