/**
 * Jobs with big or fast logs, made on demand (`POST /__sim/jobs`) for tests and for the fan-out and
 * large-log benchmarks. Each runs in a pipeline of its own, in the project asked for, and is presented
 * like any job (lists, entities, v3 and v4, mutations). Its log is stored, not synthesised: a ByteLog
 * that grows by exactly `logBytesPerTick` bytes of whole lines each clock tick (ANSI colours, section
 * markers, multibyte UTF-8) until it is `totalBytes` long, footer included, and then the job succeeds.
 * The clock's running-jobs rule (runner.ts) never sees these jobs: they stay out of the store's
 * `active` set, and only this module (the last tick, or `finish`) or a mutation (cancel) ends them.
 */
import { ByteLog } from './byte-log.js';
import type { LogBytes } from './byte-log.js';
import { newCommit } from './factory.js';
import type { BuildContext } from './factory.js';
import type { Lifecycle } from './lifecycle.js';
import { CLR, ESC, GREEN, RED, RESET, sectionEnd, sectionStart } from './logs.js';
import type { Job, Project } from './model.js';
import { Prng, hash32 } from './prng.js';
import type { Store } from './store.js';

export const BENCH_DEFAULT_NAME = 'bench:tail';
/** Room for the runner's header and footer, with script output to spare. */
export const BENCH_MIN_TOTAL_BYTES = 4096;
export const BENCH_MAX_TOTAL_BYTES = 256 * 1024 * 1024;
export const BENCH_MAX_BYTES_PER_TICK = 64 * 1024 * 1024;

export type BenchOutcome = 'success' | 'failed';

export interface BenchJobSpec {
  readonly project: Project;
  readonly name: string;
  /** Bytes appended per tick (the last tick appends what is left, then the footer). */
  readonly logBytesPerTick: number;
  /** The log's length when the job succeeds on its own, footer included. */
  readonly totalBytes: number;
}

interface BenchState {
  readonly job: Job;
  readonly log: ByteLog;
  readonly perTick: number;
  /** Where the script output stops and the success footer begins. */
  readonly bodyEnd: number;
  /** Number of the next script line. */
  line: number;
}

export interface BenchDeps {
  readonly store: Store;
  readonly lifecycle: Lifecycle;
  readonly seed: number;
}

/** Lines per collapsed `bench_part_N` section group. */
const PART_LINES = 400;

function header(job: Job, total: number, sec: number): string {
  const runner = job.runner;
  return `${[
    `${CLR}Running with gitlab-runner 16.11.1 (535ced5f)${RESET}`,
    `${CLR}  on ${runner ? `${runner.description} #${runner.id}` : 'docker-runner'}${RESET}`,
    sectionStart(sec, 'prepare_executor', 'Preparing the "docker" executor'),
    `${CLR}Using Docker executor with image alpine:3.19 ...${RESET}`,
    sectionEnd(sec, 'prepare_executor'),
    sectionStart(sec, 'step_script', 'Executing "step_script" stage of the job script'),
    `${GREEN}$ ./bench/emit-log --bytes ${total}${RESET}`,
  ].join('\n')}\n`;
}

function footer(outcome: BenchOutcome, sec: number): string {
  return `${[
    sectionEnd(sec, 'step_script'),
    sectionStart(sec, 'cleanup_file_variables', 'Cleaning up project directory and file based variables'),
    sectionEnd(sec, 'cleanup_file_variables'),
    '',
    outcome === 'failed' ? `${RED}ERROR: Job failed: exit code 1${RESET}` : `${GREEN}Job succeeded${RESET}`,
  ].join('\n')}\n`;
}

/** Script line `n` (without its newline): varied, cheap, and different for every n. */
function scriptLine(n: number, sec: number): string {
  if (n % PART_LINES === PART_LINES - 1) {
    const part = (n + 1) / PART_LINES;
    return [
      sectionStart(sec, `bench_part_${part}[collapsed=true]`, `Part ${part} done`),
      `  ${part} × ${PART_LINES} lines · 中间结果 ✓`,
      sectionEnd(sec, `bench_part_${part}`),
    ].join('\n');
  }
  const ms = String((Math.imul(n, 2654435761) >>> 0) % 1000).padStart(3, '0');
  switch ((Math.imul(n, 0x9e3779b1) >>> 28) % 6) {
    case 0:
      return `${GREEN}$ ./bench/step --n ${n}${RESET}`;
    case 1:
      return `  ${ESC}[32m✓${ESC}[0m case ${n} passes (0.${ms}s)`;
    case 2:
      return `Compiling lib/café/menu_${n}.rb … done (${ms} ms)`;
    case 3:
      return `日志 ${n}: résumé → naïve ✓`;
    case 4:
      return `${ESC}[33;1mwarning:${RESET} retrying fetch ${n} (é, 中)`;
    default:
      return `→ ${n} steps done`;
  }
}

export class BenchJobs {
  readonly #store: Store;
  readonly #lifecycle: Lifecycle;
  /** Commits for the bench pipelines, from a stream of their own so the clock's data stays as seeded. */
  readonly #build: BuildContext;
  /** Every bench job whose log is kept, by job id. */
  readonly #jobs = new Map<number, BenchState>();
  /** The ones whose logs still grow. */
  readonly #growing = new Set<BenchState>();

  constructor({ store, lifecycle, seed }: BenchDeps) {
    this.#store = store;
    this.#lifecycle = lifecycle;
    this.#build = { store, lifecycle, seed, rng: new Prng(hash32(seed, 0xbe7c)) };
  }

  /** A running job in a new pipeline of `spec.project`, its log holding the runner's header. */
  create(spec: BenchJobSpec, now: number): Job {
    const store = this.#store;
    const project = spec.project;
    const author = store.userByName('root');
    const ref = project.defaultBranch;
    const commit = newCommit(this.#build, { project, ref, author, at: now, title: `Benchmark ${spec.name}` });
    const pipeline = store.createPipeline({ project, commit, ref, tag: false, source: 'api', user: author, createdAt: now });
    const job = store.createJob({ name: spec.name, stage: 'test', stageIdx: 0, pipeline, user: author, status: 'created', createdAt: now });
    this.#lifecycle.start(job, now);
    this.#lifecycle.settle(pipeline, now);
    const sec = Math.floor(now / 1000);
    const state: BenchState = {
      job,
      log: new ByteLog(),
      perTick: spec.logBytesPerTick,
      bodyEnd: spec.totalBytes - Buffer.byteLength(footer('success', sec)),
      line: 0,
    };
    state.log.append(Buffer.from(header(job, spec.totalBytes, sec)));
    this.#jobs.set(job.id, state);
    this.#growing.add(state);
    return job;
  }

  /**
   * A job that has already ended with `outcome`, whose whole log is `text` (no runner header or footer):
   * for tests that need exact log content (colours, sections, error lines).
   */
  createWithLog(spec: { project: Project; name: string }, text: Buffer, outcome: BenchOutcome, now: number): Job {
    const job = this.create({ ...spec, logBytesPerTick: 1, totalBytes: BENCH_MIN_TOTAL_BYTES }, now);
    const state = this.#jobs.get(job.id)!;
    const log = new ByteLog();
    log.append(text);
    const fixed: BenchState = { ...state, log };
    this.#jobs.set(job.id, fixed);
    this.#growing.delete(state);
    this.#end(fixed, outcome, now, false);
    return job;
  }

  /** One clock tick: every running bench log grows; a full one gets its footer and the job succeeds. */
  tick(now: number): void {
    const sec = Math.floor(now / 1000);
    for (const state of [...this.#growing]) {
      const job = state.job;
      if (job.status !== 'running') {
        // Canceled through the API: the log stops where it was, as a killed runner's would.
        this.#growing.delete(state);
        continue;
      }
      const room = state.bodyEnd - state.log.length;
      if (room > 0) state.log.append(this.#output(state, Math.min(state.perTick, room), sec));
      job.ticks++;
      job.rev++;
      if (state.log.length >= state.bodyEnd) this.#end(state, 'success', now);
    }
  }

  /** Ends a running bench job now, with `outcome` (its footer says so). */
  finish(job: Job, outcome: BenchOutcome, now: number): 'ended' | 'not-bench' | 'not-running' {
    const state = this.#jobs.get(job.id);
    if (!state) return 'not-bench';
    if (job.status !== 'running') return 'not-running';
    this.#end(state, outcome, now);
    return 'ended';
  }

  /** The stored log of a bench job (undefined for other jobs); an erased one is dropped. */
  log(job: Job): LogBytes | undefined {
    const state = this.#jobs.get(job.id);
    if (!state) return undefined;
    if (job.trace.kind === 'none') {
      this.#jobs.delete(job.id);
      this.#growing.delete(state);
      return undefined;
    }
    return state.log.view();
  }

  /** Exactly `bytes` bytes of whole lines: script lines while they fit, then a filler line of dots. */
  #output(state: BenchState, bytes: number, sec: number): Buffer {
    const parts: string[] = [];
    let size = 0;
    for (;;) {
      const line = `${scriptLine(state.line, sec)}\n`;
      const length = Buffer.byteLength(line);
      if (size + length > bytes) break;
      parts.push(line);
      size += length;
      state.line++;
    }
    if (size < bytes) parts.push(`${'.'.repeat(bytes - size - 1)}\n`);
    return Buffer.from(parts.join(''));
  }

  #end(state: BenchState, outcome: BenchOutcome, now: number, withFooter = true): void {
    this.#growing.delete(state);
    if (withFooter) state.log.append(Buffer.from(footer(outcome, Math.floor(now / 1000))));
    this.#lifecycle.finish(state.job, now, outcome);
    this.#lifecycle.settle(state.job.pipeline, now);
  }
}
