/**
 * bk-ci's side of the simulator clock. The GitLab clock (runner.ts) calls `tick` once per tick, so
 * both systems move together under `POST /__sim/tick`. Each tick: queued builds the clock owns start,
 * running builds advance one step of work, and if none is RUNNING any more a new one is started at
 * once, so a client always has a build whose log grows.
 */
import type { BkGenContext } from './generator.js';
import { newBuild } from './generator.js';
import type { BkBuild, BkPipeline } from './model.js';

/** Pipelines the clock starts builds on, in turn (short ones, without a review gate). */
const LIVE_PIPELINES = ['p-demo', 'p-web'] as const;

export class BkClock {
  readonly #ctx: BkGenContext;
  #turn = 0;

  constructor(ctx: BkGenContext) {
    this.#ctx = ctx;
  }

  tick(now: number): void {
    const { store, lifecycle } = this.#ctx;
    for (const build of [...store.active]) {
      if (build.status === 'QUEUE') {
        // A queued build waits one tick (so a client can see QUEUE), then starts with its first work.
        if (build.waited++ >= 1) lifecycle.begin(build, now);
      } else if (build.status === 'RUNNING') {
        lifecycle.advance(build, now);
      } else {
        store.active.delete(build);
      }
    }
    this.topUp(now);
  }

  /** Starts a build when none runs: after every tick and after a stop. */
  topUp(now: number): BkBuild | undefined {
    const { store, lifecycle } = this.#ctx;
    if (store.runningCount() > 0) return undefined;
    const id = LIVE_PIPELINES[this.#turn++ % LIVE_PIPELINES.length] as string;
    const pipeline: BkPipeline | undefined = store.pipeline('demo', id);
    if (!pipeline) return undefined;
    const build = newBuild(this.#ctx, pipeline, { userId: 'alice', trigger: pipeline.pipelineId === 'p-web' ? 'WEB_HOOK' : 'MANUAL', now });
    lifecycle.begin(build, now);
    return build;
  }
}
