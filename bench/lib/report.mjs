/**
 * Tables and the record: each scenario prints one Markdown table and appends its run (date, machine,
 * exact command, figures) to bench/RESULTS.md, after the runs already there.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from './procs.mjs';

export const RESULTS = join(ROOT, 'bench', 'RESULTS.md');

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

export function machineLine() {
  const m = machine();
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}`;
}

/** A Markdown table from a header row and rows of cells. */
export function table(header, rows) {
  const cells = [header, ...rows].map((row) => row.map((cell) => String(cell ?? '')));
  const widths = header.map((_, col) => Math.max(3, ...cells.map((row) => row[col].length)));
  const line = (row) => `| ${row.map((cell, col) => cell.padEnd(widths[col])).join(' | ')} |`;
  return [line(cells[0]), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}

export const fmt = {
  int: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US')),
  num: (n, digits = 1) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits)),
  ms: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(3) : n.toFixed(1)),
  /** autocannon's latencies are whole milliseconds. */
  wholeMs: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : n < 1 ? '<1' : String(Math.round(n))),
  pct: (n) => (n === undefined || Number.isNaN(n) ? 'n/a' : `${(n * 100).toFixed(1)}%`),
};

/** The commit the measured dist/ was built from: BENCH_COMMIT if set, else git's HEAD (+ "dirty" with local changes in src/). */
export function commitLine() {
  if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT;
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'schema'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${sha} with uncommitted changes in src/` : sha;
  } catch {
    return 'unknown';
  }
}

/** The command that ran this bench, as typed. */
export function commandLine() {
  const args = process.argv.slice(2).join(' ');
  if (process.env.npm_lifecycle_event?.startsWith('bench')) return `npm run bench${args ? ` -- ${args}` : ''}`;
  const script = process.argv[1] ? relative(ROOT, process.argv[1]) : 'bench/run.mjs';
  return `node ${script}${args ? ` ${args}` : ''}`;
}

const HEADER = `# Benchmark results

Every run of \`npm run bench\` appends here (newest last); see bench/README.md for what each number
means and how it is measured. Earlier runs are kept as they were.
`;

/** Appends one run: a heading, the machine, the command, the table and any notes. */
export function record({ scenario, text, notes = [] }, { write = true } = {}) {
  const entry = [
    '',
    `## ${scenario} — ${new Date().toISOString()}`,
    '',
    `- machine: ${machineLine()}`,
    `- command: \`${commandLine()}\``,
    `- code: ${commitLine()}`,
    '',
    text,
    ...(notes.length ? ['', ...notes.map((note) => `- ${note}`)] : []),
    '',
  ].join('\n');
  if (!write) return;
  if (!existsSync(RESULTS)) writeFileSync(RESULTS, HEADER);
  appendFileSync(RESULTS, entry);
}
