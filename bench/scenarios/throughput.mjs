/**
 * `single` and `list`: one GraphQL operation through the gateway vs the one REST call it stands for,
 * straight to the simulator, vs the gateway "ceiling" (a second gateway whose gitlab-v4 upstream's HTTP
 * client is given a dispatcher answering from constants, lib/ceiling.mjs), vs the "floor" (bare yoga +
 * graphql-jit over the same simulator, lib/floor-gateway.mjs). Same connections and duration for all four,
 * in one run. Each target's CPU per request is its process's CPU time (/proc/<pid>/stat) over the measured
 * window ÷ the requests it answered in it: the steady figure on a shared machine, and the gateway's is what
 * the bars (≤ 250 µs single, ≤ 550 µs list) are about. The ceiling and the floor are diagnostics: the floor
 * is what the stack costs before any of the gateway's own work, so gateway / floor is what that work costs.
 */
import { DEVELOPER_TOKEN, gql } from '../lib/http.mjs';
import { serialLatency, throughput, verifyTarget } from '../lib/load.mjs';
import { startCeiling } from '../lib/ceiling.mjs';
import { startFloor } from '../lib/floor.mjs';
import { assertAlive, cpuSeconds, machineBusySeconds, startGateway, startSimulator, waitQuiet } from '../lib/procs.mjs';
import { fmt, table } from '../lib/report.mjs';

const BUILD_QUERY = `query($id: ID!) { build(id: $id) { id name status stage ref duration commit { sha title } pipeline { upstreamId status } user { username } } }`;
const LIST_QUERY = `{ project(upstream:"gitlab", id:"1") { builds(first: 20) { nodes { id name status commit { sha title } pipeline { upstreamId status } user { username } } } } }`;

const cpuOf = ({ user, system }) => (user + system) / 1e6;

const gitlab = (simUrl) => ({ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simUrl}/api/v4` });

/** `count` real builds of project 1 (global and upstream ids), newest first, paged through the gateway. */
async function realBuilds(gatewayUrl, count) {
  const builds = [];
  let after = null;
  while (builds.length < count) {
    const data = await gql(
      gatewayUrl,
      `query($after: String) { project(upstream:"gitlab", id:"1") { builds(first: 100, after: $after) { nodes { id upstreamId } pageInfo { hasNextPage endCursor } } } }`,
      { after },
      { 'PRIVATE-TOKEN': DEVELOPER_TOKEN },
    );
    const page = data.project.builds;
    builds.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return builds.slice(0, count);
}

function targets(kind, { sim, gateway, ceiling, floor, builds }) {
  const auth = { 'PRIVATE-TOKEN': DEVELOPER_TOKEN };
  const graphql = { ...auth, 'content-type': 'application/json' };
  // The three GraphQL targets get the same requests; only their process differs.
  const overGraphql = (operation, request) => [
    { label: `gateway ${operation}`, short: 'gateway', proc: gateway },
    { label: `ceiling ${operation} (constant dispatcher)`, short: 'ceiling', proc: ceiling },
    { label: `floor ${operation} (bare yoga + jit)`, short: 'floor', proc: floor },
  ].map((target) => ({ ...target, url: target.proc.url, method: 'POST', headers: graphql, ...request }));
  if (kind === 'single') {
    const bodies = builds.map((b) => JSON.stringify({ query: BUILD_QUERY, variables: { id: b.id } }));
    const paths = builds.map((b) => `/api/v4/projects/1/jobs/${b.upstreamId}`);
    const okBuild = (text) => {
      const r = JSON.parse(text);
      return !r.errors && typeof r.data?.build?.id === 'string' && typeof r.data.build.commit?.sha === 'string';
    };
    return [
      {
        label: 'REST `GET /api/v4/projects/1/jobs/:id` (simulator)',
        short: 'REST',
        proc: sim,
        url: `${sim.url}${paths[0]}`,
        method: 'GET',
        headers: auth,
        request: (i) => ({ path: paths[i % paths.length] }),
        check: (text) => typeof JSON.parse(text).id === 'number',
      },
      ...overGraphql('`build(id:)`', { body: bodies[0], request: (i) => ({ body: bodies[i % bodies.length] }), check: okBuild }),
    ];
  }
  const body = JSON.stringify({ query: LIST_QUERY });
  const okList = (text) => {
    const r = JSON.parse(text);
    // The bar's query: 20 builds, each with its commit, pipeline and user (a null one would be a cheaper answer).
    const nodes = r.data?.project?.builds?.nodes;
    return (
      !r.errors &&
      nodes?.length === 20 &&
      nodes.every((n) => typeof n.commit?.sha === 'string' && n.pipeline?.upstreamId != null && typeof n.pipeline.status === 'string' && typeof n.user?.username === 'string')
    );
  };
  return [
    {
      label: 'REST `GET /api/v4/projects/1/jobs?per_page=20` (simulator)',
      short: 'REST',
      proc: sim,
      url: `${sim.url}/api/v4/projects/1/jobs?per_page=20`,
      method: 'GET',
      headers: auth,
      check: (text) => JSON.parse(text).length === 20,
    },
    ...overGraphql('`project.builds(first: 20)`', { body, check: okList }),
  ];
}

export async function runThroughput(kind, opts) {
  const sim = await startSimulator(['--builds', String(opts.builds)]);
  const gateway = await startGateway({ upstreams: [gitlab(sim.url)] }, 'gateway');
  const ceiling = await startCeiling({ upstreams: [gitlab(sim.url)] });
  const floor = await startFloor(sim.url);
  try {
    const builds = kind === 'single' ? await realBuilds(gateway.url, opts.ids) : [];
    const list = targets(kind, { sim, gateway, ceiling, floor, builds });
    for (const target of list) await verifyTarget(target, target.check);

    const pids = [sim.pid, gateway.pid, ceiling.pid, floor.pid];
    const waits = [];
    const quiet = async () => {
      if (opts.quietWait > 0) waits.push(await waitQuiet(pids, { maxSeconds: opts.quietWait }));
    };
    /** CPU of the rest of the machine during `fn`, as a share of one core. */
    const othersDuring = async (fn) => {
      const own0 = pids.map(cpuSeconds);
      const machine0 = machineBusySeconds();
      const self0 = process.cpuUsage();
      const t0 = performance.now();
      const value = await fn();
      const seconds = (performance.now() - t0) / 1000;
      const own = pids.map(cpuSeconds).reduce((sum, c, i) => sum + c - own0[i], 0);
      return { value, others: Math.max(0, (machineBusySeconds() - machine0 - own - cpuOf(process.cpuUsage(self0))) / seconds) };
    };
    // Per target, of all rounds, the throughput and the latency measured while other processes used the least CPU.
    const rows = list.map((target) => ({ target, load: undefined, serial: undefined }));
    for (let round = 0; round < Math.max(1, opts.rounds); round++) {
      for (const row of rows) {
        const { target } = row;
        await quiet();
        if (opts.warmup > 0) await throughput(target, { connections: opts.connections, seconds: opts.warmup });
        // Every process's CPU over the window: the target's own, and the simulator's for what the gateway and the floor cost it.
        const cpu0 = new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
        const driver0 = process.cpuUsage();
        const { value: load, others } = await othersDuring(() => throughput(target, { connections: opts.connections, seconds: opts.duration }));
        const driverBusy = cpuOf(process.cpuUsage(driver0)) / opts.duration;
        const cpu1 = new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
        const spent = (proc) => cpu1.get(proc.pid) - cpu0.get(proc.pid);
        const busy = (proc) => spent(proc) / opts.duration;
        // The target's own process: its CPU over the measurement ÷ the requests it answered in it.
        const perRequest = (proc) => (spent(proc) * 1e6) / Math.max(1, load.requests);
        const overSim = target.short === 'gateway' || target.short === 'floor';
        const targetCpu = `${target.short === 'REST' ? 'sim' : target.short === 'gateway' ? 'gw' : target.short} ${fmt.pct(busy(target.proc))}${overSim ? ` · sim ${fmt.pct(busy(sim))}` : ''}`;
        assertAlive(sim, gateway, ceiling, floor);
        if (!row.load || others < row.others) {
          Object.assign(row, {
            load,
            others,
            cpuUs: perRequest(target.proc),
            // The gateway's (and the floor's) requests also cost the simulator, their upstream: shown beside, not counted.
            simUs: overSim ? perRequest(sim) : undefined,
            cpu: `${targetCpu} · driver ${fmt.pct(driverBusy)} · others ${fmt.pct(others)}`,
          });
        }
      }
      for (const row of rows) {
        await quiet();
        const { value: serial, others } = await othersDuring(() => serialLatency(row.target, { seconds: opts.latencySeconds, check: row.target.check }));
        assertAlive(sim, gateway, ceiling, floor);
        if (!row.serial || others < row.serialOthers) Object.assign(row, { serial, serialOthers: others });
      }
    }

    const [rest, gw, top, bare] = rows;
    const cpuBar = kind === 'single' ? 250 : 550;
    const met = (ok) => (ok ? 'met' : 'NOT met');
    const added = gw.serial.p50 - rest.serial.p50;
    const text = [
      table(
        ['target', 'req/s', 'CPU µs / request', 'p50 ms', 'p99 ms', 'errors', `1-conn p50 ms`, '1-conn p99 ms', '1-conn: others', 'CPU (of one core)'],
        rows.map(({ target, load, serial, serialOthers, cpu, cpuUs, simUs }) => [
          target.short === 'ceiling' || target.short === 'floor' ? `${target.label} — diagnostic` : target.label,
          fmt.int(load.rps),
          `${fmt.int(cpuUs)}${simUs === undefined ? '' : ` (+ sim ${fmt.int(simUs)})`}`,
          fmt.wholeMs(load.p50),
          fmt.wholeMs(load.p99),
          `${load.errors + load.non2xx + serial.failures}`,
          fmt.ms(serial.p50),
          fmt.ms(serial.p99),
          fmt.pct(serialOthers),
          cpu,
        ]),
      ),
      '',
      table(
        ['measure', 'value', 'bar', ''],
        [
          ['gateway CPU per request (its process, over the window)', `${fmt.int(gw.cpuUs)} µs`, `≤ ${cpuBar} µs`, met(gw.cpuUs <= cpuBar)],
          ['gateway / REST (req/s)', fmt.pct(gw.load.rps / rest.load.rps), '≥ 20%', met(gw.load.rps / rest.load.rps >= 0.2)],
          ['added median latency at 1 connection (gateway − REST)', `${fmt.ms(added)} ms`, '< 1 ms', met(added < 1)],
          ['diagnostic: gateway / ceiling (req/s)', fmt.pct(gw.load.rps / top.load.rps), 'no bar (retired)', ''],
          ['diagnostic: ceiling CPU per request', `${fmt.int(top.cpuUs)} µs`, '—', ''],
          ['diagnostic: ceiling median latency at 1 connection', `${fmt.ms(top.serial.p50)} ms`, '—', ''],
          ['diagnostic: floor CPU per request (bare yoga + jit over the simulator)', `${fmt.int(bare.cpuUs)} µs`, '—', ''],
          ['diagnostic: gateway / floor (CPU per request)', `${(gw.cpuUs / bare.cpuUs).toFixed(2)}×`, '—', ''],
        ],
      ),
    ].join('\n');
    const notes = [
      ...(opts.quietWait > 0
        ? [
            `Before each measurement the bench waited for the rest of the machine to be idle (< 15% of a core, 2 s; at most ${opts.quietWait} s): ${waits.filter((w) => w.quiet).length} of ${waits.length} times it was; waits ${waits.map((w) => w.waited.toFixed(0)).join(', ')} s.`,
          ]
        : []),
      ...(opts.rounds > 1
        ? [`${opts.rounds} rounds of all four targets; each figure is from the round in which other processes used the least CPU ("others").`]
        : []),
      `${opts.connections} connections × ${opts.duration} s per target after ${opts.warmup} s of warm-up; 1-connection latency: sequential requests on one keep-alive connection for ${opts.latencySeconds} s per target.`,
      kind === 'single'
        ? `Ids rotate over ${builds.length} real builds of project 1 (the same ids for all four targets); the simulator holds --builds ${opts.builds}.`
        : `The simulator holds --builds ${opts.builds}.`,
      'p50/p99 at N connections are autocannon\'s, in whole milliseconds ("<1" = under 1 ms); the 1-connection columns are measured to the microsecond.',
      'CPU µs / request: the target process\'s user + system time from /proc/<pid>/stat over the measured window (10 ms ticks) ÷ the requests autocannon counted answered in it; for the gateway, "+ sim" is what its upstream (the simulator) spent per gateway request, not counted in the bar. The ceiling (a gateway whose upstream is a constant undici dispatcher) is a diagnostic only: its bar is retired. So is the floor: bare yoga + graphql-jit answering the same query over the same simulator (lib/floor-gateway.mjs), none of the gateway\'s limits, budgets, loaders, metrics or logs.',
      'Everything (simulator, two gateways, the floor, load driver) shares this machine; the CPU column is each process\'s busy time over the measurement (100% = one core). A driver near 100% means the target was not the limit; "others" is the rest of the machine (other people\'s work on a shared machine shows there).',
    ];
    return { text, notes };
  } finally {
    await Promise.all([floor.stop(), ceiling.stop(), gateway.stop(), sim.stop()]);
  }
}
