/**
 * `fanout --replicas N` (issue #14): N gateway processes sharing one Redis (a redis-server of the
 * bench's own), SSE subscribers spread round-robin over them on one running build whose log grows every
 * tick, each subscriber with one of `--tokens` tokens (no service token). Measures what they cost the
 * upstream in all (trace polls per poll interval: 1.00 once one replica polls for all), how late the
 * bytes arrive, each replica's memory, and that every reassembled log equals the upstream's.
 * `--kill-at S` SIGKILLs the lease holder S seconds into the window; its subscribers resume on the next
 * replica from their last `nextOffset` (resume-worker.mjs), and the table says whether any were lost
 * and whether any byte was lost or repeated.
 *
 * The simulator's clock is driven from here (sim-clock.mjs), so each append's moment is known.
 */
import { DEVELOPER_TOKEN, gql, hashLog, now, postJson, resetSimStats, simStats, sleep, sumRoutes } from '../lib/http.mjs';
import { findLeaseHolder } from '../lib/lease-holder.mjs';
import { ROOT, assertAlive, cpuSeconds, machineBusySeconds, rssMiB, startGateway, startSimulator, waitQuiet } from '../lib/procs.mjs';
import { startRedisServer } from '../lib/redis-server.mjs';
import { fmt, table } from '../lib/report.mjs';
import { NEVER_MS, startClock } from '../lib/sim-clock.mjs';
import { startSubscribers } from '../lib/workers.mjs';

const WORKER = `${ROOT}/bench/lib/resume-worker.mjs`;
const KEY_PREFIX = 'buildgate:';
const TRACE_QUERY = `subscription($id: ID!, $offset: Int) { buildTrace(id: $id, offset: $offset) { offset nextOffset content complete } }`;
const TRACE_GET = /^GET \/api\/v4\/projects\/:id\/jobs\/:job_id\/trace$/;
const JOB_GET = /^GET \/api\/v4\/projects\/:id\/jobs\/:job_id$/;
/** Delivery after a kill is reported apart for this long: the cut subscribers are resuming. */
const RESUME_MS = 5_000;

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : undefined);
const sorted = (values) => Float64Array.from(values).sort();
const sum = (values) => values.reduce((a, b) => a + b, 0);

/** Delays (ms) from each log step in [from, to) to each subscriber's first chunk reaching it. */
function deliveryDelays(steps, results, from, to) {
  const window = steps.filter(([t]) => t >= from && t < to);
  const delays = [];
  let missing = 0;
  for (const { arrivals: a } of results) {
    let j = 0;
    for (const [t, length] of window) {
      while (j < a.length && a[j + 1] < length) j += 2;
      if (j >= a.length) missing++;
      else delays.push(a[j] - t);
    }
  }
  const d = sorted(delays);
  return { count: d.length, missing, steps: window.length, p50: quantile(d, 0.5), p99: quantile(d, 0.99), max: d[d.length - 1] };
}

/** What one replica's /metrics says: its subscriptions and the trace GETs it sent upstream. */
async function scrape(replica) {
  if (replica.handle.exit) return undefined;
  try {
    const text = await (await fetch(new URL('/metrics', replica.handle.url), { signal: AbortSignal.timeout(5_000) })).text();
    let tracePolls = 0;
    for (const [, labels, value] of text.matchAll(/^buildgate_upstream_request_duration_seconds_count\{([^}]*)\}\s+(\S+)$/gm)) {
      if (/method="GET"/.test(labels) && /route="[^"]*\/trace"/.test(labels)) tracePolls += Number(value);
    }
    const subscriptions = Number(/^buildgate_active_subscriptions\s+(\S+)$/m.exec(text)?.[1]);
    return { tracePolls, subscriptions };
  } catch {
    return undefined;
  }
}
const scrapeAll = (replicas) => Promise.all(replicas.map(scrape));

export async function runFanoutReplicas(opts) {
  const n = opts.replicas;
  const killAt = opts.killAt;
  const redis = await startRedisServer();
  const sim = await startSimulator(['--tick-ms', String(NEVER_MS)]);
  const replicas = [];
  let subs;
  let clock;
  try {
    const tokens = Array.from({ length: Math.max(1, opts.tokens) }, (_, i) => `glpat-bench-fanout-${i}`);
    for (const token of tokens) await postJson(`${sim.url}/__sim/tokens`, { token, like: DEVELOPER_TOKEN });
    // No service token: each subscriber's own token is what a replica may read with.
    const config = {
      upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${sim.url}/api/v4` }],
      trace: { pollIntervalMs: opts.pollMs },
      redis: { url: redis.url, keyPrefix: KEY_PREFIX },
      logLevel: 'warn',
    };
    const handles = await Promise.all(Array.from({ length: n }, (_, i) => startGateway(config, `replica-${i}`)));
    handles.forEach((handle, index) => replicas.push({ index, handle, pid: handle.pid, port: Number(new URL(handle.url).port), url: handle.url }));
    const live = () => replicas.filter((r) => !r.handle.exit);
    const aliveCheck = () => assertAlive(redis, sim, ...replicas.filter((r) => !r.killed).map((r) => r.handle));

    const job = await postJson(`${sim.url}/__sim/jobs`, { project: 1, name: 'bench:fanout', logBytesPerTick: opts.bytesPerTick, totalBytes: 256 * 1024 * 1024 });
    const traceUrl = `${sim.url}/api/v4/projects/1/jobs/${job.id}/trace`;
    // While the subscribers connect, the log grows once per poll interval only: each new subscriber
    // is first sent the whole log so far, and thousands of copies of a long one would make connecting
    // slower and slower. Once per interval still keeps the pollers from backing off.
    clock = startClock({ simUrl: sim.url, traceUrl, headers: { 'PRIVATE-TOKEN': DEVELOPER_TOKEN }, tickMs: Math.max(opts.tickMs, opts.pollMs) });
    // Every replica answers one query first, so that its idle RSS includes what the first request loads.
    const founds = await Promise.all(
      replicas.map((r) => gql(r.url, `{ project(upstream:"gitlab", id:"1") { build(id: "${job.id}") { id status } } }`, {}, { 'PRIVATE-TOKEN': tokens[0] })),
    );
    const buildId = founds[0].project.build.id;

    for (const r of replicas) r.rss = { idle: rssMiB(r.pid) };
    const connectStart = now();
    let lastShown = 0;
    subs = await startSubscribers({
      url: replicas[0].url,
      query: TRACE_QUERY,
      subscribers: Array.from({ length: opts.subscribers }, (_, index) => ({ index, token: tokens[index % tokens.length], replica: index % n, variables: { id: buildId } })),
      workers: opts.workers,
      arrivals: true,
      worker: WORKER,
      extra: { urls: replicas.map((r) => r.url) },
      onProgress: (connected) => {
        if (connected - lastShown >= 500) {
          lastShown = connected;
          process.stdout.write(`  ${connected} subscribers connected\n`);
        }
      },
    });
    const connectSeconds = (now() - connectStart) / 1000;
    aliveCheck();

    clock.retime(opts.tickMs);
    const pids = () => [redis.pid, sim.pid, ...live().map((r) => r.pid), ...subs.pids];
    const quiet = opts.quietWait > 0 ? await waitQuiet(pids(), { maxSeconds: opts.quietWait, threshold: 0.5 }) : undefined;
    const atStart = await scrapeAll(replicas);
    await resetSimStats(sim.url);
    const from = now();
    const cpu0 = new Map(pids().map((pid) => [pid, cpuSeconds(pid)]));
    const machine0 = machineBusySeconds();
    const self0 = process.cpuUsage();
    for (const r of replicas) r.rss.start = r.rss.peak = rssMiB(r.pid);
    const windowMs = opts.seconds * 1000;
    const killMs = killAt > 0 && killAt * 1000 < windowMs ? killAt * 1000 : undefined;
    let kill;
    let middleTaken = false;
    for (let nextSample = from + 1000; ; nextSample += 1000) {
      const end = from + windowMs;
      const due = Math.min(nextSample, end, kill || killMs === undefined ? Infinity : from + killMs);
      await sleep(Math.max(0, due - now()));
      if (!kill && killMs !== undefined && now() >= from + killMs) {
        const beforeKill = await scrapeAll(replicas);
        const statsAtKill = await simStats(sim.url);
        const holder = await findLeaseHolder({ redisUrl: redis.url, keyPrefix: KEY_PREFIX, replicas: live(), jobId: job.id });
        const victim = replicas[holder.index];
        victim.killed = true;
        victim.rss.end = rssMiB(victim.pid);
        victim.cpuAtKill = cpuSeconds(victim.pid);
        const exited = new Promise((resolve) => victim.handle.child.once('exit', resolve));
        const at = now();
        victim.handle.child.kill('SIGKILL');
        await exited;
        kill = { at, holder, victim, beforeKill, statsAtKill, subscriptions: beforeKill[holder.index]?.subscriptions };
        process.stdout.write(`  killed replica ${holder.index} (pid ${victim.pid}, lease holder from: ${holder.source}) at ${((at - from) / 1000).toFixed(1)} s\n`);
      }
      for (const r of live()) r.rss.peak = Math.max(r.rss.peak ?? 0, rssMiB(r.pid) ?? 0);
      if (!middleTaken && now() - from >= windowMs / 2) {
        middleTaken = true;
        for (const r of live()) r.rss.middle = rssMiB(r.pid);
      }
      aliveCheck();
      if (now() >= end) break;
    }
    const stats = await simStats(sim.url);
    const to = now();
    const atEnd = await scrapeAll(replicas);
    const cpu = (pid, last) => (cpuSeconds(pid) ?? last ?? cpu0.get(pid)) - (cpu0.get(pid) ?? 0);
    const cpuShares = { replicas: replicas.map((r) => cpu(r.pid, r.cpuAtKill)), redis: cpu(redis.pid), sim: cpu(sim.pid), workers: sum(subs.pids.map((pid) => cpu(pid))) };
    const machine = machineBusySeconds() - machine0;
    const self = process.cpuUsage(self0);
    for (const r of live()) r.rss.end = rssMiB(r.pid);

    await postJson(`${sim.url}/__sim/jobs/${job.id}/finish`, { status: 'success' });
    const finishTimer = setTimeout(() => subs.stop(), 60_000 + opts.pollMs * 20);
    const results = await subs.results();
    clearTimeout(finishTimer);
    const clockErrors = await clock.stop();
    aliveCheck();
    const upstream = await hashLog(traceUrl, { 'PRIVATE-TOKEN': DEVELOPER_TOKEN });

    const intervals = (to - from) / opts.pollMs;
    const tracePolls = sumRoutes(stats.routes, (k) => TRACE_GET.test(k));
    const jobReads = sumRoutes(stats.routes, (k) => JOB_GET.test(k));
    const traceBytes = sumRoutes(stats.bytes, (k) => TRACE_GET.test(k));
    const equal = results.filter((r) => r.sha256 === upstream.sha256 && r.bytes === upstream.bytes).length;
    const completed = results.filter((r) => r.complete).length;
    const lost = results.filter((r) => !r.complete);
    const lostBytes = sum(results.map((r) => r.lostBytes));
    const repeatedBytes = sum(results.map((r) => r.repeatedBytes));
    const badLengths = sum(results.map((r) => r.badLengths));
    const errored = results.filter((r) => r.errorCount);
    const delay = deliveryDelays(clock.steps, results, from, to);
    const rtt = sorted(clock.roundTrips);
    const perReplicaPolls = (a, b) => replicas.map((_, i) => (a[i] && b[i] ? b[i].tracePolls - a[i].tracePolls : undefined));

    const rows = [
      ['replicas (one Redis)', `${n} gateway processes, redis-server ${redis.url}`, ''],
      ['subscribers connected / asked', `${subs.connected} / ${opts.subscribers} (in ${fmt.num(connectSeconds)} s; round-robin, ${fmt.int(opts.subscribers / n)} per replica; ${opts.workers} worker processes)`, `${fmt.int(1000 * n)}`],
      ['distinct tokens (no service token)', String(tokens.length), '≥ 10'],
      ['window', `${fmt.num((to - from) / 1000)} s; log +${opts.bytesPerTick} B per ${opts.tickMs} ms tick; trace.pollIntervalMs ${opts.pollMs}`, ''],
      ['upstream trace polls (`GET …/jobs/:id/trace`) in window, all replicas', `${tracePolls} over ${fmt.num(intervals)} intervals`, ''],
      ['**trace polls per poll interval, all replicas**', fmt.num(tracePolls / intervals, 2), '1.00'],
      ['trace polls by replica (their /metrics)', perReplicaPolls(atStart, kill ? kill.beforeKill.map((b, i) => (replicas[i].killed ? b : atEnd[i])) : atEnd).map((p, i) => `#${i} ${p ?? 'n/a'}`).join(' · '), ''],
    ];
    if (kill) {
      const killedAt = kill.at - from;
      const pollsBefore = sumRoutes(kill.statsAtKill.routes, (k) => TRACE_GET.test(k));
      rows.push(
        ['trace polls per interval before / after the kill', `${fmt.num(pollsBefore / (killedAt / opts.pollMs), 2)} / ${fmt.num((tracePolls - pollsBefore) / ((to - kill.at) / opts.pollMs), 2)}`, '1.00 / 1.00'],
      );
    }
    rows.push(
      ['job reads (`GET …/jobs/:id`) in window (status polls + access rechecks)', `${jobReads} (${fmt.num(jobReads / intervals, 2)} per interval)`, ''],
      ['upstream trace bytes in window', `${fmt.num(traceBytes / 2 ** 20)} MiB`, ''],
      ['**delivery delay p50 / p99 / max**, whole window', `${fmt.ms(delay.p50)} / ${fmt.ms(delay.p99)} / ${fmt.ms(delay.max)} ms (${fmt.int(delay.count)} samples, ${delay.steps} log steps)`, `p99 < ${opts.pollMs + 300} ms`],
    );
    if (kill) {
      const calm = [deliveryDelays(clock.steps, results, from, kill.at), deliveryDelays(clock.steps, results, kill.at + RESUME_MS, to)];
      rows.push(['delivery delay p50 / p99 before the kill · from 5 s after it', calm.map((d) => `${fmt.ms(d.p50)} / ${fmt.ms(d.p99)} ms`).join(' · '), '']);
    }
    for (const r of replicas) {
      const subsStart = atStart[r.index]?.subscriptions;
      const subsEnd = r.killed ? 0 : atEnd[r.index]?.subscriptions;
      const perSub = (rss, count) => (count ? fmt.num(((rss - r.rss.idle) * 1024) / count, 0) : 'n/a');
      const subsLast = r.killed ? kill.subscriptions : subsEnd;
      rows.push([
        `replica #${r.index} RSS idle / start / middle / end / peak${r.killed ? ' (killed: end = at the kill)' : ''}`,
        `${[r.rss.idle, r.rss.start, r.rss.middle, r.rss.end, r.rss.peak].map((m) => fmt.num(m)).join(' / ')} MiB; subscriptions ${subsStart ?? 'n/a'} → ${subsEnd ?? 'n/a'}; **per subscriber ${perSub(r.rss.start, subsStart)} KiB at the start, ${perSub(r.rss.end, subsLast)} KiB at the end** (− idle)`,
        '',
      ]);
    }
    const windowS = (to - from) / 1000;
    rows.push([
      'CPU over window (100% = one core): replicas · redis · simulator · load workers · bench (clock) · others',
      [
        cpuShares.replicas.map((s) => fmt.pct(s / windowS)).join(' + '),
        ...[cpuShares.redis, cpuShares.sim, cpuShares.workers, (self.user + self.system) / 1e6].map((s) => fmt.pct(s / windowS)),
        fmt.pct(Math.max(0, machine - sum(cpuShares.replicas) - cpuShares.redis - cpuShares.sim - cpuShares.workers - (self.user + self.system) / 1e6) / windowS),
      ].join(' · '),
      '',
    ]);
    if (kill) {
      const cut = results.filter((r) => r.cuts.length);
      const resumeMs = sorted(cut.map((r) => r.cuts[0][1] - r.cuts[0][0]).filter(Number.isFinite));
      const acceptMs = sorted(cut.map((r) => r.cuts[0][3] - r.cuts[0][0]).filter(Number.isFinite));
      const detectMs = sorted(cut.map((r) => r.cuts[0][0] - kill.at));
      rows.push(
        ['killed', `replica #${kill.holder.index} at ${fmt.num((kill.at - from) / 1000)} s (SIGKILL; lease holder from ${kill.holder.source}); ${kill.subscriptions ?? 'n/a'} subscriptions on it`, ''],
        ['subscribers cut / resumed on another replica', `${cut.length} / ${cut.filter((r) => r.complete).length}`, 'all'],
        [
          'cut noticed after kill p50 / max · cut → 200 again p50 / p99 · cut → first chunk again p50 / p99 / max',
          `${fmt.ms(quantile(detectMs, 0.5))} / ${fmt.ms(detectMs[detectMs.length - 1])} ms · ${fmt.ms(quantile(acceptMs, 0.5))} / ${fmt.ms(quantile(acceptMs, 0.99))} ms · ${fmt.ms(quantile(resumeMs, 0.5))} / ${fmt.ms(quantile(resumeMs, 0.99))} / ${fmt.ms(resumeMs[resumeMs.length - 1])} ms`,
          '',
        ],
      );
    }
    rows.push(
      ['**subscribers lost** (no `complete: true`)', String(lost.length), '0'],
      ['**bytes lost / repeated** (chunk offsets vs last `nextOffset`)', `${lostBytes} / ${repeatedBytes}`, '0 / 0'],
      ['**reassembled log == upstream log** (length + sha256)', `${equal} / ${results.length} (upstream ${fmt.int(upstream.bytes)} B)`, 'all'],
      ['chunks with wrong byte length', String(badLengths), '0'],
      ['subscribers that saw an error (GraphQL or HTTP; a cut connection is not one)', String(errored.length), '0'],
    );

    const notes = [
      `Delivery delay: the bench drives the simulator's clock (\`POST /__sim/tick\` every ${opts.tickMs} ms, its own timer off) and reads the log's length after each tick (\`HEAD\`, ${clock.steps.length} steps, ${clockErrors} errors); a subscriber's delay for a step is the arrival of its first chunk reaching that length minus when the tick was sent. The tick ran within that request: delays are high by at most its round trip (p50 ${fmt.ms(quantile(rtt, 0.5))} ms, p99 ${fmt.ms(quantile(rtt, 0.99))} ms). ${delay.missing} (subscriber, step) pairs never arrived.`,
      `Subscriber i uses token i mod ${tokens.length} on replica i mod ${n}; a cut one subscribes again on another (the cut ones of a replica spread evenly over the others; a refused try moves on to the next) with \`offset\` = its last \`nextOffset\` (up to 40 tries, 50 ms–1 s apart). Trace polls are counted from the simulator's /__sim/stats, reset when the last subscriber was connected; by replica from each one's \`buildgate_upstream_request_duration_seconds_count\`. RSS is VmRSS from /proc/<pid>/status (idle: after one query, before any subscriber); per subscriber: (RSS − idle) ÷ the replica's \`buildgate_active_subscriptions\` at that moment.`,
      ...(quiet ? [`Before the window the bench waited ${quiet.waited.toFixed(0)} s for other processes to use < 50% of a core (${quiet.quiet ? 'they did' : 'they did not'}).`] : []),
    ];
    const cutReasons = [...new Set(results.flatMap((r) => r.cutReasons.map((reason) => reason.replace(/^replica \d+: /, ''))))];
    if (cutReasons.length) notes.push(`How the cut connections ended: ${cutReasons.slice(0, 5).join('; ')}.`);
    if (errored.length) notes.push(`first subscriber errors: ${JSON.stringify(errored.slice(0, 3).map((r) => ({ index: r.index, replica: r.replica, errors: r.errors })))}`);
    const bad = [];
    if (equal !== results.length) bad.push(`${results.length - equal} subscribers' logs differ from the upstream's`);
    if (subs.connected !== opts.subscribers) bad.push(`${opts.subscribers - subs.connected} subscribers did not connect`);
    if (lost.length) bad.push(`${lost.length} subscribers lost`);
    if (lostBytes || repeatedBytes) bad.push(`${lostBytes} bytes lost and ${repeatedBytes} repeated`);
    return { text: table(['measure', 'value', 'target'], rows), notes, failed: bad.length ? bad.join('; ') : undefined };
  } finally {
    subs?.stop();
    await clock?.stop();
    await Promise.all([...replicas.map((r) => r.handle.stop()), sim.stop(), redis.stop()]);
  }
}
