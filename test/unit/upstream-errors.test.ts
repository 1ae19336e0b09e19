/**
 * The upstream failure classes: each is a BuildgateError with one public code and only documented
 * extensions (no internal `aborted` / `refused` flags), its facts in fields; isRefusal knows the
 * access refusals.
 */
import { describe, expect, it } from 'vitest';
import { BuildgateError, ERROR_CODES, isRefusal } from '../../src/errors.js';
import {
  CircuitOpenError,
  RequestRefusedError,
  UpstreamAbortedError,
  UpstreamBodyError,
  UpstreamBudgetError,
  UpstreamCallError,
  UpstreamStatusError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../../src/upstreams/errors.js';

describe('upstream error classes', () => {
  it('map each failure to one public code and documented extensions', () => {
    const cases: Array<[UpstreamCallError, Record<string, unknown>]> = [
      [new UpstreamTimeoutError('u', new Error('x')), { code: 'UPSTREAM_TIMEOUT', upstream: 'u' }],
      [new UpstreamAbortedError('u', 'deadline'), { code: 'UPSTREAM_TIMEOUT', upstream: 'u' }],
      [new UpstreamAbortedError('u', 'signal'), { code: 'UPSTREAM_TIMEOUT', upstream: 'u' }],
      [new UpstreamUnavailableError('u'), { code: 'UPSTREAM_UNAVAILABLE', upstream: 'u' }],
      [new CircuitOpenError('u', 4), { code: 'UPSTREAM_UNAVAILABLE', upstream: 'u', retryAfter: 4, circuit: 'open' }],
      [new UpstreamStatusError('u', 404), { code: 'NOT_FOUND', upstream: 'u', status: 404 }],
      [new UpstreamStatusError('u', 429, { retryAfter: 7 }), { code: 'RATE_LIMITED', upstream: 'u', status: 429, retryAfter: 7 }],
      [new UpstreamStatusError('u', 400, { code: 'UNAUTHENTICATED', extensions: { upstreamCode: 2100001 } }), { code: 'UNAUTHENTICATED', upstream: 'u', status: 400, upstreamCode: 2100001 }],
      [new UpstreamStatusError('u', 503), { code: 'UPSTREAM_UNAVAILABLE', upstream: 'u', status: 503 }],
      [new RequestRefusedError('u'), { code: 'BAD_USER_INPUT', upstream: 'u' }],
      [new UpstreamBodyError('u', 'a body that is not valid JSON'), { code: 'UPSTREAM_ERROR', upstream: 'u' }],
      [new UpstreamBudgetError('u', 'maxUpstreamCalls', 5), { code: 'UPSTREAM_BUDGET_EXCEEDED', upstream: 'u', limit: 'maxUpstreamCalls', max: 5 }],
    ];
    for (const [error, extensions] of cases) {
      expect(error).toBeInstanceOf(BuildgateError);
      expect(error.extensions, error.name).toEqual(extensions);
      expect(Object.keys(ERROR_CODES)).toContain(error.code);
      expect(error.name).toBe(error.constructor.name);
    }
  });

  it('keep their facts in fields, and the cause out of what is serialised', () => {
    const cause = new Error('connect ECONNREFUSED 10.0.0.1:443 PRIVATE-TOKEN=secret');
    const error = new UpstreamUnavailableError('u', cause);
    expect(error.cause).toBe(cause);
    expect(JSON.stringify(error.toJSON())).not.toContain('secret');
    expect(new UpstreamAbortedError('u', 'deadline').reason).toBe('deadline');
    expect(new UpstreamStatusError('u', 502).statusCode).toBe(502);
    expect(new UpstreamStatusError('u', 429, { retryAfter: 2 }).retryAfter).toBe(2);
    expect(new UpstreamStatusError('u', 502, { message: 'bad gateway' }).message).toBe('upstream "u" answered: bad gateway');
  });
});

describe('isRefusal', () => {
  it('is true for access refusals only', () => {
    for (const status of [401, 403, 404]) expect(isRefusal(new UpstreamStatusError('u', status))).toBe(true);
    expect(isRefusal(new BuildgateError('NOT_FOUND', 'gone'))).toBe(true);
    for (const error of [new UpstreamStatusError('u', 500), new UpstreamStatusError('u', 429), new UpstreamTimeoutError('u'), new Error('x'), undefined]) {
      expect(isRefusal(error)).toBe(false);
    }
  });
});
