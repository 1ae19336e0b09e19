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
import { Readable } from 'node:stream';
import { type SharedPump, type SharedStream, pumpShared } from './shared-stream.js';
import { isSharedSubscription, sharedFeed, sharedMessage } from './use-shared-event-execution.js';

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
  const streams = new Set<Readable>();
  let pinger: NodeJS.Timeout | undefined;
  const open = (stream: Readable) => {
    streams.add(stream);
    pinger ??= setInterval(() => {
      for (const each of streams) {
        // Only into a stream that is not behind (yoga's rule: no ping under backpressure).
        if (each.destroyed) streams.delete(each);
        else if (each.readableLength < each.readableHighWaterMark) each.push(PING);
      }
    }, PING_MS).unref();
  };
  const closed = (stream: Readable) => {
    streams.delete(stream);
    if (streams.size > 0 || !pinger) return;
    clearInterval(pinger);
    pinger = undefined;
  };

  /**
   * A node stream, not a web ReadableStream: the server pipes it to the socket as it is (a web stream
   * costs a pull through several promise layers per message). Shared results are pumped into it from the
   * operation's feed as they come, with no promise per message (shared-stream.ts); anything else is read
   * from `result`, the stream yoga and envelop wrapped.
   */
  const processSharedStream = (result: unknown, fetchAPI: Parameters<ResultProcessor>[1], feed: SharedStream | undefined) => {
    const iterator = (result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
    let pump: SharedPump | undefined;
    let reading = false;
    let ended = false;
    const finish = (stream: Readable, error?: unknown) => {
      ended = true;
      closed(stream);
      if (error === undefined) {
        stream.push(COMPLETE);
        stream.push(null);
      } else stream.destroy(error instanceof Error ? error : new Error(String(error)));
    };
    const writeShared = (stream: Readable) => (shared: ExecutionResult) => stream.push(sharedMessage(shared, encodeNext)!);
    /** Shared results from the feed until it has something else, then that from `result`. */
    const start = (stream: Readable) => {
      if (!feed) {
        void readWrapped(stream);
        return;
      }
      let handedOff = false;
      const started = pumpShared(feed, writeShared(stream), () => {
        handedOff = true;
        pump = undefined;
        void readWrapped(stream);
      });
      if (!handedOff) pump = started;
    };
    /** One step of the wrapped stream; then the feed again, once the stream wants more. */
    const readWrapped = async (stream: Readable) => {
      reading = true;
      let more = false;
      try {
        const step = await iterator.next();
        if (stream.destroyed) return;
        more = step.value == null || stream.push(nextMessage(step.value));
        if (step.done) return finish(stream);
      } catch (error) {
        if (!stream.destroyed) finish(stream, error);
        return;
      } finally {
        reading = false;
      }
      // After `reading` is cleared: `start` may hand off at once, into a read of its own.
      if (more) start(stream);
    };
    const body = new Readable({
      read() {
        if (pump) pump.resume();
        else if (!reading && !ended) start(this);
      },
      destroy(error, callback) {
        pump?.stop();
        if (!ended) {
          ended = true;
          closed(this);
          void Promise.resolve(iterator.return?.(error)).catch(() => undefined);
        }
        callback(error);
      },
    });
    body.push(PING);
    open(body);
    return new fetchAPI.Response(body as never, { status: 200, headers: HEADERS });
  };

  return {
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      // Only where yoga chose SSE for a subscription's stream (the one processor it has for a stream).
      if (!resultProcessor || !isAsyncIterable(result) || !isSharedSubscription(request)) return;
      const feed = sharedFeed(request);
      setResultProcessor((value, fetchAPI) => processSharedStream(value, fetchAPI, feed), 'text/event-stream');
    },
  };
}
