/**
 * Yoga's distinct-connection SSE answer (`text/event-stream` on /graphql) for subscriptions whose events
 * are shared (use-shared-event-execution.ts): each shared result becomes its whole `event: next` message
 * once, as bytes, and every stream enqueues those same bytes as one chunk (yoga's processor encodes two
 * strings per stream per event); and one ping timer keeps all the streams alive (yoga's keeps a
 * `setInterval` per stream). Any other value (a result with errors) is written as yoga writes it: errors
 * without their internal `http`/`unexpected` extensions. Every other answer stays yoga's.
 */
import type { ExecutionResult, GraphQLError } from 'graphql';
import { type Plugin, isAsyncIterable } from 'graphql-yoga';
import { isSharedSubscription, sharedMessage } from './use-shared-event-execution.js';

type ResultProcessor = Parameters<Parameters<NonNullable<Plugin['onResultProcess']>>[0]['setResultProcessor']>[0];

const HEADERS = { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'Cache-Control': 'no-cache', 'Content-Encoding': 'none' };
const encoder = new TextEncoder();
// A comment line: first at once (some browsers show nothing until a byte arrives), then as keep-alive.
const PING = encoder.encode(':\n\n');
const COMPLETE = encoder.encode('event: complete\ndata:\n\n');
/** As yoga's: every 12 s, or 300 ms under NODE_ENV=test (its own tests of pings). */
const PING_MS = process.env.NODE_ENV === 'test' ? 300 : 12_000;

const encodeNext = (json: string) => encoder.encode(`event: next\ndata: ${json}\n\n`);

function nextMessage(value: ExecutionResult): Uint8Array {
  return sharedMessage(value, encodeNext) ?? encodeNext(JSON.stringify(withoutInternals(value)));
}

/** What yoga's SSE writes of a result: its errors' (and its own) `http` and `unexpected` extensions dropped. */
function withoutInternals(result: ExecutionResult): unknown {
  if (!result.errors?.length && !result.extensions?.http) return result;
  const { http: _http, ...extensions } = (result.extensions ?? {}) as Record<string, unknown>;
  return {
    ...result,
    ...(result.errors && {
      errors: result.errors.map((error: GraphQLError) => {
        if (typeof error.toJSON !== 'function') return error;
        const json = error.toJSON();
        const { http: _h, unexpected: _u, ...own } = json.extensions ?? {};
        return { ...json, extensions: Object.keys(own).length ? own : undefined };
      }),
    }),
    extensions: Object.keys(extensions).length ? extensions : undefined,
  };
}

export function useSharedSse(): Plugin {
  /** Streams open now, for the one ping timer. */
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let pinger: NodeJS.Timeout | undefined;
  const open = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    streams.add(controller);
    pinger ??= setInterval(() => {
      for (const each of streams) {
        // `null`: errored; 0: backpressure or closed (not an end: yoga's rule).
        if (each.desiredSize === null) streams.delete(each);
        else if (each.desiredSize > 0) each.enqueue(PING);
      }
    }, PING_MS).unref();
  };
  const closed = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    streams.delete(controller);
    if (streams.size > 0 || !pinger) return;
    clearInterval(pinger);
    pinger = undefined;
  };

  const processSharedStream: ResultProcessor = (result, fetchAPI) => {
    const iterator = (result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    const body = new fetchAPI.ReadableStream<Uint8Array>({
      start(controller) {
        stream = controller;
        controller.enqueue(PING);
        open(controller);
      },
      async pull(controller) {
        try {
          const step = await iterator.next();
          if (step.value != null) controller.enqueue(nextMessage(step.value));
          if (step.done) {
            closed(controller);
            controller.enqueue(COMPLETE);
            controller.close();
          }
        } catch (error) {
          closed(controller);
          controller.error(error);
        }
      },
      async cancel(reason) {
        if (stream) closed(stream);
        await iterator.return?.(reason);
      },
    });
    return new fetchAPI.Response(body, { status: 200, headers: HEADERS });
  };

  return {
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      // Only where yoga chose SSE for a subscription's stream (the one processor it has for a stream).
      if (!resultProcessor || !isAsyncIterable(result) || !isSharedSubscription(request)) return;
      setResultProcessor(processSharedStream, 'text/event-stream');
    },
  };
}
