import { GraphQLError } from 'graphql';

/**
 * Every error a client can see, by its stable `extensions.code`. Code matches on `code`, never on the
 * message; anything that is not one of these is masked by yoga as `INTERNAL_SERVER_ERROR`.
 */
export const ERROR_CODES = {
  NOT_FOUND: 'The object does not exist, or the credential may not see it.',
  UNAUTHENTICATED: 'The upstream needs a credential, or refused the one given.',
  FORBIDDEN: 'The credential may see the object but not do this to it.',
  BAD_USER_INPUT: 'An argument is malformed or out of range.',
  RATE_LIMITED: "The upstream asked us to slow down, or the credential used its `upstreams[].budgetPerMinute`; retry after `retryAfter` seconds.",
  UPSTREAM_TIMEOUT: 'The upstream did not answer in time.',
  UPSTREAM_UNAVAILABLE: 'The upstream could not be reached.',
  UPSTREAM_ERROR: 'The upstream answered with an error or a body we could not read.',
  UNSUPPORTED_BY_UPSTREAM: 'This upstream kind cannot do this.',
  TRACE_OVERFLOW: 'A trace subscriber fell too far behind; subscribe again from `extensions.nextOffset`.',
  UPSTREAM_BUDGET_EXCEEDED:
    'The operation needs more upstream requests or bytes than `limits.maxUpstreamCalls` / `limits.maxUpstreamBytes` allow; ask for less.',
  SHUTTING_DOWN: 'The gateway is shutting down; subscribe again (another instance will answer).',
  CSRF_PREVENTED:
    'A request a browser could send from another site without a preflight (a form, text/plain or header-less GET); send JSON or the `x-graphql-yoga-csrf` header.',
  TOO_MANY_REQUESTS: 'A gateway bound on open reservations or streams was reached (`extensions.limit`); try again later.',
  STREAM_BACKLOG_EXCEEDED: 'A graphql-sse stream left more than `sse.maxReservationQueueBytes` of events unread.',
  STREAM_NOT_FOUND: 'No graphql-sse reservation has this token (it expired, or was never made).',
  TOO_MANY_OPERATIONS: 'More than `limits.maxWebSocketOperations` operations at once on one WebSocket (closed with 4429).',
  BAD_REQUEST: 'The HTTP request itself is malformed (e.g. `variables` that are not JSON).',
  METHOD_NOT_ALLOWED: 'The HTTP method cannot carry this operation (a mutation over GET).',
  NOT_ACCEPTABLE: 'None of the `Accept`ed media types can be answered.',
  UNSUPPORTED_MEDIA_TYPE: 'The request body has a content type the endpoint does not read.',
  CONFLICT: 'The graphql-sse stream for this reservation is already open.',
  REQUEST_TIMEOUT: 'The client did not send its whole request within `server.requestTimeoutMs`.',
  REQUEST_ENTITY_TOO_LARGE: 'The request body is over `limits.maxBodyBytes`.',
  GRAPHQL_PARSE_FAILED: 'The document is not valid GraphQL syntax (or has too many tokens).',
  GRAPHQL_VALIDATION_FAILED: 'The operation does not fit the schema, or exceeds a limit named in `extensions.limit`.',
  PERSISTED_QUERY_NOT_FOUND:
    'No document has this `extensions.persistedQuery.sha256Hash` (not registered by APQ, evicted, or not a trusted document): send the query text with the hash.',
  PERSISTED_QUERY_MISMATCH: 'The query text sent with `extensions.persistedQuery.sha256Hash` does not have that SHA-256 hash.',
  PERSISTED_QUERY_ONLY: 'This gateway runs trusted documents only (`persistedOperations.only`): send a trusted document by its id, not a query text.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The code of a gateway refusal answered by HTTP status alone (no resolver ran): one table for every endpoint. */
export const CODE_FOR_HTTP_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'REQUEST_ENTITY_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
};

/**
 * A refusal made before any GraphQL execution, as a GraphQL error body with that status: its code is
 * the status's (`CODE_FOR_HTTP_STATUS`) unless `extensions.code` says otherwise.
 */
export function errorResponse(
  api: { Response: typeof Response },
  status: number,
  message: string,
  extensions: Record<string, unknown> = {},
  codes: Readonly<Record<number, string>> = CODE_FOR_HTTP_STATUS,
): Response {
  return new api.Response(JSON.stringify({ errors: [{ message, extensions: { code: codes[status], ...extensions } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

export interface BuildgateErrorOptions {
  /** Name of the upstream involved, when there was one. */
  upstream?: string;
  /** The upstream's HTTP status, when it answered. */
  status?: number;
  /** Further extensions (e.g. `retryAfter`). */
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * A client-facing error with a code. It extends GraphQLError so that yoga's error masking lets it
 * through unchanged; its message never contains a credential.
 */
export class BuildgateError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options: BuildgateErrorOptions = {}) {
    super(message, {
      extensions: {
        code,
        ...(options.upstream !== undefined && { upstream: options.upstream }),
        ...(options.status !== undefined && { status: options.status }),
        ...options.extensions,
      },
    });
    this.name = 'BuildgateError';
    this.code = code;
    if (options.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
  }
}

export function badUserInput(message: string, extensions?: Record<string, unknown>): BuildgateError {
  return new BuildgateError('BAD_USER_INPUT', message, { extensions });
}

export function notFound(message: string, upstream?: string): BuildgateError {
  return new BuildgateError('NOT_FOUND', message, { upstream });
}

export function unsupported(upstream: string, what: string): BuildgateError {
  return new BuildgateError('UNSUPPORTED_BY_UPSTREAM', `${what} is not supported by upstream "${upstream}"`, {
    upstream,
  });
}

/** The codes that mean "this credential may not see it": an answer about access, not a fault to retry. */
const REFUSAL_CODES: ReadonlySet<ErrorCode> = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND']);

/** Whether `error` is a refusal of the credential used (unauthenticated, forbidden, or not visible to it). */
export function isRefusal(error: unknown): error is BuildgateError {
  return error instanceof BuildgateError && REFUSAL_CODES.has(error.code);
}

/** Maps an upstream's HTTP error status to the code a client sees. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
    case 422:
      return 'BAD_USER_INPUT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 429:
      return 'RATE_LIMITED';
    case 502:
    case 503:
      return 'UPSTREAM_UNAVAILABLE';
    case 504:
      return 'UPSTREAM_TIMEOUT';
    default:
      return 'UPSTREAM_ERROR';
  }
}
