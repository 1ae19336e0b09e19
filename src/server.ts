/**
 * Wires yoga to a node:http server: schema, per-request context, GraphiQL from local assets, and an
 * explicit lifecycle (`close()` stops accepting, ends connections and closes the upstream pools).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useExtendContextValuePerExecuteSubscriptionEvent } from '@envelop/execute-subscription-event';
import { type Plugin, createYoga } from 'graphql-yoga';
import type { VerifyClientCallbackAsync } from 'ws';
import type { GatewayConfig } from './config.js';
import { type GatewayContext, createContextFactory } from './context.js';
import { createSseTransport } from './transports/sse.js';
import { startWebSocketTransport } from './transports/websocket.js';
import { exampleQuery, exampleTabs, useGraphiQLPage } from './graphiql.js';
import { type Logger, createLogger } from './logger.js';
import { GatewayMetrics } from './metrics.js';
import { useAccessLog } from './plugins/use-access-log.js';
import { useMetrics } from './plugins/use-metrics.js';
import { CSRF_HEADER, useCSRFPrevention } from './plugins/use-csrf-prevention.js';
import { useReadiness } from './plugins/use-readiness.js';
import { useRequestId } from './plugins/use-request-id.js';
import { URL_CREDENTIAL_MESSAGE, hasUrlCredential, useRefuseUrlCredentials } from './plugins/use-refuse-url-credentials.js';
import { applyServerLimits, serverOptionsOf } from './http/server-limits.js';
import { corsFor, useVaryOnOrigin, verifyWebSocketOrigin } from './http/origin.js';
import { buildSchema } from './schema.js';
import { FinishedBuildCache } from './loaders/finished-cache.js';
import { useBodyLimit } from './plugins/use-body-limit.js';
import { useArgumentChecks } from './plugins/use-argument-checks.js';
import { useErrorCodes } from './plugins/use-error-codes.js';
import { useCodedErrorResponses } from './plugins/use-coded-error-responses.js';
import { useLimits } from './plugins/use-limits.js';
import { TraceHub } from './trace/hub.js';
import { UpstreamRegistry } from './upstreams/index.js';

export interface Gateway {
  /** e.g. http://127.0.0.1:4000/graphql */
  url: string;
  port: number;
  server: Server;
  registry: UpstreamRegistry;
  traceHub: TraceHub;
  metrics: GatewayMetrics;
  /**
   * Graceful shutdown, bounded by `shutdownTimeoutMs`: stop accepting connections, end every
   * subscription with SHUTTING_DOWN (clients reconnect elsewhere), let in-flight requests finish, then
   * close what is left and the upstream pools. Idempotent.
   */
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** Where logs go. @default a pino logger at `config.logLevel` on stdout */
  logger?: Logger;
}

/** `/` is not an API: send people to GraphiQL. */
function useRootRedirect(): Plugin {
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname === '/' && request.method === 'GET') {
        endResponse(new fetchAPI.Response(null, { status: 302, headers: { location: '/graphql' } }));
      }
    },
  };
}

/** The WebSocket upgrade is refused like an HTTP request when its URL carries a credential. */
function refuseUrlCredentials(verify: VerifyClientCallbackAsync<IncomingMessage>): VerifyClientCallbackAsync<IncomingMessage> {
  return (info, callback) => (hasUrlCredential(info.req.url) ? callback(false, 400, URL_CREDENTIAL_MESSAGE) : verify(info, callback));
}

export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  let metrics: GatewayMetrics | undefined;
  const registry = new UpstreamRegistry(config.upstreams, (event) => metrics?.observeUpstream(event));
  const traceHub = new TraceHub({
    intervalMs: config.trace.pollIntervalMs,
    maxIntervalMs: config.trace.maxPollIntervalMs,
    recheckMs: config.trace.recheckMs,
    tailChars: config.trace.tailBytes,
    slowSubscriberGraceMs: Math.max(1, config.trace.slowSubscriberGraceMs),
  });
  metrics = new GatewayMetrics(registry, traceHub);
  const finishedCache = config.cache.enabled ? new FinishedBuildCache(config.cache) : undefined;
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
    context: createContextFactory(config, registry, traceHub, finishedCache) as never,
    // Served by useGraphiQLPage below (compressed, with an ETag); yoga's own sends 9 MB as is.
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
      useReadiness({ registry, cacheMs: config.server.readyCacheMs }),
      useRootRedirect(),
      useVaryOnOrigin(config.cors.origins),
      // Before the graphql-sse endpoint, which answers in onRequest: a cross-site request runs nothing.
      useCSRFPrevention({ streamEndpoint: '/graphql/stream' }),
      // Limits run as validation rules: an operation over them never reaches a resolver or an upstream.
      useLimits({ ...config.limits, maxFirst: config.maxPageSize, hideSuggestions: config.production }),
      useErrorCodes(),
      useArgumentChecks({
        maxFirst: config.maxPageSize,
        maxTraceLimit: Math.max(...registry.list().map(({ adapter }) => adapter.maxTraceLimit), 1),
      }),
      sse.plugin,
      // A subscription's context lives as long as the subscription: each event gets fresh loaders, or
      // `buildStatus` events would answer nested fields from the first event's cache.
      useExtendContextValuePerExecuteSubscriptionEvent<GatewayContext>(({ args }) => ({
        contextPartial: (args.contextValue as GatewayContext).freshScope(),
      })),
      // Last, after every request parser has registered, so it wraps the one selected.
      useBodyLimit(config.limits.maxBodyBytes),
    ],
  });
  const server = createServer(serverOptionsOf(config), yoga);
  applyServerLimits(server, config);
  const webSockets = startWebSocketTransport({
    server,
    yoga,
    maxPayloadBytes: config.limits.maxBodyBytes,
    maxOperations: config.limits.maxWebSocketOperations,
    production: config.production,
    logger,
    verifyClient: refuseUrlCredentials(verifyWebSocketOrigin(config.cors.origins)),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    server,
    registry,
    traceHub,
    metrics,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const deadline = Date.now() + config.shutdownTimeoutMs;
        await traceHub.close();
        // Subscribers get SHUTTING_DOWN (with their nextOffset) before their socket or stream closes.
        await Promise.all([webSockets.close(config.shutdownTimeoutMs), sse.close(config.shutdownTimeoutMs)]);
        // In-flight requests finish; idle keep-alive sockets are closed as they become idle.
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        server.closeIdleConnections();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
        clearTimeout(timer);
        clearInterval(idle);
        server.closeAllConnections();
        await closed;
        await yoga.dispose();
        await registry.close();
        logger.info({ event: 'closed' }, 'gateway closed');
      })();
      return closing;
    },
  };
}
