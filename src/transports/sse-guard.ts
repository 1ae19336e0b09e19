/**
 * Wraps a graphql-sse subscription's results so that it ends alone, with an error event, instead of
 * taking its stream down or growing it without bound:
 * - an error thrown by the source (SHUTTING_DOWN, TRACE_OVERFLOW, an upstream failure) becomes a last
 *   result with that coded error (graphql-sse would otherwise fail the whole stream with it, every other
 *   operation on a single connection included, and leave the rejection unhandled);
 * - once its stream's unread backlog is over the limit, the next result is an error and the source is
 *   ended (graphql-sse reads a source as fast as it produces, whether or not anyone reads the stream).
 * `return()` reaches the source at once, even while it waits for its next value (an async generator
 * would wait for that value first), so a cancelled operation leaves the trace hub at once.
 */
import type { ExecutionResult } from 'graphql';
import type { Logger } from '../logger.js';
import { codedErrorJson, toGraphQLError } from './operation.js';

const DONE: IteratorResult<never> = { done: true, value: undefined };

export interface GuardOptions {
  /** Whether the stream's unread events are over the limit. */
  overLimit(): boolean;
  limitBytes: number;
  logger: Logger;
  /** Called once when the operation ends, however it ends. */
  onEnd(): void;
}

export function guardResults(source: AsyncIterable<ExecutionResult>, options: GuardOptions): AsyncGenerator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  /** The last `buildTrace.nextOffset` sent: where a trace client resumes after an error. */
  let nextOffset: number | undefined;
  const finish = () => {
    if (finished) return;
    finished = true;
    options.onEnd();
  };
  const stopSource = () => {
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
  };
  const guarded: AsyncGenerator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => guarded,
    async next() {
      if (finished) return DONE;
      if (options.overLimit()) {
        finish();
        stopSource();
        return { done: false, value: { errors: [overflow(nextOffset, options.limitBytes)] } as never };
      }
      try {
        const step = await iterator.next();
        if (finished) return DONE;
        if (step.done) {
          finish();
          return DONE;
        }
        const offset = (step.value.data as { buildTrace?: { nextOffset?: unknown } } | null | undefined)?.buildTrace?.nextOffset;
        if (typeof offset === 'number') nextOffset = offset;
        return step;
      } catch (error) {
        if (finished) return DONE;
        finish();
        return { done: false, value: { errors: [codedErrorJson(toGraphQLError(error), nextOffset, options.logger)] } as never };
      }
    },
    async return() {
      finish();
      stopSource();
      return DONE;
    },
    async throw() {
      finish();
      stopSource();
      return DONE;
    },
  };
  return guarded;
}

function overflow(nextOffset: number | undefined, limitBytes: number) {
  const message = `more than ${limitBytes} bytes of events are waiting for this stream to read them`;
  // A trace subscriber resumes from where it stopped reading, as after any TRACE_OVERFLOW.
  if (nextOffset !== undefined) {
    return { message: `${message}; subscribe again from nextOffset`, extensions: { code: 'TRACE_OVERFLOW', nextOffset } };
  }
  return { message, extensions: { code: 'STREAM_BACKLOG_EXCEEDED', limit: 'sse.maxReservationQueueBytes' } };
}
