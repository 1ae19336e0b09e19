/**
 * The only file that talks HTTP to upstreams: one undici Pool per upstream origin (keep-alive), the
 * timeouts, and the classification of every HTTP or network failure into one of `errors.ts`'s classes
 * (each a coded BuildgateError). Adapters call
 * `getJson`/`postJson`/`getBuffer` and never see undici.
 */
import { createRequire } from 'node:module';
import type { Dispatcher } from 'undici';

/** undici's Dispatcher, for callers that inject one (tests, the bench's ceiling): only this file imports undici. */
export type { Dispatcher };
// The request shapes and helpers live in http-request.ts; adapters keep importing them from here.
export { encodePath, firstHeader, upstreamMessage } from './http-request.js';
export type { QueryValue, UpstreamRequest, UpstreamResponse, UpstreamStream } from './http-request.js';
import { BuildgateError, type ErrorCode } from '../errors.js';
import { type UpstreamRequestEvent, routeOf } from './routes.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import {
  RequestRefusedError,
  UpstreamAbortedError,
  UpstreamBodyError,
  UpstreamStatusError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from './errors.js';
import { decodeUtf8 } from '../utf8.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicyOptions, retryDelay } from './retry-policy.js';
import type { CallContext } from './types.js';
import {
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamStream,
  buildQuery,
  firstHeader,
  upstreamMessage,
} from './http-request.js';

/**
 * undici (~110 modules, ~60 ms to load) is loaded on the first upstream request, not at start-up: the
 * gateway is listening before any upstream is called. Its errors are only met after a request.
 */
let undiciModule: typeof import('undici') | undefined;
const undici = (): typeof import('undici') => (undiciModule ??= createRequire(import.meta.url)('undici') as typeof import('undici'));

export interface UpstreamHttpOptions {
  /** The upstream's configured name, used in error extensions. */
  upstream: string;
  /** Absolute base URL, e.g. `https://gitlab.example.com/api/v4`. */
  baseUrl: string;
  /** Most sockets open to the upstream at once. @default 32 */
  connections?: number;
  /** ms to establish a connection. @default 5000 */
  connectTimeout?: number;
  /** ms to wait for response headers. @default 15000 */
  headersTimeout?: number;
  /** ms allowed between two body chunks. @default 30000 */
  bodyTimeout?: number;
  /** Largest JSON body accepted, in bytes. @default 16 MiB */
  maxJsonBytes?: number;
  /**
   * Reads an upstream's own error body (JSON or not) for the message and, where the upstream means
   * something other than the HTTP status says, the code. @default GitLab's `{message}` / `{error}`
   */
  describeError?: (status: number, body: string) => { message?: string; code?: ErrorCode; extensions?: Record<string, unknown> } | undefined;
  /** Sees every request sent (for metrics). */
  observe?: (event: UpstreamRequestEvent) => void;
  /** Retries of idempotent reads. @default DEFAULT_RETRY_POLICY */
  retry?: Partial<RetryPolicyOptions>;
  /** The circuit breaker. @default { threshold: 5, cooldownMs: 5000 } */
  breaker?: Partial<CircuitBreakerOptions>;
  /** Charged before each attempt (retries too); throws to refuse it unsent (the credential's per-minute budget). @default none */
  chargeCredential?: (call: CallContext) => Promise<void>;
  /**
   * Sends the requests instead of an own Pool (e.g. a bench's constant answers, or an undici `MockAgent`);
   * `connections` and `connectTimeout` are then its business, and closing it is its owner's. @default a Pool
   */
  dispatcher?: Dispatcher;
}

const MAX_ERROR_BODY = 64 * 1024;

/**
 * Reads a response body (the status was accepted) into what the caller wants; `charge` takes the bytes
 * read off the operation's budget and throws once it runs out (the caller then stops reading).
 */
type BodyReader<T> = (body: Dispatcher.ResponseData['body'], headers: Dispatcher.ResponseData['headers'], charge: Charge) => Promise<T>;

/** Charges body bytes to the operation's upstream budget (a no-op without one). */
type Charge = (bytes: number) => void;
const FREE: Charge = () => {};

export class UpstreamHttp {
  readonly upstream: string;
  readonly baseUrl: string;
  /** The injected dispatcher, or the own Pool once the first request needs it. */
  #pool: Dispatcher | undefined;
  readonly #newPool: () => Dispatcher;
  readonly #ownsPool: boolean;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #maxJsonBytes: number;
  readonly #describeError: NonNullable<UpstreamHttpOptions['describeError']>;
  readonly #retry: RetryPolicyOptions;
  readonly #observe: UpstreamHttpOptions['observe'];
  readonly #chargeCredential: UpstreamHttpOptions['chargeCredential'];
  readonly #timeouts: { headers: number; body: number };
  readonly breaker: CircuitBreaker;
  /** Counters for metrics: requests sent, and retries among them. */
  readonly counts = { requests: 0, retries: 0 };
  #closed = false;

  constructor(options: UpstreamHttpOptions) {
    const {
      upstream,
      baseUrl,
      connections = 32,
      connectTimeout = 5_000,
      headersTimeout = 15_000,
      bodyTimeout = 30_000,
      maxJsonBytes = 16 * 1024 * 1024,
      describeError = (_status: number, body: string) => ({ message: upstreamMessage(body) }),
    } = options;
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new TypeError(`upstream "${upstream}": baseUrl must be an absolute URL, got ${JSON.stringify(baseUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`upstream "${upstream}": baseUrl must be http(s), got ${JSON.stringify(baseUrl)}`);
    }
    for (const [name, value] of Object.entries({ connections, connectTimeout, headersTimeout, bodyTimeout })) {
      if (!Number.isInteger(value) || value <= 0) {
        throw new TypeError(`upstream "${upstream}": ${name} must be a positive integer, got ${String(value)}`);
      }
    }
    this.upstream = upstream;
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#maxJsonBytes = maxJsonBytes;
    this.#describeError = describeError;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#observe = options.observe;
    this.#chargeCredential = options.chargeCredential;
    this.#timeouts = { headers: headersTimeout, body: bodyTimeout };
    this.breaker = new CircuitBreaker(upstream, { threshold: 5, cooldownMs: 5000, ...options.breaker });
    this.#origin = url.origin;
    this.#ownsPool = options.dispatcher === undefined;
    this.#pool = options.dispatcher;
    this.#newPool = () =>
      new (undici().Pool)(url.origin, {
        connections,
        headersTimeout,
        bodyTimeout,
        connect: { timeout: connectTimeout },
        keepAliveTimeout: 10_000,
      });
  }

  getJson<T>(call: CallContext, request: UpstreamRequest): Promise<UpstreamResponse<T>> {
    return this.#send(call, 'GET', request, this.#readJsonBody as BodyReader<T>);
  }

  postJson<T>(call: CallContext, request: UpstreamRequest, payload?: unknown): Promise<UpstreamResponse<T>> {
    return this.#send(call, 'POST', request, this.#readJsonBody as BodyReader<T>, payload);
  }

  getBuffer(call: CallContext, request: UpstreamRequest): Promise<UpstreamResponse<Buffer>> {
    return this.#send(call, 'GET', request, async (body, headers, charge) => {
      const length = Number(firstHeader(headers['content-length']));
      if (Number.isInteger(length)) {
        charge(length);
        return Buffer.from(await body.arrayBuffer());
      }
      const chunks: Buffer[] = [];
      for await (const chunk of body) {
        charge((chunk as Buffer).length);
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    });
  }

  /** A GET whose body arrives as a stream, for logs too large to hold: network failures mid-body become coded errors. */
  async getStream(call: CallContext, request: UpstreamRequest): Promise<UpstreamStream> {
    const { data, status, headers } = await this.#send(call, 'GET', request, async (raw, _headers, charge) => ({ raw, charge }));
    const { raw: body, charge } = data;
    // A reader that stops early closes the body, which undici reports as an abort: expected, not a crash.
    body.on('error', () => {});
    const upstream = this;
    return {
      status,
      headers,
      body: (async function* () {
        try {
          for await (const chunk of body) {
            // Charged as read: a reader that stops early pays only for what it took.
            charge((chunk as Buffer).length);
            yield chunk as Buffer;
          }
        } catch (error) {
          discard(body);
          if (error instanceof BuildgateError) throw error;
          throw upstream.#networkError(error);
        }
      })(),
      dump: () => body.dump(),
    };
  }

  /** One GET of the base URL: any HTTP answer means reachable. */
  async probe(signal?: AbortSignal): Promise<void> {
    const response = await this.getStream({ signal, unmetered: true }, { path: '', acceptStatuses: [400, 401, 403, 404, 405, 406] });
    await response.dump();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsPool) await this.#pool?.close();
  }

  #dispatcher(): Dispatcher {
    if (!this.#pool) {
      this.#pool = this.#newPool();
      // Closed before its first request: the Pool refuses it as a closed one always did (ClientClosedError).
      if (this.#closed) void this.#pool.close();
    }
    return this.#pool;
  }

  /**
   * One call under the upstream policy: the circuit breaker first, then attempts — a GET is tried again
   * (see retry-policy.ts) while the request's deadline allows; anything else is sent exactly once.
   */
  async #send<T>(call: CallContext, method: 'GET' | 'POST', request: UpstreamRequest, read: BodyReader<T>, payload?: unknown): Promise<UpstreamResponse<T>> {
    for (let attempt = 0; ; attempt++) {
      this.breaker.enter();
      try {
        const response = await this.#sendOnce(call, method, request, read, payload);
        this.breaker.success();
        return response;
      } catch (error) {
        const coded = error instanceof BuildgateError ? error : this.#networkError(error);
        this.breaker.failed(coded);
        const delay = retryDelay(coded, method, attempt, call.deadline, this.#retry);
        if (delay === undefined || call.signal?.aborted) throw coded;
        this.counts.retries += 1;
        await sleep(delay, call.signal);
      }
    }
  }

  async #sendOnce<T>(call: CallContext, method: 'GET' | 'POST', request: UpstreamRequest, read: BodyReader<T>, payload?: unknown): Promise<UpstreamResponse<T>> {
    // What is left of the GraphQL request's deadline bounds this call's waits.
    let left = this.#timeLeft(call);
    // Before sending: an operation past its budget makes no further call (a retry is a call too).
    call.budget?.chargeCall(this.upstream);
    if (this.#chargeCredential) {
      await this.#chargeCredential(call);
      // Asking Redis took some of it.
      left = this.#timeLeft(call);
    }
    this.counts.requests += 1;
    const started = performance.now();
    const headers: Record<string, string> = request.headers ? { accept: 'application/json', ...request.headers } : { accept: 'application/json' };
    if (call.requestId) headers['x-request-id'] = call.requestId;
    const { credential } = call;
    let query = request.query;
    if (credential?.in === 'query') query = { ...query, [credential.name]: credential.value };
    else if (credential) headers[credential.name.toLowerCase()] = credential.value;
    let body: string | undefined;
    if (payload !== undefined) {
      body = JSON.stringify(payload);
      headers['content-type'] = 'application/json';
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#dispatcher().request({
        // A Pool knows its origin; an injected Agent-like dispatcher routes by it.
        origin: this.#origin,
        method,
        path: this.#basePath + request.path + buildQuery(query),
        headers,
        body,
        signal: call.signal,
        headersTimeout: left < this.#timeouts.headers ? Math.ceil(left) : this.#timeouts.headers,
        bodyTimeout: left < this.#timeouts.body ? Math.ceil(left) : this.#timeouts.body,
      });
    } catch (error) {
      this.#observed(method, request.path, 'error', started);
      throw this.#networkError(error);
    }
    this.#observed(method, request.path, String(response.statusCode), started);
    const { budget } = call;
    const charge: Charge = budget ? (bytes) => budget.chargeBytes(this.upstream, bytes) : FREE;
    if (call.onPollIntervalHint) {
      const hint = Number(firstHeader(response.headers['poll-interval']));
      if (Number.isFinite(hint) && hint > 0) call.onPollIntervalHint(hint);
    }
    if (response.statusCode >= 400 && !request.acceptStatuses?.includes(response.statusCode)) {
      throw await this.#statusError(response, charge);
    }
    try {
      const data = await read(response.body, response.headers, charge);
      return { data, status: response.statusCode, headers: response.headers };
    } catch (error) {
      // A reader that stopped (the budget ran out, a body too large) leaves the rest unread: drop it.
      discard(response.body);
      if (error instanceof BuildgateError) throw error;
      throw this.#networkError(error);
    }
  }

  #timeLeft(call: CallContext): number {
    const left = call.deadline === undefined ? Number.POSITIVE_INFINITY : call.deadline - Date.now();
    if (left <= 0) throw new UpstreamAbortedError(this.upstream, 'deadline');
    return left;
  }

  #observed(method: string, path: string, status: string, started: number): void {
    this.#observe?.({ upstream: this.upstream, method, route: routeOf(path), status, seconds: (performance.now() - started) / 1000 });
  }

  readonly #readJsonBody: BodyReader<unknown> = (body, headers, charge) => this.#readJson(body, headers, charge);

  async #readJson<T>(body: Dispatcher.ResponseData['body'], headers: Dispatcher.ResponseData['headers'], charge: Charge): Promise<T> {
    // With a known, acceptable length, undici's own consumer is much cheaper than iterating the stream
    // (and the budget is charged the whole length before a byte is read).
    const length = Number(firstHeader(headers['content-length']));
    let text: string | undefined;
    if (Number.isInteger(length) && length <= this.#maxJsonBytes) {
      charge(length);
      text = decodeUtf8(Buffer.from(await body.arrayBuffer()));
    } else {
      text = await readBounded(body, this.#maxJsonBytes, charge);
    }
    if (text === undefined) throw new UpstreamBodyError(this.upstream, `a body over ${this.#maxJsonBytes} bytes`);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new UpstreamBodyError(this.upstream, 'a body that is not valid JSON');
    }
  }

  async #statusError(response: Dispatcher.ResponseData, charge: Charge): Promise<UpstreamStatusError> {
    const status = response.statusCode;
    const text = (await readBounded(response.body, MAX_ERROR_BODY, charge).catch(() => undefined)) ?? '';
    const described = this.#describeError(status, text);
    let retryAfter: number | undefined;
    if (status === 429) {
      const seconds = Number(firstHeader(response.headers['retry-after']));
      if (Number.isFinite(seconds)) retryAfter = seconds;
    }
    return new UpstreamStatusError(this.upstream, status, { ...described, retryAfter });
  }

  /** An undici or abort failure as one of our classes: what it says of the upstream decides retry and breaker. */
  #networkError(error: unknown): BuildgateError {
    const upstream = this.upstream;
    const undiciErrors = undici().errors;
    // undici refused to build the request (e.g. a header value it will not send): our input, not the upstream's health.
    if (error instanceof undiciErrors.InvalidArgumentError) return new RequestRefusedError(upstream, error);
    if (
      error instanceof undiciErrors.ConnectTimeoutError ||
      error instanceof undiciErrors.HeadersTimeoutError ||
      error instanceof undiciErrors.BodyTimeoutError
    ) {
      return new UpstreamTimeoutError(upstream, error);
    }
    // AbortSignal.timeout (the request's deadline) aborts with a TimeoutError; a client leaving, with an AbortError.
    if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) return new UpstreamAbortedError(upstream, 'signal', error);
    return new UpstreamUnavailableError(upstream, error);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Drops the unread rest of a body (closing its socket); the abort it causes is expected, not an error to report. */
function discard(body: Dispatcher.ResponseData['body']): void {
  if (body.destroyed || body.readableEnded) return;
  body.on('error', () => {});
  body.destroy();
}

/** Reads a body as text, or answers undefined (and drops the rest) once it passes `limit` bytes. */
async function readBounded(body: Dispatcher.ResponseData['body'], limit: number, charge: Charge = FREE): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    charge((chunk as Buffer).length);
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return decodeUtf8(Buffer.concat(chunks, size));
}
