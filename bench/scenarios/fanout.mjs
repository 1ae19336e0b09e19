/**
 * `fanout`: many SSE subscribers with distinct tokens on one running build whose log grows every tick.
 * Measures what they cost the upstream (trace polls per poll interval), how late the bytes arrive,
 * the gateway's resident memory, and whether every subscriber's reassembled log equals the upstream's.
 *
 * Delivery delay: this process HEADs the job's log on the simulator every `PROBE_MS` (the route
 * `HEAD …/trace` is counted apart from the gateway's `GET …/trace`) and notes when each new length
 * first appears; a subscriber's delay for that step is when its first chunk reaching that length
 * arrived, minus that moment. Every process reads the same clock (`performance.timeOrigin + now()`).
 * The probe sees a step up to PROBE_MS + one round trip after the simulator wrote it, so the figures
 * are low by at most that much.
 */
import http from 'node:http';
import { DEVELOPER_TOKEN, gql, hashLog, headLogLength, now, postJson, resetSimStats, simStats, sleep, sumRoutes } from '../lib/http.mjs';
import { assertAlive, cpuSeconds, machineBusySeconds, rssMiB, startGateway, startSimulator, waitQuiet } from '../lib/procs.mjs';
import { fmt, table } from '../lib/report.mjs';
import { startSubscribers } from '../lib/workers.mjs';

const PROBE_MS = 5;
const TRACE_QUERY = `subscription($id: ID!) { buildTrace(id: $id) { offset nextOffset content complete } }`;
const TRACE_GET = /^GET \/api\/v4\/projects\/:id\/jobs\/:job_id\/trace$/;
const JOB_GET = /^GET \/api\/v4\/projects\/:id\/jobs\/:job_id$/;

/** Polls the log length until `stop()`; returns the steps `[time, length]` in order. */
function startProbe(url) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const steps = [];
  let last = -1;
  let running = true;
  let errors = 0;
  const loop = (async () => {
    // Bounded: stops when asked, or after an hour whatever happens.
    const deadline = Date.now() + 3_600_000;
    while (running && Date.now() < deadline) {
      try {
        const length = await headLogLength(agent, url, { 'PRIVATE-TOKEN': DEVELOPER_TOKEN });
        const t = now();
        if (length !== last) {
          steps.push([t, length]);
          last = length;
        }
      } catch {
        errors++;
      }
      await sleep(PROBE_MS);
    }
  })();
  return {
    steps,
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return errors;
    },
  };
}

/** Delays (ms) from each step inside [from, to] to the first arrival of a chunk reaching it, per subscriber. */
function deliveryDelays(steps, results, from, to) {
  const window = steps.filter(([t]) => t >= from && t <= to);
  const delays = [];
  let missing = 0;
  for (const result of results) {
    const a = result.arrivals;
    let j = 0;
    for (const [t, length] of window) {
      while (j < a.length && a[j + 1] < length) j += 2;
      if (j >= a.length) {
        missing++;
        continue;
      }
      delays.push(a[j] - t);
    }
  }
  delays.sort((x, y) => x - y);
  const at = (q) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))];
  return { count: delays.length, missing, p50: at(0.5), p99: at(0.99), max: delays[delays.length - 1], steps: window.length };
}

export async function runFanout(opts) {
  const sim = await startSimulator(['--tick-ms', String(opts.tickMs)]);
  let gateway;
  let subs;
  try {
    const tokens = Array.from({ length: Math.max(1, opts.tokens) }, (_, i) => `glpat-bench-fanout-${i}`);
    for (const token of tokens) await postJson(`${sim.url}/__sim/tokens`, { token, like: DEVELOPER_TOKEN });
    // No service token: each subscriber's own token is what the gateway may read with.
    gateway = await startGateway({
      upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${sim.url}/api/v4` }],
      trace: { pollIntervalMs: opts.pollMs },
    });
    const job = await postJson(`${sim.url}/__sim/jobs`, {
      project: 1,
      name: 'bench:fanout',
      logBytesPerTick: opts.bytesPerTick,
      totalBytes: 256 * 1024 * 1024,
    });
    const found = await gql(gateway.url, `{ project(upstream:"gitlab", id:"1") { build(id: "${job.id}") { id status } } }`, {}, { 'PRIVATE-TOKEN': tokens[0] });
    const buildId = found.project.build.id;
    const traceUrl = `${sim.url}/api/v4/projects/1/jobs/${job.id}/trace`;

    const rss = { idle: rssMiB(gateway.pid) };
    const connectStart = now();
    let lastShown = 0;
    subs = await startSubscribers({
      url: gateway.url,
      query: TRACE_QUERY,
      subscribers: Array.from({ length: opts.subscribers }, (_, index) => ({ index, token: tokens[index % tokens.length], variables: { id: buildId } })),
      workers: opts.workers,
      arrivals: true,
      onProgress: (connected) => {
        if (connected - lastShown >= 250) {
          lastShown = connected;
          process.stdout.write(`  ${connected} subscribers connected\n`);
        }
      },
    });
    const connectSeconds = (now() - connectStart) / 1000;
    assertAlive(sim, gateway);

    // The measurement window, once the rest of the machine is idle (or the wait is over).
    const quiet = opts.quietWait > 0 ? await waitQuiet([sim.pid, gateway.pid, ...subs.pids], { maxSeconds: opts.quietWait, threshold: 0.5 }) : undefined;
    const probe = startProbe(traceUrl);
    await resetSimStats(sim.url);
    const from = now();
    const cpu0 = cpuSeconds(gateway.pid);
    const others0 = [cpuSeconds(sim.pid), ...subs.pids.map(cpuSeconds)];
    const machine0 = machineBusySeconds();
    const self0 = process.cpuUsage();
    rss.start = rssMiB(gateway.pid);
    let peak = rss.start;
    const half = (opts.seconds * 1000) / 2;
    for (let elapsed = 0; elapsed < opts.seconds * 1000; elapsed += 1000) {
      await sleep(Math.min(1000, opts.seconds * 1000 - elapsed));
      const r = rssMiB(gateway.pid);
      peak = Math.max(peak, r ?? 0);
      if (rss.middle === undefined && elapsed + 1000 >= half) rss.middle = r;
      assertAlive(sim, gateway);
    }
    const stats = await simStats(sim.url);
    const to = now();
    const cpu1 = cpuSeconds(gateway.pid);
    const others1 = [cpuSeconds(sim.pid), ...subs.pids.map(cpuSeconds)];
    const machine1 = machineBusySeconds();
    const self = process.cpuUsage(self0);
    rss.end = rssMiB(gateway.pid);
    const probeErrors = await probe.stop();

    // Finish the build; every stream should complete with the footer.
    await postJson(`${sim.url}/__sim/jobs/${job.id}/finish`, { status: 'success' });
    const finishTimer = setTimeout(() => subs.stop(), 60_000 + opts.pollMs * 20);
    const results = await subs.results();
    clearTimeout(finishTimer);
    rss.after = rssMiB(gateway.pid);
    assertAlive(sim, gateway);
    const upstream = await hashLog(traceUrl, { 'PRIVATE-TOKEN': DEVELOPER_TOKEN });

    const windowMs = to - from;
    const intervals = windowMs / opts.pollMs;
    const tracePolls = sumRoutes(stats.routes, (k) => TRACE_GET.test(k));
    const jobReads = sumRoutes(stats.routes, (k) => JOB_GET.test(k));
    const traceBytes = sumRoutes(stats.bytes, (k) => TRACE_GET.test(k));
    const equal = results.filter((r) => r.sha256 === upstream.sha256 && r.bytes === upstream.bytes).length;
    const completed = results.filter((r) => r.complete).length;
    const gaps = results.reduce((n, r) => n + r.gaps + r.badLengths, 0);
    const errored = results.filter((r) => r.errors.length);
    const delay = deliveryDelays(probe.steps, results, from, to);

    const text = table(
      ['measure', 'value', 'bar'],
      [
        ['subscribers connected / asked', `${subs.connected} / ${opts.subscribers} (in ${fmt.num(connectSeconds)} s, ${opts.workers} worker processes)`, '1,000'],
        ['distinct tokens (no service token)', String(tokens.length), '≥ 10'],
        ['window', `${fmt.num(windowMs / 1000)} s; log +${opts.bytesPerTick} B per ${opts.tickMs} ms tick; trace.pollIntervalMs ${opts.pollMs}`, ''],
        ['upstream trace polls (`GET …/jobs/:id/trace`) in window', `${tracePolls} over ${fmt.num(intervals)} intervals`, ''],
        ['trace polls per poll interval', fmt.num(tracePolls / intervals, 2), `≤ 1 per credential (≤ ${tokens.length})`],
        ['mean time between trace polls', `${fmt.num(windowMs / Math.max(1, tracePolls), 0)} ms`, ''],
        ['job reads (`GET …/jobs/:id`) in window (status polls + access rechecks)', `${jobReads} (${fmt.num(jobReads / intervals, 2)} per interval)`, ''],
        ['upstream trace bytes in window', `${fmt.num(traceBytes / 2 ** 20)} MiB`, ''],
        ['delivery delay p50 / p99 / max', `${fmt.ms(delay.p50)} / ${fmt.ms(delay.p99)} / ${fmt.ms(delay.max)} ms (${fmt.int(delay.count)} samples, ${delay.steps} log steps)`, ''],
        ['gateway RSS idle / window start / middle / end / peak / after completion', [rss.idle, rss.start, rss.middle, rss.end, peak, rss.after].map((m) => fmt.num(m)).join(' / ') + ' MiB', ''],
        [
          'CPU over window (100% = one core): gateway · simulator · load workers · bench (probe) · others',
          (() => {
            const gw = cpu1 - cpu0;
            const simCpu = others1[0] - others0[0];
            const workers = others1.slice(1).reduce((a, b) => a + b, 0) - others0.slice(1).reduce((a, b) => a + b, 0);
            const probeCpu = (self.user + self.system) / 1e6;
            const rest = Math.max(0, machine1 - machine0 - gw - simCpu - workers - probeCpu);
            return [gw, simCpu, workers, probeCpu, rest].map((s) => fmt.pct(s / (windowMs / 1000))).join(' · ');
          })(),
          '',
        ],
        ['streams completed (`complete: true`)', `${completed} / ${results.length}`, ''],
        ['reassembled log == upstream log (length + sha256)', `${equal} / ${results.length} (upstream ${fmt.int(upstream.bytes)} B)`, 'all'],
        ['chunks out of order or with wrong byte length', String(gaps), '0'],
        ['subscribers with errors', String(errored.length), '0'],
      ],
    );
    const notes = [
      `Delivery delay: this process HEADs the log every ${PROBE_MS} ms (${probe.steps.length} length steps seen, ${probeErrors} probe errors; its \`HEAD\` route is counted apart) and each subscriber's delay for a step is when its first chunk reaching that length arrived minus when the probe first saw that length; low by at most ${PROBE_MS} ms + one HEAD round trip. ${delay.missing} (subscriber, step) pairs never arrived.`,
      ...(quiet ? [`Before the window the bench waited ${quiet.waited.toFixed(0)} s for other processes to use < 50% of a core (${quiet.quiet ? 'they did' : 'they did not'}); the CPU row shows what they used during it.`] : []),
      'Trace polls counted from the simulator\'s /__sim/stats, reset when the last subscriber was connected and read at the end of the window.',
    ];
    if (errored.length) notes.push(`first subscriber errors: ${JSON.stringify(errored.slice(0, 3).map((r) => ({ index: r.index, status: r.status, errors: r.errors })))}`);
    const bad = [];
    if (equal !== results.length) bad.push(`${results.length - equal} subscribers' logs differ from the upstream's`);
    if (subs.connected !== opts.subscribers) bad.push(`${opts.subscribers - subs.connected} subscribers did not connect`);
    return { text, notes, failed: bad.length ? bad.join('; ') : undefined };
  } finally {
    subs?.stop();
    await Promise.all([gateway?.stop(), sim.stop()]);
  }
}
