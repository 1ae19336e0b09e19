/**
 * How many upstream requests one credential's operations may cause per minute
 * (`upstreams[].budgetPerMinute`), so that one credential's clients cannot push GitLab past that
 * user's own rate limit. One counter per upstream and credential digest (never the credential itself;
 * the service credential, used when a client brings none, is one counter too). With the replicas'
 * Redis the counter is theirs together; without it, each process keeps its own.
 *
 * rate-limiter-flexible's window: 60 s from a counter's first request (one atomic Lua INCR + EXPIRE in
 * Redis). While Redis is unreachable each process counts alone in memory (the insurance limiter): the
 * budget still holds per process, and no call fails because Redis did. What was counted then is not
 * carried back when Redis returns.
 */
import { createRequire } from 'node:module';
import type { RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Credential } from '../model.js';
import type { RedisLink } from '../redis/connection.js';
import { credentialDigest } from './credential-digest.js';
import { CredentialBudgetError } from './errors.js';
import type { CallContext } from './types.js';

// The three classes used, not the package's index (which loads every store it supports: 25 ms, not 5).
const load = createRequire(import.meta.url);
const lib = () => ({
  Memory: load('rate-limiter-flexible/lib/RateLimiterMemory.js') as typeof RateLimiterMemory,
  Redis: load('rate-limiter-flexible/lib/RateLimiterRedis.js') as typeof RateLimiterRedis,
  Res: load('rate-limiter-flexible/lib/RateLimiterRes.js') as typeof RateLimiterRes,
});

const WINDOW_SECONDS = 60;

export interface CredentialBudgetOptions {
  /** The upstream's configured name: part of every key, and named in the error. */
  upstream: string;
  /** Upstream requests one credential may cause per minute, retries included. */
  perMinute: number;
  /** The Redis the replicas share: the budget is then the cluster's. @default one budget per process */
  redis?: RedisLink;
}

export class CredentialBudget {
  readonly perMinute: number;
  readonly #upstream: string;
  readonly #limiter: RateLimiterAbstract;
  readonly #Res: typeof RateLimiterRes;
  /** The digest of each credential object seen (one per request, or the shared service credential). */
  readonly #digests = new WeakMap<Credential, string>();

  constructor(options: CredentialBudgetOptions) {
    const { upstream, perMinute, redis } = options;
    if (!Number.isInteger(perMinute) || perMinute < 1) {
      throw new TypeError(`upstream "${upstream}": budgetPerMinute must be a positive integer, got ${String(perMinute)}`);
    }
    const { Memory, Redis, Res } = lib();
    this.perMinute = perMinute;
    this.#upstream = upstream;
    this.#Res = Res;
    const local = new Memory({ points: perMinute, duration: WINDOW_SECONDS });
    this.#limiter = redis
      ? new Redis({
          storeClient: redis.client,
          // Keys `<prefix>budget:<upstream>:<digest>`, each expiring with its window.
          keyPrefix: redis.key('budget', upstream),
          points: perMinute,
          duration: WINDOW_SECONDS,
          // The link has no offline queue: while it is not ready, count in memory at once instead of
          // sending a command bound to fail.
          rejectIfRedisNotReady: true,
          insuranceLimiter: local,
          // Once this process has seen a counter reach the budget, it refuses that credential until the
          // window ends without asking Redis again: a client hammering past its budget costs Redis nothing.
          inMemoryBlockOnConsumed: perMinute,
        })
      : local;
  }

  /**
   * Charges one request, before it is sent; throws CredentialBudgetError (RATE_LIMITED, with
   * `retryAfter`) once the credential's budget for this minute is spent. Unmetered calls pass free.
   */
  async charge(call: CallContext): Promise<void> {
    if (call.unmetered) return;
    try {
      await this.#limiter.consume(this.#digest(call.credential));
    } catch (refusal) {
      if (refusal instanceof this.#Res) {
        throw new CredentialBudgetError(this.#upstream, this.perMinute, Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)));
      }
      // A store error the insurance limiter did not take: the call goes out rather than fail because
      // of Redis, which is a helper, never a dependency.
    }
  }

  #digest(credential: Credential | undefined): string {
    if (!credential) return credentialDigest(undefined);
    let digest = this.#digests.get(credential);
    if (digest === undefined) this.#digests.set(credential, (digest = credentialDigest(credential)));
    return digest;
  }
}
