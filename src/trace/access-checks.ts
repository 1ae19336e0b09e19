/**
 * Subscribers' access checks, shared: every subscriber of one watched thing (a build, a pipeline) with
 * the same credential shares one upstream read for half a recheck period. Only an answer is shared
 * (access, or a refusal): a transient fault is not replayed to the next subscribers, who ask again.
 */
import { type BuildgateError, isRefusal } from '../errors.js';
import type { Credential } from '../model.js';

export class AccessChecks<T> {
  readonly #recheckMs: number;
  readonly #checks = new Map<string, { at: number; result: Promise<T> }>();

  /** `recheckMs`: how often each subscriber is checked again; an answer is shared for half of it. */
  constructor(recheckMs: number) {
    this.#recheckMs = recheckMs;
  }

  /** `thing`: the watched thing's key; `read`: the check itself, made with `credential` alone. */
  check(thing: string, credential: Credential | undefined, read: () => Promise<T>): Promise<T> {
    const key = JSON.stringify([thing, credential?.name ?? '', credential?.value ?? '']);
    const now = Date.now();
    const recent = this.#checks.get(key);
    if (recent && now - recent.at < this.#recheckMs / 2) return recent.result;
    const result = read();
    this.#checks.set(key, { at: now, result });
    result.catch((error: unknown) => {
      if (!isRefusal(error) && this.#checks.get(key)?.result === result) this.#checks.delete(key);
    });
    // Forget it once it is stale, so the map holds only credentials still in use.
    setTimeout(() => {
      if (this.#checks.get(key)?.result === result) this.#checks.delete(key);
    }, this.#recheckMs).unref?.();
    return result;
  }
}

/** What a periodic recheck may end: a subscriber, told why. */
export interface CheckedSubscriber {
  failure?: BuildgateError;
  verified: boolean;
  wake(): void;
}

/** Checks a subscriber again: only a refusal ends it; a flaky upstream is its poller's business. */
export async function recheck(subscriber: CheckedSubscriber, check: () => Promise<unknown>): Promise<void> {
  try {
    await check();
  } catch (error) {
    if (isRefusal(error)) {
      subscriber.failure = error;
      subscriber.verified = false;
      subscriber.wake();
    }
  }
}

/**
 * The subscribers of one hub to check again, each within every `recheckMs` until it leaves: one timer
 * for them all, not one per subscriber (a subscriber is checked at most `recheckMs` after the last check;
 * its first may come sooner), and subscribers sharing a credential share the read (AccessChecks).
 */
export class Rechecks {
  readonly #recheckMs: number;
  readonly #subscribers = new Map<CheckedSubscriber, () => Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(recheckMs: number) {
    this.#recheckMs = recheckMs;
  }

  add(subscriber: CheckedSubscriber, check: () => Promise<unknown>): void {
    this.#subscribers.set(subscriber, check);
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      for (const [each, again] of this.#subscribers) void recheck(each, again);
    }, this.#recheckMs);
    this.#timer.unref?.();
  }

  remove(subscriber: CheckedSubscriber): void {
    this.#subscribers.delete(subscriber);
    if (this.#subscribers.size > 0 || !this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
