/**
 * Issue #16 (start-up): graphql-jit is not loaded while the gateway starts; the first operation that
 * comes before its deferred load waits for it and is answered as any later one. Run in a child process
 * over the compiled gateway (dist/), so that nothing else in this worker has loaded graphql-jit already;
 * the child reports whether `graphql-jit` is in Node's module cache at each step.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const url = (path: string) => JSON.stringify(pathToFileURL(join(ROOT, path)).href);

const CHILD = `
import { createRequire } from 'node:module';
const require = createRequire(${url('dist/main.js')});
const jitLoaded = () => Object.keys(require.cache).some((file) => file.includes('/graphql-jit/'));
const { startSimulator } = await import(${url('packages/simulator/dist/index.js')});
const { startGateway } = await import(${url('dist/server.js')});
const { parseConfig } = await import(${url('dist/config.js')});
const simulator = await startSimulator({ host: '127.0.0.1', port: 0, tickMs: 3600000 });
const gateway = await startGateway(parseConfig({ port: 0, logLevel: 'silent', upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: simulator.url + '/api/v4', token: 'glpat-developer' }] }));
const atStart = jitLoaded();
const ask = async () => (await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ project(upstream: "gitlab", id: "1") { name builds(first: 3) { nodes { id name status } } } }' }) })).text();
const first = await ask();
const afterFirst = jitLoaded();
const second = await ask();
await gateway.close();
await simulator.close();
process.stdout.write(JSON.stringify({ atStart, afterFirst, first, second }) + '\\n');
`;

describe('graphql-jit, loaded after start-up', () => {
  it('is not loaded when the gateway listens, and the first query (which waits for it) is answered as the next', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    const { atStart, afterFirst, first, second } = JSON.parse(out.trim().split('\n').pop()!);
    expect(atStart).toBe(false);
    expect(afterFirst).toBe(true);
    const answer = JSON.parse(first);
    expect(answer.errors).toBeUndefined();
    expect(answer.data.project.builds.nodes).toHaveLength(3);
    expect(second).toBe(first);
  });
});
