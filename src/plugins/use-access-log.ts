/**
 * One log line per HTTP request: method, path (credential parameters redacted), status, duration and
 * request id. Headers are never logged. Refused, failed and slow requests log at `info`; the rest at
 * `debug`, since a line per request is a tenth of a busy gateway's CPU.
 */
import type { Plugin } from 'graphql-yoga';
import { type Logger, redactUrl } from '../logger.js';
import { requestIdOf } from './use-request-id.js';

/** Requests slower than this log at `info`. */
const SLOW_MS = 1000;

export function useAccessLog(logger: Logger): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onResponse({ request, response }) {
      const ms = Math.round((performance.now() - (started.get(request) ?? performance.now())) * 10) / 10;
      const level = response.status >= 400 || ms >= SLOW_MS ? 'info' : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      // The path and query, without parsing a URL object for every request.
      const url = request.url;
      const path = url.slice(url.indexOf('/', url.indexOf('//') + 2));
      logger[level](
        {
          requestId: requestIdOf(request),
          method: request.method,
          path: redactUrl(path),
          status: response.status,
          ms,
        },
        'request',
      );
    },
  };
}
