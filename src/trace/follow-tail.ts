/**
 * One subscriber following a build's log from the poller's shared tail (trace/hub.ts `trace`), without a
 * promise per piece: it reads on when the poller wakes it and when its consumer takes a piece at once
 * (the Channel's `push` returns no promise then). At 10,000 watchers a promise per watcher for every wait
 * between two pieces lived through scavenges, was promoted, and swelled the old generation between major
 * GCs. Only a slow consumer, a backfill and the end cost a promise.
 */
import { BuildgateError } from '../errors.js';
import type { TraceChunkModel } from '../model.js';
import type { BuildPoller, PollerMember } from './poller.js';
import type { TracePiece } from './tail.js';

export interface TailFollower extends PollerMember {
  /** Calls `woken` at the next wake-up (new log, a status change, a failure, the subscriber leaving). */
  whenWoken(woken: () => void): void;
}

export interface FollowTail {
  member: TailFollower;
  poller: BuildPoller;
  /** Where the subscriber starts. */
  offset: number;
  /** The Channel's push: undefined when the consumer took the value at once. */
  push: (value: TraceChunkModel, taken?: () => void) => Promise<unknown> | undefined;
  isStopped: () => boolean;
  /** Reads what the tail no longer holds from `from`, with the subscriber's own credential; resolves with the next offset. */
  backfill: (from: number) => Promise<number>;
}

/** Settles once the log is sent to its end (or the subscriber stopped); rejects with what ended it otherwise. */
export function followTail({ member, poller, offset, push, isStopped, backfill }: FollowTail): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let next = offset;
    let live = false;
    let finished = false;
    let running = false;
    let again = false;
    /** The next offset of the piece on offer: the position moves only once the consumer took it. */
    let offered = offset;
    const taken = () => {
      next = offered;
      member.position = next;
    };
    const finish = (error?: unknown) => {
      finished = true;
      if (error === undefined) resolve();
      else reject(error);
    };
    /** After a piece was taken: whether that was the last. */
    const sent = (complete: boolean, pieceEnd: number): boolean => {
      poller.progress(member);
      if (complete && next >= pieceEnd) finish();
      return finished;
    };
    /** Reads on until it must wait: for the poller (`whenWoken`), a slow consumer, or a backfill. */
    const pass = (): void => {
      for (;;) {
        if (isStopped()) return finish();
        const failure = member.failure ?? poller.failure;
        if (failure) return finish(failure);
        const { tail } = poller;
        if (next < tail.start) {
          if (live) return finish(overflowError(next));
          member.position = undefined;
          backfill(next).then((reached) => {
            next = reached;
            step();
          }, finish);
          return;
        }
        live = true;
        member.position = next;
        const piece = tail.readFrom(next);
        if (piece) {
          const chunk = chunkOf(poller, piece, poller.tail.end, poller.ended);
          offered = piece.nextOffset;
          const taking = push(chunk, taken);
          if (taking) {
            taking.then(() => {
              if (!sent(chunk.complete, piece.nextOffset)) step();
            }, finish);
            return;
          }
          if (sent(chunk.complete, piece.nextOffset)) return;
          continue;
        }
        if (poller.ended) {
          Promise.resolve(push({ offset: next, nextOffset: next, content: '', size: tail.end, atEnd: true, complete: true })).then(() => finish(), finish);
          return;
        }
        if (poller.stopped) return finish(new BuildgateError('UPSTREAM_UNAVAILABLE', 'the build\'s poller stopped'));
        member.whenWoken(step);
        return;
      }
    };
    // A wake-up while a pass runs (from inside a push) runs another pass after it, not one inside it.
    const step = (): void => {
      if (finished) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          pass();
        } while (again && !finished);
      } catch (error) {
        finish(error);
      } finally {
        running = false;
      }
    };
    step();
  });
}

/**
 * The chunk of a piece of the tail as the log stands (its size, whether the build has ended), one object
 * for every subscriber that reads it: the tails hand out one piece object per (offset, next offset), so
 * the subscribers at one offset share one chunk, and plugins/use-shared-event-execution.ts executes and
 * serializes it once for all of them. One chunk per poller, replaced by the next (a cache keyed weakly by
 * piece kept every chunk a promoted piece outlived until a major GC: 130 MB more for one 200 MB log).
 */
function chunkOf(poller: BuildPoller, piece: TracePiece, size: number, ended: boolean): TraceChunkModel {
  const atEnd = piece.nextOffset >= size;
  const complete = ended && atEnd;
  const known = poller.sharedChunk;
  if (known && known.piece === piece && known.chunk.size === size && known.chunk.complete === complete) return known.chunk;
  const chunk = { ...piece, size, atEnd, complete };
  poller.sharedChunk = { piece, chunk };
  return chunk;
}

export function overflowError(nextOffset: number): BuildgateError {
  return new BuildgateError('TRACE_OVERFLOW', 'this subscriber fell too far behind the log; resubscribe from nextOffset', {
    extensions: { nextOffset },
  });
}

