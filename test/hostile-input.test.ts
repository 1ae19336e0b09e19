/**
 * Hostile input: a corpus of abusive operations, arguments and ids, each refused with a coded GraphQL
 * error and not one upstream request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ simulator: { tickMs: 3_600_000 }, gateway: { production: true } as never });
});
afterAll(() => stack?.close());

const b64 = (parts: unknown) => Buffer.from(JSON.stringify(parts)).toString('base64url');

function nested(depth: number): string {
  let selection = 'id';
  for (let i = 0; i < depth; i++) selection = i % 2 === 0 ? `pipeline { builds(first: 1) { nodes { ${selection} } } }` : `commit { builds(first: 1) { nodes { ${selection} } } }`;
  return `{ project(upstream: "gitlab", id: "1") { builds(first: 1) { nodes { ${selection} } } } }`;
}

const operations: Array<[string, string, Record<string, unknown>?]> = [];
for (const depth of [4, 6, 10, 14, 20, 40]) operations.push([`depth ${depth}`, nested(depth)]);
for (const n of [31, 50, 100, 500]) {
  operations.push([`${n} aliases`, `{ ${Array.from({ length: n }, (_, i) => `a${i}: upstreams { name }`).join(' ')} }`]);
}
for (const n of [51, 200]) operations.push([`${n} directives`, `{ upstreams @include(if: true) { name ${'@skip(if: false) '.repeat(n)} } }`]);
operations.push(['2,500 tokens', `{ upstreams { ${'name '.repeat(2500)} } }`]);
operations.push(['cost bomb', `{ ${Array.from({ length: 25 }, (_, i) => `p${i}: project(upstream: "gitlab", id: "1") { builds(first: 100) { nodes { commit { builds(first: 100) { nodes { name } } } } } }`).join(' ')} }`]);
operations.push(['fragment cycle', '{ upstreams { ...A } } fragment A on Upstream { name ...B } fragment B on Upstream { ...A }']);
operations.push(['__schema-named fragment depth bypass', `query __schema { ...__schema } fragment __schema on Query { ${nested(14).slice(2, -2)} }`]);
for (const text of ['{', '}', '{ upstreams { name }', 'query {{', 'mutation', '{ "a" }', 'query ($a: ) { upstreams { name } }', '{ upstreams { name } } }', '\u0000', 'subscription', '{ ... }', 'fragment on on on { a }', '{ a(b: ) }', '{ upstreams { name(']) {
  operations.push([`syntax ${JSON.stringify(text).slice(0, 20)}`, text]);
}
for (const text of ['{ upstream { name } }', '{ upstreams { nam } }', '{ project(id: "1") { name } }', '{ project(upstream: "gitlab", id: 1, x: 2) { name } }', '{ build { id } }', '{ upstreams }', 'mutation { retryBuild(id: 5) { build { id } } }', '{ __type(name: 1) { name } }']) {
  operations.push([`invalid ${text.slice(0, 24)}`, text]);
}

const projectIds = ['../2', '..', '.', '1/../2', 'foo/../../admin', '%2e%2e', '%2e%2e%2fadmin', '1?private_token=x', '1#x', '1\r\nX-Injected: 1', '1\n', 'http://evil.example/x', '//evil.example', '/etc/passwd', 'foo//bar', '', ' ', 'a'.repeat(300), '1%00', 'é/ü', '1;DROP', '${jndi:x}', '-1', 'foo/.git', 'foo/..'];
for (const id of projectIds) {
  operations.push([`project id ${JSON.stringify(id).slice(0, 24)}`, 'query($id: ID!) { project(upstream: "gitlab", id: $id) { name builds { nodes { id } } } }', { id }]);
}
const buildIds = ['../7', '7/../8', '7?x=1', '7#', '0', '-7', '7.5', '1e3', ' 7', '7\r\n', 'b-1', '99999999999999999999', '0x7', '７'];
for (const id of buildIds) {
  operations.push([`build id ${JSON.stringify(id)}`, 'query($id: ID!) { project(upstream: "gitlab", id: "1") { build(id: $id) { name } } }', { id }]);
}
const globalIds = ['', 'x', '!!!', b64(['Build', 'gitlab', '1']), b64(['Build', 'gitlab', '1', '../7']), b64(['Build', 'gitlab', '../1', '7']), b64(['Build', 'nope', '1', '7']), b64(['User', 'gitlab', '1', '7']), b64(['Build', 'gitlab', 'http://evil', '7']), b64(['Build', 'gitlab', '1', '7', 'x']), b64({ a: 1 }), 'A'.repeat(5000), b64(['Build', 'gitlab', '1', '7\n'])];
for (const id of globalIds) {
  operations.push([`global id ${id.slice(0, 16)}`, 'query($id: ID!) { build(id: $id) { name } node(id: $id) { id } }', { id }]);
  operations.push([`mutation id ${id.slice(0, 16)}`, 'mutation($id: ID!) { cancelBuild(id: $id) { build { id } } }', { id }]);
}
for (const first of [-1, 0, 101, 1_000_000, 2 ** 31 - 1]) {
  operations.push([`first ${first}`, 'query($n: Int) { project(upstream: "gitlab", id: "1") { builds(first: $n) { nodes { id } } } }', { n: first }]);
}
for (const after of ['x', 'eyJhIjoxfQ', b64(['0', '5']), '%%%', 'A'.repeat(2000)]) {
  operations.push([`after ${after.slice(0, 12)}`, 'query($a: String) { project(upstream: "gitlab", id: "1") { builds(after: $a) { nodes { id } } } }', { a: after }]);
}
for (const sha of ['../../x', 'HEAD', 'zzzz', '0ff3ae1\n', 'a'.repeat(65)]) {
  operations.push([`sha ${JSON.stringify(sha).slice(0, 12)}`, 'query($s: String!) { project(upstream: "gitlab", id: "1") { commit(sha: $s) { title } } }', { s: sha }]);
}
for (const upstream of ['', 'nope', '../gitlab', 'gitlab\n']) {
  operations.push([`upstream ${JSON.stringify(upstream)}`, 'query($u: String!) { project(upstream: $u, id: "1") { name } }', { u: upstream }]);
}
for (const args of ['offset: -1', 'limit: 0', 'limit: 1048577', 'offset: -99999']) {
  operations.push([`trace ${args}`, `{ project(upstream: "gitlab", id: "1") { build(id: "7") { trace(${args}) { content } } } }`]);
}

describe('hostile input', () => {
  it(`refuses ${operations.length} hostile operations with coded errors and no upstream request`, async () => {
    expect(operations.length).toBeGreaterThanOrEqual(100);
    const failures: string[] = [];
    for (const [name, query, variables] of operations) {
      await stack.resetStats();
      const response = await fetch(stack.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query, variables }),
      });
      expect(response.status, name).toBeLessThan(500);
      const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      const ok = (body.errors?.length ?? 0) > 0 && body.errors!.every((error) => typeof error.extensions?.code === 'string');
      if (!ok) failures.push(`${name}: ${JSON.stringify(body).slice(0, 200)}`);
      const stats = await stack.stats();
      // A build id the gateway accepts as well-formed but over the upstream's range would still reach
      // the upstream; every entry of this corpus must be refused first.
      if (stats.total !== 0) failures.push(`${name}: reached the upstream ${JSON.stringify(stats.routes)}`);
    }
    expect(failures).toEqual([]);
  });

  it('refuses a body over 1 MB with 413', async () => {
    await stack.resetStats();
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ upstreams { name } }', variables: { pad: 'x'.repeat(1_100_000) } }),
    });
    expect(response.status).toBe(413);
    expect((await stack.stats()).total).toBe(0);
  });

  it('refuses a chunked body (no Content-Length) over 1 MB with 413, and answers a small one', async () => {
    await stack.resetStats();
    const chunked = (text: string) => {
      const bytes = new TextEncoder().encode(text);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
          controller.close();
        },
      });
      return fetch(stack.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    };
    const big = await chunked(JSON.stringify({ query: '{ upstreams { name } }', variables: { pad: 'x'.repeat(1_100_000) } }));
    expect(big.status).toBe(413);
    const small = await chunked(JSON.stringify({ query: '{ upstreams { name } }' }));
    expect(small.status).toBe(200);
    expect(((await small.json()) as { data: unknown }).data).toBeTruthy();
    expect((await stack.stats()).total).toBe(0);
  });

  it('refuses a batch while batching is off', async () => {
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ upstreams { name } }' }, { query: '{ upstreams { name } }' }]),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('hides field suggestions in production', async () => {
    const result = await stack.graphql('{ upstreams { nam } }');
    expect(result.errors![0]!.message).not.toMatch(/Did you mean/);
  });

  it('still answers ordinary operations', async () => {
    const result = await stack.graphql(nested(2));
    expect(result.errors).toBeUndefined();
  });
});
