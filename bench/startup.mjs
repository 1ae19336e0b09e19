/**
 * Start-up time: milliseconds from spawning the CLI to its "GraphiQL at" line (the gateway listening,
 * the embedded simulator started), for `node dist/main.js` and for `npm start` (which adds npm and the
 * staleness check). Runs each command RUNS times (default 5), alternating, and prints the median.
 * Build first (`npm run build`): this measures a start after the first build, not the build.
 *
 *   node bench/startup.mjs [RUNS]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? 5);
const commands = {
  'node dist/main.js --port 0': ['node', ['dist/main.js', '--port', '0']],
  'npm start -- --port 0': ['npm', ['start', '--', '--port', '0']],
};

/** One start: the ms until the line, then SIGTERM to the whole process group (npm, sh and node). */
function timeOneStart([command, args]) {
  return new Promise((resolve, reject) => {
    const spawned = performance.now();
    const child = spawn(command, args, { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let listening = false;
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (listening || !out.includes('GraphiQL at')) return;
      listening = true;
      const ms = performance.now() - spawned;
      child.once('exit', () => resolve(ms));
      process.kill(-child.pid, 'SIGTERM');
    });
    child.once('exit', (code) => listening || reject(new Error(`${command} exited (${code}) before listening:\n${out}`)));
  });
}

const times = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
for (let run = 0; run < runs; run++) for (const [name, command] of Object.entries(commands)) times[name].push(await timeOneStart(command));
for (const [name, ms] of Object.entries(times)) {
  ms.sort((a, b) => a - b);
  console.log(`${name.padEnd(28)} median ${ms[Math.floor(ms.length / 2)].toFixed(0)} ms  (${ms.map((t) => t.toFixed(0)).join(', ')})`);
}
