/**
 * Refuses request bodies over `limit` bytes with 413, as yoga's `maxRequestBodySize` does, without its
 * cost. Yoga pipes every body through a TransformStream and a new Request, which takes the body off
 * whatwg-node's fast path (read straight from Node's IncomingMessage) and costs an AbortController, a
 * stream pipeline and a DOMException per request: more than half of a small query's CPU time. Node's
 * HTTP parser never delivers more body than a valid Content-Length says, so a body that declares one is
 * checked by that header alone; only a body without one (chunked) is counted as it streams in.
 */
import { type FetchAPI, type Plugin, createGraphQLError } from 'graphql-yoga';

const CONTENT_LENGTH = /^\d+$/;

const tooLarge = () =>
  createGraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });

export function useBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const contentLength = request.headers.get('content-length');
      if (contentLength !== null) {
        // Several comma-joined values (a request-smuggling trick) or anything not a number: refused.
        if (!CONTENT_LENGTH.test(contentLength)) {
          throw createGraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });
        }
        if (Number(contentLength) > limit) throw tooLarge();
        return;
      }
      if (request.method === 'GET' || request.method === 'HEAD' || !requestParser) return;
      setRequestParser((raw) => requestParser(countedBody(raw, limit, fetchAPI)));
    },
  };
}

/** The request with its body counted as it streams, failing with 413 past `limit` bytes. */
function countedBody(request: Request, limit: number, fetchAPI: FetchAPI): Request {
  const body = request.body;
  if (!body) return request;
  // A native stream needs the native TransformStream, a ponyfill one the ponyfill (yoga#4583).
  const Transform = body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  let read = 0;
  const counted = body.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.byteLength;
        if (read > limit) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body: counted,
    duplex: 'half',
  } as RequestInit);
}
