/**
 * `bigtrace`: one subscriber streams a large, fast-growing log (default 200 MiB, 8 MiB per 100 ms
 * tick) from offset 0 to completion, once with the simulator honouring `Range` (`--trace-range`) and
 * once sending the whole log on every read, as GitLab does. Measures the gateway's resident memory
 * (sampled every 200 ms: peak − start), throughput, what the polls cost the upstream, and checks the
 * reassembled stream byte for byte (length and sha256) against the REST log.
 */
import { DEVELOPER_TOKEN, gql, hashLog, now, postJson, resetSimStats, simStats, sleep, sumRoutes } from '../lib/http.mjs';
import { assertAlive, cpuSeconds, machineBusySeconds, rssMiB, startGateway, startSimulator } from '../lib/procs.mjs';
import { fmt, table } from '../lib/report.mjs';
import { startSubscribers } from '../lib/workers.mjs';

const TRACE_QUERY = `subscription($id: ID!) { buildTrace(id: $id) { offset nextOffset content complete } }`;
const TRACE_GET = /^GET \/api\/v4\/projects\/:id\/jobs\/:job_id\/trace$/;
const SAMPLE_MS = 200;
const MiB = 2 ** 20;

async function runOnce(opts, range) {
  const sim = await startSimulator(['--tick-ms', String(opts.tickMs), ...(range ? ['--trace-range'] : [])]);
  let gateway;
  let subs;
  let sampler;
  try {
    gateway = await startGateway({
      upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${sim.url}/api/v4`, token: DEVELOPER_TOKEN }],
      trace: { pollIntervalMs: opts.pollMs },
    });
    const job = await postJson(`${sim.url}/__sim/jobs`, {
      project: 1,
      name: 'bench:bigtrace',
      logBytesPerTick: opts.bigBytesPerTick,
      totalBytes: opts.bigBytes,
    });
    const found = await gql(gateway.url, `{ project(upstream:"gitlab", id:"1") { build(id: "${job.id}") { id } } }`);
    const buildId = found.project.build.id;
    await resetSimStats(sim.url);

    // The baseline is the lowest of a second's samples before subscribing: one sample can catch the
    // gateway just before a collection and understate the growth.
    const before = [];
    for (let i = 0; i < 10; i++) {
      before.push(rssMiB(gateway.pid));
      await sleep(100);
    }
    const start = Math.min(...before);
    let peak = start;
    const samples = [];
    sampler = setInterval(() => {
      const r = rssMiB(gateway.pid);
      if (r === undefined) return;
      samples.push(r);
      peak = Math.max(peak, r);
    }, SAMPLE_MS);

    const began = now();
    const cpu0 = cpuSeconds(gateway.pid);
    const sim0 = cpuSeconds(sim.pid);
    const machine0 = machineBusySeconds();
    subs = await startSubscribers({
      url: gateway.url,
      query: TRACE_QUERY,
      subscribers: [{ index: 0, token: undefined, variables: { id: buildId } }],
      workers: 1,
    });
    const timeout = setTimeout(() => subs.stop(), opts.bigTimeout * 1000);
    const [result] = await subs.results();
    clearTimeout(timeout);
    clearInterval(sampler);
    const end = rssMiB(gateway.pid);
    const seconds = ((result.endedAt ?? now()) - began) / 1000;
    const elapsed = (now() - began) / 1000;
    const gatewayCpu = (cpuSeconds(gateway.pid) - cpu0) / elapsed;
    const simCpu = (cpuSeconds(sim.pid) - sim0) / elapsed;
    // The subscriber's worker has exited by now; what is left is it plus the rest of the machine.
    const restCpu = (machineBusySeconds() - machine0) / elapsed - gatewayCpu - simCpu;
    assertAlive(sim, gateway);
    const stats = await simStats(sim.url);
    const upstream = await hashLog(`${sim.url}/api/v4/projects/1/jobs/${job.id}/trace`, { 'PRIVATE-TOKEN': DEVELOPER_TOKEN });
    const equal = result.bytes === upstream.bytes && result.sha256 === upstream.sha256;
    return {
      range,
      result,
      upstream,
      equal,
      seconds,
      gatewayCpu,
      simCpu,
      restCpu,
      rss: { start, peak, end, growth: peak - start, samples: samples.length },
      polls: sumRoutes(stats.routes, (k) => TRACE_GET.test(k)),
      pollBytes: sumRoutes(stats.bytes, (k) => TRACE_GET.test(k)),
    };
  } finally {
    clearInterval(sampler);
    subs?.stop();
    await Promise.all([gateway?.stop(), sim.stop()]);
  }
}

export async function runBigTrace(opts) {
  const modes = opts.rangeModes === 'range' ? [true] : opts.rangeModes === 'whole' ? [false] : [true, false];
  const runs = [];
  for (const range of modes) {
    process.stdout.write(`  ${range ? 'with' : 'without'} --trace-range …\n`);
    runs.push(await runOnce(opts, range));
  }
  const text = table(
    [
      'simulator',
      'received / log',
      'time',
      'MiB/s',
      'CPU: gateway · simulator · subscriber + others',
      'gateway RSS start → peak (end)',
      'RSS growth',
      'trace polls',
      'upstream trace bytes',
      'bytes equal (length + sha256)',
      'complete',
      'chunks (largest event)',
      'errors',
    ],
    runs.map((run) => [
      run.range ? '`--trace-range` (206 from the offset)' : 'no range (whole log, as GitLab)',
      `${fmt.num(run.result.bytes / MiB)} / ${fmt.num(run.upstream.bytes / MiB)} MiB`,
      `${fmt.num(run.seconds)} s`,
      fmt.num(run.result.bytes / MiB / run.seconds),
      [run.gatewayCpu, run.simCpu, Math.max(0, run.restCpu)].map(fmt.pct).join(' · '),
      `${fmt.num(run.rss.start)} → ${fmt.num(run.rss.peak)} (${fmt.num(run.rss.end)}) MiB`,
      `${fmt.num(run.rss.growth)} MiB`,
      String(run.polls),
      `${fmt.num(run.pollBytes / MiB)} MiB`,
      run.equal ? 'yes' : `**no** (got ${run.result.bytes} B ${run.result.sha256.slice(0, 12)}…, upstream ${run.upstream.bytes} B ${run.upstream.sha256.slice(0, 12)}…)`,
      run.result.complete ? 'yes' : '**no**',
      `${run.result.chunks} (${fmt.num(run.result.maxEventChars / MiB, 2)} MiB)`,
      run.result.errors.length ? run.result.errors.join(' | ').slice(0, 300) : (run.result.gaps + run.result.badLengths ? `${run.result.gaps} gaps, ${run.result.badLengths} bad lengths` : '0'),
    ]),
  );
  const notes = [
    `Log: ${fmt.num(opts.bigBytes / MiB)} MiB, +${fmt.num(opts.bigBytesPerTick / MiB)} MiB per ${opts.tickMs} ms tick (written in ${fmt.num((opts.bigBytes / opts.bigBytesPerTick) * opts.tickMs / 1000)} s); trace.pollIntervalMs ${opts.pollMs}; one subscriber from offset 0, in its own process, the gateway's service token reading.`,
    `RSS: /proc/<gateway>/status VmRSS every ${SAMPLE_MS} ms from before the subscription to its end; start = the lowest of 10 samples in the second before subscribing; growth = peak − start (bar: < 100 MB). Time: from subscribing to the stream's end.`,
  ];
  const bad = runs.filter((run) => !run.equal || !run.result.complete).map((run) => `${run.range ? 'range' : 'no range'}: stream ${run.equal ? '' : 'differs from the upstream log'}${run.result.complete ? '' : ' did not complete'}`);
  return { text, notes, failed: bad.length ? bad.join('; ') : undefined };
}
