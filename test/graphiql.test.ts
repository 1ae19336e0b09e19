/**
 * Issue #13: GraphiQL's page (~9 MB of inlined assets) goes out compressed when the client accepts it,
 * the same page in every encoding, and a browser that has it revalidates by ETag (304, no body).
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickEncoding } from '../src/graphiql.js';
import { type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ simulator: { tickMs: 3_600_000 } });
});
afterAll(() => stack?.close());

/** A raw GET (fetch would decompress and hide what was sent). */
function get(headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(stack.gateway.url, { headers: { accept: 'text/html', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GraphiQL page', () => {
  it('is sent with brotli or gzip when accepted, the same page as uncompressed, several times smaller', async () => {
    const plain = await get({});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toMatch(/"additionalHeaders":\{"x-graphql-yoga-csrf":"graphiql"\}/);
    const br = await get({ 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    const gz = await get({ 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    for (const response of [plain, br, gz]) {
      expect(response.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', vary: 'Accept-Encoding', 'cache-control': 'no-cache', etag: plain.headers.etag });
      expect(Number(response.headers['content-length'])).toBe(response.body.length);
    }
    expect(br.body.length).toBeLessThan(plain.body.length / 4);
    expect(gz.body.length).toBeLessThan(plain.body.length / 3);
    console.info(`GraphiQL page: ${plain.body.length} B plain, ${gz.body.length} B gzip, ${br.body.length} B br`);
  });

  it('answers 304 without a body to a request that has the page (If-None-Match)', async () => {
    const first = await get({ 'accept-encoding': 'br' });
    const again = await get({ 'accept-encoding': 'br', 'if-none-match': String(first.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(first.headers.etag);
    const stale = await get({ 'if-none-match': '"other"' });
    expect(stale.status).toBe(200);
  });

  it('picks the encoding from Accept-Encoding, honouring q=0', () => {
    expect(pickEncoding(null)).toBeUndefined();
    expect(pickEncoding('identity')).toBeUndefined();
    expect(pickEncoding('gzip, br')).toBe('br');
    expect(pickEncoding('br;q=0, gzip')).toBe('gzip');
    expect(pickEncoding('br;q=0, gzip;q=0.0')).toBeUndefined();
    expect(pickEncoding('*')).toBe('gzip');
    expect(pickEncoding('GZIP;q=0.5')).toBe('gzip');
  });

  it('leaves GraphQL GETs and POSTs to yoga', async () => {
    const result = await stack.graphql('{ upstreams { name } }');
    expect(result.data).toEqual({ upstreams: [{ name: 'gitlab' }] });
  });
});
