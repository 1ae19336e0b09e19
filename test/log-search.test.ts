/**
 * Issue #15 item 3: `Build.logSearch` and `Build.failure` over HTTP against the simulator: literal and
 * RE2 search, case, context lines, sections, `first`, the byte bounds (`limits.maxSearchBytes`, the
 * upstream byte budget), a pathological regex, coded refusals before any upstream request, and the
 * first line explaining a failure on GitLab and bk-ci logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, codes, startStack } from './helpers/stack.js';
import { bigLog } from './helpers/big-log.js';
import { ESC, logJob, sectionEnd, sectionStart } from './helpers/log-job.js';

const KiB = 1024;
const TRACE_ROUTE = 'GET /api/v4/projects/:id/jobs/:job_id/trace';

const LINES = [
  `${ESC}[0KRunning with gitlab-runner 16.11.1${ESC}[0;m`,
  sectionStart('prepare_executor', `${ESC}[36;1mPreparing the "docker" executor${ESC}[0;m`),
  'Using Docker executor with image node:20',
  sectionEnd('prepare_executor'),
  sectionStart('step_script', `${ESC}[36;1mExecuting "step_script" stage of the job script${ESC}[0;m`),
  `${ESC}[32;1m$ npm test${ESC}[0;m`,
  'line alpha · café',
  sectionStart('unit_tests[collapsed=true]', 'Unit tests'),
  'test one passes',
  'Error: something went wrong in one',
  `${ESC}[31mFAILED${ESC}[0m test two`,
  sectionEnd('unit_tests'),
  'npm ERR! code ELIFECYCLE',
  sectionEnd('step_script'),
  sectionStart('cleanup_file_variables', `${ESC}[36;1mCleaning up project directory and file based variables${ESC}[0;m`),
  sectionEnd('cleanup_file_variables'),
  '',
  `${ESC}[31;1mERROR: Job failed: exit code 1${ESC}[0;m`,
];
const LOG = `${LINES.join('\n')}\n`;
const LOG_BYTES = Buffer.from(LOG);
/** Where line n (1-based) starts in the log's bytes. */
const offsetOf = (n: number): number => Buffer.byteLength(LINES.slice(0, n - 1).map((line) => `${line}\n`).join(''));

const SEARCH = `query($id: ID!, $pattern: String!, $regex: Boolean, $caseSensitive: Boolean, $context: Int, $first: Int) {
  build(id: $id) { logSearch(pattern: $pattern, regex: $regex, caseSensitive: $caseSensitive, context: $context, first: $first) {
    matches { lineNumber offset line column length before after section sectionPath } scannedBytes truncated truncatedBy endReached } } }`;
const FAILURE = `query($id: ID!) { build(id: $id) { status failureReason failure { line offset lineNumber section reason exitCode signature truncated } } }`;

let stack: Stack;
let failed: string;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 3_600_000 },
    upstreams: (url) => [
      { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${url}/api/v4`, token: 'glpat-developer' },
      { name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3`, token: 'alice' },
      { name: 'gitlab-v3', kind: 'gitlab-v3', baseUrl: `${url}/api/v3`, token: 'glpat-developer' },
    ],
  });
  failed = (await logJob(stack, LOG, 'failed')).id;
});
afterAll(() => stack?.close());

async function search(variables: Record<string, unknown>, id = failed) {
  const response = await stack.graphql(SEARCH, { id, ...variables });
  expect(response.errors).toBeUndefined();
  return response.data!.build.logSearch;
}

describe('Build.logSearch', () => {
  it('finds a literal ignoring case by default, with line numbers, byte offsets and on-screen text', async () => {
    const result = await search({ pattern: 'error' });
    expect(result.matches.map((m: any) => [m.lineNumber, m.line])).toEqual([
      [10, 'Error: something went wrong in one'],
      [18, 'ERROR: Job failed: exit code 1'],
    ]);
    for (const match of result.matches) {
      expect(match.offset).toBe(offsetOf(match.lineNumber));
      expect(LOG_BYTES.subarray(match.offset).toString().startsWith(LINES[match.lineNumber - 1]!)).toBe(true);
    }
    expect(result.matches[1]).toMatchObject({ column: 0, length: 5, section: null, sectionPath: [] });
    expect(result).toMatchObject({ scannedBytes: LOG_BYTES.length, truncated: false, truncatedBy: null, endReached: true });
  });

  it('matches case when asked', async () => {
    const result = await search({ pattern: 'ERROR', caseSensitive: true });
    expect(result.matches.map((m: any) => m.lineNumber)).toEqual([18]);
    expect((await search({ pattern: 'error', caseSensitive: true })).matches).toEqual([]);
  });

  it('runs RE2 expressions, case-insensitive by default, with the first match\'s column and length', async () => {
    const result = await search({ pattern: '^test (one|two)', regex: true });
    expect(result.matches.map((m: any) => [m.lineNumber, m.line, m.column, m.length])).toEqual([[9, 'test one passes', 0, 8]]);
    const text = await search({ pattern: 'T\\w+ two$', regex: true });
    expect(text.matches.map((m: any) => [m.line, m.column, m.length])).toEqual([['FAILED test two', 7, 8]]);
    expect((await search({ pattern: 'T\\w+ two$', regex: true, caseSensitive: true })).matches).toEqual([]);
    // Escapes are not part of the text matched: the FAILED line starts with its word.
    expect((await search({ pattern: '^FAILED', regex: true, caseSensitive: true })).matches.map((m: any) => m.lineNumber)).toEqual([11]);
  });

  it('returns `context` lines before and after each match, fewer at the log\'s edges', async () => {
    const result = await search({ pattern: 'test one', context: 2 });
    expect(result.matches[0]).toMatchObject({
      lineNumber: 9,
      before: ['line alpha · café', 'Unit tests'],
      after: ['Error: something went wrong in one', 'FAILED test two'],
    });
    const edges = await search({ pattern: 'running with|job failed', regex: true, context: 3 });
    expect(edges.matches.map((m: any) => [m.lineNumber, m.before.length, m.after.length])).toEqual([
      [1, 0, 3],
      [18, 3, 0],
    ]);
    expect(edges.matches[1].before).toEqual(['Cleaning up project directory and file based variables', '', '']);
  });

  it('names the enclosing GitLab section, nested ones outermost first', async () => {
    const result = await search({ pattern: 'docker|test one|npm err|cleaning up', regex: true });
    expect(result.matches.map((m: any) => [m.lineNumber, m.section, m.sectionPath])).toEqual([
      [2, 'prepare_executor', ['prepare_executor']],
      [3, 'prepare_executor', ['prepare_executor']],
      [9, 'unit_tests', ['step_script', 'unit_tests']],
      [13, 'step_script', ['step_script']],
      [15, 'cleanup_file_variables', ['cleanup_file_variables']],
    ]);
  });

  it('stops at `first` matches without reading the rest of the log', async () => {
    const result = await search({ pattern: 'e', first: 2, context: 1 });
    expect(result.matches.map((m: any) => m.lineNumber)).toEqual([1, 2]);
    expect(result.matches[1].after).toEqual(['Using Docker executor with image node:20']);
    expect(result).toMatchObject({ truncated: false, endReached: false, scannedBytes: offsetOf(4) });
  });

  it('answers a pathological regex on a long line at once (linear-time engine)', async () => {
    const { id } = await logJob(stack, `${'a'.repeat(200_000)}!\n${'a'.repeat(50_000)}\n(a+)+$ literally\n`);
    const started = performance.now();
    const result = await search({ pattern: '(a+)+$', regex: true }, id);
    const ms = performance.now() - started;
    expect(result.matches.map((m: any) => [m.lineNumber, m.column, m.length, m.line.length])).toEqual([[2, 0, 50_000, 4096]]);
    // Backtracking needs 2^n steps for the 200,000 a's before "!" (it never ends); RE2 needs one pass
    // (~0.3 s here). The bound only tells the two apart, with room for a machine busy with other suites.
    expect(ms).toBeLessThan(15_000);
    const literal = await search({ pattern: '(a+)+$' }, id);
    expect(literal.matches.map((m: any) => m.lineNumber)).toEqual([3]);
  });

  it('refuses bad patterns and arguments with BAD_USER_INPUT before any upstream request', async () => {
    await stack.resetStats();
    const bad = [
      { pattern: '(', regex: true },
      { pattern: 'a{2,1}', regex: true },
      { pattern: '(?<=a)b', regex: true },
      { pattern: '(a)\\1', regex: true },
      { pattern: '' },
      { pattern: 'x'.repeat(1001) },
      { pattern: 'a', context: 11 },
      { pattern: 'a', context: -1 },
      { pattern: 'a', first: 0 },
      { pattern: 'a', first: 101 },
    ];
    for (const variables of bad) {
      const response = await stack.graphql(SEARCH, { id: failed, ...variables });
      expect(codes(response), JSON.stringify(variables)).toEqual(['BAD_USER_INPUT']);
    }
    expect((await stack.stats()).total).toBe(0);
  });

  it('is one streamed upstream read per search', async () => {
    await stack.resetStats();
    await search({ pattern: 'nothing like this' });
    // The build, then its log.
    expect((await stack.stats()).routes).toEqual({ 'GET /api/v4/projects/:id/jobs/:job_id': 1, [TRACE_ROUTE]: 1 });
  });

  it('counts bk-ci offsets in lines: a match\'s offset is the upstream line number Build.trace takes', async () => {
    const list = await stack.graphql('{ project(upstream: "bkci", id: "demo") { builds(first: 20, scope: [FAILED]) { nodes { id } } } }');
    const id = list.data!.project.builds.nodes[0].id;
    const response = await stack.graphql(
      `query($id: ID!) { build(id: $id) { logSearch(pattern: "exit code 1") { matches { lineNumber offset line } endReached truncated } } }`,
      { id },
    );
    expect(response.errors).toBeUndefined();
    const { matches, endReached } = response.data!.build.logSearch;
    expect(endReached).toBe(true);
    expect(matches.length).toBeGreaterThan(0);
    for (const match of matches) {
      const read = await stack.graphql(`query($id: ID!, $at: Int) { build(id: $id) { trace(offset: $at, limit: 1) { lines } } }`, { id, at: match.offset });
      expect(read.data!.build.trace.lines).toEqual([match.line]);
    }
  });
});

describe('Build.failure', () => {
  it('points at the first error signature inside the failed section, with the upstream\'s reason and the exit code', async () => {
    const response = await stack.graphql(FAILURE, { id: failed });
    expect(response.errors).toBeUndefined();
    expect(response.data!.build.failure).toEqual({
      line: 'FAILED test two',
      offset: offsetOf(11),
      lineNumber: 11,
      section: 'unit_tests',
      reason: 'script_failure',
      exitCode: 1,
      signature: 'FAILED',
      truncated: false,
    });
  });

  it('falls back to the failed section\'s last line, then to the runner\'s closing line', async () => {
    const quiet = await logJob(stack, [sectionStart('step_script', 'Executing "step_script"'), '$ make', 'compiling lib.c', sectionEnd('step_script'), '', 'ERROR: Job failed: exit code 2', ''].join('\n'), 'failed');
    const quietFailure = (await stack.graphql(FAILURE, { id: quiet.id })).data!.build.failure;
    expect(quietFailure).toMatchObject({ line: 'compiling lib.c', lineNumber: 3, section: 'step_script', exitCode: 2, signature: 'last line of section' });
    const bare = await logJob(stack, 'Running with gitlab-runner\nERROR: Job failed: execution took longer than 1h0m0s seconds\n', 'failed');
    const bareFailure = (await stack.graphql(FAILURE, { id: bare.id })).data!.build.failure;
    expect(bareFailure).toMatchObject({ line: 'ERROR: Job failed: execution took longer than 1h0m0s seconds', lineNumber: 2, section: null, exitCode: null });
  });

  it('finds the failing summary line of the simulator\'s failed jobs', async () => {
    const { body: jobs } = await stack.rest('/projects/1/jobs?scope[]=failed&per_page=100', 'glpat-developer');
    const job = (jobs as Array<{ id: number; name: string; started_at: string | null }>).find((j) => j.started_at !== null && j.name !== 'log')!;
    const trace = Buffer.from(await (await fetch(`${stack.simulator.url}/api/v4/projects/1/jobs/${job.id}/trace`, { headers: { 'PRIVATE-TOKEN': 'glpat-developer' } })).arrayBuffer());
    const found = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${job.id}") { failure { line offset lineNumber section reason exitCode signature } } } }`);
    expect(found.errors).toBeUndefined();
    const failure = found.data!.project.build.failure;
    expect(failure).toMatchObject({ section: 'step_script', reason: 'script_failure', exitCode: 1, signature: 'N failures' });
    expect(failure.line).toMatch(/^\d+ examples, 2 failures$/);
    const lineStart = trace.subarray(failure.offset);
    expect(lineStart.toString().split('\n')[0]).toContain(failure.line);
    expect(trace.subarray(0, failure.offset).toString().split('\n').length).toBe(failure.lineNumber);
  });

  it('reads the same job through GitLab v3, which has no failure_reason', async () => {
    const job = (await stack.graphql('query($id: ID!) { build(id: $id) { upstreamId } }', { id: failed })).data!.build.upstreamId;
    const response = await stack.graphql(`{ project(upstream: "gitlab-v3", id: "1") { build(id: "${job}") { status logSearch(pattern: "error") { matches { lineNumber offset } } failure { line lineNumber section reason exitCode } } } }`);
    expect(response.errors).toBeUndefined();
    expect(response.data!.project.build).toEqual({
      status: 'FAILED',
      logSearch: { matches: [{ lineNumber: 10, offset: offsetOf(10) }, { lineNumber: 18, offset: offsetOf(18) }] },
      failure: { line: 'FAILED test two', lineNumber: 11, section: 'unit_tests', reason: null, exitCode: 1 },
    });
  });

  it('is null for a build that did not fail, without an upstream request', async () => {
    const ok = await logJob(stack, 'ERROR: this line does not matter\nJob succeeded\n', 'success');
    await stack.resetStats();
    const response = await stack.graphql(FAILURE, { id: ok.id });
    expect(response.errors).toBeUndefined();
    expect(response.data!.build).toMatchObject({ status: 'SUCCESS', failure: null });
    expect((await stack.stats()).routes[TRACE_ROUTE]).toBeUndefined();
  });

  it('reads bk-ci logs too (no sections there), with bk-ci\'s error message as the reason', async () => {
    const list = await stack.graphql('{ project(upstream: "bkci", id: "demo") { builds(first: 20, scope: [FAILED]) { nodes { id failureReason } } } }');
    const build = list.data!.project.builds.nodes[0];
    const response = await stack.graphql(FAILURE, { id: build.id });
    expect(response.errors).toBeUndefined();
    const failure = response.data!.build.failure;
    expect(failure).toMatchObject({ section: null, reason: build.failureReason, truncated: false });
    expect(failure.line).toMatch(/exit code 1/);
    const read = await stack.graphql(`query($id: ID!, $at: Int) { build(id: $id) { trace(offset: $at, limit: 1) { lines } } }`, { id: build.id, at: failure.offset });
    expect(read.data!.build.trace.lines).toEqual([failure.line]);
  });
});

describe('bounds', () => {
  let small: Stack;
  let budget: Stack;
  let large: Stack;
  beforeAll(async () => {
    const upstream = { token: 'glpat-developer' };
    small = await startStack({ simulator: { tickMs: 3_600_000 }, upstream, gateway: { limits: { maxSearchBytes: 8 * KiB } } });
    budget = await startStack({ simulator: { tickMs: 3_600_000 }, upstream, gateway: { limits: { maxUpstreamBytes: 1024 * KiB } } });
    large = await startStack({ simulator: { tickMs: 3_600_000 }, upstream, gateway: { limits: { maxUpstreamBytes: 128 * 1024 * KiB } } });
  });
  afterAll(async () => {
    await small?.close();
    await budget?.close();
    await large?.close();
  });

  const searchOn = async (on: Stack, job: string, pattern: string) => {
    const response = await on.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${job}") { logSearch(pattern: "${pattern}") { matches { lineNumber } scannedBytes truncated truncatedBy endReached } } } }`);
    expect(response.errors).toBeUndefined();
    return response.data!.project.build.logSearch;
  };

  it('stops at limits.maxSearchBytes, on a whole line, and says so', async () => {
    const job = await bigLog(small, 256 * KiB);
    const result = await searchOn(small, job, 'Job succeeded');
    expect(result).toMatchObject({ matches: [], truncated: true, truncatedBy: 'maxSearchBytes', endReached: false });
    expect(result.scannedBytes).toBeLessThanOrEqual(8 * KiB);
    expect(result.scannedBytes).toBeGreaterThan(6 * KiB);
    // Matches found before the bound are answered; only `first` of them means nothing was cut off.
    expect(await searchOn(small, job, 'Running with')).toMatchObject({ matches: [{ lineNumber: 1 }], truncated: true });
    const first = await small.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${job}") { logSearch(pattern: "Running with", first: 1) { matches { lineNumber } truncated endReached } } } }`);
    expect(first.data!.project.build.logSearch).toEqual({ matches: [{ lineNumber: 1 }], truncated: false, endReached: false });
  });

  it('stops short of the operation\'s upstream byte budget instead of failing', async () => {
    const job = await bigLog(budget, 4096 * KiB);
    const result = await searchOn(budget, job, 'Job succeeded');
    expect(result).toMatchObject({ matches: [], truncated: true, truncatedBy: 'maxUpstreamBytes', endReached: false });
    expect(result.scannedBytes).toBeLessThan(1024 * KiB);
    expect(result.scannedBytes).toBeGreaterThan(512 * KiB);
    // Under the budget the whole log is searched.
    const whole = await bigLog(budget, 256 * KiB);
    expect(await searchOn(budget, whole, 'Job succeeded')).toMatchObject({ matches: [{}], truncated: false, endReached: true, scannedBytes: 256 * KiB });
  });

  // Memory is measured by `npm run bench -- logsearch` (bench/RESULTS.md), where the gateway has a
  // process of its own: here the simulator's 64 MiB log and its garbage share the process and hide it.
  it('scans a 64 MiB log to its end, every byte counted', async () => {
    const job = await bigLog(large, 64 * 1024 * KiB);
    await large.resetStats();
    const result = await searchOn(large, job, 'no such text in the log');
    expect(result).toMatchObject({ matches: [], truncated: false, endReached: true, scannedBytes: 64 * 1024 * KiB });
    expect((await large.stats()).routes[TRACE_ROUTE]).toBe(1);
  }, 60_000);
});
