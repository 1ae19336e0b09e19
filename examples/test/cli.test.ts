/**
 * The example client against the real simulator and gateway: the compiled CLI (`npm run examples:build`)
 * runs as a child process, as a person would run it, and its output is checked against what the gateway
 * and the upstream themselves say.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GraphQLResponse, type Stack, startStack } from '../../test/helpers/stack.js';
import { until } from '../../test/helpers/subscribe.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'buildgate-cli.js');

interface Run {
  /** Resolves when the process has exited and its output is all read. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): Buffer;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
}

function cli(args: string[]): Run {
  const { BUILDGATE_URL: _url, BUILDGATE_TOKEN: _token, ...env } = process.env;
  const child = spawn(process.execPath, [CLI, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const closed = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { closed, stdout: () => Buffer.concat(out), stderr: () => err, kill: (signal) => child.kill(signal) };
}

/** The table `failed` prints, back into cells (columns are two or more spaces apart; no cell holds two spaces). */
function parseTable(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split(/ {2,}/));
}

interface FailedNode {
  id: string;
  name: string;
  ref: string | null;
  failureReason: string | null;
  webUrl: string | null;
}

const FAILED = `query($project: ID!, $first: Int!, $after: String) {
  project(upstream: "gitlab", id: $project) {
    builds(scope: [FAILED], first: $first, after: $after) {
      nodes { id name ref failureReason webUrl }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

let stack: Stack;
let url: string;

/** What the gateway itself answers for a project's first `limit` failed builds. */
async function gatewayFailed(project: string, limit: number, headers: Record<string, string> = {}): Promise<FailedNode[]> {
  const nodes: FailedNode[] = [];
  let after: string | null = null;
  while (nodes.length < limit) {
    const result: GraphQLResponse = await stack.graphql(FAILED, { project, first: Math.min(100, limit - nodes.length), after }, headers);
    expect(result.errors).toBeUndefined();
    const builds: { nodes: FailedNode[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = result.data!.project.builds;
    nodes.push(...builds.nodes);
    if (!builds.pageInfo.hasNextPage) break;
    after = builds.pageInfo.endCursor;
  }
  return nodes;
}

const row = (build: FailedNode) => [build.id, build.name, build.ref ?? '-', build.failureReason ?? '-', build.webUrl ?? '-'];

async function finalLog(upstreamId: string | number): Promise<Buffer> {
  const response = await fetch(`${stack.simulator.url}/api/v4/projects/1/jobs/${upstreamId}/trace`);
  return Buffer.from(await response.arrayBuffer());
}

async function simulator(path: string, body: unknown): Promise<any> {
  const response = await fetch(`${stack.simulator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.ok).toBe(true);
  return response.json();
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run examples:build" first (npm run test:e2e does)`);
  stack = await startStack({
    // The clock stands still (one tick an hour) until the tail tests start it, so the failed list
    // cannot change between the CLI's answer and the gateway's. 4,000 builds give more than 100 failed
    // ones, so the CLI has to page.
    simulator: { builds: 4000, tickMs: 3_600_000, jobTicks: 40, pendingTicks: 1 },
    gateway: { trace: { pollIntervalMs: 30, maxPollIntervalMs: 120, recheckMs: 100 } } as never,
  });
  url = stack.gateway.url;
});
afterAll(() => stack?.close());

describe('buildgate-cli failed', () => {
  it('prints the same failed builds as the gateway answers, paging past 100, as a table', async () => {
    const run = cli(['failed', '--url', url, '--upstream', 'gitlab', '--project', '1', '--limit', '120']);
    const { code } = await run.closed;
    expect(run.stderr()).toBe('');
    expect(code).toBe(0);
    const [header, ...rows] = parseTable(run.stdout().toString());
    expect(header).toEqual(['ID', 'NAME', 'REF', 'FAILURE REASON', 'WEB URL']);
    const expected = await gatewayFailed('1', 120);
    expect(expected).toHaveLength(120);
    expect(rows).toEqual(expected.map(row));
  });

  it('sends --token as PRIVATE-TOKEN: a private project needs it', async () => {
    const refused = cli(['failed', '--url', url, '--project', '2']);
    expect((await refused.closed).code).toBe(1);
    expect(refused.stderr()).toMatch(/UNAUTHENTICATED/);
    expect(refused.stdout().length).toBe(0);

    const run = cli(['failed', '--url', url, '--project', 'acme/private', '--token', 'glpat-reporter']);
    expect((await run.closed).code).toBe(0);
    const [, ...rows] = parseTable(run.stdout().toString());
    const expected = await gatewayFailed('acme/private', 20, { 'PRIVATE-TOKEN': 'glpat-reporter' });
    expect(expected.length).toBeGreaterThan(0);
    expect(rows).toEqual(expected.map(row));
  });

  it('refuses bad usage with exit code 2', async () => {
    const run = cli(['failed', '--url', url]);
    expect((await run.closed).code).toBe(2);
    expect(run.stderr()).toMatch(/--project/);
  });
});

describe('buildgate-cli tail', () => {
  beforeAll(async () => {
    // Start the clock: running builds now finish in about 1.6 s.
    await simulator('/__sim/config', { tickMs: 40 });
  });

  async function freshRunningBuild(): Promise<{ id: string; upstreamId: string }> {
    for (let i = 0; i < 300; i++) {
      const result = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 5) { nodes { id upstreamId startedAt } } } }');
      const fresh = result.data!.project.builds.nodes.find((n: any) => n.startedAt && Date.now() - Date.parse(n.startedAt) < 300);
      if (fresh) return fresh;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('no freshly started build');
  }

  it('follows a running build until it completes: stdout is the upstream final log byte for byte, ANSI included; exit 0', async () => {
    const build = await freshRunningBuild();
    const run = cli(['tail', '--url', url, '--id', build.id]);
    const { code } = await run.closed;
    expect(code).toBe(0);
    const log = await finalLog(build.upstreamId);
    expect(log.length).toBeGreaterThan(0);
    expect(run.stdout().equals(log)).toBe(true);
    expect(run.stdout().includes('\x1b[')).toBe(true);
    expect(run.stderr()).toBe(`buildgate-cli: build complete; nextOffset ${log.length}\n`);
  });

  it('on Ctrl-C prints the nextOffset to resume from; --offset resumes with nothing lost or repeated', async () => {
    // A build that runs until it is told to finish, so Ctrl-C surely lands while it runs.
    const job = await simulator('/__sim/jobs', { project: 1, name: 'tail:resume', logBytesPerTick: 300, totalBytes: 50_000_000 });
    const id = (await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${job.id}") { id } } }`)).data!.project.build.id as string;

    const first = cli(['tail', '--url', url, '--id', id]);
    await until(() => first.stdout().length >= 1500, 15_000, 'some of the log');
    first.kill('SIGINT');
    const { code } = await first.closed;
    expect(code).toBe(130);
    const offset = Number(/nextOffset (\d+)/.exec(first.stderr())?.[1]);
    expect(offset).toBe(first.stdout().length);
    expect(first.stderr()).toContain(`tail --id ${id} --offset ${offset}`);

    // Let the log grow past where the first run stopped, then end the build.
    await until(async () => (await finalLog(job.id)).length > offset + 1000, 15_000, 'the log to grow');
    await simulator(`/__sim/jobs/${job.id}/finish`, { status: 'success' });

    const second = cli(['tail', '--url', url, '--id', id, '--offset', String(offset)]);
    expect((await second.closed).code).toBe(0);
    const log = await finalLog(job.id);
    expect(Buffer.concat([first.stdout(), second.stdout()]).equals(log)).toBe(true);
  });

  it('exits 1 with the coded error for a build id that is not one', async () => {
    const run = cli(['tail', '--url', url, '--id', 'nope']);
    expect((await run.closed).code).toBe(1);
    expect(run.stderr()).toMatch(/BAD_USER_INPUT/);
  });
});
