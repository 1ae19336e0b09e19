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
  /**
   * Called when the circuit opens, lets a probe through (half-open) or closes again, so the owner can
   * log or count it: the breaker itself knows no logger.
   */
  onStateChange?: (change: BreakerStateChange) => void;
}

export interface BreakerStateChange {
  upstream: string;
  from: BreakerState;
  to: BreakerState;
  /** Consecutive failures when it opened. */
  failures: number;
}

export class CircuitBreaker {
  readonly #upstream: string;
  readonly #options: CircuitBreakerOptions;
  #failures = 0;
  #openedAt = 0;
  #state: BreakerState = 'closed';
  #probing = false;
  /** The state last reported to `onStateChange` (open turns half-open by the clock, seen at the next call). */
  #reported: BreakerState = 'closed';

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
      this.#report('half-open');
      return;
    }
    const waitMs = Math.max(0, this.#options.cooldownMs - (Date.now() - this.#openedAt));
    throw new CircuitOpenError(this.#upstream, Math.ceil(waitMs / 1000));
  }

  success(): void {
    this.#failures = 0;
    this.#probing = false;
    this.#state = 'closed';
    this.#report('closed');
  }

  failure(): void {
    this.#failures += 1;
    if (this.#probing || this.#failures >= this.#options.threshold) {
      this.#state = 'open';
      this.#openedAt = Date.now();
      this.#report('open');
    }
    this.#probing = false;
  }

  /** A call failed: counted when `error` says the upstream is unwell (`isUpstreamFault`), else it only frees the probe. */
  failed(error: unknown): void {
    if (isUpstreamFault(error)) this.failure();
    else this.release();
  }

  #report(to: BreakerState): void {
    if (to === this.#reported) return;
    const from = this.#reported;
    this.#reported = to;
    this.#options.onStateChange?.({ upstream: this.#upstream, from, to, failures: this.#failures });
  }

  /** A call that ended without telling anything about the upstream's health (e.g. the client went away). */
  release(): void {
    this.#probing = false;
  }
}
