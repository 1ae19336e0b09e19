/**
 * One log line per HTTP request: method, path (credential parameters redacted), status, duration and
 * request id. Headers are never logged.
 */
import type { Plugin } from 'graphql-yoga';
import { type Logger, redactUrl } from '../logger.js';
import { requestIdOf } from './use-request-id.js';

export function useAccessLog(logger: Logger): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onResponse({ request, response }) {
      const url = new URL(request.url);
      logger.info(
        {
          requestId: requestIdOf(request),
          method: request.method,
          path: redactUrl(url.pathname + url.search),
          status: response.status,
          ms: Math.round((performance.now() - (started.get(request) ?? performance.now())) * 10) / 10,
        },
        'request',
      );
    },
  };
}
