/**
 * The compiled CLI loads the simulator package only in embedded mode (no upstream configured): a
 * module hook that refuses to resolve `@buildgate/simulator` leaves a configured gateway untouched and
 * stops an unconfigured one, so the hook is seen to work both ways.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, waitForLine } from './helpers/cli.js';

const REFUSAL = 'the simulator package was loaded';

let dir: string;
let refuseSimulator: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'buildgate-loading-'));
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `export async function resolve(specifier, context, next) {
      if (specifier === '@buildgate/simulator') throw new Error(${JSON.stringify(REFUSAL)});
      return next(specifier, context);
    }\n`,
  );
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  refuseSimulator = pathToFileURL(join(dir, 'register.mjs')).href;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BUILDGATE_')));
  return runCli(args, { env, nodeArgs: ['--import', refuseSimulator] });
}

describe('loading the simulator package', () => {
  it('a configured gateway starts and answers without resolving @buildgate/simulator', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ upstreams: [{ name: 'corp', kind: 'gitlab-v4', baseUrl: 'https://gitlab.example.com/api/v4' }] }));
    const started = run(['--config', file, '--port', '0']);
    const url = (await waitForLine(started.out, /GraphiQL at (http:\S+)/, started.child))[1]!;
    const result = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ upstreams { name } }' }) })).json()) as any;
    expect(result.data.upstreams).toEqual([{ name: 'corp' }]);
    started.child.kill('SIGTERM');
    expect((await started.exited)[0]).toBe(0);
    expect(started.err()).not.toContain(REFUSAL);
  });

  it('an unconfigured gateway resolves it (the hook refuses, so the start fails)', async () => {
    const started = run(['--port', '0']);
    const [code] = await started.exited;
    expect(code).toBe(1);
    expect(started.err()).toContain(REFUSAL);
    expect(started.out()).not.toMatch(/GraphiQL at/);
  });
});
