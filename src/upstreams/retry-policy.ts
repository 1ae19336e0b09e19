/**
 * When a failed upstream read is tried again: only GETs (a mutation is never repeated: a retried
 * `retry` starts two builds), only for faults that may pass (502/503/504, a reset or unreachable
 * upstream, a timeout, and 429 with a short `Retry-After`), with jittered exponential backoff, and only
 * while the GraphQL request's deadline leaves room.
 */
import { UpstreamStatusError, UpstreamTimeoutError, UpstreamUnavailableError } from './errors.js';

export interface RetryPolicyOptions {
  /** Retries after the first attempt. @default 2 */
  maxRetries: number;
  /** ms before the first retry (the backoff's base). @default 100 */
  minDelayMs: number;
  /** Longest ms between two attempts. @default 2000 */
  maxDelayMs: number;
  /** Longest `Retry-After` (ms) honoured by waiting; a longer one is answered RATE_LIMITED. @default 2000 */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicyOptions = { maxRetries: 2, minDelayMs: 100, maxDelayMs: 2000, maxRetryAfterMs: 2000 };

const RETRYABLE_STATUSES = new Set([502, 503, 504]);

/**
 * The ms to wait before attempt `attempt + 1`, or undefined when the error is final. `deadline` is the
 * epoch ms by which the whole GraphQL request must be answered.
 */
export function retryDelay(
  error: unknown,
  method: string,
  attempt: number,
  deadline: number | undefined,
  options: RetryPolicyOptions,
  random: () => number = Math.random,
): number | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  if (attempt >= options.maxRetries) return undefined;
  let delay: number;
  if (error instanceof UpstreamStatusError && error.code === 'RATE_LIMITED') {
    const retryAfter = (error.retryAfter ?? 1) * 1000;
    if (!(retryAfter >= 0) || retryAfter > options.maxRetryAfterMs) return undefined;
    delay = retryAfter;
  } else if (
    (error instanceof UpstreamStatusError && RETRYABLE_STATUSES.has(error.statusCode)) ||
    // Not an open circuit, our own abort, a refused request or a spent budget: those would fail the same way.
    error instanceof UpstreamUnavailableError ||
    error instanceof UpstreamTimeoutError
  ) {
    // Full jitter: a random wait up to the exponential bound spreads retries of many clients apart.
    delay = Math.round(random() * Math.min(options.maxDelayMs, options.minDelayMs * 2 ** attempt));
  } else {
    return undefined;
  }
  if (deadline !== undefined && Date.now() + delay >= deadline) return undefined;
  return delay;
}
