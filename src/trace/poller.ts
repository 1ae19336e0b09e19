/**
 * One poller per watched build, however many subscribers and credentials: it reads the build's status
 * and the new end of its log once per interval, into a shared `TraceTail`, and wakes its subscribers.
 * It reads with the service credential, else with the credential of a subscriber whose own access check
 * passed; it backs off while nothing changes, honours the upstream's poll-interval hint (GitLab's `Poll-Interval`), and stops when the build ends
 * or its last subscriber leaves.
 *
 * With replicas on one Redis (`cluster.ts`), it asks its `BuildReplica` before each poll: as the lease
 * holder it polls and appends each new piece to the build's stream; as a follower it polls nothing, and
 * the holder's pieces arrive in `#apply`; without Redis it polls for its own subscribers.
 */
import { BuildgateError, isRefusal } from '../errors.js';
import type { BuildModel, Credential, TraceChunkModel } from '../model.js';
import type { CallContext, Upstream } from '../upstreams/types.js';
import { TERMINAL_STATUSES } from '../model.js';
import type { StreamEntry } from './build-stream.js';
import type { BuildReplica, ReplicaHandlers } from './cluster.js';
import { applyEntry, publishFailure, publishFrom, publishState, syncStream } from './stream-sync.js';
import { createTail } from './create-tail.js';
import type { TracePiece, TraceTail } from './tail.js';


export interface PollerOptions {
  /** ms between polls while the log grows. @default 1000 */
  intervalMs: number;
  /** Longest ms between polls while nothing changes. @default 10000 */
  maxIntervalMs: number;
  /** Characters of log kept for subscribers to read. @default 4 MiB */
  tailChars: number;
  /** Consecutive failed polls after which every subscriber gets the error. @default 10 */
  maxFailures: number;
  /**
   * ms a subscriber may hold the poller up (as its fastest reader) or stay overrun (its next byte gone
   * from the tail) before it gets TRACE_OVERFLOW and is dropped. @default 5000
   */
  slowSubscriberGraceMs: number;
}

export interface BuildAddress {
  upstream: string;
  projectId: string;
  locator: string;
}

/** What a subscriber gives the poller: a credential it may read with, once verified. */
export interface PollerMember {
  readonly credential: Credential | undefined;
  verified: boolean;
  /** The next log offset this member will read; undefined while it is not reading the tail. */
  position: number | undefined;
  /** Whether it reads the log (a `buildStatus` subscriber does not). */
  readonly wantsTrace: boolean;
  /** Set when this member may no longer receive anything. */
  failure?: BuildgateError;
  /** Since when this member, the fastest reader, has kept a full tail waiting (undefined once it caught up). */
  holdingSince?: number;
  /** When its consumer last took a piece of the tail. */
  readAt?: number;
  wake(): void;
  /** Ends this member's stream with TRACE_OVERFLOW at the offset it has been sent up to. Idempotent. */
  overflow(): void;
}

/** Members woken per turn of the event loop (`#wakeAll`). */
const WAKE_BATCH = 256;

export class BuildPoller {
  readonly address: BuildAddress;
  readonly #adapter: Upstream;
  readonly #serviceCredential: Credential | undefined;
  readonly #options: PollerOptions;
  readonly #members = new Set<PollerMember>();
  readonly #onStop: () => void;
  readonly tail: TraceTail;
  /** The build as last read; undefined until the first poll. */
  build: BuildModel | undefined;
  /** Bumped on every status change, for status subscribers. */
  statusVersion = 0;
  /** True once the build is terminal and its last bytes are in the tail. */
  ended = false;
  /** The last chunk handed out and the tail piece it was made of: one object for every subscriber at that offset (follow-tail.ts). */
  sharedChunk: { piece: TracePiece; chunk: TraceChunkModel } | undefined;
  /** Set when polling failed for good; every subscriber ends with it. */
  failure: BuildgateError | undefined;
  polls = 0;
  #timer: NodeJS.Timeout | undefined;
  /** When the poll the timer is set for is due. */
  #dueAt = 0;
  #interval: number;
  #hintMs = 0;
  #failures = 0;
  #stopped = false;
  #abort = new AbortController();
  #progress: (() => void) | undefined;
  /** Members overrun and waiting out their grace period. */
  readonly #overrun = new WeakSet<PollerMember>();
  readonly #replica: BuildReplica | undefined;
  /** True while a poll (or a follower's turn) runs: `#pollNow` then waits for it. */
  #busy = false;
  /** The round of wake-ups under way: the members it has yet to wake. */
  #waking: Iterator<PollerMember> | undefined;
  #wakeAgain = false;

  constructor(
    address: BuildAddress,
    adapter: Upstream,
    serviceCredential: Credential | undefined,
    start: { offset: number; build: BuildModel },
    options: PollerOptions,
    onStop: () => void,
    /** This build's part in the replicas sharing Redis; none for a gateway alone. */
    replicate?: (handlers: ReplicaHandlers) => BuildReplica,
  ) {
    this.address = address;
    this.#adapter = adapter;
    this.#serviceCredential = serviceCredential;
    this.#options = options;
    this.#interval = options.intervalMs;
    this.#onStop = onStop;
    this.build = start.build;
    this.tail = createTail(adapter.traceUnit, start.offset, options.tailChars);
    this.#replica = replicate?.({ apply: (entry) => this.#apply(entry), pollNow: () => this.#pollNow() });
    this.#schedule(0);
  }

  /** This replica's role for the build: `local` without Redis. */
  get role(): 'local' | 'holder' | 'follower' {
    return this.#replica?.role ?? 'local';
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  join(member: PollerMember): void {
    this.#members.add(member);
  }

  leave(member: PollerMember): void {
    this.#members.delete(member);
    if (this.#members.size === 0) this.stop();
  }

  /** Stops polling and wakes every subscriber. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    this.#replica?.close();
    this.#onStop();
    this.#wakeAll();
  }

  #schedule(delay: number): void {
    this.#dueAt = Date.now() + delay;
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#poll(), delay);
    this.#timer.unref?.();
  }

  /** The service credential, else the first verified member's; undefined only when nobody may read. */
  #reader(): { credential: Credential | undefined; member?: PollerMember } | undefined {
    if (this.#serviceCredential) return { credential: this.#serviceCredential };
    for (const member of this.#members) if (member.verified && !member.failure) return { credential: member.credential, member };
    return undefined;
  }

  async #poll(): Promise<void> {
    if (this.#stopped) return;
    this.#busy = true;
    try {
      const replica = this.#replica;
      if (replica) {
        const role = await replica.decide();
        if (this.#stopped) return;
        if (role === 'follower') {
          this.#schedule(replica.retryMs);
          return;
        }
        if (role === 'holder' && replica.needsSync && !(await syncStream(replica, this, (entry) => this.#apply(entry)))) {
          this.#schedule(replica.retryMs);
          return;
        }
        if (this.#stopped) return;
      }
      await this.#pollUpstream();
    } finally {
      this.#busy = false;
    }
  }

  /** A follower that lost the stream polls at once, unless a poll runs. */
  #pollNow(): void {
    if (this.#stopped || this.#busy) return;
    clearTimeout(this.#timer);
    this.#schedule(0);
  }

  async #pollUpstream(): Promise<void> {
    const reader = this.#reader();
    if (!reader) {
      this.#schedule(this.#interval);
      return;
    }
    const call: CallContext = {
      credential: reader.credential,
      signal: this.#abort.signal,
      // One poll per interval serves every watcher whatever their credentials: billed to the one it reads
      // with, it would spend that credential's budget for everyone and end every stream once spent.
      unmetered: true,
      onPollIntervalHint: (ms) => {
        this.#hintMs = ms;
      },
    };
    let changed = false;
    try {
      this.polls += 1;
      const build = await this.#adapter.getBuild(call, this.address.projectId, this.address.locator);
      const statusChanged = build.status !== this.build?.status || build.attempt !== this.build?.attempt;
      if (statusChanged) {
        this.statusVersion += 1;
        changed = true;
      }
      this.build = build;
      // Read the log after the status: once the build is terminal, this read holds its last bytes.
      const before = this.tail.end;
      let published = before;
      // A holder reads the log for every replica, whatever its own subscribers watch.
      const holder = this.#replica?.role === 'holder';
      const wanted = holder || [...this.#members].some((member) => member.wantsTrace);
      if (wanted) for await (const slice of this.#adapter.streamTrace(call, this.address.projectId, this.address.locator, {
        offset: this.tail.end,
        attempt: build.attempt,
      })) {
        if (this.tail.wouldOverflow(slice)) await this.#waitForLeader();
        if (this.#stopped) return;
        this.tail.append(slice);
        this.#dropOverrun();
        this.#wakeAll();
        if (holder) published = await publishFrom(this.#replica!, this.tail, published);
      }
      if (this.tail.end !== before) changed = true;
      if (TERMINAL_STATUSES.has(build.status)) this.ended = true;
      this.#failures = 0;
      if (holder) await publishState(this.#replica!, this, statusChanged, published);
    } catch (error) {
      if (this.#stopped) return;
      const coded = error instanceof BuildgateError ? error : new BuildgateError('UPSTREAM_ERROR', 'reading the build failed');
      if (reader.member && isRefusal(coded)) {
        // That member's credential lost its access: it stops receiving; the next poll reads with another.
        reader.member.failure = coded;
        reader.member.wake();
        this.#schedule(0);
        return;
      }
      this.#failures += 1;
      if (this.#failures >= this.#options.maxFailures || isRefusal(coded)) {
        this.failure = coded;
        if (this.#replica) publishFailure(this.#replica, this, coded);
        this.#wakeAll();
        this.stop();
        return;
      }
    }
    if (changed) this.#wakeAll();
    if (this.ended) {
      this.stop();
      return;
    }
    this.#interval = changed ? this.#options.intervalMs : Math.min(this.#interval * 1.5, this.#options.maxIntervalMs);
    // The interval runs from when this poll was due, so neither a slow read nor a timer that fired late
    // (a busy event loop) stretches the cadence; a poll later than that runs at once.
    this.#schedule(Math.max(0, this.#dueAt + Math.max(this.#interval, this.#hintMs) - Date.now()));
  }

  /** A piece (and state) the holder appended, as a follower applies it: as if this poller had read it. */
  #apply(entry: StreamEntry): void {
    if (this.#stopped) return;
    const outcome = applyEntry(this, this.#adapter.traceUnit, entry);
    if (outcome.grew) this.#dropOverrun();
    if (outcome.failed) {
      this.stop();
      return;
    }
    if (outcome.changed || this.ended) this.#wakeAll();
    if (this.ended) this.stop();
  }

  /** A member read something: the poller may be waiting for room in the tail. */
  progress(member: PollerMember): void {
    member.readAt = Date.now();
    if (member.position !== undefined && member.position >= this.tail.end) member.holdingSince = undefined;
    this.#progress?.();
  }

  /**
   * With the tail full, waits until the member furthest along has read to the tail's end: the poller
   * runs at the pace of its fastest reader, so one reader of a large log is not overrun, while a
   * slower member never holds anyone up (it is overrun, and told so). The leader may hold the poller
   * for the grace period in all, not per wait; while other readers wait too, only as long as it keeps
   * reading (a poll interval without a read ends the wait), so a reader that stops at the head, or
   * keeps resubscribing there, costs the others at most an interval.
   */
  async #waitForLeader(): Promise<void> {
    for (;;) {
      const leader = this.#leader();
      if (this.#stopped || !leader || leader.position! >= this.tail.end) return;
      const now = Date.now();
      leader.holdingSince ??= now;
      let deadline = leader.holdingSince + this.#options.slowSubscriberGraceMs;
      if (this.#othersRead(leader)) deadline = Math.min(deadline, Math.max(leader.readAt ?? now, leader.holdingSince) + this.#options.intervalMs);
      if (now >= deadline) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - now));
        this.#progress = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#progress = undefined;
    }
  }

  /** Whether a member besides `leader` reads the tail. */
  #othersRead(leader: PollerMember): boolean {
    for (const member of this.#members) if (member !== leader && !member.failure && member.position !== undefined) return true;
    return false;
  }

  /** The member reading the tail that is furthest along. */
  #leader(): PollerMember | undefined {
    let leader: PollerMember | undefined;
    for (const member of this.#members) {
      if (member.failure || member.position === undefined) continue;
      if (!leader || member.position > leader.position!) leader = member;
    }
    return leader;
  }

  /**
   * Members whose next byte the tail no longer holds cannot catch up from it: each gets TRACE_OVERFLOW
   * after the grace period (at once if it reads before), and leaves; nobody waits for it meanwhile.
   */
  #dropOverrun(): void {
    for (const member of this.#members) {
      if (member.failure || member.position === undefined || member.position >= this.tail.start || this.#overrun.has(member)) continue;
      this.#overrun.add(member);
      setTimeout(() => {
        this.#overrun.delete(member);
        if (this.#members.has(member)) member.overflow();
      }, this.#options.slowSubscriberGraceMs).unref?.();
    }
  }

  /**
   * Wakes every member, `WAKE_BATCH` at a time, each batch in a turn of the event loop of its own: at
   * 10,000 watchers one batch's deliveries (and their writes) finish before the next starts, so timers
   * (this poller's next poll among them) and other sockets are served in between, and what a delivery
   * leaves behind dies young instead of outliving a storm of 10,000. Woken again while a round runs,
   * the members already past get another round once it ends.
   */
  #wakeAll(): void {
    if (this.#waking) {
      this.#wakeAgain = true;
      return;
    }
    // The set's own iterator, not a copy: a round lasts a few turns, and a copy of 10,000 members per
    // round outlived scavenges into the old generation. Members joining meanwhile are woken too.
    this.#waking = this.#members.values();
    this.#wakeBatch();
  }

  readonly #wakeBatch = (): void => {
    const members = this.#waking!;
    for (let i = 0; i < WAKE_BATCH; i++) {
      const step = members.next();
      if (step.done) {
        this.#waking = undefined;
        if (this.#wakeAgain) {
          this.#wakeAgain = false;
          this.#wakeAll();
        }
        return;
      }
      step.value.wake();
    }
    setImmediate(this.#wakeBatch);
  };
}
