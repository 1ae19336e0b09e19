/**
 * Requests the simulated APIs served, by method and route template, and the response body bytes sent
 * per template, so tests and benchmarks can see what the gateway cost the upstream (a poller that
 * re-downloads whole logs shows in `bytes`). A faulted request (faults.ts) is counted like any other,
 * since it reached the upstream, and also in `faulted`. Control endpoints (`/__sim/…`) are not counted.
 */
import type { ServerResponse } from 'node:http';

export const UNMATCHED = '(unmatched)';

export interface StatsSnapshot {
  readonly total: number;
  readonly routes: Record<string, number>;
  /** Response body bytes written, per route template (HEAD and empty replies add 0). */
  readonly bytes: Record<string, number>;
  /** Requests among `total` that a fault rule answered instead of (or slowed, or cut). */
  readonly faulted: number;
}

/** Where the body bytes written to a response are added up; set by `Stats.meter`, fed by `send`. */
const meters = new WeakMap<ServerResponse, (bytes: number) => void>();

/** Adds `bytes` body bytes written to `res` to the route its request was counted under (if any). */
export function meterBody(res: ServerResponse, bytes: number): void {
  meters.get(res)?.(bytes);
}

export class Stats {
  #total = 0;
  #faulted = 0;
  /** Counted requests whose response has not closed yet, and the most there were at once since the last reset. */
  #inFlight = 0;
  #maxInFlight = 0;
  readonly #routes = new Map<string, number>();
  readonly #bytes = new Map<string, number>();
  /** The response whose request `meter` is dispatching, until `count` claims it. */
  #metering: ServerResponse | undefined;

  count(key: string): void {
    this.#total++;
    this.#routes.set(key, (this.#routes.get(key) ?? 0) + 1);
    if (!this.#bytes.has(key)) this.#bytes.set(key, 0);
    const res = this.#metering;
    if (res) {
      this.#metering = undefined;
      this.#inFlight += 1;
      this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
      res.once('close', () => (this.#inFlight -= 1));
      meters.set(res, (bytes) => this.#bytes.set(key, (this.#bytes.get(key) ?? 0) + bytes));
    }
  }

  /** One more counted request was faulted. */
  countFault(): void {
    this.#faulted++;
  }

  /**
   * Runs `dispatch` for the request `res` answers, so that the body bytes later written to `res` add
   * up under the route `dispatch` counts. The API front ends (server.ts, bkci/index.ts) count in
   * their synchronous `route`, i.e. within this call (pipeline.ts); a request counted later, or not at
   * all (control routes), is not metered.
   */
  meter<T>(res: ServerResponse, dispatch: () => T): T {
    this.#metering = res;
    try {
      return dispatch();
    } finally {
      this.#metering = undefined;
    }
  }

  /** Requests in flight now, and the high-water mark since the last reset: what a client's concurrency cap looks like from here. */
  concurrency(): { inFlight: number; maxInFlight: number } {
    return { inFlight: this.#inFlight, maxInFlight: this.#maxInFlight };
  }

  reset(): void {
    this.#maxInFlight = this.#inFlight;
    this.#total = 0;
    this.#faulted = 0;
    this.#routes.clear();
    this.#bytes.clear();
  }

  snapshot(): StatsSnapshot {
    return { total: this.#total, routes: Object.fromEntries(this.#routes), bytes: Object.fromEntries(this.#bytes), faulted: this.#faulted };
  }
}
