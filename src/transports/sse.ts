/**
 * The graphql-sse protocol at `/graphql/stream`, both modes, on graphql-sse's own `createHandler`
 * (in place of `@graphql-yoga/plugin-graphql-sse`, whose handler cannot be reached to bound it):
 * - single-connection reservations (`PUT`) are limited per client address and in all (429 past it) and
 *   expire when their stream does not open in time (sse-reservations.ts);
 * - each stream's unread events are bounded in bytes: past `maxQueueBytes` its operations end with an
 *   error event (sse-guard.ts);
 * - bodies are bounded as on `/graphql`; every refusal is a coded GraphQL error with a 4xx status, a
 *   syntax error or a mutation over GET included, never a 500 or a stack trace;
 * - `close()` ends every stream after its operations' last events (SHUTTING_DOWN) are sent.
 */
import { type ExecutionArgs, type ExecutionResult, GraphQLError, getOperationAST } from 'graphql';
import { type Handler, type Request as SseRequest, type Response as SseResponse, TOKEN_HEADER_KEY, TOKEN_QUERY_KEY, createHandler } from 'graphql-sse';
import type { FetchAPI, Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { type EnvelopedYoga, drained, safeError, toGraphQLError } from './operation.js';
import { guardResults } from './sse-guard.js';
import { jsonError, readBounded, refusal, toResponse } from './sse-http.js';
import { Backlog, Reservations } from './sse-reservations.js';

export interface SseTransportOptions {
  /** @default '/graphql/stream' */
  endpoint?: string;
  /** ms a reservation waits for its stream (`sse.reservationTtlMs`). */
  reservationTtlMs: number;
  maxReservations: number;
  maxReservationsPerClient: number;
  /** Unread event bytes per stream (`sse.maxReservationQueueBytes`). */
  maxQueueBytes: number;
  /** Largest request body (`limits.maxBodyBytes`). */
  maxBodyBytes: number;
  logger: Logger;
}

export interface SseTransport {
  plugin: Plugin;
  /** Reservations held now (for tests and metrics). */
  readonly reservations: number;
  /** Waits (at most `graceMs`) for running operations to send their last event, then ends every stream. */
  close(graceMs: number): Promise<void>;
}

type Raw = globalThis.Request | undefined;

/** A stream's events: `next` events are counted in its backlog until delivered. */
const NEXT_EVENT = 'event: next';

export function createSseTransport(options: SseTransportOptions): SseTransport {
  const endpoint = options.endpoint ?? '/graphql/stream';
  const { logger, maxQueueBytes } = options;
  let handler: Handler<Raw> | undefined;
  /** yoga's fetch API (native or ponyfill): the server writes its Responses. */
  let api: FetchAPI;
  /** Unread events of each reservation's stream, by its token. */
  const reservationBacklogs = new Map<string, Backlog>();
  /** Unread events of each distinct-connection stream, by its request (gone with it). */
  const streamBacklogs = new WeakMap<object, Backlog>();
  /** Open event streams, to end at shutdown. */
  const open = new Set<AsyncGenerator<string>>();
  let running = 0;
  const reservations = new Reservations(
    { ttlMs: options.reservationTtlMs, max: options.maxReservations, maxPerClient: options.maxReservationsPerClient },
    (token) => void expire(token),
  );
  /** The backlog of the stream a request's events go to: its reservation's, or its own. */
  const backlogOf = (req: SseRequest<Raw>): Backlog => {
    const token = tokenOf(req);
    const held = token !== undefined && reservations.has(token);
    let backlog = held ? reservationBacklogs.get(token) : streamBacklogs.get(req);
    if (!backlog) {
      backlog = new Backlog();
      if (held) reservationBacklogs.set(token, backlog);
      else streamBacklogs.set(req, backlog);
    }
    return backlog;
  };

  /** Ends a reservation in graphql-sse the only way it offers: open its stream, then end it. */
  async function expire(token: string): Promise<void> {
    try {
      const [body] = await handler!(syntheticStreamRequest(endpoint, token));
      if (body && typeof body !== 'string') await body.return(undefined);
    } catch (error) {
      logger.warn({ event: 'sse_expire_failed', err: safeError(error) }, 'could not end an SSE reservation');
    }
    reservations.end(token);
    reservationBacklogs.delete(token);
  }

  function init(yoga: EnvelopedYoga): Handler<Raw> {
    return createHandler<Raw>({
      // onSubscribe validates with the gateway's rules (limits included); graphql-sse must not again.
      validate: () => [],
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => never }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => never }).subscribe(args),
      onSubscribe: async (req, params) => {
        const request = req.raw ?? new api.Request(`http://buildgate.local${endpoint}`, { method: req.method });
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ request, params });
        let document;
        try {
          document = parse(params.query);
        } catch (error) {
          // yoga refuses a mutation over GET while parsing: 405, as graphql-sse itself would answer.
          const refused = toGraphQLError(error);
          const status = (refused.extensions?.http as { status?: number } | undefined)?.status;
          if (status === 405) return refusal(refused, 'METHOD_NOT_ALLOWED', 405, true);
          return refusal(refused, 'GRAPHQL_PARSE_FAILED', 400);
        }
        const errors = validate(schema, document);
        if (errors.length) return refusal(errors, 'GRAPHQL_VALIDATION_FAILED', 400);
        const operation = getOperationAST(document, params.operationName);
        if (!operation) return refusal(new GraphQLError('cannot tell which operation to run: name one in operationName'), 'BAD_REQUEST', 400);
        if (operation.operation === 'mutation' && req.method === 'GET') {
          return refusal(new GraphQLError('a mutation must be sent with POST'), 'METHOD_NOT_ALLOWED', 405);
        }
        return {
          schema,
          document,
          operationName: params.operationName,
          variableValues: params.variables,
          contextValue: (await contextFactory()) as never,
          rootValue: { execute, subscribe },
        };
      },
      onOperation: (_ctx, req, _args, result) => {
        if (!isAsyncIterable(result)) return undefined;
        running += 1;
        const backlog = backlogOf(req);
        return guardResults(result, {
          overLimit: () => backlog.bytes > maxQueueBytes,
          limitBytes: maxQueueBytes,
          logger,
          onEnd: () => (running -= 1),
        });
      },
      onNext: (_ctx, req, result) => {
        const json = JSON.stringify(result);
        // The event's own framing (`event: next`, `data:`, the operation id) is under 100 bytes.
        backlogOf(req).queued(Buffer.byteLength(json) + 100);
        return undefined;
      },
    });
  }

  async function handle(request: globalThis.Request, client: string): Promise<globalThis.Response> {
    let text: string | undefined;
    if (request.method === 'POST') {
      text = await readBounded(request, options.maxBodyBytes);
      if (text === undefined) return jsonError(api, 413, 'Request body too large');
      // A reservation nobody reads takes no more operations once its backlog is full (queries included).
      const token = tokenIn(request.headers, request.url);
      if (token && (reservationBacklogs.get(token)?.bytes ?? 0) > maxQueueBytes) {
        return jsonError(api, 429, 'this stream has too many unread events; read them first', {
          code: 'STREAM_BACKLOG_EXCEEDED',
          limit: 'sse.maxReservationQueueBytes',
        });
      }
    }
    const req: SseRequest<Raw> = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: () => Promise.resolve(text ?? ''),
      raw: request,
      context: undefined,
    };
    if (request.method === 'PUT') {
      const claim = reservations.claim(client);
      if (typeof claim === 'string') {
        logger.warn({ event: 'sse_reservation_refused', limit: claim }, 'SSE reservation refused');
        return jsonError(api, 429, 'too many event stream reservations; open or end the ones you hold', { limit: `sse.${claim}` });
      }
      let answer: SseResponse;
      try {
        answer = await handler!(req);
      } catch (error) {
        claim.release();
        throw error;
      }
      if (answer[1].status === 201 && typeof answer[0] === 'string') claim.confirm(answer[0]);
      else claim.release();
      return toResponse(api, answer);
    }
    const answer = await handler!(req);
    const [body, init] = answer;
    if (!body || typeof body === 'string') return toResponse(api, answer);
    const token = tokenOf(req);
    const reserved = token !== undefined && reservations.has(token);
    if (reserved) reservations.opened(token);
    return streamResponse(body, init, backlogOf(req), () => {
      if (!reserved) return;
      reservations.end(token);
      reservationBacklogs.delete(token);
    });
  }

  /** The event stream as a response; its `next` events leave the backlog as they are read. */
  function streamResponse(events: AsyncGenerator<string>, init: SseResponse[1], backlog: Backlog, ended: () => void): globalThis.Response {
    open.add(events);
    const encoder = new TextEncoder();
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      open.delete(events);
      ended();
    };
    const stream = new api.ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done: last, value } = await events.next();
          if (value != null) {
            if (value.startsWith(NEXT_EVENT)) backlog.delivered();
            controller.enqueue(encoder.encode(value));
          }
          if (last) {
            end();
            controller.close();
          }
        } catch (error) {
          logger.error({ event: 'sse_stream_error', err: safeError(error) }, 'SSE stream failed');
          end();
          controller.close();
        }
      },
      async cancel() {
        end();
        await events.return(undefined);
      },
    });
    return new api.Response(stream, init as ResponseInit);
  }

  const plugin: Plugin = {
    onYogaInit({ yoga }) {
      api = yoga.fetchAPI;
      handler = init(yoga as unknown as EnvelopedYoga);
    },
    onRequest({ request, url, endResponse, serverContext }) {
      if (url.pathname !== endpoint) return;
      const client = (serverContext as { req?: { socket?: { remoteAddress?: string } } }).req?.socket?.remoteAddress ?? 'unknown';
      return handle(request, client).then(endResponse, (error: unknown) => {
        logger.error({ event: 'sse_request_error', err: safeError(error) }, 'SSE request failed');
        endResponse(jsonError(api, 500, 'Unexpected error.', { code: 'INTERNAL_SERVER_ERROR' }));
      });
    },
  };

  return {
    plugin,
    get reservations() {
      return reservations.size;
    },
    async close(graceMs) {
      await drained(() => running === 0, graceMs);
      await Promise.all([...open].map((events) => events.return(undefined)));
      await Promise.all(reservations.tokens().map((token) => expire(token)));
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

/** The stream token a request names, in the header or the query (graphql-sse's own `authenticate` reads both). */
function tokenOf(req: SseRequest<Raw>): string | undefined {
  return tokenIn(req.headers, req.url);
}

function tokenIn(headers: { get(name: string): string | null | undefined }, url: string): string | undefined {
  const header = headers.get(TOKEN_HEADER_KEY);
  if (header) return header;
  return new URL(url, 'http://localhost/').searchParams.get(TOKEN_QUERY_KEY) ?? undefined;
}

function syntheticStreamRequest(endpoint: string, token: string): SseRequest<Raw> {
  return {
    method: 'GET',
    url: `http://buildgate.local${endpoint}`,
    headers: new Headers({ accept: 'text/event-stream', [TOKEN_HEADER_KEY]: token }),
    body: null,
    raw: undefined,
    context: undefined,
  };
}
