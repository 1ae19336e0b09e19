/**
 * The last line of "every error has a code, no answer has a stack": an error response (status ≥ 400)
 * of a GraphQL endpoint that some layer answered without a code (graphql-sse's "Stream not found",
 * yoga's empty 405/406/415) or with a stack or file path gets a GraphQL error body with
 * `extensions.code`, picked from its status. Successful responses (and SSE streams) are never read.
 */
import type { Plugin } from 'graphql-yoga';
import { CODE_FOR_HTTP_STATUS } from '../errors.js';


/** A stack frame (`    at fn (/app/x.js:1:2)`) or a file path with a line number. */
const STACK_FRAME = /\n\s*at [^\n]*/g;
const FILE_PATH = /(?:file:\/\/)?\/[^\s"'()]*\.[cm]?[jt]sx?(?::\d+)+/g;

const clean = (text: string) => text.replace(STACK_FRAME, '').replace(FILE_PATH, '[internal]').trim();

interface ErrorShape {
  message?: unknown;
  extensions?: Record<string, unknown>;
  [key: string]: unknown;
}

function codedError(error: ErrorShape, code: string): ErrorShape {
  const { stack: _stack, originalError: _original, ...extensions } = (error.extensions ?? {}) as Record<string, unknown>;
  const { stack: _ownStack, ...rest } = error;
  return { ...rest, message: clean(String(error.message ?? '')), extensions: { ...extensions, code: extensions.code ?? code } };
}

/** The body as coded GraphQL errors: a JSON `{errors}` body is kept with codes added, anything else becomes one error. */
function codedBody(text: string, status: number, statusText: string): { errors: ErrorShape[]; data?: unknown } {
  const code = CODE_FOR_HTTP_STATUS[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST');
  try {
    const parsed = JSON.parse(text) as { errors?: unknown; data?: unknown };
    if (Array.isArray(parsed?.errors)) return { ...parsed, errors: parsed.errors.map((error: ErrorShape) => codedError(error, code)) };
  } catch {
    // Not JSON: the text (a stack-free first line) becomes the message.
  }
  const message = clean(text).split('\n')[0]!.replace(/^\w*Error: /, '') || statusText || 'Request refused';
  return { errors: [{ message, extensions: { code } }] };
}

export interface CodedErrorResponsesOptions {
  /** Paths whose error responses are GraphQL answers. */
  endpoints: readonly string[];
}

export function useCodedErrorResponses({ endpoints }: CodedErrorResponsesOptions): Plugin {
  const paths = new Set(endpoints);
  return {
    onResponse({ request, response, setResponse, fetchAPI }) {
      if (response.status < 400) return;
      // A stream is answered as it goes; its events are coded where they are made.
      if (/event-stream|multipart/.test(response.headers.get('content-type') ?? '')) return;
      const url = request.url;
      const start = url.indexOf('/', url.indexOf('//') + 2);
      const end = url.indexOf('?', start);
      if (!paths.has(url.slice(start, end === -1 ? undefined : end))) return;
      return response.text().then((text) => {
        const headers = new fetchAPI.Headers(response.headers);
        if (!/json/.test(headers.get('content-type') ?? '')) headers.set('content-type', 'application/json; charset=utf-8');
        headers.delete('content-length');
        const body = JSON.stringify(codedBody(text, response.status, response.statusText));
        setResponse(new fetchAPI.Response(body, { status: response.status, headers }));
      });
    },
  };
}
