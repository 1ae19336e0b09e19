/**
 * A one-consumer async iterator fed by an async producer. `push` resolves once the consumer has taken
 * the value, and the next push waits until the consumer asks again: a client that reads slowly holds
 * its producer back, and at most one value waits besides the one being sent.
 *
 * It stands in for `Repeater` on the trace path. Repeater links each pushed value to the one before
 * through a chain of promises; at tens of MB/s of log, a link that happens to survive two scavenges is
 * promoted, and from the old generation it keeps every later link (and the log it carries) alive through
 * each scavenge, until a major collection. Streaming a 200 MB log, that promoted some 60 MB of chunks.
 * Here nothing a value leaves behind refers to the next one.
 *
 * A consumer may also read it without a promise per value (`take` and `whenReady`): at 10,000 watchers
 * of a log, the promises each value cost every one of them, living from one piece of log to the next,
 * were most of what the scavenger copied and promoted.
 */
export type Producer<T> = (
  /**
   * `taken` runs, synchronously, when the consumer takes the value (never for a value dropped at the
   * end). Undefined when the consumer took it at once (`taken` has run); otherwise settles once it is
   * taken or dropped.
   */
  push: (value: T, taken?: () => void) => Promise<void> | undefined,
  /** Ends the stream: the consumer gets the values already pushed, then `error` or the end. */
  stop: (error?: Error) => void,
  /** Settles when the stream ends, however it ends (the consumer leaving included). */
  stopped: Promise<void>,
) => Promise<void>;

interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: unknown): void;
}

const DONE: IteratorResult<never> = { value: undefined, done: true };

/** What `take` returns when no value is on offer. */
export const NOTHING: unique symbol = Symbol('buildgate.channel.nothing');

/** A stream a consumer can read without waiting: what a Channel offers besides its iterator. */
export interface SyncSource<T> {
  /** The value on offer, taken now (its producer goes on), or NOTHING. */
  take(): T | typeof NOTHING;
  /**
   * Calls `ready` once, when a value is offered or the stream ends, and returns true; returns false
   * without calling it when either is so already (take now). One callback at a time.
   */
  whenReady(ready: () => void): boolean;
  /** Ended, with nothing on offer: what is left (the error, or the end) comes from `next()`. */
  readonly ended: boolean;
}

export function isSyncSource<T>(value: unknown): value is SyncSource<T> {
  return value instanceof Channel;
}

interface Offer<T> {
  value: T;
  taken: (() => void) | undefined;
  /** The producer's push promise, once it waits. */
  settle: (() => void) | undefined;
}

export class Channel<T> implements AsyncIterableIterator<T>, SyncSource<T> {
  readonly #producer: Producer<T>;
  readonly #stopped: Promise<void>;
  readonly #settleStopped: () => void;
  #started = false;
  #ended = false;
  #error: Error | undefined;
  /** A value pushed and not yet taken, with its producer waiting. */
  #offered: Offer<T> | undefined;
  readonly #waiting: Waiter<T>[] = [];
  /** A synchronous consumer's callback for the next value or the end (`whenReady`). */
  #ready: (() => void) | undefined;

  constructor(producer: Producer<T>) {
    this.#producer = producer;
    let settle!: () => void;
    this.#stopped = new Promise<void>((resolve) => (settle = resolve));
    this.#settleStopped = settle;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    const value = this.take();
    if (value !== NOTHING) return Promise.resolve({ value, done: false });
    if (this.#ended) return this.#endResult();
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  take(): T | typeof NOTHING {
    if (!this.#started) this.#start();
    const offered = this.#offered;
    if (!offered) return NOTHING;
    this.#offered = undefined;
    offered.taken?.();
    offered.settle?.();
    return offered.value;
  }

  whenReady(ready: () => void): boolean {
    if (!this.#started) this.#start();
    if (this.#offered || this.#ended) return false;
    this.#ready = ready;
    return true;
  }

  get ended(): boolean {
    return this.#ended && !this.#offered;
  }

  return(): Promise<IteratorResult<T>> {
    this.#end(undefined, true);
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.#end(undefined, true);
    return Promise.reject(error);
  }

  #start(): void {
    this.#started = true;
    const push = (value: T, taken?: () => void): Promise<void> | undefined => {
      // A promise, even settled: a producer looping on pushes must yield for the end to reach it.
      if (this.#ended) return Promise.resolve();
      const waiter = this.#waiting.shift();
      if (waiter) {
        taken?.();
        waiter.resolve({ value, done: false });
        return undefined;
      }
      const offer: Offer<T> = { value, taken, settle: undefined };
      this.#offered = offer;
      const ready = this.#ready;
      if (ready) {
        this.#ready = undefined;
        ready();
        if (this.#offered !== offer) return undefined;
      }
      return new Promise<void>((resolve) => (offer.settle = resolve));
    };
    const stop = (error?: Error) => this.#end(error, error !== undefined);
    this.#producer(push, stop, this.#stopped).then(
      () => this.#end(),
      (error: unknown) => this.#end(error instanceof Error ? error : new Error(String(error)), true),
    );
  }

  /** `drop`: the value on offer is not delivered (the consumer left, or the stream failed). */
  #end(error?: Error, drop = false): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    if (drop && this.#offered) {
      const { settle } = this.#offered;
      this.#offered = undefined;
      settle?.();
    }
    this.#settleStopped();
    const ready = this.#ready;
    this.#ready = undefined;
    ready?.();
    if (this.#offered) return;
    for (const waiter of this.#waiting.splice(0)) this.#endResult().then(waiter.resolve, waiter.reject);
  }

  /** The error once, then the end. */
  #endResult(): Promise<IteratorResult<T>> {
    const error = this.#error;
    if (!error) return Promise.resolve(DONE);
    this.#error = undefined;
    return Promise.reject(error);
  }
}
