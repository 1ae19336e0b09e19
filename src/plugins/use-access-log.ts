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
      // The path and query, without parsing a URL object for every request.
      const url = request.url;
      const path = url.slice(url.indexOf('/', url.indexOf('//') + 2));
      logger.info(
        {
          requestId: requestIdOf(request),
          method: request.method,
          path: redactUrl(path),
          status: response.status,
          ms: Math.round((performance.now() - (started.get(request) ?? performance.now())) * 10) / 10,
        },
        'request',
      );
    },
  };
}
