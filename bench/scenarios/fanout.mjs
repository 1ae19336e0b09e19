/**
 * `fanout`: many SSE subscribers with distinct tokens on one running build whose log grows every tick.
 * Measures what they cost the upstream (trace polls per poll interval), how late the bytes arrive,
 * the gateway's resident memory, and whether every subscriber's reassembled log equals the upstream's.
 *
 * Delivery delay: the simulator's clock is driven from here (sim-clock.mjs: `POST /__sim/tick`, its own
 * timer off), and the log's length read after each tick (`HEAD …/trace`, a route counted apart from the
 * gateway's `GET`); a subscriber's delay for a step is when its first chunk reaching that length arrived,
 * minus when the tick was sent (high by at most the tick's round trip, which is reported). Every process
 * reads the same clock (`performance.timeOrigin + now()`). While the subscribers connect the log grows
 * once every `CONNECT_TICK_INTERVALS` poll intervals only: each new subscriber is first sent the whole log
 * so far, and at 10,000 a log growing at full rate meanwhile would cost the connections gigabytes.
 */
import { DEVELOPER_TOKEN, gql, hashLog, now, postJson, resetSimStats, simStats, sleep, sumRoutes } from '../lib/http.mjs';
import { NEVER_MS, startClock } from '../lib/sim-clock.mjs';
import { assertAlive, cpuSeconds, machineBusySeconds, rssMiB, startGateway, startSimulator, waitQuiet } from '../lib/procs.mjs';
import { fmt, table } from '../lib/report.mjs';
import { WS_WORKER, startPools } from '../lib/workers.mjs';

/** While connecting: one tick per this many poll intervals. */
const CONNECT_TICK_INTERVALS = 4;
/** Poll intervals at the window's tick rate before the window starts (the poller's back-off runs out). */
const SETTLE_INTERVALS = 6;
const TRACE_QUERY = `subscription($id: ID!) { buildTrace(id: $id) { offset nextOffset content complete } }`;
const TRACE_GET = /^GET \/api\/v4\/projects\/:id\/jobs\/:job_id\/trace$/;
const JOB_GET = /^GET \/api\/v4\/projects\/:id\/jobs\/:job_id$/;

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

/** `--transports`: `sse`, `ws` or `sse+ws` (half each, the default). */
function transportsOf(value = 'sse+ws') {
  const list = value.split('+');
  if (!list.length || list.some((t) => t !== 'sse' && t !== 'ws')) throw new Error(`--transports must be sse, ws or sse+ws, got ${value}`);
  return list;
}

export async function runFanout(opts) {
  const transports = transportsOf(opts.transports);
  const sim = await startSimulator(['--tick-ms', String(NEVER_MS)]);
  let gateway;
  let subs;
  let clock;
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

    const connectTickMs = Math.max(opts.tickMs, CONNECT_TICK_INTERVALS * opts.pollMs);
    clock = startClock({ simUrl: sim.url, traceUrl, headers: { 'PRIVATE-TOKEN': DEVELOPER_TOKEN }, tickMs: connectTickMs });
    const rss = { idle: rssMiB(gateway.pid) };
    const connectStart = now();
    let lastShown = 0;
    // Half the subscribers (odd indexes) over graphql-ws with `--transports sse+ws` (the default), each
    // transport in worker processes of its own (half of --workers each).
    const all = Array.from({ length: opts.subscribers }, (_, index) => ({ index, token: tokens[index % tokens.length], variables: { id: buildId } }));
    const groups = transports.map((transport, t) => ({ transport, subscribers: all.filter((s) => s.index % transports.length === t) }));
    const counts = groups.map(() => 0);
    subs = await startPools(
      groups.map(({ transport, subscribers }, t) => ({
        url: gateway.url,
        query: TRACE_QUERY,
        subscribers,
        worker: transport === 'ws' ? WS_WORKER : undefined,
        workers: Math.max(1, Math.round(opts.workers / groups.length)),
        arrivals: true,
        // 10,000 take a while to connect on two cores (each is first sent the whole log so far).
        readyTimeoutMs: Math.max(180_000, opts.subscribers * 60),
        onProgress: (connected) => {
          counts[t] = connected;
          const total = counts.reduce((a, b) => a + b, 0);
          if (total - lastShown >= 500) {
            lastShown = total;
            process.stdout.write(`  ${total} subscribers connected\n`);
          }
        },
      })),
    );
    const connectSeconds = (now() - connectStart) / 1000;
    assertAlive(sim, gateway);

    // The measurement window, once the rest of the machine is idle (or the wait is over).
    const quiet = opts.quietWait > 0 ? await waitQuiet([sim.pid, gateway.pid, ...subs.pids], { maxSeconds: opts.quietWait, threshold: 0.5 }) : undefined;
    clock.retime(opts.tickMs);
    // Steady state first: while the log grew once every CONNECT_TICK_INTERVALS intervals, most polls
    // found nothing and the poller backed off (its interval × 1.5 per quiet poll); its first poll at the
    // window's rate may come that much later. The window starts once that has passed.
    await sleep(SETTLE_INTERVALS * opts.pollMs);
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
    const clockErrors = await clock.stop();
    const rtt = [...clock.roundTrips].sort((a, b) => a - b);
    const rttAt = (q) => rtt[Math.min(rtt.length - 1, Math.floor(q * rtt.length))];

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
    const delay = deliveryDelays(clock.steps, results, from, to);
    const byTransport = transports.map((transport) => {
      const mine = results.filter((r) => r.transport === transport);
      return {
        transport,
        count: mine.length,
        equal: mine.filter((r) => r.sha256 === upstream.sha256 && r.bytes === upstream.bytes).length,
        delay: deliveryDelays(clock.steps, mine, from, to),
      };
    });
    // Resident memory above the idle gateway's, per open subscription (KiB).
    const perSubscriber = (mib) => (mib === undefined || !subs.connected ? undefined : ((mib - rss.idle) * 1024) / subs.connected);
    const delayBar = opts.pollMs + 500;
    const pollsPerInterval = tracePolls / intervals;
    // Chunks that reached subscribers within the window (arrivals are [time, nextOffset] pairs, flattened).
    const delivered = results.reduce((n, r) => {
      for (let i = 0; i < r.arrivals.length; i += 2) if (r.arrivals[i] >= from && r.arrivals[i] <= to) n++;
      return n;
    }, 0);

    const text = table(
      ['measure', 'value', 'bar'],
      [
        [
          'subscribers connected / asked',
          `${subs.connected} / ${opts.subscribers} (${byTransport.map((t) => `${t.count} ${t.transport === 'ws' ? 'graphql-ws' : 'SSE'}`).join(' + ')}; in ${fmt.num(connectSeconds)} s, ${subs.pids.length} worker processes)`,
          String(opts.subscribers),
        ],
        ['distinct tokens (no service token)', String(tokens.length), '≥ 10'],
        ['window', `${fmt.num(windowMs / 1000)} s; log +${opts.bytesPerTick} B per ${opts.tickMs} ms tick; trace.pollIntervalMs ${opts.pollMs}`, ''],
        ['upstream trace polls (`GET …/jobs/:id/trace`) in window', `${tracePolls} over ${fmt.num(intervals)} intervals`, ''],
        ['trace polls per poll interval', fmt.num(pollsPerInterval, 2), `1.00 (${tracePolls <= Math.ceil(intervals) + 1 && pollsPerInterval >= 0.95 ? 'met' : 'NOT met'}${pollsPerInterval < 0.95 ? '; under 1: the poller fell behind its interval' : ''})`],
        ['mean time between trace polls', `${fmt.num(windowMs / Math.max(1, tracePolls), 0)} ms`, ''],
        ['job reads (`GET …/jobs/:id`) in window (status polls + access rechecks)', `${jobReads} (${fmt.num(jobReads / intervals, 2)} per interval)`, ''],
        ['upstream trace bytes in window', `${fmt.num(traceBytes / 2 ** 20)} MiB`, ''],
        [
          'delivery delay p50 / p99 / max',
          `${fmt.ms(delay.p50)} / ${fmt.ms(delay.p99)} / ${fmt.ms(delay.max)} ms (${fmt.int(delay.count)} samples, ${delay.steps} log steps)`,
          `p99 < ${delayBar} ms (${delay.p99 < delayBar ? 'met' : 'NOT met'})`,
        ],
        ...(byTransport.length > 1
          ? byTransport.map((t) => [`… ${t.transport === 'ws' ? 'graphql-ws' : 'SSE'} subscribers: p50 / p99 / max`, `${fmt.ms(t.delay.p50)} / ${fmt.ms(t.delay.p99)} / ${fmt.ms(t.delay.max)} ms`, ''])
          : []),
        [
          'gateway RSS per subscriber above idle, window start / end',
          `${fmt.num(perSubscriber(rss.start))} / ${fmt.num(perSubscriber(rss.end))} KiB`,
          `≤ 30 KB (${Math.max(perSubscriber(rss.start) ?? Infinity, perSubscriber(rss.end) ?? Infinity) * 1.024 <= 30 ? 'met' : 'NOT met'})`,
        ],
        ['gateway RSS idle / window start / middle / end / peak / after completion', [rss.idle, rss.start, rss.middle, rss.end, peak, rss.after].map((m) => fmt.num(m)).join(' / ') + ' MiB', ''],
        [
          'CPU over window (100% = one core): gateway · simulator · load workers · bench (clock) · others',
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
        [
          'chunks delivered in window, and the gateway\'s CPU per chunk delivered',
          `${fmt.int(delivered)} (${fmt.int(delivered / (windowMs / 1000))}/s); ${fmt.int(((cpu1 - cpu0) * 1e6) / Math.max(1, delivered))} µs each`,
          '',
        ],
        ['streams completed (`complete: true`)', `${completed} / ${results.length}`, ''],
        [
          'reassembled log == upstream log (length + sha256)',
          `${equal} / ${results.length}${byTransport.length > 1 ? ` (${byTransport.map((t) => `${t.transport === 'ws' ? 'graphql-ws' : 'SSE'} ${t.equal} / ${t.count}`).join(', ')})` : ''}; upstream ${fmt.int(upstream.bytes)} B`,
          'all',
        ],
        ['chunks out of order or with wrong byte length', String(gaps), '0'],
        ['subscribers with errors', String(errored.length), '0'],
      ],
    );
    const notes = [
      `Delivery delay: the bench drives the simulator's clock (\`POST /__sim/tick\` every ${opts.tickMs} ms in the window, every ${connectTickMs} ms while the subscribers connected; its own timer off) and reads the log's length after each tick (\`HEAD\`, counted apart; ${clock.steps.length} steps, ${clockErrors} errors); a subscriber's delay for a step is the arrival of its first chunk reaching that length minus when the tick was sent: high by at most the tick's round trip (p50 ${fmt.ms(rttAt(0.5))} ms, p99 ${fmt.ms(rttAt(0.99))} ms). ${delay.missing} (subscriber, step) pairs never arrived.`,
      `The window started ${fmt.num((SETTLE_INTERVALS * opts.pollMs) / 1000)} s after the log began growing every ${opts.tickMs} ms: while the subscribers connected it grew once every ${connectTickMs} ms, most polls found nothing new and the poller backed off (× 1.5 per quiet poll, as it does for any quiet build); the window measures the steady state after that.`,
      ...(quiet ? [`Before the window the bench waited ${quiet.waited.toFixed(0)} s for other processes to use < 50% of a core (${quiet.quiet ? 'they did' : 'they did not'}); the CPU row shows what they used during it.`] : []),
      'Trace polls counted from the simulator\'s /__sim/stats, reset when the last subscriber was connected and read at the end of the window.',
      `RSS per subscriber: (gateway VmRSS − its idle VmRSS, after one query and before any subscriber) ÷ subscribers connected, in KiB (1 KiB = 1.024 KB; the bar is checked in KB).`,
      ...(opts.bytesPerTickReduced
        ? [`The log grows ${opts.bytesPerTick} B per tick, not the 2,048 B of 1,000 subscribers: ${fmt.int(opts.subscribers)} subscribers sent 20 KiB/s each would need the two cores for the load workers alone (the same bytes per second go out in total as at 1,000 × 2,048 B).`]
        : []),
    ];
    if (errored.length) notes.push(`first subscriber errors: ${JSON.stringify(errored.slice(0, 3).map((r) => ({ index: r.index, status: r.status, errors: r.errors })))}`);
    const bad = [];
    if (equal !== results.length) bad.push(`${results.length - equal} subscribers' logs differ from the upstream's`);
    if (gaps) bad.push(`${gaps} chunks out of order or with a wrong byte length`);
    if (subs.connected !== opts.subscribers) bad.push(`${opts.subscribers - subs.connected} subscribers did not connect`);
    return { text, notes, failed: bad.length ? bad.join('; ') : undefined };
  } finally {
    await clock?.stop();
    subs?.stop();
    await Promise.all([gateway?.stop(), sim.stop()]);
  }
}
