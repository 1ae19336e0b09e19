/**
 * The fault table: rules that say which API requests go wrong and how, checked once per request by the
 * pipeline (pipeline.ts) right after the request is routed and counted; fault-inject.ts does what the
 * drawn mode says. Routes never see a fault. Rules come from `SimulatorOptions.faults` (CLI `--fault`)
 * and from `/__sim/faults` (routes/control-faults.ts). Every rule draws from its own PRNG stream seeded
 * by the simulator's seed and the rule's id, so a run with the same seed and the same requests faults
 * the same requests, and adding a rule never changes what another one draws.
 */
import { Prng, hash32 } from './prng.js';

export const FAULT_MODES = ['latency', 'status', 'reset', 'rate-limit', 'truncate', 'malformed', 'stall', 'hang'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** The 5xx a `status` fault answers with. */
export const FAULT_STATUSES = [500, 502, 503, 504] as const;
export type FaultStatus = (typeof FAULT_STATUSES)[number];

export const FAULT_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type FaultMethod = (typeof FAULT_METHODS)[number];

/** The longest `latency` (10 minutes): longer is a `hang`. */
export const MAX_LATENCY_MS = 600_000;
export const MAX_RETRY_AFTER = 86_400;
const MAX_AFTER_BYTES = 0x7fffffff;
const MAX_TIMES = 1_000_000_000;

/** What a faulted request gets. */
export type FaultAction =
  /** Answers normally, `ms` later (the handler runs at once; the reply waits). */
  | { readonly mode: 'latency'; readonly ms: number }
  /** A 5xx in place of the answer (the handler does not run): see fault-inject.ts for the bodies. */
  | { readonly mode: 'status'; readonly status: FaultStatus }
  /** The connection is reset (TCP RST) without an answer; the handler does not run. */
  | { readonly mode: 'reset' }
  /** Rack::Attack's 429 `Retry later` with `Retry-After: retryAfter` and GitLab's RateLimit-* headers; the handler does not run. */
  | { readonly mode: 'rate-limit'; readonly retryAfter: number }
  /** The real answer with the first half of its body, under a Content-Length of that half. */
  | { readonly mode: 'truncate' }
  /** A 200 `application/json` whose body is an HTML page; the handler does not run. */
  | { readonly mode: 'malformed' }
  /** The real headers and the first `afterBytes` bytes of the body, then nothing until the client or `close()` ends it. */
  | { readonly mode: 'stall'; readonly afterBytes: number }
  /** The request is read and never answered; the handler does not run. */
  | { readonly mode: 'hang' };

/** Which requests a rule faults, and how often. */
export interface FaultTarget {
  /**
   * A route as `/__sim/stats` names it, `"<METHOD> <template>"` (e.g.
   * `"GET /api/v4/projects/:id/jobs/:job_id"`); a bare template (`"/api/v4/projects/:id/jobs"`) for
   * any method; or `"*"` for every request to the simulated APIs (GitLab and bk-ci, unmatched paths
   * included). Control endpoints (`/__sim/…`) are never faulted. An unknown route is refused.
   * @default '*'
   */
  readonly route?: string;
  /** Only requests with this method (as counted: a HEAD on GitLab counts as HEAD). @default any */
  readonly method?: FaultMethod;
  /** The chance, from 0 to 1, that a matching request is faulted (drawn from the seeded PRNG). @default 1 */
  readonly probability?: number;
  /** Fire at most this many times, then retire (the rule stays listed). @default unlimited */
  readonly times?: number;
}

/** A fault rule: `{route?, method?, probability?, times?, mode, …the mode's own field}`. */
export type FaultRule = FaultTarget & FaultAction;

/** A rule as `GET /__sim/faults` lists it, defaults filled in. */
export type FaultListing = FaultRule & {
  readonly id: number;
  readonly route: string;
  readonly probability: number;
  /** How many requests it faulted so far. */
  readonly fired: number;
  /** True once it fired `times` times. */
  readonly retired: boolean;
};

/** Why a rule was refused: the field (`mode`, `ms`, an unknown key…) and what it should have been. */
export interface FaultRuleError {
  readonly field: string;
  readonly expected: string;
  readonly value: unknown;
}

const integerIn = (min: number, max: number) => (value: unknown) =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

/** Each mode's own field, if it has one; every one is required. */
const MODE_FIELDS: { readonly [M in FaultMode]: { readonly field: string; readonly valid: (value: unknown) => boolean; readonly expected: string } | null } = {
  latency: { field: 'ms', valid: integerIn(0, MAX_LATENCY_MS), expected: `an integer from 0 to ${MAX_LATENCY_MS}` },
  status: { field: 'status', valid: (value) => (FAULT_STATUSES as readonly unknown[]).includes(value), expected: FAULT_STATUSES.join(', ') },
  reset: null,
  'rate-limit': { field: 'retryAfter', valid: integerIn(0, MAX_RETRY_AFTER), expected: `whole seconds from 0 to ${MAX_RETRY_AFTER}` },
  truncate: null,
  malformed: null,
  stall: { field: 'afterBytes', valid: integerIn(0, MAX_AFTER_BYTES), expected: 'a byte count from 0' },
  hang: null,
};

const TARGET_FIELDS = ['route', 'method', 'probability', 'times'] as const;
const ROUTE_SHAPE = new RegExp(`^(?:(?:${FAULT_METHODS.join('|')}) )?/\\S*$`);

const isMode = (value: unknown): value is FaultMode => (FAULT_MODES as readonly unknown[]).includes(value);
const isMethod = (value: unknown): value is FaultMethod => (FAULT_METHODS as readonly unknown[]).includes(value);

/** The method named at the front of a route (`"GET /x"` → `GET`), if any. */
function routeMethod(route: string): string | undefined {
  const space = route.indexOf(' ');
  return space === -1 ? undefined : route.slice(0, space);
}

/**
 * Checks the shape of one rule (what it is, not whether its route exists: FaultTable.knows does that).
 * Unknown keys are refused, so a misspelt `retry_after` does not silently become a rule without it.
 */
export function parseFaultRule(value: unknown): { readonly rule: FaultRule } | { readonly error: FaultRuleError } {
  const error = checkRule(value);
  // Checked field by field; the cast only joins the target fields to the mode's variant.
  return error ? { error } : { rule: { ...(value as object) } as FaultRule };
}

function checkRule(value: unknown): FaultRuleError | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { field: 'rule', expected: 'a JSON object', value };
  const raw = value as Record<string, unknown>;
  if (!isMode(raw.mode)) return { field: 'mode', expected: FAULT_MODES.join(', '), value: raw.mode };
  const own = MODE_FIELDS[raw.mode];
  for (const key of Object.keys(raw)) {
    if (key !== 'mode' && key !== own?.field && !(TARGET_FIELDS as readonly string[]).includes(key)) {
      return { field: key, expected: `no such field for mode ${raw.mode}`, value: raw[key] };
    }
  }
  const { route, method, probability, times } = raw;
  if (route !== undefined && (typeof route !== 'string' || (route !== '*' && !ROUTE_SHAPE.test(route)))) {
    return { field: 'route', expected: '"*", "<METHOD> <route template>" or "<route template>"', value: route };
  }
  if (method !== undefined && !isMethod(method)) return { field: 'method', expected: FAULT_METHODS.join(', '), value: method };
  const named = typeof route === 'string' ? routeMethod(route) : undefined;
  if (method !== undefined && named !== undefined && method !== named) return { field: 'method', expected: `${named}, as route says`, value: method };
  if (probability !== undefined && (typeof probability !== 'number' || !(probability >= 0 && probability <= 1))) {
    return { field: 'probability', expected: 'a number from 0 to 1', value: probability };
  }
  if (times !== undefined && !integerIn(1, MAX_TIMES)(times)) return { field: 'times', expected: `an integer from 1 to ${MAX_TIMES}`, value: times };
  if (own && !own.valid(raw[own.field])) return { field: own.field, expected: own.expected, value: raw[own.field] };
  return undefined;
}

interface Entry {
  readonly id: number;
  readonly rule: FaultRule;
  /** `"GET /x"` matches that key, `"/x"` the template under any method, undefined every key. */
  readonly key: string | undefined;
  readonly template: string | undefined;
  readonly method: string | undefined;
  readonly probability: number;
  readonly times: number;
  readonly rng: Prng;
  fired: number;
}

export class FaultTable {
  readonly #seed: number;
  /** Every `"<METHOD> <template>"` the APIs serve, and the templates alone. */
  readonly #keys = new Set<string>();
  readonly #templates = new Set<string>();
  #entries: Entry[] = [];
  #nextId = 1;

  /** @param routeKeys the API routes as stats names them (`"GET /api/v4/…"`), for checking rules' `route` */
  constructor(seed: number, routeKeys: Iterable<string>) {
    this.#seed = seed;
    for (const key of routeKeys) {
      const template = key.slice(key.indexOf(' ') + 1);
      this.#keys.add(key);
      this.#templates.add(template);
      // GitLab's front end counts a HEAD under its own name (server.ts).
      if (key.startsWith('GET ')) this.#keys.add(`HEAD ${template}`);
    }
  }

  /** True when `rule.route` is `*` or a route the APIs serve. */
  knows(rule: FaultRule): boolean {
    const route = rule.route ?? '*';
    if (route === '*') return true;
    return routeMethod(route) === undefined ? this.#templates.has(route) : this.#keys.has(route);
  }

  /** Adds rules in order (checked with parseFaultRule and knows); @returns their ids. */
  add(rules: readonly FaultRule[]): number[] {
    return rules.map((rule) => {
      const id = this.#nextId++;
      const route = rule.route ?? '*';
      const named = route === '*' ? undefined : routeMethod(route);
      this.#entries.push({
        id,
        rule,
        key: named === undefined ? undefined : route,
        template: route === '*' || named !== undefined ? undefined : route,
        method: rule.method,
        probability: rule.probability ?? 1,
        times: rule.times ?? Infinity,
        rng: new Prng(hash32(this.#seed, 0xfa17, id)),
        fired: 0,
      });
      return id;
    });
  }

  /** How many rules the table holds, retired ones included. */
  get size(): number {
    return this.#entries.length;
  }

  list(): FaultListing[] {
    return this.#entries.map((e) => ({ id: e.id, ...e.rule, route: e.rule.route ?? '*', probability: e.probability, fired: e.fired, retired: e.fired >= e.times }));
  }

  /** @returns false when no rule has that id */
  remove(id: number): boolean {
    const before = this.#entries.length;
    this.#entries = this.#entries.filter((e) => e.id !== id);
    return this.#entries.length !== before;
  }

  clear(): void {
    this.#entries = [];
  }

  /**
   * The fault for a request counted under `key` (`"GET /api/v4/projects/:id/jobs"`), or undefined: the
   * first rule in the table that matches, still has times left, and wins its draw. A rule only draws
   * when it matches, so its sequence depends on the requests it sees, not on other traffic.
   */
  draw(key: string): FaultRule | undefined {
    for (const entry of this.#entries) {
      if (entry.fired >= entry.times) continue;
      if (entry.key !== undefined && entry.key !== key) continue;
      if (entry.method !== undefined && !key.startsWith(`${entry.method} `)) continue;
      if (entry.template !== undefined && key.slice(key.indexOf(' ') + 1) !== entry.template) continue;
      if (entry.probability < 1 && !entry.rng.chance(entry.probability)) continue;
      entry.fired++;
      return entry.rule;
    }
    return undefined;
  }
}
