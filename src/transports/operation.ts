/**
 * What the streaming transports (graphql-ws, graphql-sse) share: the yoga surface they run operations
 * on, how an error reaches a client (coded, never an internal message or stack), how an error is
 * logged (never its message, which may quote a credential), and waiting for operations to end.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import type { GatewayContext } from '../context.js';
import type { Logger } from '../logger.js';

export type EnvelopedYoga = Pick<YogaServerInstance<object, GatewayContext>, 'getEnveloped' | 'graphqlEndpoint'>;

/** Codes whose client resumes a trace: the error says from where, when the transport knows. */
const RESUMABLE = new Set(['SHUTTING_DOWN', 'TRACE_OVERFLOW']);

/**
 * An error as a client sees it. A coded error goes as it is (yoga's `http` hint dropped), and a
 * resumable one gains the `nextOffset` the client last received; anything uncoded is an internal fault,
 * answered "Unexpected error." and logged.
 */
export function codedErrorJson(error: GraphQLError, nextOffset: number | undefined, logger: Logger): GraphQLFormattedError {
  const code = error.extensions?.code;
  if (typeof code !== 'string') {
    logger.error({ event: 'operation_error', err: safeError(error.originalError ?? error) }, 'operation failed');
    return { message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
  const json = error.toJSON();
  const { http: _http, ...extensions } = json.extensions ?? {};
  if (RESUMABLE.has(code) && nextOffset !== undefined && extensions.nextOffset === undefined) extensions.nextOffset = nextOffset;
  return { ...json, extensions };
}

/** Anything thrown, as a GraphQLError (uncoded unless it carried a code). */
export function toGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  const original = error instanceof Error ? error : new Error(String(error));
  return new GraphQLError(original.message, { originalError: original });
}

/**
 * An error for a log line: its name, code and stack frames, not its message (a library's message may
 * quote the header value it refused, i.e. a credential).
 */
export function safeError(error: unknown): { name: string; code?: unknown; frames?: string } {
  if (!(error instanceof Error)) return { name: typeof error };
  const coded = error instanceof GraphQLError ? error.extensions?.code : (error as { code?: unknown }).code;
  const frames = error.stack?.split('\n').filter((line) => line.trimStart().startsWith('at ')).join('\n');
  return { name: error.name, ...(coded !== undefined && { code: coded }), ...(frames && { frames }) };
}

/**
 * Resolves true once `isIdle()` holds, or false after `timeoutMs`. Used at shutdown only, where the
 * operations to wait for live inside libraries that announce no event when they end.
 */
export async function drained(isIdle: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!isIdle()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
