/**
 * Subscriptions as real clients make them: graphql-sse (distinct or single connection) and graphql-ws.
 */
import { type Client as SseClient, createClient as createSseClient } from 'graphql-sse';
import { type Client as WsClient, createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

export type Transport = 'sse' | 'sse-single' | 'ws';

export interface Collected<T> {
  values: T[];
  /** Resolves when the subscription completes (with its error, if it ended with one). */
  done: Promise<{ errors?: Array<{ message: string; extensions?: Record<string, any> }> }>;
  /** Stops listening (as a client that goes away). */
  stop(): void;
}

export interface SubscriptionClient {
  subscribe<T>(query: string, variables: Record<string, unknown>, onValue?: (value: T, all: T[]) => void): Collected<T>;
  dispose(): Promise<void>;
}

export function subscriptionClient(transport: Transport, graphqlUrl: string, headers: Record<string, string> = {}): SubscriptionClient {
  let client: SseClient | WsClient;
  if (transport === 'ws') {
    client = createWsClient({
      url: graphqlUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: headers,
      retryAttempts: 0,
      lazy: true,
    });
  } else {
    client = createSseClient({
      url: transport === 'sse-single' ? `${graphqlUrl}/stream` : graphqlUrl,
      singleConnection: transport === 'sse-single',
      headers,
      retryAttempts: 0,
    });
  }
  return {
    subscribe<T>(query: string, variables: Record<string, unknown>, onValue?: (value: T, all: T[]) => void): Collected<T> {
      const values: T[] = [];
      let stop = () => {};
      const done = new Promise<{ errors?: Array<{ message: string; extensions?: Record<string, any> }> }>((resolve) => {
        stop = (client as SseClient).subscribe<T>(
          { query, variables },
          {
            next: (result) => {
              if (result.errors?.length) {
                resolve({ errors: result.errors as never });
                return;
              }
              const data = result.data as Record<string, T>;
              const value = Object.values(data)[0]!;
              values.push(value);
              onValue?.(value, values);
            },
            error: (error) => {
              const errors = Array.isArray(error) ? error : [{ message: error instanceof Error ? error.message : String(error) }];
              resolve({ errors: errors as never });
            },
            complete: () => resolve({}),
          },
        );
      });
      return { values, done, stop: () => stop() };
    },
    async dispose() {
      await (client as { dispose: () => void | Promise<void> }).dispose();
    },
  };
}

/** Waits until `check` holds, re-checking on a short timer; fails after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
