/**
 * Builds the adapters from configuration and holds them by name for the lifetime of the gateway.
 */
import type { UpstreamConfig } from '../config.js';
import type { UpstreamRequestEvent } from './routes.js';
import { BkciApigwUpstream } from './bkci-apigw.js';
import { GitLabV3Upstream } from './gitlab-v3.js';
import { GitLabV4Upstream } from './gitlab-v4.js';
import { GitLabV4ConstantUpstream } from './gitlab-v4-constant.js';
import type { Credential } from '../model.js';
import type { Upstream } from './types.js';

export interface ConfiguredUpstream {
  adapter: Upstream;
  config: UpstreamConfig;
  /** The configured service credential, sent when the client brings none. */
  serviceCredential: Credential | undefined;
}

export class UpstreamRegistry {
  readonly #byName = new Map<string, ConfiguredUpstream>();

  /** `observe` sees every upstream request (for metrics). */
  constructor(configs: readonly UpstreamConfig[], observe?: (event: UpstreamRequestEvent) => void) {
    for (const config of configs) {
      this.#byName.set(config.name, {
        adapter: createAdapter(config, observe),
        config,
        serviceCredential: config.token ? serviceCredential(config.tokenHeader, config.token) : undefined,
      });
    }
  }

  get(name: string): ConfiguredUpstream | undefined {
    return this.#byName.get(name);
  }

  list(): ConfiguredUpstream[] {
    return [...this.#byName.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.list().map(({ adapter }) => adapter.close()));
  }
}

function serviceCredential(tokenHeader: UpstreamConfig['tokenHeader'], token: string): Credential {
  switch (tokenHeader) {
    case 'Authorization':
      return { name: 'Authorization', value: `Bearer ${token}` };
    case 'access_token':
      return { name: 'access_token', value: token, in: 'query' };
    default:
      return { name: tokenHeader, value: token };
  }
}

function createAdapter(config: UpstreamConfig, observe: ((event: UpstreamRequestEvent) => void) | undefined): Upstream {
  const http = {
    observe,
    upstream: config.name,
    baseUrl: config.baseUrl,
    connections: config.connections,
    connectTimeout: config.connectTimeoutMs,
    headersTimeout: config.headersTimeoutMs,
    bodyTimeout: config.bodyTimeoutMs,
    retry: { maxRetries: config.retries },
    breaker: { threshold: config.breakerThreshold, cooldownMs: config.breakerCooldownMs },
  };
  switch (config.kind) {
    case 'gitlab-v4':
      return config.constantUpstream
        ? new GitLabV4ConstantUpstream({ ...http, keyset: config.keyset })
        : new GitLabV4Upstream({ ...http, keyset: config.keyset });
    case 'gitlab-v3':
      return new GitLabV3Upstream({ ...http, legacy: config.legacy });
    case 'bkci-apigw':
      return new BkciApigwUpstream(http);
  }
}
