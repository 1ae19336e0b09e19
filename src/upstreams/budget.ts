/**
 * The upstream budget of one operation (or of one subscription event): how many upstream requests it
 * may send and how many response bytes it may read, whatever its variables, aliases or defaults.
 * `http.ts` charges a call before sending it (a retry is a call) and bytes as a body is read; the
 * first charge past a limit fails, and once either limit ran out no further call is sent (answers to
 * calls already sent are still read, within the byte limit). The cost rule (`use-upstream-cost.ts`) refuses what it can see coming before
 * execution; this is the backstop for what it cannot (partial models, upstream page sizes, retries).
 */
import { type BudgetLimitName, UpstreamBudgetError } from './errors.js';

export type { BudgetLimitName };

export interface UpstreamBudgetLimits {
  /** Upstream requests, retries included. @default limits.maxUpstreamCalls (250) */
  maxCalls: number;
  /** Upstream response body bytes read. @default limits.maxUpstreamBytes (32 MiB) */
  maxBytes: number;
}

export class UpstreamBudget {
  readonly limits: UpstreamBudgetLimits;
  #calls = 0;
  #bytes = 0;
  /** The limit that ran out first; once set, every charge fails. */
  #exceeded: BudgetLimitName | undefined;

  constructor(limits: UpstreamBudgetLimits) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isInteger(value) || value < 1) throw new TypeError(`upstream budget ${name} must be a positive integer, got ${String(value)}`);
    }
    this.limits = limits;
  }

  get calls(): number {
    return this.#calls;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get exceeded(): BudgetLimitName | undefined {
    return this.#exceeded;
  }

  /** Bytes that may still be read. */
  get bytesLeft(): number {
    return this.#exceeded ? 0 : this.limits.maxBytes - this.#bytes;
  }

  /** Charges one request to `upstream`, before it is sent; throws UPSTREAM_BUDGET_EXCEEDED past the limit. */
  chargeCall(upstream: string): void {
    if (this.#exceeded) throw this.#error(upstream);
    if (this.#calls >= this.limits.maxCalls) {
      this.#exceeded = 'maxUpstreamCalls';
      throw this.#error(upstream);
    }
    this.#calls += 1;
  }

  /** Charges `count` body bytes read from `upstream`; throws UPSTREAM_BUDGET_EXCEEDED past the limit (the caller stops reading). */
  chargeBytes(upstream: string, count: number): void {
    // Calls already sent when the call budget ran out are still read: only bytes past the byte limit fail.
    this.#bytes += count;
    if (this.#bytes > this.limits.maxBytes) {
      this.#exceeded ??= 'maxUpstreamBytes';
      throw this.#error(upstream, 'maxUpstreamBytes');
    }
  }

  #error(upstream: string, limit: BudgetLimitName = this.#exceeded ?? 'maxUpstreamCalls'): UpstreamBudgetError {
    return new UpstreamBudgetError(upstream, limit, limit === 'maxUpstreamCalls' ? this.limits.maxCalls : this.limits.maxBytes);
  }
}
