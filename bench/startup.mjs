/**
 * Start-up time, with dist/ built: milliseconds from spawning the CLI to GraphiQL answering, for
 * `node dist/main.js` and for `npm start` (which adds npm and the staleness check). "Answering": the
 * "GraphiQL at <url>" line has been printed (the gateway listening, the embedded simulator started) and
 * a GET of that URL with `accept: text/html` has been answered 200 with the whole page read, and then
 * every script, style sheet and icon the page links (fetched in parallel, as a browser does) has been
 * answered 200 and read: as a browser asks (`accept-encoding: gzip, deflate, br`: the bar) and
 * uncompressed (`identity`), each on a fresh start. The line alone comes earlier than a browser's first
 * view; both times are printed. Each (command, way of asking) runs RUNS times (default 5), alternating,
 * and the medians are printed.
 *
 *   node bench/startup.mjs [RUNS] [--no-record]
 *
 * Builds first when a source is newer than dist/ (scripts/build-if-stale.mjs, untimed): this measures a
 * start after the build, not the build. Appends its table to bench/RESULTS.md unless `--no-record`.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { REPOSITORY, buildIfStale } from '../scripts/build-if-stale.mjs';
import { waitQuiet } from './lib/procs.mjs';
import { record, table } from './lib/report.mjs';

const root = REPOSITORY;
const args = process.argv.slice(2);
const write = !args.includes('--no-record');
const runs = Number(args.find((a) => !a.startsWith('--')) ?? 5);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`RUNS must be a positive integer, got ${args[0]}\n`);
  process.exit(2);
}
const TARGET_MS = 1500;
/** Bounds: one start may take this long before it counts as failed. */
const START_TIMEOUT_MS = 30_000;
const commands = {
  'node dist/main.js --port 0': ['node', ['dist/main.js', '--port', '0']],
  'npm start -- --port 0': ['npm', ['start', '--', '--port', '0']],
};

/** GET `url` as a browser opening GraphiQL; resolves with the status, headers and the whole (decoded) page. */
function getPage(url, acceptEncoding) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: 'text/html,application/xhtml+xml', 'accept-encoding': acceptEncoding }, agent: false }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.on('error', reject);
    request.setTimeout(START_TIMEOUT_MS, () => request.destroy(new Error(`no answer from ${url} within ${START_TIMEOUT_MS} ms`)));
  });
}

function decode({ headers, body }) {
  const encoding = headers['content-encoding'];
  if (encoding === 'br') return brotliDecompressSync(body);
  if (encoding === 'gzip') return gunzipSync(body);
  if (encoding === 'deflate') return inflateSync(body);
  return body;
}

/** One start: ms to the line and to the page, then SIGTERM to the whole process group (npm, sh and node). */
function timeOneStart([command, argv], acceptEncoding) {
  return new Promise((resolve, reject) => {
    const spawned = performance.now();
    const child = spawn(command, argv, { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let seen = false;
    let settled = false;
    const stop = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.once('exit', () => outcome());
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        outcome();
      }
    };
    const timer = setTimeout(() => stop(() => reject(new Error(`${command} not answering within ${START_TIMEOUT_MS} ms:\n${out}`))), START_TIMEOUT_MS);
    child.stdout.on('data', async (chunk) => {
      out += chunk;
      const match = /GraphiQL at (http:\/\/\S+)/.exec(out);
      if (seen || !match) return;
      seen = true;
      const lineMs = performance.now() - spawned;
      try {
        const page = await getPage(match[1], acceptEncoding);
        const html = decode(page).toString('utf8');
        if (page.status !== 200 || !String(page.headers['content-type']).startsWith('text/html') || !/graphiql/i.test(html)) {
          throw new Error(`GET ${match[1]} answered ${page.status} ${page.headers['content-type']}, not GraphiQL`);
        }
        // What a browser loads before it can show GraphiQL: the page, then the script, styles and icon it links.
        const linked = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].filter((m) => !m[1].startsWith('data:')).map((m) => new URL(m[1], match[1]).href);
        const assets = await Promise.all(linked.map((address) => getPage(address, acceptEncoding)));
        const failed = assets.findIndex((asset) => asset.status !== 200);
        if (failed >= 0) throw new Error(`GET ${linked[failed]} answered ${assets[failed].status}`);
        const pageMs = performance.now() - spawned;
        const bytes = [page, ...assets].reduce((sum, { body }) => sum + body.length, 0);
        stop(() => resolve({ lineMs, pageMs, encoding: page.headers['content-encoding'] ?? 'identity', bytes, files: 1 + assets.length }));
      } catch (error) {
        stop(() => reject(error));
      }
    });
    child.once('exit', (code) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(new Error(`${command} exited (${code}) before GraphiQL answered:\n${out}`));
      }
    });
  });
}

const built = buildIfStale(root);
if (built !== 0) {
  process.stderr.write(`the build failed (${built}): nothing to measure\n`);
  process.exit(1);
}

/** As a browser asks (the bar), and as curl asks (no compression: what the page costs without it). */
const ENCODINGS = { browser: 'gzip, deflate, br', identity: 'identity' };
/** On a shared machine: before each start, up to this many seconds for other processes to go idle. */
const QUIET_WAIT_S = 10;
const times = {};
const waits = [];
for (let run = 0; run < runs; run++) {
  for (const [name, command] of Object.entries(commands)) {
    for (const [kind, acceptEncoding] of Object.entries(ENCODINGS)) {
      waits.push(await waitQuiet([], { maxSeconds: QUIET_WAIT_S }));
      (times[`${name}|${kind}`] ??= []).push(await timeOneStart(command, acceptEncoding));
    }
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const rows = Object.entries(times).map(([key, samples]) => {
  const [name, kind] = key.split('|');
  const page = median(samples.map((s) => s.pageMs));
  return [
    `\`${name}\`, ${kind === 'browser' ? `as a browser asks (\`accept-encoding: ${ENCODINGS.browser}\`)` : 'uncompressed (`accept-encoding: identity`)'}`,
    median(samples.map((s) => s.lineMs)).toFixed(0),
    page.toFixed(0),
    samples.map((s) => s.pageMs.toFixed(0)).join(', '),
    `${samples[0].encoding}, ${(samples[0].bytes / 2 ** 20).toFixed(1)} MiB in ${samples[0].files} file${samples[0].files === 1 ? '' : 's'}`,
    name.startsWith('npm start') && kind === 'browser' ? `< ${TARGET_MS} ms (${page < TARGET_MS ? 'met' : 'NOT met'})` : '',
  ];
});
const text = table(['command', '"GraphiQL at" line, median ms', 'GraphiQL answered, median ms', 'answered, each run (ms)', 'page and what it links, as sent', 'bar'], rows);
const notes = [
  `Before each start the bench waited up to ${QUIET_WAIT_S} s for the rest of the machine to use < 15% of a core: ${waits.filter((w) => w.quiet).length} of ${waits.length} times it was.`,
  `${runs} starts of each command and way of asking, alternating, from spawn; "answered": a GET of the printed URL with \`accept: text/html\` answered 200 with the GraphiQL page, read to the end, and then every script, style sheet and icon it links (same way of asking, in parallel, as a browser loads them) answered 200 and read to the end. The bar is the browser's row for \`npm start\`. dist/ was current (scripts/build-if-stale.mjs, untimed, before the first start).`,
];
process.stdout.write(`${text}\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
record({ scenario: 'startup', text, notes }, { write });
