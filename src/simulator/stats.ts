/**
 * Requests the simulated APIs served, by method and route template, so tests and benchmarks can see
 * what the gateway cost the upstream. Control endpoints (`/__sim/…`) are not counted.
 */

export const UNMATCHED = '(unmatched)';

export interface StatsSnapshot {
  readonly total: number;
  readonly routes: Record<string, number>;
}

export class Stats {
  #total = 0;
  readonly #routes = new Map<string, number>();

  count(key: string): void {
    this.#total++;
    this.#routes.set(key, (this.#routes.get(key) ?? 0) + 1);
  }

  reset(): void {
    this.#total = 0;
    this.#routes.clear();
  }

  snapshot(): StatsSnapshot {
    return { total: this.#total, routes: Object.fromEntries(this.#routes) };
  }
}
