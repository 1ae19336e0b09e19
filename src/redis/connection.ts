/**
 * The gateway's link to the Redis its replicas share (`redis.url`): one command connection, and one
 * for blocking stream reads, made on demand. Redis is a helper, never a dependency: commands fail at
 * once while it is unreachable (no offline queue, no retry of a command), so every caller falls back
 * to what one process can do alone, and the link keeps reconnecting in the background and says when
 * Redis is back. The only module that imports ioredis.
 */
import { createRequire } from 'node:module';
import type { Redis as RedisClient, RedisOptions } from 'ioredis';

/** ioredis (some 90 ms of loading) is loaded only when a Redis is configured: a gateway alone never loads it. */
const loadRedis = (): typeof RedisClient => (createRequire(import.meta.url)('ioredis') as typeof import('ioredis')).Redis;

export type RedisState = 'connecting' | 'ready' | 'down' | 'closed';

export interface RedisLinkOptions {
  url: string;
  /** Prefix of every key the gateway writes. */
  keyPrefix: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** Told when the link comes up or goes down (logs). */
  onStateChange?: (state: RedisState, error?: Error) => void;
}

/** Longest wait between two reconnection attempts: Redis back is noticed within it. */
const MAX_RECONNECT_DELAY_MS = 1_000;

export type Redis = RedisClient;

export class RedisLink {
  readonly client: Redis;
  readonly #options: RedisLinkOptions;
  readonly #listeners = new Set<(state: RedisState) => void>();
  #blocking: Redis | undefined;
  #state: RedisState = 'connecting';
  #lastError: Error | undefined;

  constructor(options: RedisLinkOptions) {
    this.#options = options;
    const Redis = loadRedis();
    this.client = new Redis(options.url, this.#clientOptions({ commandTimeout: options.commandTimeoutMs }));
    this.client.on('ready', () => this.#setState('ready'));
    this.client.on('error', (error: Error) => {
      this.#lastError = error;
    });
    this.client.on('close', () => {
      if (this.#state !== 'closed') this.#setState('down', this.#lastError);
    });
  }

  get state(): RedisState {
    return this.#state;
  }

  /** Whether a command sent now can reach Redis. */
  get available(): boolean {
    return this.#state === 'ready';
  }

  /** A key of ours: the prefix, then the parts joined with ':'. */
  key(...parts: string[]): string {
    return this.#options.keyPrefix + parts.join(':');
  }

  /**
   * The connection for `XREAD BLOCK`: a blocked read would hold every command behind it on the shared
   * one. No command timeout: the block itself bounds the wait.
   */
  blocking(): Redis {
    if (!this.#blocking) {
      this.#blocking = new (loadRedis())(this.#options.url, this.#clientOptions({}));
      this.#blocking.on('error', () => {
        // Reported through the command connection's state; this one reconnects on its own.
      });
    }
    return this.#blocking;
  }

  /** Calls `listener` at every change of state (not now). Returns the unsubscribe. */
  onStateChange(listener: (state: RedisState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once Redis is ready, or after `ms` (false). */
  async ready(ms: number): Promise<boolean> {
    if (this.available) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(this.available);
      }, ms);
      const off = this.onStateChange((state) => {
        if (state !== 'ready') return;
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  async close(): Promise<void> {
    this.#setState('closed');
    await Promise.all([this.client, this.#blocking].map((client) => client?.quit().catch(() => client.disconnect())));
  }

  #clientOptions(extra: RedisOptions): RedisOptions {
    return {
      connectTimeout: this.#options.connectTimeoutMs,
      // A command while Redis is unreachable fails now, and its caller falls back; none waits in a queue.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(50 * attempt, MAX_RECONNECT_DELAY_MS),
      ...extra,
    };
  }

  #setState(state: RedisState, error?: Error): void {
    if (this.#state === state || this.#state === 'closed') return;
    this.#state = state;
    this.#options.onStateChange?.(state, error);
    for (const listener of [...this.#listeners]) listener(state);
  }
}
