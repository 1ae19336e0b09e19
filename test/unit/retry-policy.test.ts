/**
 * The retry policy: only reads, only faults that may pass, full-jitter exponential delays bounded by
 * maxDelayMs, a short Retry-After honoured, and nothing started past the request's deadline.
 */
import { describe, expect, it } from 'vitest';
import { BuildgateError } from '../../src/errors.js';
import {
  CircuitOpenError,
  RequestRefusedError,
  UpstreamAbortedError,
  UpstreamBodyError,
  UpstreamBudgetError,
  UpstreamStatusError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../../src/upstreams/errors.js';
import { DEFAULT_RETRY_POLICY, retryDelay } from '../../src/upstreams/retry-policy.js';

const policy = { maxRetries: 5, minDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 2000 };
const always = (value: number) => () => value;
const unavailable = new UpstreamUnavailableError('u');

describe('retryDelay', () => {
  it('grows the bound exponentially from minDelayMs, capped at maxDelayMs, with full jitter', () => {
    expect([0, 1, 2, 3, 4].map((attempt) => retryDelay(unavailable, 'GET', attempt, undefined, policy, always(1)))).toEqual([100, 200, 400, 800, 1000]);
    expect([0, 1, 2, 3, 4].map((attempt) => retryDelay(unavailable, 'GET', attempt, undefined, policy, always(0)))).toEqual([0, 0, 0, 0, 0]);
    expect(retryDelay(unavailable, 'GET', 2, undefined, policy, always(0.5))).toBe(200);
  });

  it('stops after maxRetries', () => {
    expect(retryDelay(unavailable, 'GET', 4, undefined, policy, always(1))).toBe(1000);
    expect(retryDelay(unavailable, 'GET', 5, undefined, policy, always(1))).toBeUndefined();
    expect(retryDelay(unavailable, 'GET', DEFAULT_RETRY_POLICY.maxRetries, undefined, DEFAULT_RETRY_POLICY)).toBeUndefined();
  });

  it('never repeats a mutation', () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) expect(retryDelay(unavailable, method, 0, undefined, policy)).toBeUndefined();
    expect(retryDelay(unavailable, 'HEAD', 0, undefined, policy, always(1))).toBe(100);
  });

  it('retries faults that may pass: unreachable, timed out, 502, 503, 504', () => {
    const transient = [unavailable, new UpstreamTimeoutError('u'), ...[502, 503, 504].map((status) => new UpstreamStatusError('u', status))];
    for (const error of transient) expect(retryDelay(error, 'GET', 0, undefined, policy, always(1))).toBe(100);
  });

  it('does not retry answers, our own refusals, an open circuit, an abort, a bad body or a spent budget', () => {
    const final = [
      ...[400, 401, 403, 404, 422, 500, 501].map((status) => new UpstreamStatusError('u', status)),
      new CircuitOpenError('u', 3),
      new UpstreamAbortedError('u', 'signal'),
      new UpstreamAbortedError('u', 'deadline'),
      new RequestRefusedError('u'),
      new UpstreamBodyError('u', 'a body that is not valid JSON'),
      new UpstreamBudgetError('u', 'maxUpstreamCalls', 1),
      // A coded error of the same public code, but not a failed call: not ours to retry.
      new BuildgateError('UPSTREAM_UNAVAILABLE', 'the build\'s poller stopped'),
    ];
    for (const error of final) expect(retryDelay(error, 'GET', 0, undefined, policy, always(1)), error.message).toBeUndefined();
  });

  it('waits a short Retry-After exactly, and gives up on a long one', () => {
    expect(retryDelay(new UpstreamStatusError('u', 429, { retryAfter: 1 }), 'GET', 0, undefined, policy)).toBe(1000);
    expect(retryDelay(new UpstreamStatusError('u', 429, { retryAfter: 0 }), 'GET', 0, undefined, policy)).toBe(0);
    // Without the header, one second.
    expect(retryDelay(new UpstreamStatusError('u', 429), 'GET', 0, undefined, policy)).toBe(1000);
    expect(retryDelay(new UpstreamStatusError('u', 429, { retryAfter: 3 }), 'GET', 0, undefined, policy)).toBeUndefined();
  });

  it('starts no retry that the deadline would not leave room for', () => {
    // Bounds far apart, so a loaded machine's clock steps cannot change the answers.
    const slow = { ...policy, minDelayMs: 8000, maxDelayMs: 8000 };
    const soon = Date.now() + 5000;
    expect(retryDelay(unavailable, 'GET', 0, soon, slow, always(0.1))).toBe(800);
    expect(retryDelay(unavailable, 'GET', 0, soon, slow, always(1))).toBeUndefined();
    expect(retryDelay(unavailable, 'GET', 0, Date.now() - 1, policy, always(0))).toBeUndefined();
  });
});
