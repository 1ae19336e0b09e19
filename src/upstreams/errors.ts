/**
 * Why an upstream call failed, one class each (undici-style): the retry policy, the circuit breaker and
 * `http.ts` decide with `instanceof` and read the facts from fields (`statusCode`, `retryAfter`, `reason`),
 * never from `extensions`. Each class is also the one place its public answer is chosen: it extends
 * `BuildgateError` with the code, message and the documented extensions a client sees, and nothing more.
 *
 * | class                    | code                        | extensions (public)                  |
 * |--------------------------|-----------------------------|--------------------------------------|
 * | UpstreamTimeoutError     | UPSTREAM_TIMEOUT            | upstream                             |
 * | UpstreamAbortedError     | UPSTREAM_TIMEOUT            | upstream                             |
 * | UpstreamUnavailableError | UPSTREAM_UNAVAILABLE        | upstream                             |
 * | CircuitOpenError         | UPSTREAM_UNAVAILABLE        | upstream, retryAfter, circuit: open  |
 * | UpstreamStatusError      | by status (codeForStatus)   | upstream, status, retryAfter on 429  |
 * | RequestRefusedError      | BAD_USER_INPUT              | upstream                             |
 * | UpstreamBodyError        | UPSTREAM_ERROR              | upstream                             |
 * | UpstreamBudgetError      | UPSTREAM_BUDGET_EXCEEDED    | upstream, limit, max                 |
 * | CredentialBudgetError    | RATE_LIMITED                | upstream, retryAfter, limit, max     |
 */
import { BuildgateError, type ErrorCode, codeForStatus } from '../errors.js';

/** Any failure of a call to a named upstream. */
export abstract class UpstreamCallError extends BuildgateError {
  readonly upstream: string;

  protected constructor(code: ErrorCode, message: string, upstream: string, options: { status?: number; extensions?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, { upstream, ...options });
    this.name = new.target.name;
    this.upstream = upstream;
  }
}

/** The upstream did not connect, answer or send its body within the configured timeouts. */
export class UpstreamTimeoutError extends UpstreamCallError {
  constructor(upstream: string, cause?: unknown) {
    super('UPSTREAM_TIMEOUT', `upstream "${upstream}" did not answer in time`, upstream, { cause });
  }
}

/**
 * We stopped waiting, not the upstream: the GraphQL request's deadline passed (before sending:
 * `deadline`) or its signal aborted (the client left, or the deadline fired mid-call: `signal`). Says
 * nothing of the upstream's health, so it is neither retried nor counted by the breaker.
 */
export class UpstreamAbortedError extends UpstreamCallError {
  readonly reason: 'deadline' | 'signal';

  constructor(upstream: string, reason: 'deadline' | 'signal', cause?: unknown) {
    super(
      'UPSTREAM_TIMEOUT',
      reason === 'deadline'
        ? `no time left to call upstream "${upstream}" (request deadline passed)`
        : `request to upstream "${upstream}" was aborted (deadline passed or client gone)`,
      upstream,
      { cause },
    );
    this.reason = reason;
  }
}

/** No connection could be made, or it broke before an answer. */
export class UpstreamUnavailableError extends UpstreamCallError {
  constructor(upstream: string, cause?: unknown) {
    super('UPSTREAM_UNAVAILABLE', `upstream "${upstream}" could not be reached`, upstream, { cause });
  }
}

/** The breaker is open: the call was not sent. `retryAfter` (s) is when the next probe may go. */
export class CircuitOpenError extends UpstreamCallError {
  readonly retryAfter: number;

  constructor(upstream: string, retryAfter: number) {
    // `circuit: 'open'` is documented for clients (a fast failure, not a slow upstream).
    super('UPSTREAM_UNAVAILABLE', `upstream "${upstream}" is failing; not calling it for now (circuit open)`, upstream, {
      extensions: { retryAfter, circuit: 'open' },
    });
    this.retryAfter = retryAfter;
  }
}

export interface UpstreamStatusDetail {
  /** The upstream's own message, when it gave one fit to show. */
  message?: string;
  /** Where the upstream means something other than its status says (e.g. bk-ci's codes). */
  code?: ErrorCode;
  /** Further public extensions the adapter documents. */
  extensions?: Record<string, unknown>;
  /** `Retry-After` in seconds, for a 429. */
  retryAfter?: number;
}

/** The upstream answered with an error status. */
export class UpstreamStatusError extends UpstreamCallError {
  readonly statusCode: number;
  readonly retryAfter: number | undefined;

  constructor(upstream: string, statusCode: number, detail: UpstreamStatusDetail = {}) {
    const extensions: Record<string, unknown> = { ...detail.extensions };
    if (detail.retryAfter !== undefined) extensions.retryAfter = detail.retryAfter;
    super(detail.code ?? codeForStatus(statusCode), `upstream "${upstream}" answered: ${detail.message ?? `HTTP ${statusCode}`}`, upstream, {
      status: statusCode,
      extensions,
    });
    this.statusCode = statusCode;
    this.retryAfter = detail.retryAfter;
  }
}

/**
 * The request could not be built from the client's input (undici's InvalidArgumentError, e.g. a header
 * value it will not send): the client's fault, never the upstream's, so never retried or counted.
 */
export class RequestRefusedError extends UpstreamCallError {
  constructor(upstream: string, cause?: unknown) {
    super('BAD_USER_INPUT', `the request to upstream "${upstream}" could not be built from this input`, upstream, { cause });
  }
}

/** The upstream's body was unusable: too large, not JSON, or a range it was not asked for. */
export class UpstreamBodyError extends UpstreamCallError {
  constructor(upstream: string, what: string) {
    super('UPSTREAM_ERROR', `upstream "${upstream}" sent ${what}`, upstream);
  }
}

export type BudgetLimitName = 'maxUpstreamCalls' | 'maxUpstreamBytes';

/** The operation's upstream budget ran out (see budget.ts): not a fault of the upstream. */
export class UpstreamBudgetError extends UpstreamCallError {
  readonly limit: BudgetLimitName;
  readonly max: number;

  constructor(upstream: string, limit: BudgetLimitName, max: number) {
    const what = limit === 'maxUpstreamCalls' ? `${max} upstream requests` : `${max} bytes of upstream responses`;
    super('UPSTREAM_BUDGET_EXCEEDED', `this operation would need more than ${what} (limits.${limit}); ask for less`, upstream, {
      extensions: { limit, max },
    });
    this.limit = limit;
    this.max = max;
  }
}

/**
 * The credential's upstream requests this minute reached `upstreams[].budgetPerMinute` (see
 * credential-budget.ts): the call was not sent. Our refusal, not the upstream's, so no `status`; the
 * same code as GitLab's own 429, since a client does the same thing: wait `retryAfter` seconds.
 */
export class CredentialBudgetError extends UpstreamCallError {
  readonly retryAfter: number;
  readonly max: number;

  constructor(upstream: string, max: number, retryAfter: number) {
    super('RATE_LIMITED', `this credential has used its ${max} requests a minute to upstream "${upstream}" (upstreams[].budgetPerMinute); retry after ${retryAfter} s`, upstream, {
      extensions: { retryAfter, limit: 'budgetPerMinute', max },
    });
    this.retryAfter = retryAfter;
    this.max = max;
  }
}

/**
 * Unreachable, timed out or 5xx: what says the upstream itself is unwell, and what the breaker counts.
 * Not an answered 4xx, not our abort, an open circuit, a refused request or a spent budget (the
 * operation's, or the credential's per minute): a client's bad input must never open the breaker for
 * every other client.
 */
export function isUpstreamFault(error: unknown): boolean {
  if (error instanceof UpstreamStatusError) return error.statusCode >= 500;
  return error instanceof UpstreamTimeoutError || error instanceof UpstreamUnavailableError || error instanceof UpstreamBodyError;
}
