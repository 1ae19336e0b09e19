/**
 * A replica's lease on one watched build: whoever holds it polls the upstream for every replica.
 * `redis-semaphore`'s Mutex does the locking (SET NX PX, a refresh every third of the lease, release
 * only by its holder); this file only makes it safe to use while Redis comes and goes.
 *
 * The Mutex refreshes from a timer, and a refresh that throws (Redis unreachable) would be an
 * unhandled rejection that ends the process. So it gets a client whose scripts answer "not refreshed"
 * when Redis cannot be reached: the lease counts as lost (which, with Redis gone, it soon is), and the
 * replica polls for its own subscribers until it takes a lease again.
 */
import { createRequire } from 'node:module';
import type { Mutex } from 'redis-semaphore';
import type { Redis } from '../redis/connection.js';

type LockClient = ConstructorParameters<typeof Mutex>[0];

/** Loaded with the first lease: a gateway without Redis never loads it. */
const loadMutex = (): typeof Mutex => (createRequire(import.meta.url)('redis-semaphore') as typeof import('redis-semaphore')).Mutex;

/** The Mutex's view of a client: scripts that cannot reach Redis answer 0 ("not yours"), except NOSCRIPT, which the Mutex handles. */
export function tolerantLockClient(client: Redis): LockClient {
  const tolerant =
    <A extends unknown[]>(run: (...args: A) => Promise<unknown>) =>
    async (...args: A): Promise<unknown> => {
      try {
        return await run(...args);
      } catch (error) {
        if (String(error).includes('NOSCRIPT')) throw error;
        return 0;
      }
    };
  return {
    eval: tolerant((...args: unknown[]) => (client.eval as (...a: unknown[]) => Promise<unknown>)(...args)),
    evalsha: tolerant((...args: unknown[]) => (client.evalsha as (...a: unknown[]) => Promise<unknown>)(...args)),
    get: (key: string) => client.get(key),
    set: ((...args: unknown[]) => (client.set as (...a: unknown[]) => Promise<unknown>)(...args)) as never,
    zrem: ((...args: unknown[]) => (client.zrem as (...a: unknown[]) => Promise<unknown>)(...args)) as never,
  } as unknown as LockClient;
}

export class BuildLease {
  readonly #mutex: Mutex;

  /** `leaseMs`: how long the lease outlives its holder's last refresh. */
  constructor(client: LockClient, key: string, leaseMs: number, onLost: () => void) {
    const Mutex = loadMutex();
    this.#mutex = new Mutex(client, key, {
      lockTimeout: leaseMs,
      refreshInterval: Math.max(1, Math.round(leaseMs / 3)),
      acquireAttemptsLimit: 1,
      acquireTimeout: leaseMs,
      retryInterval: 1,
      onLockLost: () => onLost(),
    });
  }

  get held(): boolean {
    return this.#mutex.isAcquired;
  }

  /** One attempt: `taken`, `elsewhere` (another replica holds it), or `unreachable` (Redis did not answer in time). */
  async take(): Promise<'taken' | 'elsewhere' | 'unreachable'> {
    try {
      return (await this.#mutex.tryAcquire()) ? 'taken' : 'elsewhere';
    } catch {
      return 'unreachable';
    }
  }

  /** Lets another replica take it now rather than when it expires. */
  async release(): Promise<void> {
    try {
      await this.#mutex.release();
    } catch {
      // Redis is gone; the lease expires on its own.
    }
  }
}
