/**
 * Prometheus metrics (prom-client): GraphQL operations by name and outcome with durations, upstream
 * requests by upstream, route and status with durations, retries, circuit-breaker states, active
 * subscriptions and trace pollers. One registry per gateway, so tests can run several side by side.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RedisState } from './redis/connection.js';
import type { UpstreamRequestEvent } from './upstreams/routes.js';
import type { UpstreamStats } from './upstreams/types.js';

/** Reads what the gauges and counters show at scrape time; the metrics hold no registry or hub. */
export interface GatewayMetricsSources {
  /** Each upstream's name and counters. */
  upstreamStats: () => Iterable<{ name: string; stats: UpstreamStats }>;
  /** The trace hub's subscribers and pollers, and (with Redis) the leases this replica holds and follows. */
  traceStats: () => { subscribers: number; pollers: number; leases?: { held: number; followed: number } };
  /** The shared Redis' connection state; undefined when none is configured. */
  redisState?: () => RedisState | undefined;
}

const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;
const REDIS_STATES = ['connecting', 'ready', 'down', 'closed'] as const;

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly operations: Histogram<'operation' | 'type' | 'outcome'>;
  readonly upstreamRequests: Histogram<'upstream' | 'method' | 'route' | 'status'>;

  constructor({ upstreamStats, traceStats, redisState }: GatewayMetricsSources) {
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
        for (const { name, stats } of upstreamStats()) this.inc({ upstream: name }, stats.retries);
      },
    });
    new Gauge({
      name: 'buildgate_upstream_circuit_state',
      help: 'Circuit breaker state per upstream: 1 for the current state (closed, half-open, open)',
      labelNames: ['upstream', 'state'],
      registers,
      collect() {
        for (const { name, stats } of upstreamStats()) {
          for (const state of BREAKER_STATES) this.set({ upstream: name, state }, state === stats.breaker ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'buildgate_active_subscriptions',
      help: 'buildTrace and buildStatus subscriptions being served',
      registers,
      collect() {
        this.set(traceStats().subscribers);
      },
    });
    new Gauge({
      name: 'buildgate_trace_pollers',
      help: 'Builds being polled for their log and status (one per watched build)',
      registers,
      collect() {
        this.set(traceStats().pollers);
      },
    });
    if (redisState) {
      new Gauge({
        name: 'buildgate_redis_up',
        help: 'Whether the shared Redis is reachable (1) or not (0): without it this replica serves alone',
        registers,
        collect() {
          this.set(redisState() === 'ready' ? 1 : 0);
        },
      });
      new Gauge({
        name: 'buildgate_redis_connection_state',
        help: 'The connection to the shared Redis: 1 for the current state (connecting, ready, down, closed)',
        labelNames: ['state'],
        registers,
        collect() {
          const current = redisState();
          for (const state of REDIS_STATES) this.set({ state }, state === current ? 1 : 0);
        },
      });
      new Gauge({
        name: 'buildgate_trace_leases',
        help: 'Watched builds by this replica\'s role: held (it polls the upstream for every replica) or followed (it reads the holder\'s stream)',
        labelNames: ['role'],
        registers,
        collect() {
          const leases = traceStats().leases ?? { held: 0, followed: 0 };
          this.set({ role: 'held' }, leases.held);
          this.set({ role: 'followed' }, leases.followed);
        },
      });
    }
  }

  observeUpstream(event: UpstreamRequestEvent): void {
    this.upstreamRequests.observe({ upstream: event.upstream, method: event.method, route: event.route, status: event.status }, event.seconds);
  }
}
