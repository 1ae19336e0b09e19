/**
 * A request id for every HTTP request: the client's `X-Request-Id` when it is a sane token, else a new
 * UUID. It is returned in the response, sent upstream with every call the request makes, and logged.
 */
import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

const ids = new WeakMap<Request, string>();
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id of a request (a new one if the plugin has not seen it, e.g. a WebSocket message). */
export function requestIdOf(request: Request): string {
  let id = ids.get(request);
  if (!id) ids.set(request, (id = randomUUID()));
  return id;
}

export function useRequestId(): Plugin {
  return {
    onRequest({ request }) {
      const given = request.headers.get('x-request-id');
      ids.set(request, given && SANE_ID.test(given) ? given : randomUUID());
    },
    onResponse({ request, response }) {
      response.headers.set('x-request-id', requestIdOf(request));
    },
  };
}
