/**
 * Node's own HTTP server limits from `server.*`: a client that never finishes its request headers or
 * body must not hold a socket, and the number of sockets is bounded. `requestTimeout` only covers
 * receiving the request, so a long SSE answer is never cut by it.
 */
import type { Server, ServerOptions } from 'node:http';
import type { GatewayConfig } from '../config.js';

/**
 * Node checks headers/request timeouts on a timer (30 s by default), so a 10 s limit could take 40 s to
 * fire: check about ten times per shortest limit, but never more often than every 25 ms.
 */
function checkingIntervalOf(shortestMs: number): number {
  return Math.min(1000, Math.max(25, Math.floor(shortestMs / 10)));
}

export function serverOptionsOf({ server }: GatewayConfig): ServerOptions {
  // Node refuses a headersTimeout above requestTimeout: the headers are part of the request.
  const headersTimeout = Math.min(server.headersTimeoutMs, server.requestTimeoutMs);
  return {
    headersTimeout,
    requestTimeout: server.requestTimeoutMs,
    keepAliveTimeout: server.keepAliveTimeoutMs,
    connectionsCheckingInterval: checkingIntervalOf(headersTimeout),
  };
}

/** What `createServer` takes no option for. */
export function applyServerLimits(http: Server, { server }: GatewayConfig): void {
  // Past it Node closes new sockets at once (HTTP and WebSocket upgrades alike).
  http.maxConnections = server.maxConnections;
}
