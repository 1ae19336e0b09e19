/**
 * `npm start` as a newcomer meets it: the compiled CLI starts the embedded simulator and the gateway,
 * serves GraphiQL from its own assets, answers the preloaded query, and stops cleanly on SIGTERM.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleQuery } from '../src/graphiql.js';
import { MAIN, runCli, waitForLine } from './helpers/cli.js';
import { parseConfig } from '../src/config.js';

const START = join(import.meta.dirname, '..', 'scripts', 'start.mjs');

const run = (args: string[], env: Record<string, string> = {}, script = MAIN) => runCli(args, { env: { ...process.env, ...env }, script });

describe('npm start (no configuration)', () => {
  let started: ReturnType<typeof run>;
  let url: string;
  let startMs: number;

  beforeAll(async () => {
    const spawned = performance.now();
    started = run(['--port', '0']);
    url = (await waitForLine(started.out, /GraphiQL at (http:\S+)/, started.child))[1]!;
    startMs = performance.now() - spawned;
  });
  afterAll(() => {
    if (started.child.exitCode === null) started.child.kill('SIGKILL');
  });

  // About 0.7 s on an idle-ish 2-core machine (bench/RESULTS.md); the bound only catches a bad regression
  // (e.g. GraphiQL's renderer or eager data generation back on the start-up path) on a loaded one.
  it('is listening within 5 s of being spawned', () => {
    expect(startMs).toBeLessThan(5_000);
  });

  it('prints the simulator URL too', () => {
    expect(started.out()).toMatch(/embedded simulator \(GitLab, bk-ci\) at http:\/\/127\.0\.0\.1:\d+/);
  });

  it('serves GraphiQL with no asset from the internet and the example query preloaded', async () => {
    const response = await fetch(url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<title>buildgate</title>');
    expect(html).toContain('RecentBuilds');
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="https?:\/\//);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdnjs/);
  });

  it('answers the preloaded query as it stands', async () => {
    const query = exampleQuery(parseConfig({ upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: 'http://x/api/v4' }] }));
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const result = (await response.json()) as any;
    expect(result.errors).toBeUndefined();
    expect(result.data.project.path).toBe('foo/bar');
    expect(result.data.project.builds.nodes).toHaveLength(10);
    expect(result.data.project.builds.pageInfo.hasNextPage).toBe(true);
  });

  it('runs mutations with the embedded service token', async () => {
    const post = (query: string, variables = {}) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) }).then((r) => r.json() as Promise<any>);
    const list = await post('{ project(upstream: "gitlab", id: "1") { builds(scope: [FAILED], first: 1) { nodes { id } } } }');
    const result = await post('mutation($id: ID!) { retryBuild(id: $id) { build { status } } }', { id: list.data.project.builds.nodes[0].id });
    expect(result.errors).toBeUndefined();
    expect(result.data.retryBuild.build.status).toBe('PENDING');
  });

  it('redirects / to /graphql and answers /health', async () => {
    const root = await fetch(url.replace('/graphql', '/'), { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/graphql');
    expect((await fetch(url.replace('/graphql', '/health'))).status).toBe(200);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    started.child.kill('SIGTERM');
    const [code] = await started.exited;
    expect(code).toBe(0);
  });
});

describe('configuration errors', () => {
  it('npm start (scripts/start.mjs) passes its flags on to the CLI', async () => {
    // `npm test` builds first, so the staleness check finds dist/ fresh and starts the CLI at once.
    const { exited, out } = run(['--help'], {}, START);
    const [code] = await exited;
    expect(code).toBe(0);
    expect(out()).toMatch(/Usage: buildgate \[options\]/);
  });

  it('--help lists the options', async () => {
    const { exited, out } = run(['--help']);
    const [code] = await exited;
    expect(code).toBe(0);
    expect(out()).toMatch(/--config <path>/);
    expect(out()).toMatch(/BUILDGATE_UPSTREAM_URL/);
  });

  it('names the bad field of a config file and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'buildgate-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'port: 4000\nupstreams:\n  - name: gl\n    kind: gitlab-v9\n    baseUrl: not-a-url\n');
    const { exited, err } = run(['--config', file]);
    const [code] = await exited;
    expect(code).toBe(2);
    expect(err()).toMatch(/upstreams\.0\.kind/);
    expect(err()).toMatch(/upstreams\.0\.baseUrl/);
  });

  it('refuses an unknown flag', async () => {
    const { exited, err } = run(['--prot', '4000']);
    const [code] = await exited;
    expect(code).toBe(2);
    expect(err()).toMatch(/--prot/);
  });

  it('fronts the upstreams of a config file instead of the simulator', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'buildgate-'));
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ upstreams: [{ name: 'corp', kind: 'gitlab-v4', baseUrl: 'https://gitlab.example.com/api/v4' }] }));
    const started = run(['--config', file, '--port', '0']);
    const url = (await waitForLine(started.out, /GraphiQL at (http:\S+)/, started.child))[1]!;
    const result = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ upstreams { name kind baseUrl } }' }) })).json()) as any;
    expect(result.data.upstreams).toEqual([{ name: 'corp', kind: 'GITLAB_V4', baseUrl: 'https://gitlab.example.com/api/v4' }]);
    expect(started.out()).not.toMatch(/simulator/);
    started.child.kill('SIGTERM');
    expect((await started.exited)[0]).toBe(0);
  });
});
