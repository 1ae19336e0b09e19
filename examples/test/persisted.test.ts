/**
 * The example client's persisted documents (issue #15): codegen writes generated/persisted-documents.json,
 * a gateway reads it as `persistedOperations.file` with `only: true`, and the compiled CLI's operations
 * (sent by their hash, never their text) run there, while an ad-hoc query is refused. Against a gateway
 * without the file, the same CLI registers its documents through APQ (cli.test.ts runs it so).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, type Stack, startStack } from '../../test/helpers/stack.js';
import { FailedBuildsDocument, TailBuildDocument } from '../generated/graphql.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'buildgate-cli.js');
const DOCUMENTS = join(import.meta.dirname, '..', 'generated', 'persisted-documents.json');

function cli(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const { BUILDGATE_URL: _url, BUILDGATE_TOKEN: _token, ...env } = process.env;
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return once(child, 'close').then(([code]) => ({ code: code as number | null, stdout: Buffer.concat(out), stderr: err }));
}

let stack: Stack;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run examples:build" first (npm run test:e2e does)`);
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    gateway: { persistedOperations: { file: DOCUMENTS, only: true }, trace: { pollIntervalMs: 30, maxPollIntervalMs: 120 } } as never,
  });
});
afterAll(() => stack?.close());

describe('persisted documents of the example client', () => {
  it('are the documents the client sends, each under the hash it carries', () => {
    const documents = JSON.parse(readFileSync(DOCUMENTS, 'utf8')) as Record<string, string>;
    const hashes = [FailedBuildsDocument, TailBuildDocument].map((document) => document.__meta__?.hash);
    expect(Object.keys(documents).sort()).toEqual([...hashes].sort());
    for (const text of Object.values(documents)) expect(text).toMatch(/^(query FailedBuilds|subscription TailBuild)\(/);
  });

  it('failed runs by hash on a gateway that runs trusted documents only', async () => {
    const run = await cli(['failed', '--url', stack.gateway.url, '--project', '1', '--limit', '5']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.toString().trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+REF\s+FAILURE REASON\s+WEB URL$/);
    expect(lines).toHaveLength(6);
  });

  it('tail runs its subscription by hash there too, to the end of the build', async () => {
    const created = await fetch(`${stack.simulator.url}/__sim/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: 1, name: 'tail:trusted', logBytesPerTick: 2048, totalBytes: 8192 }),
    }).then((response) => response.json() as Promise<{ id: number }>);
    await fetch(`${stack.simulator.url}/__sim/jobs/${created.id}/finish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const id = Buffer.from(JSON.stringify(['Build', 'gitlab', '1', String(created.id)])).toString('base64url');
    const run = await cli(['tail', '--url', stack.gateway.url, '--id', id]);
    expect(run.stderr).toMatch(/build complete/);
    expect(run.code).toBe(0);
    const log = Buffer.from(await (await fetch(`${stack.simulator.url}/api/v4/projects/1/jobs/${created.id}/trace`)).arrayBuffer());
    expect(run.stdout.equals(log)).toBe(true);
  });

  it('an ad-hoc query is refused there with PERSISTED_QUERY_ONLY', async () => {
    const response = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(first: 1) { nodes { id } } } }');
    expect(codes(response)).toEqual(['PERSISTED_QUERY_ONLY']);
  });
});
