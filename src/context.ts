/**
 * The per-request GraphQL context: which upstreams exist, the caller's credential for each, and a fresh
 * set of loaders. Built once per request by `createContextFactory`, never reused.
 */
import type { YogaInitialContext } from 'graphql-yoga';
import type { GatewayConfig } from './config.js';
import { badUserInput } from './errors.js';
import { type LoaderDeps, type Loaders, createLoaders } from './loaders/index.js';
import { requestIdOf } from './plugins/use-request-id.js';
import type { FinishedCache } from './loaders/finished-cache.js';
import type { TraceHub } from './trace/hub.js';
import type { PipelineStatusHub } from './trace/pipeline-status.js';
import { UpstreamBudget } from './upstreams/budget.js';
import type { ConfiguredUpstream, UpstreamRegistry } from './upstreams/index.js';
import { descriptorOf } from './upstreams/kinds/index.js';
import type { Credential, UpstreamKind } from './model.js';
import type { CallContext, Upstream } from './upstreams/types.js';

export interface GatewayContext extends YogaInitialContext {
  config: GatewayConfig;
  registry: UpstreamRegistry;
  loaders: Loaders;
  /** Shared by every request: the pollers behind `buildTrace` and `buildStatus`. */
  traceHub: TraceHub;
  /** One poller per watched pipeline (`pipelineStatus`). */
  pipelineHub: PipelineStatusHub;
  /** Shared by every request, keyed by credential: finished builds and their logs, when configured. */
  finishedCache: FinishedCache | undefined;
  /**
   * Fresh loaders and upstream calls (a new deadline, a new upstream budget) with this request's
   * credentials: each subscription event resolves with its own.
   */
  freshScope(): Pick<GatewayContext, 'loaders' | 'upstream'>;
  /** The adapter and call context (credential, abort signal) for a configured upstream; BAD_USER_INPUT if unknown. */
  upstream(name: string): { adapter: Upstream; call: CallContext };
}

/**
 * The caller's own credential for one kind of upstream, read as that kind's descriptor says (only from
 * the headers the kind uses). A malformed or oversized value is UNAUTHENTICATED: thrown before any
 * upstream request.
 */
export function clientCredential(headers: Headers, kind: UpstreamKind): Credential | undefined {
  return descriptorOf(kind).clientCredential(headers);
}

function credentialFor(upstream: ConfiguredUpstream, headers: Headers): Credential | undefined {
  const client = upstream.config.forwardClientCredential ? upstream.descriptor.clientCredential(headers) : undefined;
  return client ?? upstream.serviceCredential;
}

/**
 * The request's loaders, made on first use. A subscription's context lives as long as the subscription,
 * and each of its events gets a fresh scope: most never touch a loader, and 10,000 subscribers would
 * otherwise hold (and every event remake) nine DataLoaders each.
 */
class LazyLoaders implements Loaders {
  readonly #deps: LoaderDeps;
  #made: Loaders | undefined;

  constructor(deps: LoaderDeps) {
    this.#deps = deps;
  }

  get #all(): Loaders {
    return (this.#made ??= createLoaders(this.#deps));
  }

  get build() { return this.#all.build; }
  get stages() { return this.#all.stages; }
  get pipeline() { return this.#all.pipeline; }
  get commit() { return this.#all.commit; }
  get project() { return this.#all.project; }
  get user() { return this.#all.user; }
  get list() { return this.#all.list; }
  get pipelineList() { return this.#all.pipelineList; }
  get trace() { return this.#all.trace; }
}

export function createContextFactory(
  config: GatewayConfig,
  registry: UpstreamRegistry,
  traceHub: TraceHub,
  pipelineHub: PipelineStatusHub,
  finishedCache: FinishedCache | undefined,
) {
  /**
   * The upstreams as one execution sees them: the caller's credential for each, and one deadline for
   * all their calls (a number: http.ts turns the time left into each call's timeouts, so a request
   * pays for no timer or abort signal), and one upstream budget for all of them.
   */
  const scope = (request: Request) => {
    const calls = new Map<string, { adapter: Upstream; call: CallContext; concurrency: number }>();
    let deadline: number | undefined;
    let budget: UpstreamBudget | undefined;
    const resolve = (name: string) => {
      let entry = calls.get(name);
      if (!entry) {
        const upstream = registry.get(name);
        if (!upstream) throw badUserInput(`unknown upstream "${name}"`, { argument: 'upstream' });
        deadline ??= Date.now() + config.requestDeadlineMs;
        budget ??= new UpstreamBudget({ maxCalls: config.limits.maxUpstreamCalls, maxBytes: config.limits.maxUpstreamBytes });
        entry = {
          adapter: upstream.adapter,
          call: {
            credential: credentialFor(upstream, request.headers),
            // Not `request.signal`: touching it makes the server build an AbortController (and a
            // DOMException when the response ends) for every request. The deadline bounds each call.
            deadline,
            requestId: requestIdOf(request),
            budget,
          },
          concurrency: upstream.config.concurrency,
        };
        calls.set(name, entry);
      }
      return entry;
    };
    return { loaders: new LazyLoaders({ resolve, finishedCache }), upstream: resolve };
  };
  return ({ request }: YogaInitialContext): Omit<GatewayContext, keyof YogaInitialContext> => ({
    config,
    registry,
    traceHub,
    pipelineHub,
    finishedCache,
    ...scope(request),
    freshScope: () => scope(request),
  });
}
