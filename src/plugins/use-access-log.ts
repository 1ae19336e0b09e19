/**
 * One log line per HTTP request: method, path (credential parameters redacted), status, duration and
 * request id. Headers are never logged. Refused, failed and slow requests log at `info`; the rest at
 * `debug`, since a line per request is a tenth of a busy gateway's CPU. "Failed" includes operations
 * answered with 200 whose result carries errors (an upstream's 502/503/429, an open circuit, a limit
 * refusal under `application/json`): their error codes are on the line.
 */
import type { ExecutionResult } from 'graphql';
import { type Plugin, isAsyncIterable } from 'graphql-yoga';
import { type Logger, redactUrl } from '../logger.js';
import { requestIdOf } from './use-request-id.js';

/** Requests slower than this log at `info`. */
const SLOW_MS = 1000;
/** Most distinct error codes one line lists: a batch or a wide operation cannot make the line unbounded. */
const MAX_CODES = 8;
/** Codes are ours (errors.ts) or graphql-js's; anything else is cut to this shape before it is logged. */
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** The distinct `extensions.code`s of a result's errors (a batch's results too), bounded. */
function errorCodesOf(result: unknown): string[] {
  const codes = new Set<string>();
  for (const one of Array.isArray(result) ? result : [result]) {
    for (const error of (one as ExecutionResult | undefined)?.errors ?? []) {
      const code = error.extensions?.code;
      codes.add(typeof code === 'string' && CODE.test(code) ? code : 'UNCODED');
      if (codes.size === MAX_CODES) return [...codes];
    }
  }
  return [...codes];
}

export function useAccessLog(logger: Logger): Plugin {
  const started = new WeakMap<Request, number>();
  const failed = new WeakMap<Request, string[]>();
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onResultProcess({ request, result }) {
      // A stream's events are not one answer; its failures are its own events.
      if (isAsyncIterable(result)) return;
      const codes = errorCodesOf(result);
      if (codes.length > 0) failed.set(request, codes);
    },
    onResponse({ request, response }) {
      const ms = Math.round((performance.now() - (started.get(request) ?? performance.now())) * 10) / 10;
      const errors = failed.get(request);
      const level = response.status >= 400 || ms >= SLOW_MS || errors ? 'info' : 'debug';
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
          ...(errors && { errors }),
        },
        'request',
      );
    },
  };
}
