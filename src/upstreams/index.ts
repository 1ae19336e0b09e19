/**
 * Builds the adapters from configuration and holds them by name for the lifetime of the gateway. Each
 * upstream's HTTP client is made here, so probing, counting and closing it is done once for every kind.
 */
import type { UpstreamConfig } from '../config.js';
import type { UpstreamRequestEvent } from './routes.js';
import type { Credential } from '../model.js';
import type { RedisLink } from '../redis/connection.js';
import type { BreakerStateChange } from './circuit-breaker.js';
import { CredentialBudget } from './credential-budget.js';
import { type Dispatcher, UpstreamHttp } from './http.js';
import { type UpstreamKindDescriptor, descriptorOf } from './kinds/index.js';
import type { Upstream, UpstreamStats } from './types.js';

export interface ConfiguredUpstream {
  adapter: Upstream;
  config: UpstreamConfig;
  /** What the upstream's kind is and can do. */
  descriptor: UpstreamKindDescriptor;
  /** The configured service credential, sent when the client brings none. */
  serviceCredential: Credential | undefined;
  /** Whether the upstream answers HTTP at all (any status will do); throws a coded error when it does not. */
  probe(): Promise<void>;
  /** Counters and breaker state for metrics. */
  stats(): UpstreamStats;
}

const PROBE_TIMEOUT_MS = 3000;

export interface UpstreamRegistryOptions {
  /** Sees every upstream request (for metrics). */
  observe?: (event: UpstreamRequestEvent) => void;
  /** Sees each circuit breaker open, half-open and close again (for the log). */
  onBreakerChange?: (change: BreakerStateChange) => void;
  /** Replace the connection pool of the upstreams they are named for (a bench's constant answers, a test's MockAgent). */
  dispatchers?: Readonly<Record<string, Dispatcher>>;
  /** The Redis the replicas share: each `budgetPerMinute` is then counted across them all. @default per process */
  redis?: RedisLink;
}

export class UpstreamRegistry {
  readonly #byName = new Map<string, ConfiguredUpstream>();
  readonly #clients: UpstreamHttp[] = [];

  constructor(configs: readonly UpstreamConfig[], options: UpstreamRegistryOptions = {}) {
    const { observe, onBreakerChange, dispatchers = {}, redis } = options;
    for (const config of configs) {
      const descriptor = descriptorOf(config.kind);
      const budget = config.budgetPerMinute === undefined ? undefined : new CredentialBudget({ upstream: config.name, perMinute: config.budgetPerMinute, redis });
      const http = new UpstreamHttp({
        observe,
        upstream: config.name,
        baseUrl: config.baseUrl,
        connections: config.connections,
        connectTimeout: config.connectTimeoutMs,
        headersTimeout: config.headersTimeoutMs,
        bodyTimeout: config.bodyTimeoutMs,
        retry: { maxRetries: config.retries },
        breaker: { threshold: config.breakerThreshold, cooldownMs: config.breakerCooldownMs, onStateChange: onBreakerChange },
        ...descriptor.http,
        chargeCredential: budget && ((call) => budget.charge(call)),
        dispatcher: Object.hasOwn(dispatchers, config.name) ? dispatchers[config.name] : undefined,
      });
      this.#clients.push(http);
      this.#byName.set(config.name, {
        adapter: descriptor.createAdapter(http, { keyset: config.keyset, legacy: config.legacy }),
        config,
        descriptor,
        serviceCredential: config.token ? descriptor.serviceCredential(config.tokenHeader, config.token) : undefined,
        probe: () => http.probe(AbortSignal.timeout(PROBE_TIMEOUT_MS)),
        stats: () => ({ ...http.counts, breaker: http.breaker.state }),
      });
    }
  }

  get(name: string): ConfiguredUpstream | undefined {
    return this.#byName.get(name);
  }

  list(): ConfiguredUpstream[] {
    return [...this.#byName.values()];
  }

  /** Closes every connection pool. Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.#clients.map((http) => http.close()));
  }
}
