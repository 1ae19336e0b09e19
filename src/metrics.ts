/**
 * Prometheus metrics (prom-client): GraphQL operations by name and outcome with durations, upstream
 * requests by upstream, route and status with durations, retries, circuit-breaker states, active
 * subscriptions and trace pollers. One registry per gateway, so tests can run several side by side.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TraceHub } from './trace/hub.js';
import type { UpstreamRegistry } from './upstreams/index.js';

export interface UpstreamRequestEvent {
  upstream: string;
  method: string;
  /** The path's template (`routeOf`), so the label set stays small. */
  route: string;
  /** HTTP status, or `error` when there was no answer. */
  status: string;
  seconds: number;
}

const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly operations: Histogram<'operation' | 'type' | 'outcome'>;
  readonly upstreamRequests: Histogram<'upstream' | 'method' | 'route' | 'status'>;

  constructor(upstreams: UpstreamRegistry, traceHub: TraceHub) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'buildgate_' });
    this.operations = new Histogram({
      name: 'buildgate_graphql_operation_duration_seconds',
      help: 'GraphQL operations by name, type (query, mutation, subscription) and outcome (ok, error)',
      labelNames: ['operation', 'type', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.upstreamRequests = new Histogram({
      name: 'buildgate_upstream_request_duration_seconds',
      help: 'Requests to upstreams by upstream, method, route and HTTP status (or error)',
      labelNames: ['upstream', 'method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    new Counter({
      name: 'buildgate_upstream_retries_total',
      help: 'Upstream reads tried again after a transient fault',
      labelNames: ['upstream'],
      registers,
      collect() {
        this.reset();
        for (const upstream of upstreams.list()) this.inc({ upstream: upstream.adapter.name }, upstream.stats().retries);
      },
    });
    new Gauge({
      name: 'buildgate_upstream_circuit_state',
      help: 'Circuit breaker state per upstream: 1 for the current state (closed, half-open, open)',
      labelNames: ['upstream', 'state'],
      registers,
      collect() {
        for (const upstream of upstreams.list()) {
          const current = upstream.stats().breaker;
          for (const state of BREAKER_STATES) this.set({ upstream: upstream.adapter.name, state }, state === current ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'buildgate_active_subscriptions',
      help: 'buildTrace and buildStatus subscriptions being served',
      registers,
      collect() {
        this.set(traceHub.stats.subscribers);
      },
    });
    new Gauge({
      name: 'buildgate_trace_pollers',
      help: 'Builds being polled for their log and status (one per watched build)',
      registers,
      collect() {
        this.set(traceHub.stats.pollers);
      },
    });
  }

  observeUpstream(event: UpstreamRequestEvent): void {
    this.upstreamRequests.observe({ upstream: event.upstream, method: event.method, route: event.route, status: event.status }, event.seconds);
  }
}

/** The route of any path that is not one of the upstream APIs' shapes. */
export const OTHER_ROUTE = 'other';

/** Collections whose next segment is an entity: a number, a SHA, a bk-ci id or a (client-chosen) project path. */
const ID_AFTER = new Set(['projects', 'pipelines', 'builds', 'jobs', 'commits', 'commit', 'users']);
/** What may follow `builds` where an id would: bk-ci's `…/builds/history`, v3's `…/builds/commit/:sha`. */
const BUILDS_SUBRESOURCES = new Set(['history', 'commit']);
/** Every other literal segment of a path the adapters call. */
const LITERALS = new Set([...ID_AFTER, 'repository', 'bridges', 'trace', 'retry', 'cancel', 'erase', 'play', 'stop', 'status', 'detail', 'history', 'logs', 'after', 'artifacts', 'download']);
const MAX_SEGMENTS = 12;

/**
 * A path's template: the segment after a collection name becomes `:id`, known literal segments stay,
 * and a path with anything else is `other`, so the `route` label can only take a few dozen values
 * whatever ids or names clients send.
 */
export function routeOf(path: string): string {
  const end = path.indexOf('?');
  const segments = (end === -1 ? path : path.slice(0, end)).split('/');
  if (segments[0] !== '' || segments.length > MAX_SEGMENTS + 1) return OTHER_ROUTE;
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const previous = segments[i - 1]!;
    if (ID_AFTER.has(previous) && !(previous === 'builds' && BUILDS_SUBRESOURCES.has(segment))) segments[i] = ':id';
    else if (!LITERALS.has(segment)) return OTHER_ROUTE;
  }
  return segments.join('/');
}
