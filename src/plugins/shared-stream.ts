/**
 * A shared subscription's stream (use-shared-event-execution.ts), and how its transport reads it.
 *
 * Envelop and yoga wrap every subscription's stream in layers of their own: error masking's per-event
 * hook, the subscribe-error hooks, yoga's error mapping. Each costs promises and closures per event, and
 * at 10,000 watchers of a log they were most of what the gateway allocated. They act only on errors,
 * which a shared result never carries. So a transport takes shared results here, under those layers, as
 * they are pushed (`pumpShared`, over the trace hub's Channel: no promise per result). Anything else the
 * stream yields (a result with errors, an error, its end) is held, and handed to the transport's next
 * read of the wrapped stream: it goes through every layer as before.
 */
import type { ExecutionResult } from 'graphql';
import { NOTHING, type SyncSource, isSyncSource } from '../trace/channel.js';

type Step = IteratorResult<ExecutionResult>;

/** `takeShared` found nothing yet: `whenReady` says when to take again. */
export const WAIT: unique symbol = Symbol('buildgate.shared.wait');
/** `takeShared` found something that is not a shared result: read the wrapped stream for it. */
export const HANDOFF: unique symbol = Symbol('buildgate.shared.handoff');

/**
 * Each event of `source` mapped by `map`, as `mapAsyncIterator` would (`leave` once it ends, however it
 * ends), plus the ways a transport takes shared results from under the layers. One reader at a time.
 */
export class SharedStream implements AsyncIterableIterator<ExecutionResult> {
  readonly #source: AsyncIterator<unknown>;
  readonly #sync: SyncSource<unknown> | undefined;
  readonly #map: (payload: unknown) => ExecutionResult | Promise<ExecutionResult>;
  readonly #isShared: (result: ExecutionResult) => boolean;
  readonly #leave: () => void;
  /** What was read and could not be handed over as shared: the next `next()` answers with it. */
  #held: (() => Promise<Step>) | undefined;

  constructor(
    source: AsyncIterable<unknown>,
    map: (payload: unknown) => ExecutionResult | Promise<ExecutionResult>,
    isShared: (result: ExecutionResult) => boolean,
    leave: () => void,
  ) {
    this.#source = source[Symbol.asyncIterator]();
    this.#sync = isSyncSource(this.#source) ? this.#source : undefined;
    this.#map = map;
    this.#isShared = isShared;
    this.#leave = leave;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Whether `takeShared` and `whenReady` work (the source can be read without waiting). */
  get synchronous(): boolean {
    return this.#sync !== undefined;
  }

  /** The next shared result now, WAIT, or HANDOFF (what came is held for `next()`). Only when `synchronous`. */
  takeShared(): ExecutionResult | typeof WAIT | typeof HANDOFF {
    if (this.#held) return HANDOFF;
    const source = this.#sync!;
    const payload = source.take();
    if (payload === NOTHING) {
      if (!source.ended) return WAIT;
      this.#held = () => this.#read();
      return HANDOFF;
    }
    return this.#offer(payload) ?? HANDOFF;
  }

  /** Calls `ready` once there is something to take (true), or returns false if there is already. */
  whenReady(ready: () => void): boolean {
    return !this.#held && this.#sync!.whenReady(ready);
  }

  next(): Promise<Step> {
    const held = this.#held;
    if (held) {
      this.#held = undefined;
      return held();
    }
    return this.#read();
  }

  return(value?: unknown): Promise<Step> {
    this.#held = undefined;
    this.#leave();
    const done: Step = { done: true, value: undefined };
    return this.#source.return ? this.#source.return(value).then(() => done) : Promise.resolve(done);
  }

  throw(error?: unknown): Promise<Step> {
    this.#held = undefined;
    if (!this.#source.throw) return this.#abrupt(error);
    return this.#source.throw(error).then(
      (step) => (step.done ? this.#ended(step) : this.#mapped(step.value)),
      (e: unknown) => this.#failed(e),
    );
  }

  /** A shared result of `payload`, or undefined with what it maps to held for `next()`. */
  #offer(payload: unknown): ExecutionResult | undefined {
    let result: ExecutionResult | Promise<ExecutionResult>;
    try {
      result = this.#map(payload);
    } catch (error) {
      this.#held = () => this.#abrupt(error);
      return undefined;
    }
    if (!(result instanceof Promise) && this.#isShared(result)) return result;
    this.#held = () => this.#settled(result);
    return undefined;
  }

  #read(): Promise<Step> {
    return this.#source.next().then(
      (step) => (step.done ? this.#ended(step) : this.#mapped(step.value)),
      (error: unknown) => this.#failed(error),
    );
  }

  #mapped(payload: unknown): Promise<Step> {
    let result: ExecutionResult | Promise<ExecutionResult>;
    try {
      result = this.#map(payload);
    } catch (error) {
      return this.#abrupt(error);
    }
    return this.#settled(result);
  }

  #ended(step: IteratorResult<unknown>): Step {
    this.#leave();
    return step as Step;
  }

  #settled(result: ExecutionResult | Promise<ExecutionResult>): Promise<Step> {
    if (!(result instanceof Promise)) return Promise.resolve({ value: result, done: false });
    return result.then(
      (value) => ({ value, done: false }),
      (error: unknown) => this.#abrupt(error),
    );
  }

  #failed(error: unknown): Promise<never> {
    this.#leave();
    return Promise.reject(error);
  }

  /** A mapping that failed ends the source, as `mapAsyncIterator` does, and rejects with its error. */
  #abrupt(error: unknown): Promise<never> {
    this.#leave();
    const rethrow = () => Promise.reject(error);
    return this.#source.return ? this.#source.return().then(rethrow, rethrow) : rethrow();
  }
}

export interface SharedPump {
  /** The writer can take more again (after `write` returned false). */
  resume(): void;
  /** Stops for good: nothing more is taken or written. */
  stop(): void;
}

/**
 * Writes `stream`'s shared results as they come, with no promise per result: `write` returns false when
 * its destination is full, and the transport calls `resume()` once it drains; the value on offer waits
 * meanwhile, and so does the trace hub's reader behind it. Calls `handoff` once, when the stream has
 * something else (then read the wrapped stream). `stream` must be `synchronous`.
 */
export function pumpShared(stream: SharedStream, write: (result: ExecutionResult) => boolean, handoff: () => void): SharedPump {
  let stopped = false;
  let full = false;
  let running = false;
  let again = false;
  const run = (): void => {
    // Called back from inside a producer's push, or by a drained destination while a run is under way.
    if (running) {
      again = true;
      return;
    }
    running = true;
    full = false;
    try {
      do {
        again = false;
        while (!stopped) {
          const result = stream.takeShared();
          if (result === WAIT) {
            if (stream.whenReady(run)) break;
            continue;
          }
          if (result === HANDOFF) {
            stopped = true;
            handoff();
            break;
          }
          if (!write(result)) {
            full = true;
            break;
          }
        }
      } while (again && !stopped && !full);
    } finally {
      running = false;
    }
  };
  run();
  return {
    resume() {
      if (full && !stopped) run();
    },
    stop() {
      stopped = true;
    },
  };
}
