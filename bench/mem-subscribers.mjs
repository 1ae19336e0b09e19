/**
 * Memory per trace subscriber (issue #16, deliverable 3): the simulator and one gateway, N `buildTrace`
 * subscribers on one running build (half SSE, half graphql-ws, on --tokens tokens), and the gateway's
 * VmRSS (and, after a forced GC through a preload, heap / external / arrayBuffers) idle and at each
 * step of --steps. `--snapshot N`: a heap snapshot (SIGUSR2) once N are connected.
 *   NODE_OPTIONS="--require ./bench/lib/mem-preload.cjs --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=$TMPDIR" \
 *     node bench/mem-subscribers.mjs --steps 2000,10000 [--tokens 10] [--snapshot 2000]
 * Without the preload only the raw VmRSS is reported. Not part of `npm run bench`; records nothing.
 */
import http from 'node:http';
import { readFileSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { rssMiB, startGateway, startSimulator } from './lib/procs.mjs';

const { values: opt } = parseArgs({ options: {
  steps: { type: 'string', default: '2000,10000' }, tokens: { type: 'string', default: '10' },
  snapshot: { type: 'string', default: '0' }, 'poll-ms': { type: 'string', default: '1000' },
  'bytes-per-tick': { type: 'string', default: '64' }, settle: { type: 'string', default: '8' },
} });
const steps = opt.steps.split(',').map(Number);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const QUERY = 'subscription($id: ID!) { buildTrace(id: $id) { offset nextOffset content complete } }';
const post = async (url, body) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();

const sim = await startSimulator(['--tick-ms', '1000']);
const tokens = Array.from({ length: Number(opt.tokens) }, (_, i) => `glpat-bench-mem-${i}`);
for (const token of tokens) await post(`${sim.url}/__sim/tokens`, { token, like: 'glpat-developer' });
const gw = await startGateway({
  upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${sim.url}/api/v4` }],
  trace: { pollIntervalMs: Number(opt['poll-ms']) }, logLevel: 'warn', server: { maxConnections: 20_000 },
}, 'gateway');
// The preload (NODE_OPTIONS) is inherited by the gateway: bench/lib/mem-preload.cjs.
const job = await post(`${sim.url}/__sim/jobs`, { project: 1, name: 'bench:mem', logBytesPerTick: Number(opt['bytes-per-tick']), totalBytes: 256 * 1024 * 1024 });
const q = await (await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', 'PRIVATE-TOKEN': tokens[0] },
  body: JSON.stringify({ query: `{ project(upstream:"gitlab", id:"1") { build(id: "${job.id}") { id status } } }` }) })).json();
const buildId = q.data.project.build.id;
const gwUrl = new URL(gw.url);

async function mem() {
  const file = join(tmpdir(), `buildgate-mem-${gw.pid}.json`);
  if (existsSync(file)) rmSync(file);
  process.kill(gw.pid, 'SIGWINCH');
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
  await sleep(50);
  try { return JSON.parse(readFileSync(file, 'utf8')); } catch { return undefined; }
}
async function sample(label, n, idle) {
  await sleep(Number(opt.settle) * 1000);
  const raw = rssMiB(gw.pid);
  const m = await mem();
  const row = { label, n, rssMiB: raw, gc: m && Object.fromEntries(['vmrss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers'].map((k) => [k, m[k] / 2 ** 20])) };
  if (idle && n) {
    row.perSubKB = { rss: ((raw - idle.rssMiB) * 1024) / n };
    if (m) for (const k of Object.keys(row.gc)) row.perSubKB[`gc.${k}`] = ((row.gc[k] - idle.gc[k]) * 1024) / n;
  }
  console.log(JSON.stringify(row));
  return row;
}

let chunks = 0, bytes = 0, errors = 0;
const open = [];
function sse(token) {
  return new Promise((resolve) => {
    const body = JSON.stringify({ query: QUERY, variables: { id: buildId } });
    const req = http.request({ host: gwUrl.hostname, port: gwUrl.port, path: '/graphql', method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'PRIVATE-TOKEN': token, 'content-length': Buffer.byteLength(body) } }, (res) => {
      if (res.statusCode !== 200) { errors++; }
      res.on('data', (d) => { chunks++; bytes += d.length; });
      res.on('error', () => {});
      resolve();
    });
    req.on('error', () => { errors++; resolve(); });
    req.end(body);
    open.push(() => req.destroy());
  });
}
function ws(token) {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://${gwUrl.host}/graphql`, 'graphql-transport-ws');
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { 'PRIVATE-TOKEN': token } })));
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (msg.type === 'connection_ack') { socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY, variables: { id: buildId } } })); resolve(); }
      else if (msg.type === 'next') { chunks++; bytes += data.length; }
      else if (msg.type === 'error') errors++;
    });
    socket.on('error', () => { errors++; resolve(); });
    open.push(() => socket.terminate());
  });
}

const rows = [];
const idle = await sample('idle', 0);
rows.push(idle);
let n = 0;
const snapAt = Number(opt.snapshot);
for (const target of steps) {
  while (n < target) {
    const batch = [];
    for (let k = 0; k < 100 && n < target; k++, n++) batch.push(n % 2 ? ws(tokens[n % tokens.length]) : sse(tokens[n % tokens.length]));
    await Promise.all(batch);
  }
  const row = await sample(`${n} subscribers`, n, idle);
  rows.push(row);
  if (n === snapAt) {
    const before = new Set(readdirSync(tmpdir()).filter((f) => f.endsWith('.heapsnapshot')));
    process.kill(gw.pid, 'SIGUSR2');
    for (let i = 0; i < 600; i++) {
      await sleep(500);
      const files = readdirSync(tmpdir()).filter((f) => f.endsWith('.heapsnapshot') && !before.has(f));
      if (files.length) { await sleep(3000); console.log(JSON.stringify({ snapshot: files[0] })); break; }
    }
  }
}
const m = await (await fetch(gw.url.replace('/graphql', '/metrics'))).text().catch(() => '');
console.log(JSON.stringify({ chunks, bytes, errors, active: /buildgate_active_subscriptions\S*\s+(\d+)/.exec(m)?.[0] }));
for (const close of open) close();
await gw.stop(); await sim.stop();
process.exit(0);
