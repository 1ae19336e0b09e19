/**
 * The clock that advances builds. Each tick: running jobs log a few lines and finish after `jobTicks`;
 * pending jobs start after `pendingTicks` when a runner slot is free; pipelines move to their next
 * stage; and the busy project is topped up so at least MIN_RUNNING of its jobs run at every moment.
 * Work per tick is O(active jobs), never O(all jobs): only the store's small `active` set is walked.
 */
import type { BuildContext } from './factory.js';
import { spawnPipeline } from './factory.js';
import type { Lifecycle } from './lifecycle.js';
import type { Job, Project } from './model.js';
import type { Store } from './store.js';

/** The busy project never has fewer running jobs than this, even right after one finishes. */
export const MIN_RUNNING = 3;
/** Runner capacity: pending jobs wait while this many builds run. */
export const MAX_RUNNING = 5;

export interface ClockTiming {
  readonly tickMs: number;
  readonly jobTicks: number;
  readonly pendingTicks: number;
}

export class Clock {
  readonly #store: Store;
  readonly #lifecycle: Lifecycle;
  readonly #build: BuildContext;
  readonly #timing: ClockTiming;
  readonly #busy: Project;
  /** Other simulated systems (bk-ci) that advance on this clock, after GitLab's work of the tick. */
  readonly #listeners: ((now: number) => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Starts as `timing.tickMs`; `retime` changes it while the simulator runs. */
  #tickMs: number;

  constructor(build: BuildContext, timing: ClockTiming, busy: Project) {
    this.#store = build.store;
    this.#lifecycle = build.lifecycle;
    this.#build = build;
    this.#timing = timing;
    this.#busy = busy;
    this.#tickMs = timing.tickMs;
  }

  /** Ticks every `tickMs` from now on: a running timer restarts with the new interval. */
  retime(tickMs: number): void {
    if (tickMs === this.#tickMs) return;
    this.#tickMs = tickMs;
    if (!this.#timer) return;
    this.stop();
    this.start();
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      try {
        this.tick();
      } catch (error) {
        console.error('buildgate simulator: clock tick failed', error);
      }
    }, this.#tickMs);
    // The server keeps a CLI process alive; the clock alone must not keep a test process alive.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  tick(now = Date.now()): void {
    const store = this.#store;
    const lifecycle = this.#lifecycle;
    for (const job of [...store.active]) {
      if (job.status === 'running') {
        lifecycle.advance(job);
        if (job.ticks >= this.#timing.jobTicks) lifecycle.finish(job, now);
      } else if (job.status === 'pending') {
        job.ticks++;
      } else {
        // Changed by a mutation (e.g. canceled); the clock no longer owns it.
        store.active.delete(job);
      }
    }
    let running = this.#countRunning(() => true);
    for (const job of store.active) {
      if (running >= MAX_RUNNING) break;
      if (job.status === 'pending' && job.ticks >= this.#timing.pendingTicks && lifecycle.canStart(job)) {
        lifecycle.start(job, now);
        if (job.kind === 'build') running++;
      }
    }
    for (const pipeline of [...store.livePipelines]) lifecycle.settle(pipeline, now);
    this.topUp(now);
    for (const listener of this.#listeners) listener(now);
  }

  /** Runs `listener` at the end of every tick (timer, `simulator.tick()` and `POST /__sim/tick` alike). */
  onTick(listener: (now: number) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Starts queued jobs of the busy project, or spawns a new pipeline there, until MIN_RUNNING run.
   * Also called after every mutation, so canceling a running job does not dip below the minimum.
   */
  topUp(now = Date.now()): void {
    const busy = this.#busy;
    for (let guard = 0; guard < 8 && this.#countRunning((j) => j.project === busy) < MIN_RUNNING; guard++) {
      let next: Job | undefined;
      for (const job of this.#store.active) {
        if (job.project === busy && job.kind === 'build' && job.status === 'pending' && this.#lifecycle.canStart(job)) {
          next = job;
          break;
        }
      }
      if (next) this.#lifecycle.start(next, now);
      else spawnPipeline(this.#build, busy, now);
    }
  }

  #countRunning(where: (job: Job) => boolean): number {
    let n = 0;
    for (const job of this.#store.active) if (job.kind === 'build' && job.status === 'running' && where(job)) n++;
    return n;
  }
}
