/**
 * `/ready`: 200 when every upstream answers HTTP, else 503 naming those that do not; with `redis.url`,
 * also Redis' state (`redis`) and whether replicas coordinate (`mode`). A probe result is
 * reused for `cacheMs` and concurrent calls share one probe, so a busy load balancer (or a client
 * hammering `/ready`) costs each upstream at most one request per `cacheMs`.
 */
import type { Plugin } from 'graphql-yoga';
import type { RedisLink } from '../redis/connection.js';
import type { UpstreamRegistry } from '../upstreams/index.js';

export interface ReadinessOptions {
  registry: UpstreamRegistry;
  /** ms a probe result is reused; 0 probes on every call. @default 2000 */
  cacheMs?: number;
  /** @default '/ready' */
  endpoint?: string;
  /**
   * The shared Redis, when configured. Its state is reported but does not make the gateway unready:
   * without Redis each replica serves alone (`mode: "single-process"`).
   */
  redis?: RedisLink;
}

interface Report {
  ready: boolean;
  upstreams: Record<string, string>;
}

async function probeAll(registry: UpstreamRegistry): Promise<Report> {
  const upstreams = registry.list();
  const results = await Promise.allSettled(upstreams.map((upstream) => upstream.probe()));
  const report = Object.fromEntries(
    upstreams.map(({ adapter }, i) => {
      const result = results[i]!;
      return [adapter.name, result.status === 'fulfilled' ? 'reachable' : (result.reason?.extensions?.code ?? 'unreachable')];
    }),
  );
  return { ready: results.every((result) => result.status === 'fulfilled'), upstreams: report };
}

/** What `/ready` says of Redis: its connection state, and whether the replicas coordinate through it. */
function redisReport(redis: RedisLink | undefined): Record<string, string> {
  if (!redis) return {};
  return { mode: redis.available ? 'replicated' : 'single-process', redis: redis.state };
}

export function useReadiness({ registry, cacheMs = 2000, endpoint = '/ready', redis }: ReadinessOptions): Plugin {
  let last: { at: number; report: Promise<Report> } | undefined;
  const report = (): Promise<Report> => {
    const now = performance.now();
    // The in-flight probe counts as fresh: its result is at most as old as the probe itself.
    if (!last || now - last.at >= cacheMs) last = { at: now, report: probeAll(registry) };
    return last.report;
  };
  const check = async (): Promise<Response> => {
    const { ready, upstreams } = await report();
    return new Response(JSON.stringify({ ready, upstreams, ...redisReport(redis) }), {
      status: ready ? 200 : 503,
      headers: { 'content-type': 'application/json' },
    });
  };
  // yoga's useReadinessCheck, less its URLPattern: it matched the pattern on every request (~2% of a
  // small query's CPU) after the two comparisons below, which already answer for `/ready`.
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!request.url.endsWith(endpoint) && url.pathname !== endpoint) return undefined;
      return check().then(endResponse, (error: unknown) => {
        const isError = error instanceof Error;
        endResponse(
          new fetchAPI.Response(isError ? error.message : null, {
            status: 503,
            headers: isError ? { 'content-type': 'text/plain; charset=utf-8' } : {},
          }),
        );
      });
    },
  };
}
