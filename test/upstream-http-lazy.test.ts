/**
 * undici is loaded on the first upstream request, not at start-up (it is ~110 modules, a tenth of the
 * start-up time): a gateway that has started but called no upstream has not loaded it, and an
 * upstream client closed before its first request still refuses requests as a closed one.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@buildgate/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildgateError } from '../src/errors.js';
import { UpstreamHttp } from '../src/upstreams/http.js';

const ROOT = join(import.meta.dirname, '..');

let simulator: Simulator;
const upstreamRequests = async () => ((await (await fetch(`${simulator.url}/__sim/stats`)).json()) as { total: number }).total;

beforeAll(async () => {
  simulator = await startSimulator({ port: 0 });
});
afterAll(() => simulator.close());

describe('the upstream client and undici', () => {
  it('refuses a request after close() with UPSTREAM_UNAVAILABLE, whether or not it had sent one, and sends nothing', async () => {
    const used = new UpstreamHttp({ upstream: 'gitlab', baseUrl: `${simulator.url}/api/v4`, retry: { maxRetries: 0 } });
    const unused = new UpstreamHttp({ upstream: 'gitlab', baseUrl: `${simulator.url}/api/v4`, retry: { maxRetries: 0 } });
    const before = await upstreamRequests();
    await used.probe();
    expect(await upstreamRequests()).toBe(before + 1);
    await used.close();
    await unused.close();
    for (const client of [used, unused]) {
      const error = await client.probe().then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(BuildgateError);
      expect((error as BuildgateError).extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    }
    expect(await upstreamRequests()).toBe(before + 1);
  });

  it('is not loaded by a started gateway until it calls an upstream', async () => {
    // A separate process, so no other suite's import of undici counts. The gateway's own fetch() is
    // Node's bundled undici, which is not node_modules/undici.
    const script = `
      import { createRequire } from 'node:module';
      const { parseConfig } = await import('./dist/config.js');
      const { startGateway } = await import('./dist/server.js');
      const loaded = () => Object.keys(createRequire(process.cwd() + '/').cache).some((file) => file.includes('/node_modules/undici/'));
      const gateway = await startGateway(parseConfig({ port: 0, logLevel: 'silent', upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: ${JSON.stringify(`${simulator.url}/api/v4`)} }] }));
      const afterStart = loaded();
      const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ project(upstream: "gitlab", id: "1") { path } }' }) });
      const result = await response.json();
      const afterQuery = loaded();
      await gateway.close();
      console.log(JSON.stringify({ afterStart, afterQuery, path: result.data?.project?.path }));
    `;
    const before = await upstreamRequests();
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ afterStart: false, afterQuery: true, path: 'foo/bar' });
    expect(await upstreamRequests()).toBeGreaterThan(before);
  }, 30_000);

  it('leaves ioredis and redis-semaphore unloaded without redis.url, through a query and a subscription', async () => {
    // A gateway alone never needs ioredis (~90 ms of loading), redis-semaphore or rate-limiter-flexible.
    const script = `
      import { createRequire } from 'node:module';
      const { parseConfig } = await import('./dist/config.js');
      const { startGateway } = await import('./dist/server.js');
      const cache = createRequire(process.cwd() + '/').cache;
      const loaded = () => ['ioredis', 'redis-semaphore', 'rate-limiter-flexible'].filter((name) => Object.keys(cache).some((file) => file.includes('/node_modules/' + name + '/')));
      const gateway = await startGateway(parseConfig({ port: 0, logLevel: 'silent', upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: ${JSON.stringify(`${simulator.url}/api/v4`)}, budgetPerMinute: 100 }] }));
      const post = (query, accept) => fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify({ query }) });
      const { data } = await (await post('{ project(upstream: "gitlab", id: "1") { build(id: "7") { id } } }', 'application/json')).json();
      const events = await (await post('subscription { buildStatus(id: "' + data.project.build.id + '") { status } }', 'text/event-stream')).text();
      if (!events.includes('status')) throw new Error('no status event: ' + events);
      await gateway.close();
      console.log(JSON.stringify(loaded()));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    // The budget's in-memory limiter is rate-limiter-flexible's own: only its memory files load.
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!).filter((name: string) => name !== 'rate-limiter-flexible')).toEqual([]);
  }, 30_000);
});
