/**
 * Assembles the gateway's parts from its configuration: the upstream registry, the trace hub, metrics,
 * the finished-build cache, the graphql-sse transport and yoga with its plugins in order. Nothing here
 * listens or owns a socket; `server.ts` gives the parts a node:http server and a lifecycle.
 */
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { type YogaServerInstance, createYoga } from 'graphql-yoga';
import type { GatewayConfig } from './config.js';
import { type GatewayContext, createContextFactory } from './context.js';
import { exampleQuery, exampleTabs, useGraphiQLPage } from './graphiql.js';
import { corsFor, useVaryOnOrigin } from './http/origin.js';
import { FinishedBuildCache } from './loaders/finished-cache.js';
import { RedisFinishedCache } from './loaders/finished-cache-redis.js';
import type { Logger } from './logger.js';
import { GatewayMetrics } from './metrics.js';
import { useAccessLog } from './plugins/use-access-log.js';
import { useArgumentChecks } from './plugins/use-argument-checks.js';
import { useLogSearchChecks } from './plugins/use-log-search-checks.js';
import { useBodyLimit } from './plugins/use-body-limit.js';
import { useCodedErrorResponses } from './plugins/use-coded-error-responses.js';
import { CSRF_HEADER, useCSRFPrevention } from './plugins/use-csrf-prevention.js';
import { useErrorCodes } from './plugins/use-error-codes.js';
import { useJit } from './plugins/use-jit.js';
import { useLimits } from './plugins/use-limits.js';
import { usePartialErrors } from './plugins/use-partial-errors.js';
import { useMetrics } from './plugins/use-metrics.js';
import { usePersistedDocuments } from './plugins/use-persisted-documents.js';
import { useReadiness } from './plugins/use-readiness.js';
import { useRefuseUrlCredentials } from './plugins/use-refuse-url-credentials.js';
import { useRequestId } from './plugins/use-request-id.js';
import { useRootRedirect } from './plugins/use-root-redirect.js';
import { useSharedEventExecution } from './plugins/use-shared-event-execution.js';
import { useSharedSse } from './plugins/use-shared-sse.js';
import { loadTrustedDocuments } from './plugins/trusted-documents.js';
import { RedisLink } from './redis/connection.js';
import { buildSchema } from './schema.js';
import { TraceCluster } from './trace/cluster.js';
import { TraceHub } from './trace/hub.js';
import { PipelineStatusHub } from './trace/pipeline-status.js';
import { type SseTransport, createSseTransport } from './transports/sse.js';
import type { Dispatcher } from './upstreams/http.js';
import { UpstreamRegistry } from './upstreams/index.js';

/** Everything a running gateway is made of, before it listens. */
export interface GatewayParts {
  logger: Logger;
  /** The Redis the replicas share; undefined without `redis.url`. */
  redis: RedisLink | undefined;
  registry: UpstreamRegistry;
  traceHub: TraceHub;
  pipelineHub: PipelineStatusHub;
  metrics: GatewayMetrics;
  sse: SseTransport;
  yoga: YogaServerInstance<object, GatewayContext>;
}

/**
 * `dispatchers` replace the connection pool of the upstreams they are named for (a bench's constant
 * answers, a test's MockAgent).
 */
export function assembleGateway(config: GatewayConfig, logger: Logger, dispatchers?: Record<string, Dispatcher>): GatewayParts {
  const redis = config.redis.url
    ? new RedisLink({
        url: config.redis.url,
        keyPrefix: config.redis.keyPrefix,
        connectTimeoutMs: config.redis.connectTimeoutMs,
        commandTimeoutMs: config.redis.commandTimeoutMs,
        // Up and down at warn/info: an operator sees when the replicas stopped coordinating, and when they resumed.
        onStateChange: (state, error) => {
          if (state === 'ready') logger.info({ event: 'redis', state }, 'Redis is reachable: replicas coordinate');
          else if (state === 'down') logger.warn({ event: 'redis', state, err: error?.message }, 'Redis is unreachable: serving alone until it is back');
        },
      })
    : undefined;
  // The gauges read the registry and the hub at scrape time, so the metrics exist before either.
  const metrics = new GatewayMetrics({
    upstreamStats: () => registry.list().map((upstream) => ({ name: upstream.adapter.name, stats: upstream.stats() })),
    traceStats: () => traceHub.stats,
    redisState: redis && (() => redis.state),
  });
  const registry = new UpstreamRegistry(config.upstreams, {
    observe: (event) => metrics.observeUpstream(event),
    // Open and closed again at info: an operator sees when an upstream went unwell and when it came back.
    onBreakerChange: (change) => logger.info({ event: 'breaker', ...change }, `circuit breaker of upstream "${change.upstream}" is ${change.to}`),
    dispatchers,
    redis,
  });
  const traceHub = new TraceHub(
    {
      intervalMs: config.trace.pollIntervalMs,
      maxIntervalMs: config.trace.maxPollIntervalMs,
      recheckMs: config.trace.recheckMs,
      tailChars: config.trace.tailBytes,
      slowSubscriberGraceMs: Math.max(1, config.trace.slowSubscriberGraceMs),
    },
    redis &&
      new TraceCluster(redis, {
        // A dead holder's lease expires within an interval, and a follower tries at every half: the
        // build is polled again within two intervals.
        leaseMs: config.redis.leaseMs ?? config.trace.pollIntervalMs,
        retryMs: Math.max(10, Math.round(config.trace.pollIntervalMs / 2)),
        keepBytes: config.trace.tailBytes,
        streamTtlMs: config.redis.streamTtlMs,
      }),
  );
  const pipelineHub = new PipelineStatusHub({
    intervalMs: config.trace.pollIntervalMs,
    maxIntervalMs: config.trace.maxPollIntervalMs,
    recheckMs: config.trace.recheckMs,
  });
  // With Redis, one cache for every replica: what one read, all serve, and a mutation anywhere forgets it everywhere.
  const finishedCache = !config.cache.enabled
    ? undefined
    : redis
      ? new RedisFinishedCache(redis, {
          ...config.cache,
          invalidationGraceMs: config.requestDeadlineMs,
          onError: (error) => logger.warn({ event: 'redis', err: error.message }, 'a finished-build cache command failed: served from the upstream'),
        })
      : new FinishedBuildCache(config.cache);
  // The graphql-sse protocol in both modes (single connection and distinct connections) at
  // /graphql/stream, bounded (transports/sse.ts); yoga itself answers distinct-connection SSE on /graphql.
  const sse = createSseTransport({
    endpoint: '/graphql/stream',
    reservationTtlMs: config.sse.reservationTtlMs,
    maxReservations: config.sse.maxReservations,
    maxReservationsPerClient: config.sse.maxReservationsPerClient,
    maxQueueBytes: config.sse.maxReservationQueueBytes,
    maxBodyBytes: config.limits.maxBodyBytes,
    logger,
  });
  const yoga = createYoga<object, GatewayContext>({
    schema: buildSchema(),
    graphqlEndpoint: '/graphql',
    context: createContextFactory(config, registry, traceHub, pipelineHub, finishedCache) as never,
    // Served by useGraphiQLPage below (a small page that links the build's precompressed assets, with an ETag); yoga's own inlines 9 MB.
    graphiql: false,
    // Other origins get no CORS headers unless listed: the answers are made with the service credential.
    cors: corsFor(config.cors.origins),
    logging: {
      debug: (...args) => logger.debug(args.length === 1 ? args[0] : args),
      info: (...args) => logger.info(args.length === 1 ? args[0] : args),
      warn: (...args) => logger.warn(args.length === 1 ? args[0] : args),
      error: (...args) => logger.error(args.length === 1 ? args[0] : args),
    },
    landingPage: false,
    maskedErrors: { isDev: !config.production && process.env.NODE_ENV === 'development' },
    // useBodyLimit below enforces it: yoga's own limit takes every body off its fast path.
    maxRequestBodySize: false,
    batching: config.limits.maxBatch > 0 ? { limit: config.limits.maxBatch } : false,
    plugins: [
      // First, so every response (refusals included) carries the id and is logged and counted.
      useRequestId(),
      useAccessLog(logger),
      // Before anything answers (the graphql-sse endpoint included): a credential in the URL runs nothing.
      useRefuseUrlCredentials(),
      config.graphiql &&
        useGraphiQLPage('/graphql', {
          title: 'buildgate',
          defaultQuery: exampleQuery(config),
          defaultTabs: exampleTabs(config),
          // GraphiQL runs subscriptions as GET: the header tells useCSRFPrevention it is no cross-site page.
          additionalHeaders: { [CSRF_HEADER]: 'graphiql' },
        }),
      // Gives uncoded error answers of the GraphQL endpoints a code; it keeps their status, so log and metrics agree.
      useCodedErrorResponses({ endpoints: ['/graphql', '/graphql/stream'] }),
      useMetrics(metrics, { operationNames: config.metrics.operationNames }),
      useReadiness({ registry, cacheMs: config.server.readyCacheMs, redis }),
      useRootRedirect(),
      useVaryOnOrigin(config.cors.origins),
      // Before the graphql-sse endpoint, which answers in onRequest: a cross-site request runs nothing.
      useCSRFPrevention({ streamEndpoint: '/graphql/stream' }),
      // After CSRF (a cross-site request looks nothing up) and before the limits: a persisted document
      // is validated, priced and limited like any text, once its id has become that text.
      usePersistedDocuments({
        trusted: config.persistedOperations.file ? loadTrustedDocuments(config.persistedOperations.file) : undefined,
        only: config.persistedOperations.only,
        apq: config.persistedOperations.apq,
        apqMaxEntries: config.persistedOperations.apqMaxEntries,
        apqMaxBytes: config.persistedOperations.apqMaxBytes,
      }),
      // @defer and @stream: the answer comes in parts (multipart/mixed or SSE). The limits and the cost
      // below see the whole document, deferred fragments included, before anything runs.
      useDeferStream(),
      // Queries and mutations without @defer/@stream run compiled (graphql-jit); the rest as before.
      useJit(),
      // Limits run as validation rules: an operation over them never reaches a resolver or an upstream.
      useLimits({ ...config.limits, maxFirst: config.maxPageSize, hideSuggestions: config.production }),
      useErrorCodes(),
      // A feed's failed sources: errors beside the data (resolvers/partial-errors.ts).
      usePartialErrors(),
      useArgumentChecks({
        maxFirst: config.maxPageSize,
        maxTraceLimit: Math.max(...registry.list().map(({ adapter }) => adapter.maxTraceLimit), 1),
      }),
      useLogSearchChecks(),
      sse.plugin,
      // A subscription's context lives as long as the subscription: each event gets fresh loaders, or
      // `buildStatus` events would answer nested fields from the first event's cache. A trace chunk's
      // fields load nothing: its events run once for every watcher of the same offset and document.
      useSharedEventExecution<GatewayContext>({
        sharedFields: new Set(['buildTrace']),
        eventContext: (context) => context.freshScope(),
      }),
      // Yoga's SSE for those shared events: each one's bytes made once, one ping timer for every stream.
      useSharedSse(),
      // Last, after every request parser has registered, so it wraps the one selected.
      useBodyLimit(config.limits.maxBodyBytes),
    ],
  });
  return { logger, redis, registry, traceHub, pipelineHub, metrics, sse, yoga };
}
