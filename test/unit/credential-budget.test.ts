/**
 * The per-credential budget alone (in memory: the Redis counting is covered end to end by
 * test/budget-per-minute.test.ts): its error, its keys, and the calls it never charges.
 */
import { describe, expect, it } from 'vitest';
import { CredentialBudget } from '../../src/upstreams/credential-budget.js';
import { CredentialBudgetError, isUpstreamFault } from '../../src/upstreams/errors.js';
import type { CallContext } from '../../src/upstreams/types.js';

const token = (value: string): CallContext => ({ credential: { in: 'header', name: 'PRIVATE-TOKEN', value } });

async function refusal(budget: CredentialBudget, call: CallContext): Promise<CredentialBudgetError> {
  const error = await budget.charge(call).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(CredentialBudgetError);
  return error as CredentialBudgetError;
}

describe('CredentialBudget', () => {
  it('refuses the request past the budget with RATE_LIMITED and an integer retryAfter within the minute', async () => {
    const budget = new CredentialBudget({ upstream: 'gitlab', perMinute: 2 });
    await budget.charge(token('a'));
    await budget.charge(token('a'));
    const error = await refusal(budget, token('a'));
    expect(error.extensions).toEqual({ code: 'RATE_LIMITED', upstream: 'gitlab', retryAfter: error.retryAfter, limit: 'budgetPerMinute', max: 2 });
    expect(Number.isInteger(error.retryAfter)).toBe(true);
    expect(error.retryAfter).toBeGreaterThanOrEqual(59);
    expect(error.retryAfter).toBeLessThanOrEqual(60);
    expect(error.message).not.toContain('PRIVATE-TOKEN');
  });

  it('keeps one count per credential, the same credential in a new object included', async () => {
    const budget = new CredentialBudget({ upstream: 'gitlab', perMinute: 1 });
    await budget.charge(token('a'));
    await budget.charge(token('b'));
    await budget.charge({});
    await refusal(budget, token('a'));
    await refusal(budget, token('b'));
    await refusal(budget, {});
  });

  it('never charges an unmetered call (the shared trace pollers, readiness probes)', async () => {
    const budget = new CredentialBudget({ upstream: 'gitlab', perMinute: 1 });
    for (let i = 0; i < 5; i++) await budget.charge({ ...token('a'), unmetered: true });
    await budget.charge(token('a'));
    await refusal(budget, token('a'));
    await budget.charge({ ...token('a'), unmetered: true });
  });

  it('is not an upstream fault: the circuit breaker does not count it', () => {
    expect(isUpstreamFault(new CredentialBudgetError('gitlab', 6, 30))).toBe(false);
  });

  it('names a bad budget', () => {
    expect(() => new CredentialBudget({ upstream: 'gitlab', perMinute: 0 })).toThrow(/budgetPerMinute must be a positive integer, got 0/);
  });
});
