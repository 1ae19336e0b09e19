/**
 * Upstream JSON is read as UTF-8 whichever way it is framed: ASCII bodies take a faster decoding
 * (upstreams/http.ts, utf8.ts), and these bodies are the ones it must not get wrong — non-ASCII text,
 * a character split across two chunks, and bytes that are not UTF-8 at all. The upstream is a small
 * real HTTP server on loopback speaking GitLab's Jobs API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { type Gateway, startGateway } from '../src/server.js';

const job = (id: number, name: string, title: string) => ({
  id,
  status: 'success',
  stage: 'test',
  name,
  ref: 'main',
  tag: false,
  allow_failure: false,
  created_at: '2026-12-01T10:00:00.000Z',
  started_at: '2026-12-01T10:00:01.000Z',
  finished_at: '2026-12-01T10:00:02.000Z',
  duration: 1,
  web_url: `https://gitlab.example.com/g/p/-/jobs/${id}`,
  user: { id: 1, username: 'zoë', name: 'Zoë', state: 'active', web_url: 'https://gitlab.example.com/zoe' },
  commit: { id: 'a'.repeat(40), short_id: 'aaaaaaaa', title, message: title, author_name: 'Zoë', author_email: 'z@example.com' },
  pipeline: { id: 9, project_id: 1, sha: 'a'.repeat(40), ref: 'main', status: 'success' },
});

const ASCII = job(1, 'unit', 'Plain ASCII title');
const UNICODE = job(2, 'tests ✓ 中文', 'Café — naïve 🚀');

// A page many times the decoder's piece (utf8.ts), accented text throughout: read in pieces, it must read as one.
const LONG = Array.from({ length: 20 }, (_, i) => job(100 - i, `job ${i} ${[...'é✓中😀'].slice(0, 1 + (i % 4)).join('')}`, `Kraków ${'x'.repeat(i * 37)} 🚀`));

let upstream: Server;
let gateway: Gateway;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const [, kind] = url.pathname.split('/');
    if (kind === 'invalid') {
      // 0xff never occurs in UTF-8: it reads as U+FFFD, as any UTF-8 decoder has it.
      const [before, after] = JSON.stringify([job(3, 'bad?', 'Y')]).split('?');
      const body = Buffer.concat([Buffer.from(before!), Buffer.from([0xff]), Buffer.from(after!)]);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
      return;
    }
    const list = kind === 'long' ? LONG : [ASCII, UNICODE];
    const json = Buffer.from(JSON.stringify(url.pathname.endsWith('/jobs') ? list : UNICODE));
    // A byte-order mark before the JSON, as some proxies add: it is not part of the text.
    const body = kind === 'bom' ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json]) : json;
    if (kind === 'chunked') {
      // No length, and the body cut inside a multi-byte character (the ✓ is 3 bytes).
      const cut = body.indexOf(Buffer.from('✓')) + 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(body.subarray(0, cut));
      setImmediate(() => res.end(body.subarray(cut)));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as AddressInfo;
  gateway = await startGateway(
    parseConfig({
      port: 0,
      logLevel: 'silent',
      upstreams: ['sized', 'chunked', 'bom', 'invalid', 'long'].map((name) => ({ name, kind: 'gitlab-v4', baseUrl: `http://127.0.0.1:${port}/${name}/api/v4` })),
    }),
  );
});

afterAll(async () => {
  await gateway?.close();
  upstream?.closeAllConnections();
  await new Promise((resolve) => upstream?.close(resolve));
});

async function builds(upstreamName: string) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `{ project(upstream: "${upstreamName}", id: "1") { builds(first: 5) { nodes { upstreamId name commit { title } user { username } } } } }`,
    }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { data: any; errors?: unknown[] };
}

describe('upstream JSON text', () => {
  it.each(['sized', 'chunked', 'bom'])('keeps ASCII and non-ASCII text exact (%s body)', async (name) => {
    const { data, errors } = await builds(name);
    expect(errors).toBeUndefined();
    expect(data.project.builds.nodes).toEqual([
      { upstreamId: '1', name: 'unit', commit: { title: 'Plain ASCII title' }, user: { username: 'zoë' } },
      { upstreamId: '2', name: 'tests ✓ 中文', commit: { title: 'Café — naïve 🚀' }, user: { username: 'zoë' } },
    ]);
  });

  it('keeps non-ASCII text exact in a page read in pieces', async () => {
    const { data, errors } = await builds('long');
    expect(errors).toBeUndefined();
    expect(data.project.builds.nodes).toEqual(
      LONG.slice(0, 5).map((one) => ({ upstreamId: String(one.id), name: one.name, commit: { title: one.commit.title }, user: { username: 'zoë' } })),
    );
  });

  it('reads a byte that is not UTF-8 as U+FFFD', async () => {
    const { data, errors } = await builds('invalid');
    expect(errors).toBeUndefined();
    expect(data.project.builds.nodes[0].name).toBe('bad\uFFFD');
  });
});
