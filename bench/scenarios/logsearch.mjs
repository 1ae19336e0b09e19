/**
 * `logsearch`: `Build.logSearch` and `Build.failure` on a large log (default 200 MiB, `--big-bytes`), one
 * operation at a time, each scanning the whole log (a pattern that never matches, so nothing stops the
 * scan early). Measures each operation's time and scan rate (scannedBytes / time), the gateway's
 * resident memory (sampled every 100 ms: peak − start) and CPU, and what it cost the upstream (the
 * simulator's trace requests and bytes). The simulator's clock is parked and driven by the bench
 * (`POST /__sim/tick`), so the logs are written before anything is measured.
 */
import { DEVELOPER_TOKEN, gql, postJson, resetSimStats, simStats, sleep, sumRoutes } from '../lib/http.mjs';
import { assertAlive, cpuSeconds, rssMiB, startGateway, startSimulator } from '../lib/procs.mjs';
import { NEVER_MS } from '../lib/sim-clock.mjs';
import { fmt, table } from '../lib/report.mjs';

const MiB = 2 ** 20;
const SAMPLE_MS = 100;
const TRACE_GET = /^GET \/api\/v4\/projects\/:id\/jobs\/:job_id\/trace$/;
const BENCH_MAX_BYTES_PER_TICK = 64 * MiB;
const SEARCH_FIELDS = 'scannedBytes truncated truncatedBy endReached matches { lineNumber }';

const OPERATIONS = [
  {
    name: 'logSearch literal (case-insensitive, the default)',
    field: `logSearch(pattern: "no such text anywhere in the log") { ${SEARCH_FIELDS} }`,
  },
  {
    name: 'logSearch literal, caseSensitive',
    field: `logSearch(pattern: "no such text anywhere in the log", caseSensitive: true) { ${SEARCH_FIELDS} }`,
  },
  {
    name: 'logSearch regex (RE2), case-insensitive',
    field: `logSearch(pattern: "fatal: [a-z]+ [0-9]{12}$", regex: true) { ${SEARCH_FIELDS} }`,
  },
  {
    name: 'logSearch regex (RE2), caseSensitive',
    field: `logSearch(pattern: "fatal: [a-z]+ [0-9]{12}$", regex: true, caseSensitive: true) { ${SEARCH_FIELDS} }`,
  },
  {
    name: 'logSearch regex, first: 20 matches with context: 3',
    field: `logSearch(pattern: "warning: retrying fetch [0-9]+7 ", regex: true, first: 20, context: 3) { ${SEARCH_FIELDS} }`,
  },
  { name: 'failure (a failed build)', field: 'failure { line lineNumber section signature truncated }', failed: true },
];

/** A bench job whose log grows to `bytes` (script lines, sections, colours, UTF-8) by driven ticks; ended `failed` when asked. */
async function bigJob(simUrl, gatewayUrl, bytes, outcome) {
  const ticks = Math.ceil(bytes / BENCH_MAX_BYTES_PER_TICK);
  const perTick = Math.ceil(bytes / ticks);
  // A failed one keeps room to grow, so that the ticks leave it running for `finish` to fail it.
  const total = outcome === 'failed' ? Math.min(bytes + perTick, 256 * MiB) : bytes;
  const job = await postJson(`${simUrl}/__sim/jobs`, { project: 1, name: `bench:logsearch-${outcome}`, logBytesPerTick: perTick, totalBytes: total });
  await postJson(`${simUrl}/__sim/tick?count=${ticks}`);
  if (outcome === 'failed') await postJson(`${simUrl}/__sim/jobs/${job.id}/finish`, { status: 'failed' });
  const found = await gql(gatewayUrl, `{ project(upstream:"gitlab", id:"1") { build(id: "${job.id}") { id status trace(limit: 1) { size } } } }`);
  const build = found.project.build;
  if (build.status !== (outcome === 'failed' ? 'FAILED' : 'SUCCESS')) throw new Error(`bench job ${job.id} is ${build.status}`);
  return { id: build.id, size: build.trace.size };
}

async function measure(gateway, sim, build, operation) {
  const before = [];
  for (let i = 0; i < 10; i++) {
    before.push(rssMiB(gateway.pid));
    await sleep(50);
  }
  const start = Math.min(...before);
  let peak = start;
  const sampler = setInterval(() => {
    const r = rssMiB(gateway.pid);
    if (r !== undefined) peak = Math.max(peak, r);
  }, SAMPLE_MS);
  await resetSimStats(sim.url);
  const cpu0 = cpuSeconds(gateway.pid);
  const began = performance.now();
  let data;
  try {
    data = await gql(gateway.url, `query($id: ID!) { build(id: $id) { ${operation.field} } }`, { id: build.id });
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - began) / 1000;
  const cpu = cpuSeconds(gateway.pid) - cpu0;
  peak = Math.max(peak, rssMiB(gateway.pid) ?? peak);
  const stats = await simStats(sim.url);
  const answer = data.build.logSearch ?? data.build.failure;
  return {
    seconds,
    cpu,
    rss: { start, peak, growth: peak - start },
    answer,
    scanned: answer.scannedBytes ?? build.size,
    polls: sumRoutes(stats.routes, (k) => TRACE_GET.test(k)),
    traceBytes: sumRoutes(stats.bytes, (k) => TRACE_GET.test(k)),
  };
}

export async function runLogSearch(opts) {
  const sim = await startSimulator(['--tick-ms', String(NEVER_MS)]);
  let gateway;
  try {
    gateway = await startGateway({
      upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${sim.url}/api/v4`, token: DEVELOPER_TOKEN }],
      // One operation reads the whole log: the byte budget (32 MiB by default) would stop it first.
      limits: { maxUpstreamBytes: 512 * MiB, maxSearchBytes: 256 * MiB },
      requestDeadlineMs: 300_000,
    });
    const succeeded = await bigJob(sim.url, gateway.url, opts.bigBytes, 'success');
    const failed = await bigJob(sim.url, gateway.url, opts.bigBytes, 'failed');
    const rows = [];
    const bad = [];
    for (const operation of OPERATIONS) {
      const build = operation.failed ? failed : succeeded;
      process.stdout.write(`  ${operation.name} …\n`);
      const run = await measure(gateway, sim, build, operation);
      assertAlive(sim, gateway);
      if (run.rss.growth >= 50) bad.push(`${operation.name}: RSS grew ${fmt.num(run.rss.growth)} MiB`);
      if (run.answer.truncated) bad.push(`${operation.name}: truncated`);
      const what = run.answer.matches
        ? `${run.answer.matches.length} matches, endReached ${run.answer.endReached}`
        : `line ${run.answer.lineNumber} (${run.answer.signature}, ${run.answer.section})`;
      rows.push([
        operation.name,
        `${fmt.num(run.scanned / MiB)} / ${fmt.num(build.size / MiB)} MiB`,
        `${fmt.num(run.seconds, 2)} s`,
        fmt.num(run.scanned / MiB / run.seconds),
        fmt.pct(run.cpu / run.seconds),
        `${fmt.num(run.rss.start)} → ${fmt.num(run.rss.peak)} MiB`,
        `${fmt.num(run.rss.growth)} MiB`,
        `${run.polls} (${fmt.num(run.traceBytes / MiB)} MiB)`,
        what,
      ]);
    }
    const text = table(['operation', 'scanned / log', 'time', 'MiB/s', 'gateway CPU', 'gateway RSS start → peak', 'RSS growth', 'upstream trace reads (bytes)', 'answer'], rows);
    const notes = [
      `Logs: two bench jobs of ${fmt.num(opts.bigBytes / MiB)} MiB (+ header; the failed one + its failure footer), written by driven simulator ticks before measuring; the gateway reads them from the simulator as GitLab serves a trace (the whole log, text/plain).`,
      `Gateway: limits.maxUpstreamBytes 512 MiB (the 32 MiB default would truncate the scan at ~32 MiB), maxSearchBytes 256 MiB, requestDeadlineMs 300000; one operation at a time.`,
      `RSS: /proc/<gateway>/status VmRSS every ${SAMPLE_MS} ms during the operation; start = the lowest of 10 samples in the half second before it; growth = peak − start (bar: < 50 MB). MiB/s = scannedBytes / the operation's wall time.`,
    ];
    return { text, notes, failed: bad.length ? bad.join('; ') : undefined };
  } finally {
    await Promise.all([gateway?.stop(), sim.stop()]);
  }
}
