/**
 * A minimal typed GraphQL client: queries over `fetch`, subscriptions over graphql-sse (the protocol
 * buildgate serves on `/graphql`). Both take the typed documents generated in `../generated/`, so a
 * result and its variables are checked against the schema at compile time.
 *
 * Documents are persisted (codegen's `persistedDocuments`): the client sends a document's SHA-256 in
 * Apollo's `extensions.persistedQuery.sha256Hash`, not its text. A gateway that runs the trusted
 * documents of `generated/persisted-documents.json` knows it; one that does not answers
 * PERSISTED_QUERY_NOT_FOUND, and from then on this client sends texts, so the same client works
 * against both. (Not APQ: the hash is of codegen's printing of the document, not of the text here.)
 */
import { createClient, NetworkError } from 'graphql-sse';
import type { TypedDocumentString } from '../generated/graphql.js';

export interface ClientOptions {
  /** The gateway's GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  /** Sent with every request: the caller's credential (`PRIVATE-TOKEN`, `X-DEVOPS-UID`, …). */
  headers?: Record<string, string>;
  /** Send documents by their hash (see above); false sends every text. @default true */
  persisted?: boolean;
}

/** What goes in a request body for a document: its hash alone, or its text. */
interface DocumentParams {
  query?: string;
  extensions?: { persistedQuery: { version: 1; sha256Hash: string } };
}

/**
 * The hash Apollo's protocol names `sha256Hash`: client-preset writes `sha256:<hex>`, the gateway
 * takes the hex (and `persistedOperations.file` indexes both).
 */
export function documentHash(document: { __meta__?: Record<string, unknown> }): string | undefined {
  const hash = document.__meta__?.hash;
  return typeof hash === 'string' ? hash.replace(/^sha256:/, '') : undefined;
}

function documentParams(document: { toString(): string; __meta__?: Record<string, unknown> }, persisted: boolean): DocumentParams {
  const hash = persisted ? documentHash(document) : undefined;
  return hash ? { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } } : { query: document.toString() };
}

const NOT_PERSISTED = 'PERSISTED_QUERY_NOT_FOUND';

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
  // Turned off by the first PERSISTED_QUERY_NOT_FOUND: this gateway does not have our documents.
  let persisted = options.persisted ?? true;
  const notPersisted = (error: unknown, sentHash: boolean) => sentHash && error instanceof GraphQLRequestError && error.code === NOT_PERSISTED;
  // Distinct connections: one SSE response per subscription, no reconnect of its own (a reconnect
  // would replay the same variables; the caller knows where to resume from).
  const sse = createClient({ url: options.url, headers, retryAttempts: 0 });

  return {
    async request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): Promise<TResult> {
      const sentHash = persisted;
      try {
        return await post<TResult>(documentParams(document, sentHash), variables);
      } catch (error) {
        if (!notPersisted(error, sentHash)) throw error;
        persisted = false;
        return post<TResult>(documentParams(document, false), variables);
      }
    },

    async *subscribe<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): AsyncGenerator<TResult, void, undefined> {
      for (;;) {
        const sentHash = persisted;
        // graphql-sse types `query` as required; a persisted request has none, which yoga reads as it should.
        const params = { ...documentParams(document, sentHash), variables: variables as Record<string, unknown> } as { query: string };
        const results = sse.iterate<TResult>(params);
        let first = true;
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
            first = false;
            if (result.data != null) yield result.data;
          }
        } catch (error) {
          // Only before anything arrived: the gateway did not know the hash, so it never ran the operation.
          if (!(first && notPersisted(error, sentHash))) throw error;
          persisted = false;
        } finally {
          await results.return?.();
        }
      }
    },

    async dispose() {
      sse.dispose();
    },
  };

  async function post<TResult>(params: DocumentParams, variables: unknown): Promise<TResult> {
    let response: Response;
    try {
      response = await fetch(options.url, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
        body: JSON.stringify({ ...params, variables }),
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
  }
}

/** graphql-sse reports a refused request (a 400 with GraphQL errors, say) as a NetworkError holding the response. */
async function subscriptionError(error: unknown): Promise<Error> {
  if (Array.isArray(error)) return new GraphQLRequestError(error as GraphQLErrorShape[]);
  if (error instanceof NetworkError && error.response) {
    const text = await error.response.text().catch(() => '');
    // A JSON body, or (yoga refusing before execution, e.g. an unknown persisted hash) an event
    // stream under the error's status whose one `next` event holds the errors.
    for (const candidate of [text, ...[...text.matchAll(/^data: (\{.*\})$/gm)].map((match) => match[1]!)]) {
      try {
        const body = JSON.parse(candidate) as ExecutionResult<unknown>;
        if (body.errors?.length) return new GraphQLRequestError(body.errors);
      } catch {
        // not JSON: try the next
      }
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
