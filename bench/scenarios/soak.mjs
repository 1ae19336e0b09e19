/**
 * `soak` (opt-in: `npm run bench -- soak`; never part of a plain `npm run bench`): ten minutes
 * (`--soak-seconds`) of mixed load on one gateway child over one simulator child, with ~5% of upstream
 * requests faulted for the whole run. It asks whether the gateway stays up, answers every request
 * within its deadline, never sends a mutation upstream twice, and keeps its memory and sockets flat.
 *
 * Load: query lanes in this process (one keep-alive connection each, a steady total rate of mixed
 * queries), one mutation lane (retry/cancel/stop a few per second with a token that may act), a
 * discovery loop (which builds are running now), and `buildTrace` SSE subscribers in forked worker
 * processes — this same file, run with `--soak-sse-worker` — each slot subscribing to a running build
 * for 10–60 s, then to another. Every HTTP request carries an `x-request-id` (`soak-…`) so that one left
 * unanswered can be found in the gateway's log, which is kept in a scratch file for the run.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const WORKER_FLAG = '--soak-sse-worker';
const TRACE_SUBSCRIPTION = 'subscription($id: ID!) { buildTrace(id: $id) { offset nextOffset content complete } }';
/** What a client waits past the gateway's request deadline before it calls a request unanswered. */
const GRACE_MS = 2000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** mulberry32: a small seeded PRNG, so the mix of requests repeats from run to run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bump = (map, key, n = 1) => {
  map[key] = (map[key] ?? 0) + n;
};

/** The distinct `extensions.code`s of a GraphQL error list, joined ("NO CODE" for an error without one). */
const codesOf = (errors) => [...new Set(errors.map((e) => e?.extensions?.code ?? 'NO CODE'))].sort().join('+');

// ---------------------------------------------------------------------------------------------------
// The SSE worker (a forked child running this file).
// ---------------------------------------------------------------------------------------------------

/**
 * parent → worker: `{type:'start', url, slots, minLifeMs, maxLifeMs, bkciShare, headTimeoutMs, endAt, seed, rampMs}`,
 *                  `{type:'builds', gitlab:[ids], bkci:[ids]}` (the builds running now), `{type:'stop'}`.
 * worker → parent: `{type:'progress', open, started}` every 5 s, `{type:'done', tally}` once every slot has ended.
 */
function workerMain() {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  let builds = { gitlab: [], bkci: [] };
  let running = { gitlab: new Set(), bkci: new Set() };
  let stopping = false;
  let config;
  let rand;
  const open = new Set();
  const tally = {
    started: 0,
    completed: 0,
    cut: 0,
    cutAtEnd: 0,
    errored: {},
    http: {},
    unanswered: 0,
    transport: {},
    endedEarly: 0,
    staleCuts: 0,
    /** `[id, cut at (epoch ms)]` of each stale cut, checked by the parent against the build's finishedAt. */
    stale: [],
    gaps: 0,
    badLengths: 0,
    chunks: 0,
    bytes: 0,
    noChunk: 0,
    bkci: 0,
    firstChunkMs: [],
    /** How long each completed stream lived (ms). */
    completedMs: [],
    /** `[id, completed at (epoch ms)]` of GitLab streams that completed (a GitLab build id is never reused). */
    completions: [],
    /** The first error of a few streams that ended with one. */
    errorSamples: [],
    samples: [],
  };
  const sample = (what) => {
    if (tally.samples.length < 10) tally.samples.push(what);
  };

  /** One subscription, from its POST to its end; records how it ended. */
  function subscribeOnce(id, bk, lifeMs) {
    return new Promise((resolve) => {
      const sub = { startedAt: Date.now(), id, bk, status: undefined, errors: [], complete: false, expected: undefined, chunks: 0, cutByUs: false, cutAtEnd: false, transport: undefined, headTimedOut: false, lastEventAt: Date.now(), requestId: `soak-sse-${process.pid}-${tally.started}` };
      tally.started++;
      if (bk) tally.bkci++;
      const startedAt = performance.now();
      let ended = false;
      let lifeTimer;
      const finish = () => {
        if (ended) return;
        ended = true;
        clearTimeout(headTimer);
        clearTimeout(lifeTimer);
        open.delete(sub);
        record(sub);
        resolve();
      };
      const body = JSON.stringify({ query: TRACE_SUBSCRIPTION, variables: { id } });
      const request = http.request(
        config.url,
        {
          method: 'POST',
          agent,
          headers: {
            accept: 'text/event-stream',
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-request-id': sub.requestId,
            // The subscriber's own credential: a GitLab developer token, or a bk-ci user.
            ...(bk ? { 'X-DEVOPS-UID': 'alice' } : { 'PRIVATE-TOKEN': 'glpat-developer' }),
          },
        },
        (response) => {
          clearTimeout(headTimer);
          sub.status = response.statusCode;
          response.setEncoding('utf8');
          let buffer = '';
          let text = '';
          response.on('data', (chunk) => {
            if (sub.status !== 200) {
              text += chunk;
              return;
            }
            buffer += chunk;
            for (;;) {
              const end = buffer.indexOf('\n\n');
              if (end < 0) break;
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              let event;
              const data = [];
              for (const line of block.split('\n')) {
                if (line.startsWith('event:')) event = line.slice(6).trim();
                else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
              }
              if (data.length) onEvent(sub, event, data.join('\n'), startedAt);
            }
          });
          response.on('end', () => {
            if (sub.status !== 200) {
              try {
                const parsed = JSON.parse(text);
                if (parsed.errors?.length) sub.errors.push(...parsed.errors);
              } catch {
                // not JSON: the status says enough
              }
            }
            finish();
          });
          response.on('error', (error) => {
            sub.transport ??= error.code ?? error.message;
            finish();
          });
          response.on('aborted', () => {
            sub.transport ??= 'aborted';
            finish();
          });
        },
      );
      const headTimer = setTimeout(() => {
        sub.headTimedOut = true;
        request.destroy();
        finish();
      }, config.headTimeoutMs);
      lifeTimer = setTimeout(() => cut(sub, false), lifeMs);
      sub.request = request;
      open.add(sub);
      request.on('error', (error) => {
        sub.transport ??= error.code ?? error.message;
        finish();
      });
      request.on('close', finish);
      request.end(body);
    });
  }

  function cut(sub, atEnd) {
    if (sub.cutByUs) return;
    sub.cutByUs = true;
    sub.cutAtEnd = atEnd;
    sub.request.destroy();
  }

  function onEvent(sub, event, data, startedAt) {
    sub.lastEventAt = Date.now();
    if (event === 'complete') return;
    let payload;
    try {
      payload = JSON.parse(data);
    } catch {
      sub.errors.push({ message: `unparsable event ${data.slice(0, 100)}`, extensions: { code: 'UNPARSABLE EVENT' } });
      return;
    }
    if (payload.errors?.length) sub.errors.push(...payload.errors);
    const chunk = payload.data?.buildTrace;
    if (!chunk) return;
    if (sub.chunks === 0) tally.firstChunkMs.push(Math.round(performance.now() - startedAt));
    sub.chunks++;
    tally.chunks++;
    // A new subscription starts at offset 0; each chunk must start where the last one ended.
    if (chunk.offset !== (sub.expected ?? 0)) {
      tally.gaps++;
      sample({ gap: { id: sub.id, expected: sub.expected ?? 0, offset: chunk.offset, requestId: sub.requestId } });
    }
    const bytes = Buffer.byteLength(chunk.content, 'utf8');
    // GitLab offsets count bytes; bk-ci's count lines.
    if (!sub.bk && bytes !== chunk.nextOffset - chunk.offset) tally.badLengths++;
    tally.bytes += bytes;
    sub.expected = chunk.nextOffset;
    if (chunk.complete) sub.complete = true;
  }

  function record(sub) {
    if (sub.chunks === 0) tally.noChunk++;
    if (sub.headTimedOut) {
      tally.unanswered++;
      sample({ unanswered: { id: sub.id, requestId: sub.requestId } });
    } else if (sub.status !== undefined && sub.status !== 200) {
      bump(tally.http, `${sub.status}${sub.errors.length ? ` ${codesOf(sub.errors)}` : ''}`);
    } else if (sub.complete) {
      tally.completed++;
      tally.completedMs.push(Date.now() - sub.startedAt);
      if (!sub.bk && tally.completions.length < 5000) tally.completions.push([sub.id, Date.now()]);
    } else if (sub.errors.length) {
      bump(tally.errored, codesOf(sub.errors));
      if (tally.errorSamples.length < 8) tally.errorSamples.push({ id: sub.id, chunks: sub.chunks, afterMs: Date.now() - sub.startedAt, requestId: sub.requestId, error: sub.errors[0] });
      if (!sub.errors.every((e) => e?.extensions?.code)) sample({ uncoded: { id: sub.id, errors: sub.errors.slice(0, 2), requestId: sub.requestId } });
    } else if (sub.cutByUs) {
      if (sub.cutAtEnd) tally.cutAtEnd++;
      else tally.cut++;
      // Silent for 20 s on a build that no longer runs: a stream that should have completed.
      const list = sub.bk ? running.bkci : running.gitlab;
      if (Date.now() - sub.lastEventAt > 20_000 && !list.has(sub.id)) {
        tally.staleCuts++;
        if (tally.stale.length < 500) tally.stale.push([sub.id, Date.now(), sub.requestId, Date.now() - sub.lastEventAt]);
      }
    } else if (sub.transport) {
      bump(tally.transport, sub.transport);
      sample({ transport: { id: sub.id, error: sub.transport, requestId: sub.requestId } });
    } else {
      tally.endedEarly++;
      sample({ endedEarly: { id: sub.id, chunks: sub.chunks, requestId: sub.requestId } });
    }
  }

  async function slot(index) {
    // Start the slots over the ramp, not all at once.
    await sleep((index / config.slots) * config.rampMs);
    while (!stopping && Date.now() < config.endAt) {
      const bk = rand() < config.bkciShare && builds.bkci.length > 0;
      const list = bk ? builds.bkci : builds.gitlab;
      if (!list.length) {
        await sleep(500);
        continue;
      }
      const id = list[Math.floor(rand() * list.length)];
      const life = config.minLifeMs + rand() * (config.maxLifeMs - config.minLifeMs);
      await subscribeOnce(id, bk, life);
      await sleep(20 + rand() * 100);
    }
  }

  process.on('message', async (message) => {
    if (message.type === 'builds') {
      builds = { gitlab: message.gitlab, bkci: message.bkci };
      running = { gitlab: new Set(message.gitlab), bkci: new Set(message.bkci) };
    } else if (message.type === 'stop') {
      stopping = true;
      for (const sub of open) cut(sub, true);
    } else if (message.type === 'start') {
      config = message;
      rand = prng(message.seed);
      const progress = setInterval(() => process.send({ type: 'progress', open: open.size, started: tally.started }), 5000);
      await Promise.all(Array.from({ length: config.slots }, (_, i) => slot(i)));
      clearInterval(progress);
      process.send({ type: 'done', tally }, () => process.exit(0));
    }
  });
  // The parent died: nothing to report to.
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[2] === WORKER_FLAG) workerMain();

// ---------------------------------------------------------------------------------------------------
// The scenario (in the bench process).
// ---------------------------------------------------------------------------------------------------

/** ~5% of upstream requests, on every route, spread over the modes (each rule draws in turn; the first that wins applies). */
function faultRules(rate) {
  const share = [
    [{ mode: 'status', status: 502 }, 0.008],
    [{ mode: 'status', status: 503 }, 0.008],
    [{ mode: 'status', status: 500 }, 0.006],
    [{ mode: 'reset' }, 0.006],
    [{ mode: 'latency', ms: 200 }, 0.003],
    [{ mode: 'latency', ms: 350 }, 0.003],
    [{ mode: 'latency', ms: 500 }, 0.003],
    [{ mode: 'rate-limit', retryAfter: 1 }, 0.002],
    [{ mode: 'truncate' }, 0.004],
    [{ mode: 'malformed' }, 0.004],
    [{ mode: 'stall', afterBytes: 16 }, 0.003],
  ];
  const total = share.reduce((sum, [, p]) => sum + p, 0);
  return share.map(([rule, p]) => ({ route: '*', probability: Math.round(((p / total) * rate) * 1e6) / 1e6, ...rule }));
}
const faultLabel = (rule) =>
  `${rule.mode}${rule.status ? ` ${rule.status}` : ''}${rule.ms ? ` ${rule.ms} ms` : ''}${rule.retryAfter !== undefined ? ` (Retry-After ${rule.retryAfter})` : ''}${rule.afterBytes !== undefined ? ` after ${rule.afterBytes} B` : ''} ${(rule.probability * 100).toFixed(2)}%`;

const BUILD_QUERY = 'query($id: ID!) { build(id: $id) { id name status stage ref duration commit { sha title } pipeline { upstreamId status } user { username } } }';
const LIST_QUERY = `query($upstream: String!, $project: ID!, $after: String) { project(upstream: $upstream, id: $project) { builds(first: 20, after: $after) {
  nodes { id name status commit { sha title } pipeline { upstreamId status createdAt } user { username name } } pageInfo { endCursor hasNextPage } } } }`;
const PIPELINE_QUERY = `query($pipeline: ID!) { project(upstream: "gitlab", id: "1") { pipeline(id: $pipeline) { id status ref
  builds(first: 50) { nodes { id name status stage user { username } } } } } }`;
const BKCI_HISTORY_QUERY = `query($pipeline: ID!) { project(upstream: "bkci", id: "demo") { pipeline(id: $pipeline) { id status
  builds(first: 20) { nodes { id name status attempt startedAt duration commit { sha } user { username } } } } } }`;
const TRACE_QUERY = 'query($id: ID!, $offset: Int, $limit: Int) { build(id: $id) { id status trace(offset: $offset, limit: $limit) { offset nextOffset size complete } } }';
const RUNNING_QUERY = `{ gitlab: project(upstream: "gitlab", id: "1") { builds(first: 20, scope: [RUNNING]) { nodes { id } } }
  bkci: project(upstream: "bkci", id: "demo") { builds(first: 10, scope: [RUNNING]) { nodes { id } } } }`;
const RETRY_MUTATION = 'mutation($id: ID!) { retryBuild(id: $id) { build { id status } } }';
const CANCEL_MUTATION = 'mutation($id: ID!) { cancelBuild(id: $id) { build { id status } } }';

/** The kinds of request, in table order: label, and the check a data answer must pass. */
const KINDS = {
  build: { label: 'build by id (gitlab, gitlab-v3, bkci)', ok: (d) => d?.build?.id },
  list: { label: '20 builds + commit, pipeline, user (gitlab, gitlab-v3)', ok: (d) => Array.isArray(d?.project?.builds?.nodes) },
  pipeline: { label: "a pipeline's builds (gitlab)", ok: (d) => Array.isArray(d?.project?.pipeline?.builds?.nodes) },
  history: { label: "a bk-ci pipeline's history", ok: (d) => Array.isArray(d?.project?.pipeline?.builds?.nodes) },
  trace: { label: 'a trace window (gitlab bytes, bkci lines)', ok: (d) => d?.build?.id },
  discovery: { label: 'which builds run now (every 3 s)', ok: (d) => d?.gitlab || d?.bkci },
  'gitlab-retry': { label: 'mutation: retryBuild (gitlab)', ok: (d) => d?.retryBuild?.build?.id, mutation: true },
  'gitlab-cancel': { label: 'mutation: cancelBuild (gitlab)', ok: (d) => d?.cancelBuild?.build?.id, mutation: true },
  'bkci-retry': { label: 'mutation: retryBuild (bkci)', ok: (d) => d?.retryBuild?.build?.id, mutation: true },
  'bkci-stop': { label: 'mutation: cancelBuild (bkci stop)', ok: (d) => d?.cancelBuild?.build?.id, mutation: true },
};

/** The simulator's and the gateway's route for each mutation kind. */
const MUTATION_ROUTES = {
  'gitlab-retry': { sim: (k) => k === 'POST /api/v4/projects/:id/jobs/:job_id/retry', gw: /upstream="gitlab",method="POST",route="[^"]*\/retry"/ },
  'gitlab-cancel': { sim: (k) => k === 'POST /api/v4/projects/:id/jobs/:job_id/cancel', gw: /upstream="gitlab",method="POST",route="[^"]*\/cancel"/ },
  'bkci-retry': { sim: (k) => /^POST \/ms\/.*\/builds\/:buildId\/retry$/.test(k), gw: /upstream="bkci",method="POST",route="[^"]*\/retry"/ },
  'bkci-stop': { sim: (k) => /^POST \/ms\/.*\/builds\/:buildId\/stop$/.test(k), gw: /upstream="bkci",method="POST",route="[^"]*\/stop"/ },
};

class Tally {
  constructor() {
    this.sent = 0;
    this.data = 0;
    this.coded = {};
    this.http = {};
    this.unanswered = 0;
    this.connection = {};
    this.bad = 0;
    this.latencies = [];
  }

  get connectionErrors() {
    return Object.values(this.connection).reduce((a, b) => a + b, 0);
  }
}

/** One GraphQL POST on `agent`; resolves `{status, text}`, `{error}` or, after `timeoutMs`, `{unanswered: true}`. */
function graphqlPost(agent, url, payload, headers, timeoutMs) {
  return new Promise((resolve) => {
    const body = JSON.stringify(payload);
    let settled = false;
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => finish({ status: response.statusCode, text }));
        response.on('error', (error) => finish({ error: error.code ?? error.message }));
        response.on('aborted', () => finish({ error: 'aborted' }));
      },
    );
    const timer = setTimeout(() => {
      finish({ unanswered: true });
      request.destroy();
    }, timeoutMs);
    request.on('error', (error) => finish({ error: error.code ?? error.message }));
    request.end(body);
  });
}

/** Sockets and all descriptors the process holds, from /proc/<pid>/fd. */
async function descriptors(pid) {
  const { readdirSync, readlinkSync } = await import('node:fs');
  let sockets = 0;
  let fds = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      fds++;
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
      } catch {
        // closed while we looked
      }
    }
  } catch {
    return { sockets: undefined, fds: undefined };
  }
  return { sockets, fds };
}

/** Sum of the samples of a Prometheus text exposition whose line matches `pattern`. */
function metricSum(text, pattern) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('#') && pattern.test(line)) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}

const percentile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : undefined);

/** Least-squares slope of `[x, y]` points (y per x). */
function slope(points) {
  const n = points.length;
  if (n < 2) return undefined;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den ? num / den : undefined;
}

export async function runSoak(opts) {
  const { createWriteStream, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { postJson, resetSimStats, simStats, sumRoutes } = await import('../lib/http.mjs');
  const { cpuSeconds, embeddedStyleUpstreams, machineBusySeconds, rssMiB, scratch, startGateway, startSimulator, track, waitQuiet } = await import('../lib/procs.mjs');
  const { fmt, table } = await import('../lib/report.mjs');

  const seconds = opts.soakSeconds;
  const warmup = Math.min(opts.soakWarmup, seconds / 2);
  const deadlineMs = 5000;
  const upstreamTimeoutMs = 2000;
  const timeoutMs = deadlineMs + GRACE_MS;
  const rand = prng(20261123);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const log = (line) => process.stdout.write(`  ${line}\n`);

  const sim = await startSimulator(['--builds', '20000', '--tick-ms', '200', '--job-ticks', String(opts.soakJobTicks)]);
  let gateway;
  const workers = [];
  const agents = [];
  try {
    gateway = await startGateway({
      requestDeadlineMs: deadlineMs,
      upstreams: embeddedStyleUpstreams(sim.url).map((u) => ({ ...u, headersTimeoutMs: upstreamTimeoutMs, bodyTimeoutMs: upstreamTimeoutMs })),
    });
    // The gateway's log (refused, failed and slow requests; errors) goes to a scratch file, to look up what it said about a request left unanswered.
    const logFile = join(scratch(), 'soak-gateway.log');
    const logStream = createWriteStream(logFile);
    gateway.child.stdout.on('data', (chunk) => logStream.write(chunk));
    gateway.child.stderr.on('data', (chunk) => logStream.write(chunk));
    const base = new URL(gateway.url).origin;
    const getText = async (path) => {
      const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5000) });
      return { status: response.status, text: await response.text() };
    };

    // ---- Setup, before any fault: ids to rotate over. ----
    const setupAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    agents.push(setupAgent);
    const setupGql = async (query, variables = {}) => {
      const result = await graphqlPost(setupAgent, gateway.url, { query, variables }, {}, 30_000);
      const body = result.text && JSON.parse(result.text);
      if (result.status !== 200 || !body || body.errors?.length) throw new Error(`setup query failed: ${JSON.stringify(result).slice(0, 800)}`);
      return body.data;
    };
    const pools = { gitlab: [], gitlabFinished: [], v3: [], bkci: [], bkciFinished: [], pipelines: new Set(), bkciPipelines: new Set(), cursors: [] };
    const FINISHED = new Set(['SUCCESS', 'FAILED', 'CANCELED']);
    let after = null;
    for (let page = 0; page < 10; page++) {
      const data = await setupGql(
        `query($after: String) { project(upstream: "gitlab", id: "1") { builds(first: 100, after: $after) { nodes { id status pipeline { upstreamId } } pageInfo { endCursor } } } }`,
        { after },
      );
      for (const b of data.project.builds.nodes) {
        pools.gitlab.push(b.id);
        if (FINISHED.has(b.status)) pools.gitlabFinished.push(b.id);
        if (b.pipeline) pools.pipelines.add(b.pipeline.upstreamId);
      }
      after = data.project.builds.pageInfo.endCursor;
      pools.cursors.push(after);
    }
    const v3 = await setupGql(`{ project(upstream: "gitlab-v3", id: "1") { builds(first: 100) { nodes { id } } } }`);
    pools.v3 = v3.project.builds.nodes.map((b) => b.id);
    const bk = await setupGql(`{ project(upstream: "bkci", id: "demo") { builds(first: 100) { nodes { id status pipeline { upstreamId } } } } }`);
    for (const b of bk.project.builds.nodes) {
      pools.bkci.push(b.id);
      if (FINISHED.has(b.status)) pools.bkciFinished.push(b.id);
      if (b.pipeline) pools.bkciPipelines.add(b.pipeline.upstreamId);
    }
    const pipelines = [...pools.pipelines];
    const bkciPipelines = [...pools.bkciPipelines];
    log(`ids: ${pools.gitlab.length} gitlab builds (${pools.gitlabFinished.length} finished) over ${pipelines.length} pipelines, ${pools.v3.length} gitlab-v3, ${pools.bkci.length} bkci over ${bkciPipelines.length} pipelines`);

    // ---- The requests. ----
    const running = { gitlab: [], bkci: [] };
    /** The new builds gitlab retries made (pending or running): what the cancels mostly aim at. */
    const retried = [];
    const tallies = Object.fromEntries(Object.keys(KINDS).map((k) => [k, new Tally()]));
    const unansweredLog = [];
    const oddAnswers = [];
    let requestNo = 0;

    const buildId = () => {
      const r = rand();
      return r < 0.8 ? pick(pools.gitlab) : r < 0.9 ? pick(pools.v3) : pick(pools.bkci);
    };
    const nextQuery = () => {
      const r = rand();
      if (r < 0.35) return ['build', { query: BUILD_QUERY, variables: { id: buildId() } }];
      if (r < 0.55) {
        const v3Project = rand() < 0.2;
        return ['list', { query: LIST_QUERY, variables: { upstream: v3Project ? 'gitlab-v3' : 'gitlab', project: '1', after: !v3Project && rand() < 0.5 ? pick(pools.cursors) : null } }];
      }
      if (r < 0.7) return ['pipeline', { query: PIPELINE_QUERY, variables: { pipeline: pick(pipelines) } }];
      if (r < 0.85) return ['history', { query: BKCI_HISTORY_QUERY, variables: { pipeline: pick(bkciPipelines) } }];
      const onBkci = rand() < 0.15;
      return ['trace', { query: TRACE_QUERY, variables: onBkci ? { id: pick(pools.bkci), offset: 0, limit: 200 } : { id: pick(pools.gitlab), offset: 0, limit: 16384 } }];
    };
    const nextMutation = () => {
      const r = rand();
      const dev = { 'PRIVATE-TOKEN': 'glpat-developer' };
      const bkUser = { 'X-DEVOPS-UID': 'alice' };
      if (r < 0.4) return ['gitlab-retry', { query: RETRY_MUTATION, variables: { id: pick(pools.gitlabFinished) } }, dev];
      if (r < 0.7) {
        const c = rand();
        const id = c < 0.7 && retried.length ? pick(retried) : c < 0.85 && running.gitlab.length ? pick(running.gitlab) : pick(pools.gitlab);
        return ['gitlab-cancel', { query: CANCEL_MUTATION, variables: { id } }, dev];
      }
      if (r < 0.9) return ['bkci-retry', { query: RETRY_MUTATION, variables: { id: pick(pools.bkciFinished.length ? pools.bkciFinished : pools.bkci) } }, bkUser];
      return ['bkci-stop', { query: CANCEL_MUTATION, variables: { id: running.bkci.length && rand() < 0.7 ? pick(running.bkci) : pick(pools.bkci) } }, bkUser];
    };

    let clockStart = 0;
    /** Sends one request, classifies its answer; returns the parsed body for data answers. */
    const send = async (agent, kind, payload, headers = {}) => {
      const tally = tallies[kind];
      const requestId = `soak-${kind}-${++requestNo}`;
      tally.sent++;
      const t0 = performance.now();
      const result = await graphqlPost(agent, gateway.url, payload, { 'x-request-id': requestId, ...headers }, timeoutMs);
      const ms = performance.now() - t0;
      if (result.unanswered) {
        tally.unanswered++;
        unansweredLog.push({ requestId, kind, at: ((Date.now() - clockStart) / 1000).toFixed(1), variables: payload.variables });
        return undefined;
      }
      if (result.error) {
        bump(tally.connection, result.error);
        unansweredLog.push({ requestId, kind, at: ((Date.now() - clockStart) / 1000).toFixed(1), error: result.error, ms: Math.round(ms) });
        return undefined;
      }
      tally.latencies.push(ms);
      let body;
      try {
        body = JSON.parse(result.text);
      } catch {
        body = undefined;
      }
      if (result.status !== 200) {
        bump(tally.http, `${result.status}${body?.errors?.length ? ` ${codesOf(body.errors)}` : ''}`);
        if (oddAnswers.length < 10) oddAnswers.push({ requestId, kind, status: result.status, text: result.text.slice(0, 300) });
        return undefined;
      }
      if (!body || typeof body !== 'object') {
        bump(tally.http, '200 not JSON');
        return undefined;
      }
      if (body.errors?.length) {
        const codes = codesOf(body.errors);
        bump(tally.coded, codes);
        if (codes.includes('NO CODE') && oddAnswers.length < 10) oddAnswers.push({ requestId, kind, errors: body.errors.slice(0, 2) });
        return body;
      }
      if (!KINDS[kind].ok(body.data)) {
        tally.bad++;
        if (oddAnswers.length < 10) oddAnswers.push({ requestId, kind, data: JSON.stringify(body.data).slice(0, 300) });
        return body;
      }
      tally.data++;
      return body;
    };

    /**
     * A lane: one keep-alive connection sending `next()` every `intervalMs` until `endAt`. After a slow
     * answer (a faulted upstream) it catches up by sending at once, but never more than 2 s behind.
     */
    const lane = async (next, intervalMs, endAt, offsetMs) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
      await sleep(offsetMs);
      let due = Date.now();
      while (Date.now() < endAt) {
        const [kind, payload, headers] = next();
        const body = await send(agent, kind, payload, headers);
        const newBuild = kind === 'gitlab-retry' && body?.data?.retryBuild?.build?.id;
        if (newBuild) {
          retried.push(newBuild);
          if (retried.length > 100) retried.shift();
        }
        due = Math.max(due + intervalMs, Date.now() - 2000);
        await sleep(due - Date.now());
      }
    };

    const broadcastRunning = () => {
      for (const w of workers) if (w.child.connected) w.child.send({ type: 'builds', gitlab: running.gitlab, bkci: running.bkci }, () => {});
    };
    const discoveryAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(discoveryAgent);
    const discover = async () => {
      const body = await send(discoveryAgent, 'discovery', { query: RUNNING_QUERY });
      // A part that failed (a faulted upstream) keeps the last list it had.
      if (body?.data?.gitlab) running.gitlab = body.data.gitlab.builds.nodes.map((b) => b.id);
      if (body?.data?.bkci) running.bkci = body.data.bkci.builds.nodes.map((b) => b.id);
      broadcastRunning();
    };
    await discover();
    log(`running now: ${running.gitlab.length} gitlab, ${running.bkci.length} bkci`);

    // ---- Faults on, stats from zero, then the clock starts. ----
    const rules = faultRules(opts.soakFaultRate);
    if (opts.soakFaultRate > 0) await postJson(`${sim.url}/__sim/faults`, rules);
    await resetSimStats(sim.url);
    for (const t of Object.values(tallies)) Object.assign(t, new Tally());

    const samples = [];
    const snapshot = async (label) => {
      const metrics = await getText('/metrics').catch(() => ({ text: '' }));
      const fd = await descriptors(gateway.pid);
      return {
        label,
        at: (Date.now() - clockStart) / 1000,
        rss: rssMiB(gateway.pid),
        heap: metricSum(metrics.text, /^buildgate_nodejs_heap_size_used_bytes /) / 2 ** 20,
        subscriptions: metricSum(metrics.text, /^buildgate_active_subscriptions /),
        pollers: metricSum(metrics.text, /^buildgate_trace_pollers /),
        ...fd,
      };
    };
    // A shared machine: start when other processes are quiet (or the wait is over); the CPU row says what they used.
    const quiet = opts.quietWait > 0 ? await waitQuiet([sim.pid, gateway.pid], { maxSeconds: opts.quietWait, threshold: 0.5 }) : undefined;
    const idle = await snapshot('idle');
    const fdIdle = idle;

    clockStart = Date.now();
    const endAt = clockStart + seconds * 1000;
    const warmEnd = clockStart + warmup * 1000;
    const midAt = warmEnd + (endAt - warmEnd) / 2;
    const cpu = (label) => ({
      label,
      gateway: cpuSeconds(gateway.pid),
      sim: cpuSeconds(sim.pid),
      workers: workers.reduce((s, w) => s + (cpuSeconds(w.child.pid) ?? 0), 0),
      self: (() => {
        const { user, system } = process.cpuUsage();
        return (user + system) / 1e6;
      })(),
      machine: machineBusySeconds(),
      time: Date.now(),
    });

    // SSE workers.
    const workerCount = Math.max(1, Math.min(opts.soakWorkers, opts.soakSubscribers));
    const subsStatus = { open: 0, started: 0 };
    for (let w = 0; w < workerCount; w++) {
      const child = track(fork(fileURLToPath(import.meta.url), [WORKER_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
      child.on('error', () => {});
      const state = { open: 0, started: 0 };
      let onDone;
      const done = new Promise((resolve, reject) => {
        onDone = resolve;
        child.once('exit', (code) => reject(new Error(`SSE worker ${w} exited (${code}) before reporting`)));
      });
      done.catch(() => {});
      child.on('message', (message) => {
        if (message.type === 'progress') Object.assign(state, message);
        else if (message.type === 'done') onDone(message.tally);
      });
      const slots = Math.floor(opts.soakSubscribers / workerCount) + (w < opts.soakSubscribers % workerCount ? 1 : 0);
      workers.push({ child, state, done });
      child.send({ type: 'builds', gitlab: running.gitlab, bkci: running.bkci });
      child.send({
        type: 'start',
        url: gateway.url,
        slots,
        minLifeMs: 10_000,
        maxLifeMs: 60_000,
        bkciShare: 0.15,
        headTimeoutMs: timeoutMs,
        endAt,
        seed: 1000 + w,
        rampMs: Math.min(10_000, warmup * 500),
      });
    }
    const cpuStart0 = cpu('run start');

    // Query lanes, the mutation lane, discovery, /health.
    const laneCount = Math.max(1, opts.soakConnections);
    const interval = (laneCount * 1000) / Math.max(1, opts.soakRps);
    const lanes = Array.from({ length: laneCount }, (_, i) => lane(nextQuery, interval, endAt, (i * interval) / laneCount));
    if (opts.soakMutations > 0) lanes.push(lane(nextMutation, 1000 / opts.soakMutations, endAt, 250));
    const loops = [];
    loops.push(
      (async () => {
        while (Date.now() < endAt) {
          await sleep(3000);
          if (Date.now() < endAt) await discover();
        }
      })(),
    );
    const health = { polls: 0, ok: 0, failures: [], maxMs: 0 };
    const pollHealth = async () => {
      health.polls++;
      const t0 = performance.now();
      try {
        const response = await fetch(`${base}/health`, { signal: AbortSignal.timeout(4000), headers: { 'x-request-id': `soak-health-${health.polls}` } });
        await response.text();
        if (response.status === 200) health.ok++;
        else health.failures.push(`${((Date.now() - clockStart) / 1000).toFixed(0)} s: HTTP ${response.status}`);
      } catch (error) {
        health.failures.push(`${((Date.now() - clockStart) / 1000).toFixed(0)} s: ${error.cause?.code ?? error.name ?? error.message}`);
      }
      health.maxMs = Math.max(health.maxMs, performance.now() - t0);
    };
    let exitedAt;
    loops.push(
      (async () => {
        while (Date.now() < endAt) {
          await sleep(5000);
          await pollHealth();
          const fd = await descriptors(gateway.pid);
          const metrics = await getText('/metrics').catch(() => ({ text: '' }));
          const heap = metricSum(metrics.text, /^buildgate_nodejs_heap_size_used_bytes /) / 2 ** 20;
          samples.push({ t: (Date.now() - clockStart) / 1000, rss: rssMiB(gateway.pid), heap: heap || undefined, sockets: fd.sockets });
          if (gateway.exit && exitedAt === undefined) exitedAt = (Date.now() - clockStart) / 1000;
          const t = Math.round((Date.now() - clockStart) / 1000);
          if (t % 30 < 5) {
            const open = workers.reduce((s, w) => s + w.state.open, 0);
            const req = Object.values(tallies).reduce((s, x) => s + x.sent, 0);
            log(`${t} s: ${fmt.int(req)} requests, ${open} subscriptions open, gateway RSS ${fmt.num(rssMiB(gateway.pid))} MiB, ${fd.sockets ?? 'n/a'} sockets`);
          }
        }
      })(),
    );

    // Snapshots after the warm-up, in the middle and at the end, with the load running.
    await sleep(warmEnd - Date.now());
    const snapStart = await snapshot('start');
    const cpuWarm = cpu('after warm-up');
    log(`warm-up over: gateway RSS ${fmt.num(snapStart.rss)} MiB, ${snapStart.sockets} sockets`);
    await sleep(midAt - Date.now());
    const snapMiddle = await snapshot('middle');
    await sleep(endAt - Date.now());
    const snapEnd = await snapshot('end');
    const cpuEnd = cpu('end');

    // ---- Stop: the lanes end within one request timeout; the workers cut what is open. ----
    await Promise.all([...lanes, ...loops]);
    for (const w of workers) if (w.child.connected) w.child.send({ type: 'stop' }, () => {});
    const subTallies = await Promise.all(
      workers.map((w) =>
        Promise.race([w.done, sleep(30_000).then(() => undefined)]).catch((error) => {
          log(String(error.message));
          return undefined;
        }),
      ),
    );
    const stats = await simStats(sim.url);
    const gwMetrics = await getText('/metrics').catch(() => ({ text: '' }));
    if (opts.soakFaultRate > 0) await fetch(`${sim.url}/__sim/faults`, { method: 'DELETE' });
    for (const agent of agents) agent.destroy();
    // Drained: no client connection, no fault. Pollers and subscriptions should be gone, sockets back near idle.
    await sleep(10_000);
    const snapDrained = await snapshot('drained');
    await pollHealth();

    // Streams cut while silent for 20 s on a build no longer in the running list: a build waiting for
    // review (bk-ci REVIEWING → MANUAL) or still pending is fine; one that had finished more than 20 s
    // before the cut means a stream that should have completed and did not.
    const stale = { checked: 0, finishedBefore: [], waiting: {}, unknown: 0, completionsChecked: 0, completionsUnknown: 0, premature: [] };
    {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const seen = new Map();
      for (const [id, cutAt, requestId, silentMs] of subTallies.filter(Boolean).flatMap((t) => t.stale).slice(0, 300)) {
        if (!seen.has(id)) {
          const result = await graphqlPost(agent, gateway.url, { query: 'query($id: ID!) { build(id: $id) { status finishedAt } }', variables: { id } }, {}, timeoutMs);
          let build = null;
          try {
            build = JSON.parse(result.text).data.build;
          } catch {
            // counted as unknown
          }
          seen.set(id, build);
        }
        const build = seen.get(id);
        stale.checked++;
        if (!build) stale.unknown++;
        else if (build.finishedAt && Date.parse(build.finishedAt) < cutAt - 20_000) {
          stale.finishedBefore.push({ id, requestId, status: build.status, finishedAt: build.finishedAt, cutAt: new Date(cutAt).toISOString(), silentMs });
        } else bump(stale.waiting, build.status);
      }
      // Streams that said `complete: true`: their build must have finished by then (GitLab only: a bk-ci
      // retry runs the same build again, so its status now says nothing of then).
      const TERMINAL = new Set(['SUCCESS', 'FAILED', 'CANCELED', 'SKIPPED']);
      for (const [id, completedAt] of subTallies.filter(Boolean).flatMap((t) => t.completions)) {
        if (!seen.has(id)) {
          const result = await graphqlPost(agent, gateway.url, { query: 'query($id: ID!) { build(id: $id) { status finishedAt } }', variables: { id } }, {}, timeoutMs);
          let build = null;
          try {
            build = JSON.parse(result.text).data.build;
          } catch {
            // counted as unknown
          }
          seen.set(id, build);
        }
        const build = seen.get(id);
        stale.completionsChecked++;
        if (!build) stale.completionsUnknown++;
        else if (!TERMINAL.has(build.status) || !build.finishedAt || Date.parse(build.finishedAt) > completedAt + 1000) {
          stale.premature.push({ id, status: build.status, finishedAt: build.finishedAt, completedAt: new Date(completedAt).toISOString() });
        }
      }
      agent.destroy();
    }
    const alive = !gateway.exit;
    logStream.end();
    await new Promise((resolve) => logStream.once('close', resolve));

    // ---- Figures. ----
    const windowS = (cpuEnd.time - cpuWarm.time) / 1000;
    const runS = (cpuEnd.time - cpuStart0.time) / 1000;
    const cpuShare = (a, b, key) => (b[key] - a[key]) / ((b.time - a.time) / 1000);
    const gwCpuWindow = cpuShare(cpuWarm, cpuEnd, 'gateway');
    const othersWindow = Math.max(0, cpuShare(cpuWarm, cpuEnd, 'machine') - gwCpuWindow - cpuShare(cpuWarm, cpuEnd, 'sim') - cpuShare(cpuWarm, cpuEnd, 'workers') - cpuShare(cpuWarm, cpuEnd, 'self'));

    const all = Object.values(tallies);
    const totalSent = all.reduce((s, t) => s + t.sent, 0);
    const totalData = all.reduce((s, t) => s + t.data, 0);
    const totalCoded = all.reduce((s, t) => s + Object.values(t.coded).reduce((a, b) => a + b, 0), 0);
    const totalHttp = all.reduce((s, t) => s + Object.values(t.http).reduce((a, b) => a + b, 0), 0);
    const totalUnanswered = all.reduce((s, t) => s + t.unanswered, 0);
    const totalConnection = all.reduce((s, t) => s + t.connectionErrors, 0);
    const totalBad = all.reduce((s, t) => s + t.bad, 0);
    const codeTotals = {};
    for (const t of all) for (const [code, n] of Object.entries(t.coded)) bump(codeTotals, code, n);
    const mapText = (map) =>
      Object.entries(map)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${fmt.int(n)}`)
        .join(', ') || '—';
    const queryKinds = ['build', 'list', 'pipeline', 'history', 'trace', 'discovery'];
    const queriesSent = queryKinds.reduce((s, k) => s + tallies[k].sent, 0);
    const kindRow = (kind) => {
      const t = tallies[kind];
      const lat = [...t.latencies].sort((a, b) => a - b);
      const parts = [`${fmt.int(t.sent)} sent: data ${fmt.int(t.data)}`];
      if (Object.keys(t.coded).length) parts.push(`errors ${mapText(t.coded)}`);
      if (Object.keys(t.http).length) parts.push(`HTTP ${mapText(t.http)}`);
      if (t.bad) parts.push(`empty data ${t.bad}`);
      if (t.unanswered) parts.push(`UNANSWERED ${t.unanswered}`);
      if (t.connectionErrors) parts.push(`connection closed unanswered: ${mapText(t.connection)}`);
      parts.push(`p50/p99/max ${fmt.ms(percentile(lat, 0.5))}/${fmt.ms(percentile(lat, 0.99))}/${fmt.ms(lat[lat.length - 1])} ms`);
      return [`— ${KINDS[kind].label}`, parts.join(' · '), ''];
    };

    // Mutations: what the bench sent vs what reached the simulator (and what the gateway says it sent).
    const mutationRows = [];
    let mutationsSent = 0;
    let simPosts = 0;
    let gwPosts = 0;
    let excess = 0;
    for (const [kind, routes] of Object.entries(MUTATION_ROUTES)) {
      const sent = tallies[kind].sent;
      const atSim = sumRoutes(stats.routes, routes.sim);
      const atGw = metricSum(gwMetrics.text, new RegExp(`^buildgate_upstream_request_duration_seconds_count\\{${routes.gw.source}`));
      mutationsSent += sent;
      simPosts += atSim;
      gwPosts += atGw;
      excess += Math.max(0, Math.max(atSim, atGw) - sent);
      mutationRows.push(`${KINDS[kind].label.replace('mutation: ', '')} ${sent} → ${atSim} (gw ${atGw})`);
    }
    const gwRetries = metricSum(gwMetrics.text, /^buildgate_upstream_retries_total\{/);

    const subs = subTallies.filter(Boolean);
    const sumSub = (key) => subs.reduce((s, t) => s + (t[key] ?? 0), 0);
    const mergeSub = (key) => {
      const out = {};
      for (const t of subs) for (const [k, n] of Object.entries(t[key])) bump(out, k, n);
      return out;
    };
    const firstChunk = subs.flatMap((t) => t.firstChunkMs).sort((a, b) => a - b);
    const completedLife = subs.flatMap((t) => t.completedMs).sort((a, b) => a - b);
    const subErrorSamples = subs.flatMap((t) => t.errorSamples);
    const subErrored = mergeSub('errored');
    const subHttp = mergeSub('http');
    const subTransport = mergeSub('transport');
    const subSamples = subs.flatMap((t) => t.samples);

    const growth = (a, b) => (a && b !== undefined ? (b - a) / a : undefined);
    const rssGrowth = growth(snapStart.rss, snapEnd.rss);
    const rssGrowthMid = growth(snapStart.rss, snapMiddle.rss);
    const afterWarm = samples.filter((s) => s.t >= warmup && s.rss !== undefined);
    const rssSlope = slope(afterWarm.map((s) => [s.t / 60, s.rss]));
    const rssPeak = Math.max(...afterWarm.map((s) => s.rss));
    // RSS and heap swing with the collector (±30% within a minute): the least of the 5 s samples in the
    // 30 s up to each snapshot is the floor the collector got back to, which is what grows in a leak.
    const floor = (snap, key) => {
      const values = samples.filter((s) => s.t <= snap.at && s.t > snap.at - 30 && s[key] !== undefined).map((s) => s[key]);
      return values.length ? Math.min(...values) : undefined;
    };
    const floors = ['rss', 'heap'].map((key) => [snapStart, snapMiddle, snapEnd].map((snap) => floor(snap, key)));
    const heapSlope = slope(afterWarm.filter((s) => s.heap !== undefined).map((s) => [s.t / 60, s.heap]));
    const socketsPeak = Math.max(...samples.map((s) => s.sockets ?? 0));

    // The gateway's log: error-level lines, and what it said about each request left unanswered.
    const logText = readFileSync(logFile, 'utf8');
    const levels = {};
    const errorLines = [];
    for (const line of logText.split('\n')) {
      const level = /"level":"(\w+)"/.exec(line)?.[1];
      if (!level) continue;
      bump(levels, level);
      if ((level === 'error' || level === 'fatal') && errorLines.length < 5) errorLines.push(line.slice(0, 400));
    }
    const unansweredLines = unansweredLog.slice(0, 10).map((u) => {
      const lines = logText.split('\n').filter((line) => line.includes(`"${u.requestId}"`));
      return { ...u, gatewayLog: lines.length ? lines.map((l) => l.slice(0, 300)) : 'no line in the gateway log (it logs refused, failed and slow requests once it answers them)' };
    });

    const faulted = stats.faulted ?? 0;
    const crashed = Boolean(gateway.exit) || exitedAt !== undefined;
    const unansweredAll = totalUnanswered + totalConnection;
    const memOk = rssGrowth !== undefined && rssGrowth < 0.1;
    const verdict = (ok) => (ok ? 'ok' : '**FAIL**');

    const text = table(
      ['measure', 'value', 'target'],
      [
        ['run', `${fmt.num(runS, 0)} s (${fmt.num(warmup, 0)} s warm-up, then ${fmt.num(windowS, 0)} s measured); simulator --builds 20000 --tick-ms 200 --job-ticks ${opts.soakJobTicks}; gateway requestDeadlineMs ${deadlineMs}, upstream headers/body timeouts ${upstreamTimeoutMs} ms`, ''],
        ['upstream requests faulted (simulator `faulted` / total)', `${fmt.int(faulted)} / ${fmt.int(stats.total)} = ${fmt.pct(faulted / Math.max(1, stats.total))}`, `~${fmt.pct(opts.soakFaultRate)}`],
        ['gateway process up the whole run (exit; /health every 5 s)', `${crashed ? `**EXITED** ${JSON.stringify(gateway.exit)}` : 'up'}; /health ${health.ok}/${health.polls} ok, slowest ${fmt.num(health.maxMs, 0)} ms`, `0 crashes ${verdict(!crashed && health.failures.length === 0)}`],
        [
          'GraphQL requests (queries + mutations + discovery)',
          `${fmt.int(totalSent)} (${fmt.num(queriesSent / runS, 1)} queries/s on ${laneCount} connections, ${fmt.num(mutationsSent / runS, 2)} mutations/s): data ${fmt.int(totalData)} · coded errors ${fmt.int(totalCoded)} · HTTP errors ${fmt.int(totalHttp)}${totalBad ? ` · empty data without error ${totalBad}` : ''} · unanswered ${fmt.int(unansweredAll)}`,
          '',
        ],
        ['unanswered (no answer within deadline + 2 s = 7 s / connection closed without an answer)', `${fmt.int(totalUnanswered)} / ${fmt.int(totalConnection)}`, `0 ${verdict(unansweredAll === 0)}`],
        ['coded errors by `extensions.code`', mapText(codeTotals), ''],
        ...[...queryKinds, ...Object.keys(MUTATION_ROUTES)].map(kindRow),
        ['mutations sent → POSTs at the simulator (and as the gateway counts them)', `${fmt.int(mutationsSent)} → ${fmt.int(simPosts)} (gw ${fmt.int(gwPosts)}): ${mutationRows.join('; ')}`, ''],
        ['mutation POSTs in excess of mutations sent (a retried mutation)', String(excess), `0 ${verdict(excess === 0)}`],
        ['gateway read retries (`buildgate_upstream_retries_total`)', fmt.int(gwRetries), ''],
        [
          'subscriptions (`buildTrace`, SSE, 10–60 s each; 15% bkci): started · completed · cut by client · errored · other',
          `${fmt.int(sumSub('started'))} (${fmt.int(sumSub('bkci'))} bkci) · ${fmt.int(sumSub('completed'))} (after p50 ${fmt.num(percentile(completedLife, 0.5) / 1000)} s) · ${fmt.int(sumSub('cut'))} (+${fmt.int(sumSub('cutAtEnd'))} open at the end) · ${mapText(subErrored)} · HTTP ${mapText(subHttp)}, transport ${mapText(subTransport)}, ended without complete or error ${sumSub('endedEarly')}, no head within 7 s ${sumSub('unanswered')}`,
          '',
        ],
        ['subscriptions: chunks, first chunk p50/p99, offset gaps, cut after ≥ 20 s silent', `${fmt.int(sumSub('chunks'))} chunks, ${fmt.num(sumSub('bytes') / 2 ** 20)} MiB; ${fmt.int(percentile(firstChunk, 0.5))}/${fmt.int(percentile(firstChunk, 0.99))} ms; gaps ${sumSub('gaps') + sumSub('badLengths')}; ${fmt.int(sumSub('noChunk'))} got no chunk; ${sumSub('staleCuts')} cut silent on a build not running (${mapText(stale.waiting)} when checked${stale.unknown ? `, ${stale.unknown} unknown` : ''})`, 'gaps 0'],
        ['streams left open > 20 s after their build finished (never completed)', `${stale.finishedBefore.length}`, `0 ${verdict(stale.finishedBefore.length === 0)}`],
        ['GitLab streams completed before their build had finished', `${stale.premature.length} of ${fmt.int(stale.completionsChecked)} checked${stale.completionsUnknown ? ` (${stale.completionsUnknown} unknown)` : ''}`, `0 ${verdict(stale.premature.length === 0)}`],
        ['gateway RSS (VmRSS) idle / start / middle / end / drained', [idle.rss, snapStart.rss, snapMiddle.rss, snapEnd.rss, snapDrained.rss].map((m) => fmt.num(m)).join(' / ') + ` MiB (peak after warm-up ${fmt.num(rssPeak)})`, ''],
        ['gateway RSS growth after warm-up (middle, end vs start); trend', `${fmt.pct(rssGrowthMid)}, **${fmt.pct(rssGrowth)}**; ${rssSlope === undefined ? 'n/a' : `${rssSlope >= 0 ? '+' : ''}${fmt.num(rssSlope, 2)} MiB/min`} (least squares, 5 s samples)`, `< 10% ${verdict(memOk)}`],
        [
          'floors (least 5 s sample in the 30 s up to start / middle / end): RSS; JS heap used',
          `${floors[0].map((m) => fmt.num(m)).join(' / ')} MiB (${fmt.pct(growth(floors[0][0], floors[0][2]))}); ${floors[1].map((m) => fmt.num(m)).join(' / ')} MiB (${fmt.pct(growth(floors[1][0], floors[1][2]))})`,
          '',
        ],
        ['gateway JS heap used start / middle / end / drained; trend', [snapStart.heap, snapMiddle.heap, snapEnd.heap, snapDrained.heap].map((m) => fmt.num(m)).join(' / ') + ` MiB; ${heapSlope === undefined ? 'n/a' : `${heapSlope >= 0 ? '+' : ''}${fmt.num(heapSlope, 2)} MiB/min`}`, ''],
        ['gateway open sockets idle / start / middle / end / drained (all fds at end)', `${[fdIdle.sockets, snapStart.sockets, snapMiddle.sockets, snapEnd.sockets, snapDrained.sockets].join(' / ')} (peak ${socketsPeak}; ${snapEnd.fds} fds)`, 'flat'],
        ['active subscriptions / trace pollers at end → drained', `${snapEnd.subscriptions} / ${snapEnd.pollers} → ${snapDrained.subscriptions} / ${snapDrained.pollers}`, '→ 0 / 0'],
        [
          'CPU after warm-up (100% = one core): gateway · simulator · SSE workers · bench · others',
          [gwCpuWindow, cpuShare(cpuWarm, cpuEnd, 'sim'), cpuShare(cpuWarm, cpuEnd, 'workers'), cpuShare(cpuWarm, cpuEnd, 'self'), othersWindow].map((x) => fmt.pct(x)).join(' · ') + ` (gateway ${fmt.num(cpuEnd.gateway - cpuStart0.gateway, 0)} CPU s over the run)`,
          '',
        ],
        ['gateway log lines by level', mapText(levels), ''],
      ],
    );

    const notes = [
      `Faults: ${rules.map(faultLabel).join(', ')} on "*" (every simulated API route), on for the whole run; each rule draws in turn and the first that wins applies, so the rate is a little under the sum.`,
      `Load: ${laneCount} query connections at ${opts.soakRps} req/s in all (mix: 35% build by id, 20% list of 20, 15% a gitlab pipeline's builds, 15% a bk-ci pipeline's history, 15% a trace window), one mutation connection at ${opts.soakMutations}/s (40% retry a finished gitlab build; 30% cancel a gitlab build — 70% one this bench's retries created, 15% a running one, 15% any; 20% retry a finished bkci build; 10% stop a bkci build, 70% a running one; tokens glpat-developer / X-DEVOPS-UID alice), discovery of running builds every 3 s; ${opts.soakSubscribers} subscription slots over ${workerCount} worker processes, each subscribing from offset 0 to a running build for 10–60 s then to another (15% on bk-ci). The requests' latencies are from this process (one clock per kind, answered requests only).`,
      `Snapshots: "start" after the ${fmt.num(warmup, 0)} s warm-up, "middle" half-way through the rest, "end" at the end of the load (all three under load); "drained" 10 s after the load stopped and the faults were removed. Open sockets count \`/proc/<pid>/fd\` links to \`socket:\`.`,
      '"Mutation POSTs in excess": per mutation kind, the simulator\'s POST count (faulted requests included) and the gateway\'s own upstream POST count (`buildgate_upstream_request_duration_seconds_count`) minus the mutations this bench sent; above 0 means a mutation reached the upstream more than once. It cannot see a retry of a mutation when another mutation of that kind never reached the upstream (an open circuit breaker).',
    ];
    if (quiet) notes.push(`Before the run the bench waited ${quiet.waited.toFixed(0)} s for other processes to use < 50% of a core (${quiet.quiet ? 'they did' : 'they did not'}); the CPU row shows what they used during it.`);
    if (health.failures.length) notes.push(`/health failures: ${health.failures.slice(0, 10).join('; ')}`);
    if (unansweredLines.length) notes.push(`unanswered requests (first ${unansweredLines.length}): ${JSON.stringify(unansweredLines)}`);
    if (oddAnswers.length) notes.push(`odd answers (HTTP errors, uncoded errors, empty data): ${JSON.stringify(oddAnswers.slice(0, 5))}`);
    if (subErrorSamples.length) notes.push(`subscriptions that ended with an error (samples): ${JSON.stringify(subErrorSamples.slice(0, 4))}`);
    if (subSamples.length) notes.push(`odd subscription endings (samples): ${JSON.stringify(subSamples.slice(0, 6))}`);
    if (stale.premature.length) notes.push(`streams completed before their build finished (first 5): ${JSON.stringify(stale.premature.slice(0, 5))}`);
    if (stale.finishedBefore.length) notes.push(`streams not completed after their build finished (first 5): ${JSON.stringify(stale.finishedBefore.slice(0, 5))}`);
    if (errorLines.length) notes.push(`gateway error lines (first ${errorLines.length}): ${errorLines.map((l) => `\`${l}\``).join(' ')}`);
    if (subs.length !== workers.length) notes.push(`${workers.length - subs.length} SSE worker(s) did not report: their subscriptions are missing from the figures.`);

    const bad = [];
    if (crashed) bad.push(`the gateway exited: ${JSON.stringify(gateway.exit)}`);
    if (!alive || health.failures.length) bad.push(`${health.failures.length} /health polls failed`);
    if (unansweredAll) bad.push(`${unansweredAll} requests unanswered`);
    if (excess) bad.push(`${excess} mutation POSTs beyond the mutations sent`);
    if (!memOk) bad.push(`gateway RSS grew ${fmt.pct(rssGrowth)} after warm-up`);
    if (sumSub('gaps') + sumSub('badLengths')) bad.push('subscription chunks out of order');
    if (stale.premature.length) bad.push(`${stale.premature.length} streams completed before their build finished`);
    if (stale.finishedBefore.length) bad.push(`${stale.finishedBefore.length} subscription streams never completed after their build finished`);
    return { text, notes, failed: bad.length ? bad.join('; ') : undefined };
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    for (const agent of agents) agent.destroy();
    await Promise.all([gateway?.stop(), sim.stop()]);
  }
}
