/**
 * Job logs, synthesised instead of stored: a job records only how far its log has got (`TraceState`),
 * and the text is rebuilt from the seed and the job id when asked. That keeps 100,000 finished jobs
 * cheap, and a running job's log stays a strict prefix of its later self, byte for byte, which is what
 * a tailing client relies on. The text mimics gitlab-runner: ANSI SGR colours, `section_start`/
 * `section_end` markers (one `[collapsed=true]`), and multibyte UTF-8 so byte offsets are tested.
 * Bench jobs (bench.ts) are the exception: their big logs are stored, and `TraceRenderer` serves those.
 */
import { LRUCache } from 'lru-cache';
import { bufferLog } from './byte-log.js';
import type { LogBytes } from './byte-log.js';
import type { Job } from './model.js';
import { Prng, hash32 } from './prng.js';
import { findTemplate } from './seed-data.js';

export const ESC = '\u001b';
export const CLR = `${ESC}[0K`;
export const RESET = `${ESC}[0;m`;
export const GREEN = `${ESC}[32;1m`;
export const RED = `${ESC}[31;1m`;
export const CYAN = `${ESC}[36;1m`;

export const sectionStart = (ts: number, name: string, header: string): string =>
  `${CLR}section_start:${ts}:${name}\r${CLR}${CLR}${CYAN}${header}${RESET}${RESET}`;
export const sectionEnd = (ts: number, name: string): string => `${CLR}section_end:${ts}:${name}\r${CLR}`;

/** How many script lines a running job adds per tick (1–3, fixed per job so the log is reproducible). */
export function linesPerTick(seed: number, jobId: number): number {
  return 1 + (hash32(seed, jobId, 0x7e11) % 3);
}

const SUBJECTS = ['Project', 'Pipeline', 'Café menu', 'Résumé parser', 'User', 'Runner', 'Export', 'Naïve cache'];
const VERBS = [
  'returns the expected value',
  'handles UTF-8 → ASCII fallback',
  'retries on timeout',
  'validates presence of name',
  'renders the status badge ✓',
  'paginates with keyset cursors',
];
const FILES = ['app/models/project.rb', 'app/models/pipeline.rb', 'lib/café/menu.rb', 'app/services/export_service.rb'];

function scriptLine(seed: number, job: Job, index: number): string {
  const rng = new Prng(hash32(seed, job.id, index));
  switch (rng.int(0, 5)) {
    case 0:
      return `→ ${index + 1} steps done, ${rng.int(0, 99)}% of ${job.name}`;
    case 1:
      return `Compiling ${rng.pick(FILES)} … done (${rng.int(1, 900)} ms)`;
    case 2:
      return `${GREEN}$ echo "stage ${job.stage} · step ${index + 1}"${RESET}`;
    default:
      return `  ${ESC}[32m✓${ESC}[0m ${rng.pick(SUBJECTS)} ${rng.pick(VERBS)} (0.${String(rng.int(1, 999)).padStart(3, '0')}s)`;
  }
}

function header(job: Job, startSec: number): string[] {
  const runner = job.runner;
  const sha = job.pipeline.commit.sha.slice(0, 8);
  const script = job.kind === 'build' ? templateScript(job.name) : '';
  return [
    `${CLR}Running with gitlab-runner 16.11.1 (535ced5f)${RESET}`,
    `${CLR}  on ${runner ? `${runner.description} #${runner.id}` : 'docker-runner'}, system ID: s_${sha}d4e5f6${RESET}`,
    sectionStart(startSec, 'prepare_executor', 'Preparing the "docker" executor'),
    `${CLR}Using Docker executor with image ruby:3.2-alpine ...${RESET}`,
    `${CLR}Pulling docker image ruby:3.2-alpine ...${RESET}`,
    sectionEnd(startSec + 2, 'prepare_executor'),
    sectionStart(startSec + 2, 'get_sources[collapsed=true]', 'Getting source from Git repository'),
    `${GREEN}Fetching changes with git depth set to 20...${RESET}`,
    `Initialized empty Git repository in /builds/${job.project.fullPath}/.git/`,
    `${GREEN}Checking out ${sha} as detached HEAD (ref is ${job.pipeline.ref})...${RESET}`,
    sectionEnd(startSec + 4, 'get_sources'),
    sectionStart(startSec + 4, 'step_script', 'Executing "step_script" stage of the job script'),
    `${GREEN}$ ${script}${RESET}`,
  ];
}

function templateScript(name: string): string {
  return findTemplate(name)?.script ?? `make ${name}`;
}

function footer(job: Job, lines: number, endSec: number): string[] {
  const failed = job.status === 'failed';
  const out = failed
    ? [
        `${RED}${lines} examples, 2 failures${RESET}`,
        `rspec ./spec/lib/café/menu_spec.rb:42 # Café menu renders prices → €`,
        `rspec ./spec/models/project_spec.rb:7 # Project naïve lookup`,
        sectionEnd(endSec - 1, 'step_script'),
      ]
    : [`${GREEN}${lines} examples, 0 failures ✓${RESET}`, sectionEnd(endSec - 1, 'step_script')];
  if (!failed && job.artifacts.length > 0) {
    out.push(
      sectionStart(endSec - 1, 'upload_artifacts_on_success', 'Uploading artifacts for successful job'),
      `${GREEN}Uploading artifacts...${RESET}`,
      `artifacts.zip: found ${lines} matching artifact files and directories`,
      sectionEnd(endSec, 'upload_artifacts_on_success'),
    );
  }
  out.push(
    sectionStart(endSec, 'cleanup_file_variables', 'Cleaning up project directory and file based variables'),
    sectionEnd(endSec, 'cleanup_file_variables'),
    '',
    failed ? `${RED}ERROR: Job failed: exit code 1${RESET}` : `${GREEN}Job succeeded${RESET}`,
  );
  return out;
}

/** The job's whole raw log as GitLab's trace endpoint would send it ('' when it has none). */
export function renderLog(seed: number, job: Job): string {
  const trace = job.trace;
  if (trace.kind === 'none' || job.startedAt === null) return '';
  const startSec = Math.floor(job.startedAt / 1000);
  const out = header(job, startSec);
  for (let i = 0; i < trace.lines; i++) out.push(scriptLine(seed, job, i));
  if (trace.kind === 'closed') {
    const endSec = Math.max(startSec + 5, Math.floor((job.finishedAt ?? job.startedAt) / 1000));
    out.push(...footer(job, trace.lines, endSec));
  }
  return `${out.join('\n')}\n`;
}

/** A stored log that replaces the synthesised one (bench jobs, see bench.ts). */
export type StoredLogs = (job: Job) => LogBytes | undefined;

/**
 * Job logs as bytes: a stored log when there is one, else the synthesised text, encoded once and
 * re-rendered only when the job changed (its `rev`).
 */
export class TraceRenderer {
  readonly #seed: number;
  readonly #stored: StoredLogs;
  readonly #cache = new LRUCache<number, { rev: number; bytes: LogBytes }>({ max: 512 });

  constructor(seed: number, stored: StoredLogs = () => undefined) {
    this.#seed = seed;
    this.#stored = stored;
  }

  /** The log as it is now; a view that does not change while a reply is written. */
  bytes(job: Job): LogBytes {
    const stored = this.#stored(job);
    if (stored) return stored;
    const hit = this.#cache.get(job.id);
    if (hit && hit.rev === job.rev) return hit.bytes;
    const bytes = bufferLog(Buffer.from(renderLog(this.#seed, job)));
    this.#cache.set(job.id, { rev: job.rev, bytes });
    return bytes;
  }
}
