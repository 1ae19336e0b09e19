/**
 * The staleness check that `npm start` runs first (scripts/build-if-stale.mjs, called by
 * scripts/start.mjs) builds only when a source is newer than the compiled output, so a start after
 * `npm ci` skips the 9 s build. Driven over a scratch folder laid out like the repository, whose `build`
 * script records that it ran and writes the outputs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '..', 'scripts', 'build-if-stale.mjs');
const OUTPUTS = ['dist/main.js', 'dist/graphiql-assets/manifest.json', 'packages/simulator/dist/index.js', 'packages/simulator/dist/main.js'];

let root: string;
let clock = Date.now();
const put = (path: string, text = '') => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
};
const builds = () => readFileSync(join(root, 'builds.log'), 'utf8').length;
const run = () => spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'buildgate-stale-'));
  const writeOutputs = OUTPUTS.map((file) => `fs.mkdirSync(path.dirname('${file}'),{recursive:true});fs.writeFileSync('${file}','')`).join(';');
  put('package.json', JSON.stringify({ scripts: { build: `node -e "const fs=require('fs'),path=require('path');fs.appendFileSync('builds.log','x');${writeOutputs}"` } }));
  put('builds.log');
  for (const file of ['src/main.ts', 'schema/build.graphql', 'codegen.yml', 'tsconfig.json', 'tsconfig.build.json', 'packages/simulator/src/index.ts']) put(file);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('build-if-stale', () => {
  it('builds when there is no output yet', () => {
    const { status, stdout } = run();
    expect(status).toBe(0);
    expect(stdout).toContain('sources are newer than dist/, building');
    expect(builds()).toBe(1);
  });

  it('does nothing when the output is newer than every source', () => {
    const { status, stdout } = run();
    expect(status).toBe(0);
    expect(stdout).toBe('');
    expect(builds()).toBe(1);
  });

  it.each(['src/main.ts', 'packages/simulator/src/index.ts', 'schema/build.graphql'])('builds again when %s changes', (file) => {
    // Future-dated, a minute past the outputs of the case before, so the edit is newer than any output.
    clock += 60_000;
    utimesSync(join(root, file), new Date(clock), new Date(clock));
    const before = builds();
    expect(run().status).toBe(0);
    expect(builds()).toBe(before + 1);
    // The fake build's outputs are older than the future-dated source: put them after it, as a real build would be.
    clock += 60_000;
    for (const output of OUTPUTS) utimesSync(join(root, output), new Date(clock), new Date(clock));
    expect(run().stdout).toBe('');
  });
});
