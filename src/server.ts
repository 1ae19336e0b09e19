/**
 * The gateway's lifecycle: the assembled parts (assemble.ts) behind a node:http server with the
 * WebSocket transport, listening on the configured port, and a bounded, idempotent `close()` (stop
 * accepting, end subscriptions, let in-flight requests finish, close the upstream pools).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VerifyClientCallbackAsync } from 'ws';
import { assembleGateway } from './assemble.js';
import type { GatewayConfig } from './config.js';
import { applyServerLimits, serverOptionsOf } from './http/server-limits.js';
import { verifyWebSocketOrigin } from './http/origin.js';
import { type Logger, createLogger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';
import { URL_CREDENTIAL_MESSAGE, hasUrlCredential } from './plugins/use-refuse-url-credentials.js';
import type { TraceHub } from './trace/hub.js';
import type { PipelineStatusHub } from './trace/pipeline-status.js';
import { startWebSocketTransport } from './transports/websocket.js';
import type { Dispatcher } from './upstreams/http.js';
import type { UpstreamRegistry } from './upstreams/index.js';

export interface Gateway {
  /** e.g. http://127.0.0.1:4000/graphql */
  url: string;
  port: number;
  server: Server;
  registry: UpstreamRegistry;
  traceHub: TraceHub;
  pipelineHub: PipelineStatusHub;
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
  /**
   * undici dispatchers that replace the connection pool of the upstreams they are named for (by
   * upstream name): a bench's constant answers, a test's MockAgent. @default each upstream's own Pool
   */
  dispatchers?: Record<string, Dispatcher>;
}

/** The WebSocket upgrade is refused like an HTTP request when its URL carries a credential. */
function refuseUrlCredentials(verify: VerifyClientCallbackAsync<IncomingMessage>): VerifyClientCallbackAsync<IncomingMessage> {
  return (info, callback) => (hasUrlCredential(info.req.url) ? callback(false, 400, URL_CREDENTIAL_MESSAGE) : verify(info, callback));
}

/**
 * Stops accepting connections, runs `endStreams`, then lets in-flight requests finish (idle keep-alive
 * sockets are closed as they become idle) until `timeoutMs` from the start, and cuts what is left.
 */
async function closeGracefully(server: Server, timeoutMs: number, endStreams: () => Promise<void>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const deadline = Date.now() + timeoutMs;
  await endStreams();
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
  clearTimeout(timer);
  clearInterval(idle);
  server.closeAllConnections();
  await closed;
}

export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const { logger, redis, registry, traceHub, pipelineHub, metrics, sse, yoga } = assembleGateway(
    config,
    options.logger ?? createLogger({ level: config.logLevel }),
    options.dispatchers,
  );
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
    pipelineHub,
    metrics,
    close() {
      closing ??= closeGracefully(server, config.shutdownTimeoutMs, async () => {
        await traceHub.close();
        pipelineHub.close();
        // Subscribers get SHUTTING_DOWN (with their nextOffset) before their socket or stream closes.
        await Promise.all([webSockets.close(config.shutdownTimeoutMs), sse.close(config.shutdownTimeoutMs)]);
      }).then(async () => {
        await yoga.dispose();
        await registry.close();
        await redis?.close();
        logger.info({ event: 'closed' }, 'gateway closed');
      });
      return closing;
    },
  };
}
