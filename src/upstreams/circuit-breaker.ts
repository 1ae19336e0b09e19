/**
 * A per-upstream circuit breaker: after `threshold` consecutive failures (unreachable, timed out, 5xx)
 * it opens and every call fails fast with UPSTREAM_UNAVAILABLE for `cooldownMs`; then one probe goes
 * through (half-open) and its outcome closes or re-opens the circuit.
 */
import { CircuitOpenError, isUpstreamFault } from './errors.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  threshold: number;
  /** ms the circuit stays open before a probe. @default 5000 */
  cooldownMs: number;
}

export class CircuitBreaker {
  readonly #upstream: string;
  readonly #options: CircuitBreakerOptions;
  #failures = 0;
  #openedAt = 0;
  #state: BreakerState = 'closed';
  #probing = false;

  constructor(upstream: string, options: CircuitBreakerOptions) {
    if (!Number.isInteger(options.threshold) || options.threshold < 1) {
      throw new TypeError(`upstream "${upstream}": breaker threshold must be a positive integer, got ${options.threshold}`);
    }
    if (!(options.cooldownMs > 0)) throw new TypeError(`upstream "${upstream}": breaker cooldownMs must be positive, got ${options.cooldownMs}`);
    this.#upstream = upstream;
    this.#options = options;
  }

  get state(): BreakerState {
    if (this.#state === 'open' && Date.now() - this.#openedAt >= this.#options.cooldownMs) return 'half-open';
    return this.#state;
  }

  /** Throws CircuitOpenError (UPSTREAM_UNAVAILABLE) while open; lets one probe through once the cooldown has passed. */
  enter(): void {
    const state = this.state;
    if (state === 'closed') return;
    if (state === 'half-open' && !this.#probing) {
      this.#state = 'half-open';
      this.#probing = true;
      return;
    }
    const waitMs = Math.max(0, this.#options.cooldownMs - (Date.now() - this.#openedAt));
    throw new CircuitOpenError(this.#upstream, Math.ceil(waitMs / 1000));
  }

  success(): void {
    this.#failures = 0;
    this.#probing = false;
    this.#state = 'closed';
  }

  failure(): void {
    this.#failures += 1;
    if (this.#probing || this.#failures >= this.#options.threshold) {
      this.#state = 'open';
      this.#openedAt = Date.now();
    }
    this.#probing = false;
  }

  /** A call failed: counted when `error` says the upstream is unwell (`isUpstreamFault`), else it only frees the probe. */
  failed(error: unknown): void {
    if (isUpstreamFault(error)) this.failure();
    else this.release();
  }

  /** A call that ended without telling anything about the upstream's health (e.g. the client went away). */
  release(): void {
    this.#probing = false;
  }
}
