/**
 * Issue #12 item 2: `Build.trace(offset, limit)` streams and stops. Ten aliased 1-byte windows on a
 * 16 MiB log read the log once, only as far as the furthest window, whether the upstream honours
 * `Range` (206) or sends the whole log (200, as GitLab does), and the gateway's memory does not grow
 * with the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, codes, startStack } from './helpers/stack.js';
import { bigLog } from './helpers/big-log.js';

const MiB = 2 ** 20;
const TRACE_ROUTE = 'GET /api/v4/projects/:id/jobs/:job_id/trace';
const WINDOWS = Array.from({ length: 10 }, (_, i) => i * 1000);

describe.each([
  ['honours Range (206)', true],
  ['sends the whole log (200, as GitLab)', false],
])('ten aliased windows on a 16 MiB log, when the upstream %s', (_name, traceRange) => {
  let stack: Stack;
  let job: string;
  let log: Buffer;
  beforeAll(async () => {
    stack = await startStack({ simulator: { tickMs: 3_600_000, traceRange }, upstream: { token: 'glpat-developer' } });
    job = await bigLog(stack, 16 * MiB);
    const response = await fetch(`${stack.simulator.url}/api/v4/projects/1/jobs/${job}/trace`, { headers: { 'PRIVATE-TOKEN': 'glpat-developer', range: 'bytes=0-65535' } });
    log = Buffer.from(await response.arrayBuffer()).subarray(0, 65536);
  }, 60_000);
  afterAll(() => stack?.close());

  it('reads the log once, only as far as the furthest window, without growing memory', async () => {
    const query = `{ project(upstream: "gitlab", id: "1") { build(id: "${job}") { ${WINDOWS.map((offset, i) => `w${i}: trace(offset: ${offset}, limit: 1) { offset nextOffset content size complete }`).join(' ')} } } }`;
    await stack.resetStats();
    const rss = process.memoryUsage().rss;
    let peak = rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const response = await stack.graphql(query);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(response.errors).toBeUndefined();
    WINDOWS.forEach((offset, i) => {
      const chunk = response.data!.project.build[`w${i}`];
      expect(chunk.size).toBe(16 * MiB);
      expect(chunk.complete).toBe(false);
      expect(Buffer.from(chunk.content)).toEqual(log.subarray(chunk.offset, chunk.nextOffset));
      expect(chunk.offset).toBeGreaterThanOrEqual(offset);
    });
    const stats = stack.simulator.stats();
    expect(stats.routes[TRACE_ROUTE]).toBe(1);
    // With Range the simulator sends only the span asked for; without it, what it wrote before the
    // gateway closed the connection is bounded by socket buffers, not by the 16 MiB log.
    if (traceRange) expect(stats.bytes[TRACE_ROUTE]).toBeLessThan(16 * 1024);
    // Simulator and gateway share this process; 16 MiB read ten times grew it by 95–140 MB before.
    expect((peak - rss) / MiB).toBeLessThan(40);
  });

  it('cuts aliased windows around a multibyte character as each window reads alone', async () => {
    const at = log.findIndex((byte) => byte >= 0x80);
    expect(at).toBeGreaterThan(0);
    const windows = Array.from({ length: 12 }, (_, i) => [at - 2 + (i % 6), 1 + Math.floor(i / 6) * 3] as const);
    const query = (list: ReadonlyArray<readonly [number, number]>) =>
      `{ project(upstream: "gitlab", id: "1") { build(id: "${job}") { ${list.map(([offset, limit], i) => `w${i}: trace(offset: ${offset}, limit: ${limit}) { offset nextOffset content }`).join(' ')} } } }`;
    const together = await stack.graphql(query(windows));
    expect(together.errors).toBeUndefined();
    for (const [i, window] of windows.entries()) {
      const alone = await stack.graphql(query([window]));
      const chunk = together.data!.project.build[`w${i}`];
      expect(chunk).toEqual(alone.data!.project.build.w0);
      expect(Buffer.from(chunk.content)).toEqual(log.subarray(chunk.offset, chunk.nextOffset));
    }
  });

  it('answers a window at the very end, and refuses one past it with BAD_USER_INPUT', async () => {
    const end = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${job}") { trace(offset: ${16 * MiB - 3}, limit: 100) { offset nextOffset size complete } } } }`);
    expect(end.errors).toBeUndefined();
    expect(end.data!.project.build.trace).toMatchObject({ nextOffset: 16 * MiB, size: 16 * MiB, complete: true });
    const past = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${job}") { trace(offset: ${16 * MiB + 1}, limit: 1) { content } } } }`);
    expect(codes(past)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('aliased windows on a line-numbered log (bk-ci)', () => {
  const BUILD = 'p-demo/b-8737a7af414b435fd3bbeac4d79b6169';
  const LOGS_ROUTE = 'GET /ms/openapi/api/apigw/v3/projects/:projectId/pipelines/:pipelineId/builds/:buildId/logs/after';
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      simulator: { tickMs: 3_600_000 },
      upstreams: (url) => [{ name: 'bkci', kind: 'bkci-apigw', baseUrl: `${url}/ms/openapi/api/apigw/v3`, token: 'alice' }],
    });
  });
  afterAll(() => stack?.close());

  const trace = (windows: Array<[number, number]>) =>
    stack.graphql(`query($id: ID!) { project(upstream: "bkci", id: "demo") { build(id: $id) { ${windows.map(([offset, limit], i) => `w${i}: trace(offset: ${offset}, limit: ${limit}) { offset nextOffset content size complete }`).join(' ')} } } }`, { id: BUILD });

  it('cuts every window from one read, each as it reads alone', async () => {
    const windows: Array<[number, number]> = [[0, 5], [3, 4], [10, 2], [0, 5], [2, 1000]];
    const alone: unknown[] = [];
    for (const window of windows) {
      const response = await trace([window]);
      expect(response.errors).toBeUndefined();
      alone.push(response.data!.project.build.w0);
    }
    await stack.resetStats();
    const one = await trace([[0, 1002]]);
    const single = (await stack.stats()).routes[LOGS_ROUTE]!;
    expect(one.errors).toBeUndefined();
    await stack.resetStats();
    const together = await trace(windows);
    expect(together.errors).toBeUndefined();
    windows.forEach((_window, i) => expect(together.data!.project.build[`w${i}`]).toEqual(alone[i]));
    // The build's status (for its attempt) and one paged read of the span, as for one window.
    expect((await stack.stats()).routes[LOGS_ROUTE]).toBe(single);
  });
});
