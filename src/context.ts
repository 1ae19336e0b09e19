/**
 * The per-request GraphQL context: which upstreams exist, the caller's credential for each, and a fresh
 * set of loaders. Built once per request by `createContextFactory`, never reused.
 */
import type { YogaInitialContext } from 'graphql-yoga';
import type { GatewayConfig } from './config.js';
import { badUserInput } from './errors.js';
import { type Loaders, createLoaders } from './loaders/index.js';
import type { ConfiguredUpstream, UpstreamRegistry } from './upstreams/index.js';
import type { CallContext, Credential, Upstream } from './upstreams/types.js';

export interface GatewayContext extends YogaInitialContext {
  config: GatewayConfig;
  registry: UpstreamRegistry;
  loaders: Loaders;
  /** The adapter and call context (credential, abort signal) for a configured upstream; BAD_USER_INPUT if unknown. */
  upstream(name: string): { adapter: Upstream; call: CallContext };
}

/** The caller's own credential, as GitLab accepts it: `PRIVATE-TOKEN`, or `Authorization: Bearer`. */
export function clientCredential(headers: Headers): Credential | undefined {
  const privateToken = headers.get('private-token');
  if (privateToken) return { header: 'PRIVATE-TOKEN', value: privateToken };
  const authorization = headers.get('authorization');
  if (authorization && /^Bearer\s+\S+$/i.test(authorization)) return { header: 'Authorization', value: authorization };
  return undefined;
}

function credentialFor(upstream: ConfiguredUpstream, client: Credential | undefined): Credential | undefined {
  return (upstream.config.forwardClientCredential && client) || upstream.serviceCredential;
}

export function createContextFactory(config: GatewayConfig, registry: UpstreamRegistry) {
  return ({ request }: YogaInitialContext): Omit<GatewayContext, keyof YogaInitialContext> => {
    const client = clientCredential(request.headers);
    const calls = new Map<string, { adapter: Upstream; call: CallContext; concurrency: number }>();
    const resolve = (name: string) => {
      let entry = calls.get(name);
      if (!entry) {
        const upstream = registry.get(name);
        if (!upstream) throw badUserInput(`unknown upstream "${name}"`, { argument: 'upstream' });
        entry = {
          adapter: upstream.adapter,
          call: { credential: credentialFor(upstream, client), signal: request.signal },
          concurrency: upstream.config.concurrency,
        };
        calls.set(name, entry);
      }
      return entry;
    };
    return { config, registry, loaders: createLoaders({ resolve }), upstream: resolve };
  };
}
