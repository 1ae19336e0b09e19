/**
 * A minimal typed GraphQL client: queries over `fetch`, subscriptions over graphql-sse (the protocol
 * buildgate serves on `/graphql`). Both take the typed documents generated in `../generated/`, so a
 * result and its variables are checked against the schema at compile time.
 */
import { createClient, NetworkError } from 'graphql-sse';
import type { TypedDocumentString } from '../generated/graphql.js';

export interface ClientOptions {
  /** The gateway's GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  /** Sent with every request: the caller's credential (`PRIVATE-TOKEN`, `X-DEVOPS-UID`, …). */
  headers?: Record<string, string>;
}

export interface GraphQLErrorShape {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: Record<string, unknown>;
}

/** The gateway answered with errors: `code` is the first error's `extensions.code` (`NOT_FOUND`, …). */
export class GraphQLRequestError extends Error {
  readonly code: string | undefined;

  constructor(readonly errors: readonly GraphQLErrorShape[]) {
    const first = errors[0];
    const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : undefined;
    super(errors.map((error) => error.message).join('; ') || 'the gateway answered with an error');
    this.name = 'GraphQLRequestError';
    this.code = code;
  }
}

/** The gateway could not be reached, or answered something that is not a GraphQL response. */
export class TransportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
  }
}

interface ExecutionResult<T> {
  data?: T | null;
  errors?: readonly GraphQLErrorShape[];
}

export interface Client {
  /** Runs a query or mutation; rejects with `GraphQLRequestError` when any error came back. */
  request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): Promise<TResult>;
  /**
   * Runs a subscription and yields each event's data. Ends when the server completes the stream;
   * rejects with `GraphQLRequestError` for an event with errors, `TransportError` when the connection fails.
   * Breaking out of the loop unsubscribes.
   */
  subscribe<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): AsyncGenerator<TResult, void, undefined>;
  dispose(): Promise<void>;
}

export function createGatewayClient(options: ClientOptions): Client {
  const headers = options.headers ?? {};
  // Distinct connections: one SSE response per subscription, no reconnect of its own (a reconnect
  // would replay the same variables; the caller knows where to resume from).
  const sse = createClient({ url: options.url, headers, retryAttempts: 0 });

  return {
    async request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): Promise<TResult> {
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
          body: JSON.stringify({ query: document.toString(), variables }),
        });
      } catch (error) {
        throw new TransportError(`cannot reach ${options.url}: ${describe(error)}`, { cause: error });
      }
      const text = await response.text();
      let result: ExecutionResult<TResult>;
      try {
        result = JSON.parse(text) as ExecutionResult<TResult>;
      } catch (error) {
        throw new TransportError(`${options.url} answered ${response.status} with no GraphQL response: ${text.slice(0, 200)}`, { cause: error });
      }
      if (result.errors?.length) throw new GraphQLRequestError(result.errors);
      if (result.data == null) throw new TransportError(`${options.url} answered ${response.status} with no data`);
      return result.data;
    },

    async *subscribe<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): AsyncGenerator<TResult, void, undefined> {
      const results = sse.iterate<TResult>({ query: document.toString(), variables: variables as Record<string, unknown> });
      try {
        for (;;) {
          let next: IteratorResult<ExecutionResult<TResult>>;
          try {
            next = await results.next();
          } catch (error) {
            throw await subscriptionError(error);
          }
          if (next.done) return;
          const result = next.value;
          if (result.errors?.length) throw new GraphQLRequestError(result.errors);
          if (result.data != null) yield result.data;
        }
      } finally {
        await results.return?.();
      }
    },

    async dispose() {
      sse.dispose();
    },
  };
}

/** graphql-sse reports a refused request (a 400 with GraphQL errors, say) as a NetworkError holding the response. */
async function subscriptionError(error: unknown): Promise<Error> {
  if (Array.isArray(error)) return new GraphQLRequestError(error as GraphQLErrorShape[]);
  if (error instanceof NetworkError && error.response) {
    const text = await error.response.text().catch(() => '');
    try {
      const body = JSON.parse(text) as ExecutionResult<unknown>;
      if (body.errors?.length) return new GraphQLRequestError(body.errors);
    } catch {
      // not JSON: fall through
    }
    return new TransportError(`${error.message}${text ? `: ${text.slice(0, 200)}` : ''}`, { cause: error });
  }
  return new TransportError(describe(error), { cause: error });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
