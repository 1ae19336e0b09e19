/**
 * What a handler returns: a plain reply (status, headers, body) that the server writes in one place.
 * Handlers never touch the socket, so later fault injection (latency, truncation, resets) can wrap
 * every reply without any route knowing about it (graphql-http's `[body, init]` habit).
 */

export type Headers = Record<string, string>;

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  /**
   * A Buffer when the bytes are cached (job entities), a string, or a list of Buffers (job logs) that
   * the server writes one after another in pieces of at most 64 KiB, so a large log streams.
   */
  readonly body: string | Buffer | readonly Buffer[];
}

const JSON_TYPE = 'application/json';

export function json(status: number, body: unknown, headers: Headers = {}): Reply {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

/** A JSON body that is already serialised (cached entities, joined list pages). */
export function rawJson(status: number, body: string | Buffer, headers?: Headers): Reply {
  return { status, headers: headers ? { 'content-type': JSON_TYPE, ...headers } : { 'content-type': JSON_TYPE }, body };
}

export function text(status: number, body: string, headers: Headers = {}): Reply {
  return { status, headers: { 'content-type': 'text/plain', ...headers }, body };
}

export function empty(status: number): Reply {
  return { status, headers: {}, body: '' };
}

/** GitLab's error replies, serialised once: Grape's `{"error":…}` for routing and validation, `{"message":…}` otherwise. */
const frozen = (status: number, body: object): Reply => Object.freeze(json(status, body));

export const ERRORS = {
  routeNotFound: frozen(404, { error: '404 Not Found' }),
  projectNotFound: frozen(404, { message: '404 Project Not Found' }),
  notFound: frozen(404, { message: '404 Not found' }),
  userNotFound: frozen(404, { message: '404 User Not Found' }),
  commitNotFound: frozen(404, { message: '404 Commit Not Found' }),
  unauthorized: frozen(401, { message: '401 Unauthorized' }),
  forbidden: frozen(403, { message: '403 Forbidden' }),
  notCancelable: frozen(403, { message: '403 Forbidden - Job is not cancelable' }),
  notRetryable: frozen(403, { message: '403 Forbidden - Job is not retryable' }),
  notErasable: frozen(403, { message: '403 Forbidden - Job is not erasable!' }),
  unplayable: frozen(400, { message: '400 Bad request - Unplayable Job' }),
  keysetUnsupported: frozen(405, { error: 'Keyset pagination is not yet available for this type of request' }),
  internal: frozen(500, { message: '500 Internal Server Error' }),
} as const;

/** Grape's answer to a parameter outside its `values:` list. */
export function invalidValue(param: string): Reply {
  return json(400, { error: `${param} does not have a valid value` });
}

/** Grape's answer to a parameter its type coercion rejects (e.g. `per_page=abc`). */
export function invalidParam(param: string): Reply {
  return json(400, { error: `${param} is invalid` });
}
