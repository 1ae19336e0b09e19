/**
 * The circuit breaker's states: closed until `threshold` consecutive upstream faults, open (failing
 * fast with CircuitOpenError) for `cooldownMs`, then half-open for exactly one probe whose outcome
 * closes or re-opens it. Failures that say nothing of the upstream's health are not counted.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from '../../src/upstreams/circuit-breaker.js';
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

const fault = new UpstreamUnavailableError('u');

function openBreaker(threshold = 3): CircuitBreaker {
  const breaker = new CircuitBreaker('u', { threshold, cooldownMs: 1000 });
  for (let i = 0; i < threshold; i++) {
    breaker.enter();
    breaker.failed(fault);
  }
  return breaker;
}

describe('CircuitBreaker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stays closed below the threshold, and a success resets the count', () => {
    const breaker = new CircuitBreaker('u', { threshold: 3, cooldownMs: 1000 });
    breaker.failed(fault);
    breaker.failed(fault);
    breaker.success();
    breaker.failed(fault);
    breaker.failed(fault);
    expect(breaker.state).toBe('closed');
    expect(() => breaker.enter()).not.toThrow();
  });

  it('opens at the threshold and fails fast with when to come back', () => {
    const breaker = openBreaker();
    expect(breaker.state).toBe('open');
    vi.setSystemTime(1_000_400);
    let thrown: unknown;
    try {
      breaker.enter();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CircuitOpenError);
    expect((thrown as CircuitOpenError).retryAfter).toBe(1);
    expect((thrown as CircuitOpenError).extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', upstream: 'u', retryAfter: 1, circuit: 'open' });
  });

  it('lets exactly one probe through once the cooldown has passed; its success closes the circuit', () => {
    const breaker = openBreaker();
    vi.setSystemTime(1_001_000);
    expect(breaker.state).toBe('half-open');
    breaker.enter();
    expect(() => breaker.enter()).toThrow(CircuitOpenError);
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(() => breaker.enter()).not.toThrow();
  });

  it('re-opens at once when the probe fails, for another whole cooldown', () => {
    const breaker = openBreaker();
    vi.setSystemTime(1_001_000);
    breaker.enter();
    breaker.failed(new UpstreamStatusError('u', 503));
    expect(breaker.state).toBe('open');
    vi.setSystemTime(1_001_999);
    expect(() => breaker.enter()).toThrow(CircuitOpenError);
    vi.setSystemTime(1_002_000);
    expect(breaker.state).toBe('half-open');
  });

  it('frees the probe when it ends without news of the upstream (the client left)', () => {
    const breaker = openBreaker();
    vi.setSystemTime(1_001_000);
    breaker.enter();
    breaker.failed(new UpstreamAbortedError('u', 'signal'));
    expect(breaker.state).toBe('half-open');
    expect(() => breaker.enter()).not.toThrow();
  });

  it('counts only upstream faults: unreachable, timed out, 5xx and unreadable bodies', () => {
    const counted = [fault, new UpstreamTimeoutError('u'), new UpstreamStatusError('u', 500), new UpstreamBodyError('u', 'a body that is not valid JSON')];
    for (const error of counted) {
      const breaker = new CircuitBreaker('u', { threshold: 1, cooldownMs: 1000 });
      breaker.failed(error);
      expect(breaker.state, error.message).toBe('open');
    }
    const ignored = [
      new UpstreamStatusError('u', 404),
      new UpstreamStatusError('u', 429),
      new UpstreamAbortedError('u', 'deadline'),
      new RequestRefusedError('u'),
      new UpstreamBudgetError('u', 'maxUpstreamBytes', 10),
      new CircuitOpenError('u', 1),
    ];
    for (const error of ignored) {
      const breaker = new CircuitBreaker('u', { threshold: 1, cooldownMs: 1000 });
      breaker.failed(error);
      expect(breaker.state, error.message).toBe('closed');
    }
  });

  it('refuses bad options, naming them', () => {
    expect(() => new CircuitBreaker('u', { threshold: 0, cooldownMs: 1000 })).toThrow(/threshold/);
    expect(() => new CircuitBreaker('u', { threshold: 1, cooldownMs: 0 })).toThrow(/cooldownMs/);
  });
});
