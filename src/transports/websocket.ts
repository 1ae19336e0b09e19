/**
 * graphql-ws on the same path as HTTP and SSE, on graphql-ws's own `makeServer` with our adapter to
 * `ws` instead of `graphql-ws/use/ws`. The adapter is ours so that: a message over `maxPayloadBytes`
 * closes its socket with 1009 (ws' default of 100 MiB let a 90 MB message in); nothing is written to
 * the console (the library's adapter prints errors, credentials in their messages included); and the
 * detail in close reasons follows our `production` setting, not NODE_ENV.
 *
 * Browsers cannot set headers on a WebSocket, so the credential may come in `connectionParams`
 * (`{"PRIVATE-TOKEN": "…"}`, `{"Authorization": "Bearer …"}`, `{"X-DEVOPS-UID": "…"}`); it passes the
 * same check as an HTTP header (credentials.ts) at `connection_init`, and a bad one closes the socket
 * with 4403 Forbidden before any operation runs.
 */
import type { IncomingMessage, Server } from 'node:http';
import { type ExecutionArgs, type ExecutionResult, GraphQLError, getOperationAST } from 'graphql';
import { CloseCode, type Context, MessageType, handleProtocols, makeServer } from 'graphql-ws';
import { isAsyncIterable } from 'graphql-yoga';
import { type VerifyClientCallbackAsync, type WebSocket, WebSocketServer } from 'ws';
import { credentialProblem, isCredentialHeader } from '../credentials.js';
import type { Logger } from '../logger.js';
import { type SharedPump, type SharedStream, pumpShared } from '../plugins/shared-stream.js';
import { sharedBytes, sharedFeed } from '../plugins/use-shared-event-execution.js';
import { type EnvelopedYoga, codedErrorJson, drained, safeError } from './operation.js';

/** graphql-ws closes a socket with this code when it runs more than `maxOperations` at once. */
export const TOO_MANY_OPERATIONS = 4429;

export interface WebSocketTransportOptions {
  server: Server;
  yoga: EnvelopedYoga;
  /** Largest message, in bytes (`limits.maxBodyBytes`). */
  maxPayloadBytes: number;
  /** Operations one socket may have running at once (`limits.maxWebSocketOperations`). */
  maxOperations: number;
  /** Hide error names from close reasons. */
  production: boolean;
  logger: Logger;
  /** ms between keep-alive pings; a socket that misses one pong is dropped. @default 12000 */
  keepAliveMs?: number;
  /** Decides an upgrade before the handshake (the browser origin check): a refused one never becomes a socket. */
  verifyClient?: VerifyClientCallbackAsync<IncomingMessage>;
}

interface Extra {
  socket: WebSocket;
  /** The upgrade request, until `connection_init` has read its headers (then dropped: a socket lives long). */
  request: IncomingMessage | undefined;
  /** The socket's credentials as headers, checked once at `connection_init`. */
  headers?: Headers;
  /** The last `buildTrace.nextOffset` each trace subscription delivered, to resume from after its error. */
  offsets: Map<string, number>;
}

export interface WebSocketTransport {
  /**
   * Waits (at most `graceMs`) for the operations running on every socket to end — subscriptions end
   * with SHUTTING_DOWN once the trace hub closes, and that error reaches the client — then closes the
   * sockets with 1001.
   */
  close(graceMs: number): Promise<void>;
}

export function startWebSocketTransport(options: WebSocketTransportOptions): WebSocketTransport {
  const { yoga, maxOperations, logger } = options;
  const contexts = new Set<Context<Record<string, unknown>, Extra>>();
  const path = yoga.graphqlEndpoint;

  const graphqlWs = makeServer<Record<string, unknown>, Extra>({
    execute: (args) => (args.rootValue as OperationRoot).execute(args) as never,
    subscribe: async (args) => {
      const root = args.rootValue as OperationRoot;
      const results = (await root.subscribe(args)) as AsyncIterableIterator<ExecutionResult> | ExecutionResult;
      const feed = sharedFeed((args.contextValue as { request?: Request }).request);
      return isAsyncIterable(results) ? sendingShared(results, feed, root.shared) : results;
    },
    onConnect(ctx) {
      const headers = socketHeaders(ctx.extra.request!, ctx.connectionParams ?? {});
      ctx.extra.request = undefined;
      if (typeof headers === 'string') {
        // The header's name and what is wrong with it; never its value.
        logger.warn({ event: 'ws_refused', problem: headers }, 'WebSocket connection refused: bad credential');
        return false;
      }
      ctx.extra.headers = headers;
      contexts.add(ctx);
      return true;
    },
    onSubscribe: async (ctx, id, params) => {
      if (Object.keys(ctx.subscriptions).length > maxOperations) {
        ctx.extra.socket.close(TOO_MANY_OPERATIONS, 'Too many operations');
        return [new GraphQLError('too many operations on this socket', { extensions: { code: 'TOO_MANY_OPERATIONS' } })];
      }
      // A POST, as over HTTP: yoga refuses mutations on anything it takes for a GET. No abort signal:
      // nothing reads it, and graphql-ws returns every running operation's iterator when the socket closes.
      const request = new Request(`http://buildgate.local${path}`, {
        method: 'POST',
        headers: ctx.extra.headers,
      });
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ ...ctx, request, params });
      let document;
      try {
        document = parse(params.query);
      } catch (error) {
        return [asGraphQLError(error, 'GRAPHQL_PARSE_FAILED')];
      }
      const errors = validate(schema, document);
      if (errors.length) return [...errors];
      if (!getOperationAST(document, params.operationName)) {
        return [new GraphQLError('cannot tell which operation to run: name one in operationName', { extensions: { code: 'BAD_REQUEST' } })];
      }
      const nextPrefix = Buffer.from(`{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`);
      return {
        schema,
        operationName: params.operationName,
        document,
        variableValues: params.variables,
        contextValue: await contextFactory(),
        rootValue: {
          execute,
          subscribe,
          shared: new SharedSender(ctx.extra.socket, nextPrefix, (result) => rememberOffset(ctx.extra, id, result)),
        } satisfies OperationRoot,
      };
    },
    onNext(ctx, id, _payload, _args, result) {
      rememberOffset(ctx.extra, id, result);
    },
    onError(ctx, id, _payload, errors) {
      const offset = ctx.extra.offsets.get(id);
      ctx.extra.offsets.delete(id);
      return errors.map((error) => codedErrorJson(error, offset, logger));
    },
    onComplete(ctx, id) {
      ctx.extra.offsets.delete(id);
    },
    onClose(ctx) {
      contexts.delete(ctx);
    },
  });

  const webSockets = new WebSocketServer({
    server: options.server,
    path,
    maxPayload: options.maxPayloadBytes,
    handleProtocols,
    ...(options.verifyClient && { verifyClient: options.verifyClient }),
  });
  // One keep-alive timer for every socket: a socket that has not answered the last ping is dropped.
  const answered = new WeakSet<WebSocket>();
  function onPong(this: WebSocket) {
    answered.add(this);
  }
  const keepAlive = setInterval(() => {
    for (const socket of webSockets.clients) {
      if (!answered.delete(socket)) {
        socket.terminate();
        continue;
      }
      if (socket.readyState === socket.OPEN) socket.ping();
    }
  }, options.keepAliveMs ?? 12_000);
  keepAlive.unref();
  webSockets.on('error', (error) => logger.error({ event: 'ws_server_error', err: safeError(error) }, 'WebSocket server error'));
  webSockets.on('connection', (socket, request) => {
    const internalError = (error: unknown) => {
      logger.error({ event: 'ws_error', err: safeError(error) }, 'WebSocket operation failed');
      const name = error instanceof Error ? error.name : 'Error';
      socket.close(CloseCode.InternalServerError, options.production ? 'Internal server error' : `Internal server error (${name})`);
    };
    socket.on('error', (error: Error & { code?: string }) => {
      // A client breaking the protocol (a message over maxPayload: 1009): ws has already closed the socket with its code.
      if (error.code?.startsWith('WS_ERR_')) logger.info({ event: 'ws_protocol_error', code: error.code }, 'WebSocket closed: protocol error');
      else internalError(error);
    });
    answered.add(socket);
    socket.on('pong', onPong);
    const closed = graphqlWs.opened(
      {
        protocol: socket.protocol,
        send: (data) => send(socket, data),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch(internalError);
          }),
      },
      { socket, request, offsets: new Map() },
    );
    socket.once('close', (code, reason) => {
      void closed(code, String(reason));
    });
  });

  return {
    async close(graceMs) {
      await drained(() => [...contexts].every((ctx) => Object.keys(ctx.subscriptions).length === 0), graceMs);
      clearInterval(keepAlive);
      for (const socket of webSockets.clients) socket.close(1001, 'Going away');
      await new Promise<void>((resolve) => webSockets.close(() => resolve()));
    },
  };
}

/** What an operation's execution carries as its root value: yoga's functions, and how to send a shared result. */
interface OperationRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
  shared: SharedSender;
}

const TEXT = { binary: false };

/**
 * How one operation sends shared results: graphql-ws' own `next` message around the result's one JSON, as
 * bytes (a string would be flattened and encoded again for every socket). `pump` sends them as they come
 * and waits only while the socket holds unsent bytes; `send` is one message, for a promise.
 */
class SharedSender {
  readonly #socket: WebSocket;
  readonly #prefix: Buffer;
  readonly #sent: (result: ExecutionResult) => void;
  #pump: SharedPump | undefined;
  #handedOff: (() => void) | undefined;
  /** One callback for every message: a write that completes lets a waiting pump go on. */
  readonly #written = (error?: Error) => {
    if (!error) this.#pump?.resume();
  };

  constructor(socket: WebSocket, prefix: Buffer, sent: (result: ExecutionResult) => void) {
    this.#socket = socket;
    this.#prefix = prefix;
    this.#sent = sent;
  }

  /** Sends `result`; false while the socket holds unsent bytes (the pump waits for a write to complete). */
  readonly #write = (result: ExecutionResult): boolean => {
    const socket = this.#socket;
    if (socket.readyState !== socket.OPEN) return true;
    this.#sent(result);
    socket.send(this.#message(result), TEXT, this.#written);
    return socket.bufferedAmount === 0;
  };

  /** Sends `feed`'s shared results until it has something else, or `stop()`. */
  pump(feed: SharedStream): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#handedOff = resolve;
      this.#pump = pumpShared(feed, this.#write, resolve);
    });
  }

  send(result: ExecutionResult): Promise<void> {
    this.#sent(result);
    return send(this.#socket, this.#message(result));
  }

  stop(): void {
    this.#pump?.stop();
    this.#handedOff?.();
  }

  #message(result: ExecutionResult): Buffer {
    return Buffer.concat([this.#prefix, sharedBytes(result)!, CLOSE_BRACE]);
  }
}

const CLOSE_BRACE = Buffer.from('}');

/** Sends a text message (bytes too: graphql-ws speaks only text frames). */
function send(socket: WebSocket, data: string | Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (socket.readyState !== socket.OPEN) return resolve();
    socket.send(data, TEXT, (error) => (error ? reject(error) : resolve()));
  });
}

/** The last `buildTrace.nextOffset` an operation delivered: its resumable error says where to resume from. */
function rememberOffset(extra: Extra, id: string, result: ExecutionResult): void {
  const offset = (result.data as { buildTrace?: { nextOffset?: unknown } } | null | undefined)?.buildTrace?.nextOffset;
  if (typeof offset === 'number') extra.offsets.set(id, offset);
}

/**
 * An operation's results as graphql-ws iterates them, except that each shared result (one execution for
 * every watcher of a trace offset: plugins/use-shared-event-execution.ts) is sent here, around its one
 * JSON, instead of being serialized again for this socket; the rest go on to graphql-ws. Shared results
 * are taken from the operation's `feed`, under the layers wrapping `results`; what the feed holds back
 * comes through them. A plain iterator, not an async generator: `return()` must reach the hub's stream
 * while it waits for the log.
 */
function sendingShared(results: AsyncIterableIterator<ExecutionResult>, feed: SharedStream | undefined, shared: SharedSender): AsyncIterableIterator<ExecutionResult> {
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      for (;;) {
        if (feed) await shared.pump(feed);
        const step = await results.next();
        if (step.done || !sharedBytes(step.value)) return step;
        await shared.send(step.value);
      }
    },
    return: (value?: unknown) => {
      shared.stop();
      return results.return?.(value) ?? Promise.resolve({ done: true, value: undefined });
    },
    throw: (error?: unknown) => {
      shared.stop();
      return results.throw?.(error) ?? Promise.reject(error);
    },
  };
}

/**
 * The headers each operation's request carries: the upgrade request's, then the credentials in
 * `connectionParams` (which win; other params are not headers). A string names what is wrong when one fails the credential check.
 */
function socketHeaders(request: IncomingMessage, params: Record<string, unknown>): Headers | string {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value !== 'string' || name === 'content-length') continue;
    const problem = isCredentialHeader(name) ? credentialProblem(value) : undefined;
    if (problem) return `${name} header ${problem}`;
    headers.set(name, value);
  }
  headers.set('content-type', 'application/json');
  for (const [name, value] of Object.entries(params)) {
    if (!isCredentialHeader(name)) continue;
    const problem = credentialProblem(value);
    if (problem) return `connectionParams.${name} ${problem}`;
    headers.set(name.toLowerCase(), value as string);
  }
  return headers;
}

function asGraphQLError(error: unknown, code: string): GraphQLError {
  if (error instanceof GraphQLError) return error.extensions?.code ? error : new GraphQLError(error.message, { ...error, extensions: { ...error.extensions, code } });
  return new GraphQLError('the document could not be parsed', { extensions: { code } });
}
