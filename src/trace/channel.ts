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
 */
export type Producer<T> = (
  /** `taken` runs, synchronously, when the consumer takes the value (never for a value dropped at the end). */
  push: (value: T, taken?: () => void) => Promise<void>,
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

export class Channel<T> implements AsyncIterableIterator<T> {
  readonly #producer: Producer<T>;
  readonly #stopped: Promise<void>;
  readonly #settleStopped: () => void;
  #started = false;
  #ended = false;
  #error: Error | undefined;
  /** A value pushed and not yet taken, with its producer waiting. */
  #offered: { value: T; taken: () => void; dropped: () => void } | undefined;
  readonly #waiting: Waiter<T>[] = [];

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
    if (!this.#started) this.#start();
    const offered = this.#offered;
    if (offered) {
      this.#offered = undefined;
      offered.taken();
      return Promise.resolve({ value: offered.value, done: false });
    }
    if (this.#ended) return this.#endResult();
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
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
    const push = (value: T, onTaken?: () => void): Promise<void> => {
      if (this.#ended) return Promise.resolve();
      const waiter = this.#waiting.shift();
      if (waiter) {
        onTaken?.();
        waiter.resolve({ value, done: false });
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        this.#offered = {
          value,
          taken: () => {
            onTaken?.();
            resolve();
          },
          dropped: resolve,
        };
      });
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
      const { dropped } = this.#offered;
      this.#offered = undefined;
      dropped();
    }
    this.#settleStopped();
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
