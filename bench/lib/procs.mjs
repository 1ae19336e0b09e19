/**
 * The processes a bench drives: the simulator and gateways, each a child running compiled JavaScript,
 * bound to 127.0.0.1 on a free port. Every child started here is remembered and killed when the bench
 * ends, whether it ends normally, with an error or on SIGINT/SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = join(ROOT, 'dist');

/** Every child still running, so that nothing outlives the bench. */
const children = new Set();
let tmp;

/** A scratch directory for config files, removed at exit. */
export function scratch() {
  tmp ??= mkdtempSync(join(tmpdir(), 'buildgate-bench-'));
  return tmp;
}

/** Adds a child started elsewhere (e.g. a forked load worker) to those killed at the end. */
export function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
  children.clear();
  if (tmp) {
    rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  }
}

process.once('exit', () => killAll());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, killing children\n`);
    killAll();
    process.exit(130);
  });
}

/**
 * Spawns `node <script> …args` and resolves once a stdout line matches `ready` (its first group is the
 * URL). Rejects, with the child's output, if it exits first or takes longer than `timeoutMs`.
 */
export function startChild(name, script, args, { ready, timeoutMs = 60_000, env, nodeArgs = [] } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const keep = (chunk) => {
    output += chunk;
    if (output.length > 20_000) output = output.slice(-10_000);
  };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', keep);
  const handle = {
    name,
    child,
    pid: child.pid,
    url: '',
    /** Set when the child exits, with its code or signal. */
    exit: undefined,
    output: () => output,
    /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
    async stop(graceMs = 5000) {
      if (handle.exit) return handle.exit;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      children.delete(child);
      return handle.exit;
    },
  };
  child.once('exit', (code, signal) => {
    handle.exit = { code, signal };
    children.delete(child);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    let line = '';
    child.stdout.on('data', (chunk) => {
      keep(chunk);
      if (handle.url) return;
      line += chunk;
      const match = ready.exec(line);
      if (match) {
        clearTimeout(timer);
        handle.url = match[1];
        resolve(handle);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!handle.url) reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

/** The simulator package's compiled CLI (`packages/simulator/dist/main.js`), found by package name. */
const SIMULATOR_MAIN = fileURLToPath(import.meta.resolve('@buildgate/simulator/main'));

/** The simulator with CLI flags, e.g. `['--builds', '100000']`. */
export function startSimulator(args = []) {
  return startChild('simulator', SIMULATOR_MAIN, ['--port', '0', ...args], {
    ready: /listening on (http:\/\/\S+)/,
  });
}

/**
 * The node flags of package.json's `start` script (`node --flag… scripts/start.mjs`): a gateway started
 * by a bench runs with the same GC settings as `npm start`.
 */
export const START_NODE_FLAGS = (() => {
  const start = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start.split(/\s+/);
  if (start[0] !== 'node') throw new Error(`package.json "start" does not run node: ${start.join(' ')}`);
  return start.slice(1, start.findIndex((word, i) => i > 0 && !word.startsWith('--')));
})();

/** A gateway (`dist/main.js`) over `config` (an object, written to a scratch JSON file). */
export function startGateway(config, label = 'gateway') {
  const file = join(scratch(), `${label}-${process.hrtime.bigint()}.json`);
  // The optional cross-request cache stays off: a bench must not be flattered by answers from memory.
  writeFileSync(file, JSON.stringify({ host: '127.0.0.1', graphiql: false, cache: { enabled: false }, ...config }, null, 2));
  return startChild(label, join(DIST, 'main.js'), ['--config', file, '--port', '0'], {
    ready: /GraphQL and GraphiQL at (http:\/\/\S+)/,
    // `npm start`'s node flags (GC settings: package.json is the one place they are written), then the
    // bench's own, e.g. `BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` (node refuses
    // --cpu-prof in NODE_OPTIONS, which every child would inherit anyway).
    nodeArgs: [...START_NODE_FLAGS, ...(process.env.BENCH_GATEWAY_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [])],
  });
}

/** The three upstreams of the embedded default, over the simulator at `simUrl`. */
export function embeddedStyleUpstreams(simUrl, { serviceTokens = true } = {}) {
  return [
    { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simUrl}/api/v4`, ...(serviceTokens && { token: 'glpat-developer' }) },
    { name: 'gitlab-v3', kind: 'gitlab-v3', baseUrl: `${simUrl}/api/v3`, ...(serviceTokens && { token: 'glpat-developer' }) },
    {
      name: 'bkci',
      kind: 'bkci-apigw',
      baseUrl: `${simUrl}/ms/openapi/api/apigw/v3`,
      ...(serviceTokens && { token: 'alice', tokenHeader: 'X-DEVOPS-UID' }),
      exampleProject: 'demo',
    },
  ];
}

/** Resident memory of a process in MiB, from /proc/<pid>/status (undefined once it has exited). */
export function rssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5) (utime, stime), counted from `state` (field 3) here.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** CPU seconds all processes on the machine have used (all cores, from /proc/stat), to tell how much others used. */
export function machineBusySeconds() {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: process time only (user, nice, system), as
    // /proc/<pid>/stat counts it; interrupt time (loopback traffic's softirqs) is no process's.
    return (cpu[0] + cpu[1] + cpu[2]) / 100;
  } catch {
    return undefined;
  }
}

/**
 * On a shared machine, waits (at most `maxSeconds`) until processes other than `pids` and this one have
 * used under `threshold` of one core for two 1-second samples in a row. Resolves with the seconds waited
 * and whether it got quiet.
 */
export async function waitQuiet(pids, { maxSeconds = 60, threshold = 0.15 } = {}) {
  const started = Date.now();
  let calm = 0;
  const own = () => pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
  const self = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  };
  while (Date.now() - started < maxSeconds * 1000) {
    const m0 = machineBusySeconds();
    const o0 = own() + self();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const others = machineBusySeconds() - m0 - (own() + self() - o0);
    calm = others < threshold ? calm + 1 : 0;
    if (calm >= 2) return { waited: (Date.now() - started) / 1000, quiet: true };
  }
  return { waited: (Date.now() - started) / 1000, quiet: false };
}

/** Throws if a child has died: a crash is a finding, not something to measure around. */
export function assertAlive(...handles) {
  for (const handle of handles) {
    if (handle.exit) {
      throw new Error(`${handle.name} (pid ${handle.pid}) exited during the bench: ${JSON.stringify(handle.exit)}\n${handle.output().slice(-4000)}`);
    }
  }
}
