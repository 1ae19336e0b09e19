/**
 * Where a build's poller meets its stream (`cluster.ts`): as the holder it appends what its tail
 * gained, and its build when the status changes; on taking the lease it first applies what the stream
 * holds and continues the stream from where its own tail ends; as a follower it applies each entry as
 * if it had read that piece itself. Offsets are the upstream's (bytes, or bk-ci's lines) on every
 * replica, so a subscriber's `nextOffset` means the same bytes wherever it resumes.
 */
import { BuildgateError } from '../errors.js';
import type { BuildModel, TraceUnit } from '../model.js';
import type { StreamEntry } from './build-stream.js';
import type { BuildReplica } from './cluster.js';
import type { TraceTail } from './tail.js';

/** The largest piece appended to a build's stream at once. */
const MAX_STREAM_PIECE = 1024 * 1024;

/** What of a poller the stream reads and writes. */
export interface StreamedState {
  readonly tail: TraceTail;
  build: BuildModel | undefined;
  statusVersion: number;
  ended: boolean;
  failure: BuildgateError | undefined;
}

/** Appends what `tail` holds from `from` to the stream (all of it, as a new start, when `force`); returns where it got to. */
export async function publishFrom(replica: BuildReplica, tail: TraceTail, from: number, force = false): Promise<number> {
  let at = from;
  if (at < tail.start) {
    at = tail.start;
    force = true;
  }
  while (at < tail.end && replica.role === 'holder') {
    const piece = tail.rawFrom(at, MAX_STREAM_PIECE);
    if (!piece) break;
    if ((await replica.publish({ offset: piece.offset, nextOffset: piece.nextOffset, content: piece.bytes, force })) !== 'ok') break;
    force = false;
    at = piece.nextOffset;
  }
  return at;
}

/**
 * After a poll as the holder: the build when its status changed (or the build ended), else only
 * keeps the stream alive. A conflict or a lost Redis is handled at the next poll's `decide`.
 */
export async function publishState(replica: BuildReplica, state: StreamedState, statusChanged: boolean, published: number): Promise<void> {
  if (replica.role !== 'holder' || published < state.tail.end) return;
  if (statusChanged || state.ended) {
    await replica.publish({ offset: state.tail.end, nextOffset: state.tail.end, build: JSON.stringify(state.build), ended: state.ended });
  } else {
    await replica.stream.touch().catch(() => {});
  }
}

/** A failure for good, for every replica's subscribers: their followers would read the same upstream with the same outcome. */
export function publishFailure(replica: BuildReplica, state: StreamedState, failure: BuildgateError): void {
  if (replica.role !== 'holder') return;
  void replica.publish({ offset: state.tail.end, nextOffset: state.tail.end, failure: JSON.stringify({ code: failure.code, message: failure.message }) });
}

/**
 * On taking the lease: applies what the stream holds beyond this replica's tail, then continues the
 * stream from where this tail ends, so the next poll neither repeats nor skips a byte. A stream this
 * tail cannot continue (none yet, or Redis restarted empty, or it ends outside the tail) starts again
 * from what the tail holds. False when Redis failed meanwhile.
 */
export async function syncStream(replica: BuildReplica, state: StreamedState, apply: (entry: StreamEntry) => void): Promise<boolean> {
  try {
    for (const entry of await replica.stream.readAfter(replica.lastId)) {
      replica.lastId = entry.id;
      apply(entry);
    }
    if (state.ended || state.failure) return true;
    const end = await replica.stream.end();
    replica.needsSync = false;
    const { tail } = state;
    if (end !== undefined && end >= tail.start && end <= tail.end) {
      await publishFrom(replica, tail, end);
    } else if (tail.end > tail.start) {
      await publishFrom(replica, tail, tail.start, true);
    } else {
      await replica.publish({ offset: tail.end, nextOffset: tail.end, build: JSON.stringify(state.build), force: true });
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Applies an entry to the poller's state. `grew`: the tail gained bytes; `changed`: anything a
 * subscriber waits for changed; `failed`: the holder failed for good (`state.failure` is set).
 */
export function applyEntry(state: StreamedState, unit: TraceUnit, entry: StreamEntry): { grew: boolean; changed: boolean; failed: boolean } {
  let changed = false;
  let grew = false;
  // A build is as recent as the log it was read with: an older entry (read again after Redis came back) is not.
  if (entry.build && entry.nextOffset >= state.tail.end) {
    const build = JSON.parse(entry.build) as BuildModel;
    if (build.status !== state.build?.status || build.attempt !== state.build?.attempt) {
      state.statusVersion += 1;
      changed = true;
    }
    state.build = build;
  }
  if (entry.nextOffset > entry.offset) {
    const before = state.tail.end;
    const bytes = unit === 'BYTES';
    state.tail.append({
      offset: entry.offset,
      nextOffset: entry.nextOffset,
      content: bytes ? '' : entry.content.toString('utf8'),
      size: entry.nextOffset,
      atEnd: true,
      ...(bytes && { bytes: entry.content }),
    });
    grew = state.tail.end !== before;
    changed ||= grew;
  }
  if (entry.failure) {
    const { code, message } = JSON.parse(entry.failure) as { code: BuildgateError['code']; message: string };
    state.failure = new BuildgateError(code, message);
    return { grew, changed: true, failed: true };
  }
  if (entry.ended) state.ended = true;
  return { grew, changed, failed: false };
}
