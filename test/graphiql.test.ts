/**
 * Issue #13: GraphiQL's page goes out compressed when the client accepts it, the same page in every
 * encoding, and a browser that has it revalidates by ETag (304, no body). Issue #16: the ~8.6 MB of
 * script, CSS and icon it used to inline are files it links, which the build compressed: each sent in
 * the encoding asked, the same bytes in every encoding, cached as immutable; a build without them
 * fails the start, not the first browser.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickEncoding, useGraphiQLPage } from '../src/graphiql.js';
import { type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ simulator: { tickMs: 3_600_000 } });
});
afterAll(() => stack?.close());

/** A raw GET (fetch would decompress and hide what was sent), of the page unless `url` says otherwise. */
function get(headers: Record<string, string>, url = stack.gateway.url): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/html', ...headers } }, (res) => {
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
  it('is sent with brotli or gzip when accepted, the same page as uncompressed, smaller', async () => {
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
    expect(br.body.length).toBeLessThan(plain.body.length);
    expect(gz.body.length).toBeLessThan(plain.body.length);
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

  it('links its script, style sheet and icon from the gateway, each sent as built: the same bytes in every encoding, cached as immutable', async () => {
    const html = (await get({})).body.toString();
    const linked = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(linked).toHaveLength(3);
    const types: string[] = [];
    let script: Buffer = Buffer.alloc(0);
    for (const path of linked) {
      expect(path).toMatch(/^\/graphql\/graphiql-assets\/[a-z]+\.[0-9a-f]{16}\.(js|css|ico)$/);
      const url = new URL(path, stack.gateway.url).href;
      const plain = await get({ accept: '*/*' }, url);
      expect(plain.status).toBe(200);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(Number(plain.headers['content-length'])).toBe(plain.body.length);
      types.push(String(plain.headers['content-type']));
      if (path.endsWith('.ico')) continue;
      const br = await get({ accept: '*/*', 'accept-encoding': 'gzip, deflate, br' }, url);
      expect(br.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
      const gz = await get({ accept: '*/*', 'accept-encoding': 'gzip' }, url);
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
      expect(br.body.length).toBeLessThan(plain.body.length / 2);
      if (path.endsWith('.js')) script = plain.body;
    }
    expect(types.sort()).toEqual(['image/x-icon', 'text/css; charset=utf-8', 'text/javascript; charset=utf-8']);
    // The page calls what the script defines.
    expect(html).toContain('YogaGraphiQL.renderYogaGraphiQL(');
    expect(script.toString()).toContain('renderYogaGraphiQL');
    expect(script.length).toBeGreaterThan(1_000_000);
  });

  it('leaves a name that is not in the build to yoga (no file is read for it)', async () => {
    const response = await get({ accept: '*/*' }, new URL('/graphql/graphiql-assets/..%2Fmanifest.json', stack.gateway.url).href);
    expect(response.status).not.toBe(200);
  });

  it('fails when it is set up, not on the first request, when the build left no assets', () => {
    const empty = mkdtempSync(join(tmpdir(), 'buildgate-graphiql-'));
    try {
      expect(() => useGraphiQLPage('/graphql', {}, empty)).toThrow(/GraphiQL's assets .* missing or unreadable.*npm run build/);
      writeFileSync(join(empty, 'manifest.json'), JSON.stringify({ script: { name: 'graphiql.0.js', type: 'text/javascript', encodings: ['br'] }, style: { name: 'graphiql.0.css', type: 'text/css', encodings: [] }, favicon: { name: 'favicon.0.ico', type: 'image/x-icon', encodings: [] } }));
      writeFileSync(join(empty, 'graphiql.0.js'), '');
      expect(() => useGraphiQLPage('/graphql', {}, empty)).toThrow(/incomplete \(no graphiql\.0\.js\.br\)/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
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
