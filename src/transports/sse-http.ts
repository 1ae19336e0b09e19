/**
 * The HTTP side of /graphql/stream's refusals: every one is a JSON body of coded GraphQL errors with a
 * 4xx status (graphql-sse's own answers carry a bare message, or no body at all), and a request body is
 * read only up to `limits.maxBodyBytes`.
 */
import type { GraphQLError } from 'graphql';
import type { Response as SseResponse } from 'graphql-sse';
import type { FetchAPI } from 'graphql-yoga';
import { CODE_FOR_HTTP_STATUS, errorResponse } from '../errors.js';

// graphql-sse's only 404 is an unknown reservation token.
const CODE_FOR_STATUS: Readonly<Record<number, string>> = { ...CODE_FOR_HTTP_STATUS, 404: 'STREAM_NOT_FOUND' };

/** A refusal from onSubscribe, which graphql-sse sends as it is: `code` where an error has none (or always, with `overrideCode`). */
export function refusal(refused: GraphQLError | readonly GraphQLError[], code: string, status: number, overrideCode = false): SseResponse {
  const errors = (Array.isArray(refused) ? refused : [refused]).map((error: GraphQLError) => {
    const own = overrideCode ? code : (error.extensions?.code ?? code);
    const { http: _http, ...extensions } = { ...error.extensions, code: own } as Record<string, unknown>;
    return { message: error.message, ...(error.locations && { locations: error.locations }), extensions };
  });
  return [JSON.stringify({ errors }), { status, statusText: '', headers: { 'content-type': 'application/json; charset=utf-8' } }];
}

/** graphql-sse's own answers, with every error coded (it sends bare messages, or no body). */
export function toResponse(api: FetchAPI, [body, init]: SseResponse): globalThis.Response {
  if (init.status < 400) return new api.Response(body as string | null, init as ResponseInit);
  const code = CODE_FOR_STATUS[init.status] ?? 'BAD_REQUEST';
  let errors: Array<{ message: string; extensions?: Record<string, unknown> }> = [{ message: init.statusText || 'Bad Request' }];
  try {
    const parsed = typeof body === 'string' ? (JSON.parse(body) as { errors?: typeof errors }) : undefined;
    if (Array.isArray(parsed?.errors) && parsed.errors.length) errors = parsed.errors;
  } catch {
    // not JSON: the status text stands
  }
  const coded = errors.map((error) => ({ ...error, extensions: { ...error.extensions, code: error.extensions?.code ?? code } }));
  const headers = { ...(init.headers as Record<string, string>), 'content-type': 'application/json; charset=utf-8' };
  return new api.Response(JSON.stringify({ errors: coded }), { status: init.status, headers });
}

export function jsonError(api: FetchAPI, status: number, message: string, extensions: Record<string, unknown> = {}): globalThis.Response {
  return errorResponse(api, status, message, extensions, CODE_FOR_STATUS);
}

/** The body as text, or undefined once it passes `limit` bytes (a declared length over it is not read). */
export async function readBounded(request: globalThis.Request, limit: number): Promise<string | undefined> {
  const declared = request.headers.get('content-length');
  if (declared !== null && !(Number(declared) <= limit)) return undefined;
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
