/**
 * The trace hub: every `buildTrace` and `buildStatus` subscription of one build shares one
 * `BuildPoller`. Each subscriber's access is checked with its own credential when it subscribes (one
 * cheap read) and again every `recheckMs`; a subscriber whose check fails gets that error and nothing
 * more. A subscriber starts from its own offset: what the shared tail no longer holds it reads from
 * upstream with its own credential, then follows the tail.
 */
import { BuildgateError, isRefusal } from '../errors.js';
import { credentialDigest } from '../upstreams/credential-digest.js';
import type { BuildModel, Credential, TraceChunkModel, TraceSlice } from '../model.js';
import type { CallContext, Upstream } from '../upstreams/types.js';
import { TERMINAL_STATUSES } from '../model.js';
import { AccessChecks, Rechecks } from './access-checks.js';
import { Channel } from './channel.js';
import type { TraceCluster } from './cluster.js';
import { type BuildAddress, BuildPoller, type PollerMember, type PollerOptions } from './poller.js';
import { splitSlice } from './split-slice.js';
import { followTail, overflowError } from './follow-tail.js';

export interface TraceHubOptions extends PollerOptions {
  /** ms between two access checks of one subscriber's credential. @default 30000 */
  recheckMs: number;
}

export const DEFAULT_TRACE_HUB_OPTIONS: TraceHubOptions = {
  intervalMs: 1000,
  maxIntervalMs: 10_000,
  tailChars: 4 * 1024 * 1024,
  maxFailures: 10,
  slowSubscriberGraceMs: 5000,
  recheckMs: 30_000,
};

export interface WatchRequest {
  address: BuildAddress;
  adapter: Upstream;
  /** The subscriber's own credential (and nothing else of its request). */
  credential: Credential | undefined;
  /** The upstream's configured service credential, which the poller prefers. */
  serviceCredential: Credential | undefined;
}

class Member implements PollerMember {
  verified = true;
  /** The offset this member has been sent up to (its consumer took everything before it). */
  position: number | undefined;
  failure: BuildgateError | undefined;
  holdingSince: number | undefined;
  readAt: number | undefined;
  #wake: (() => void) | undefined;

  constructor(
    readonly credential: Credential | undefined,
    readonly wantsTrace: boolean,
    /** Ends the member's stream with `error`, even while a value waits for its consumer. */
    readonly end: (error: BuildgateError) => void,
  ) {}

  overflow(): void {
    if (this.failure || this.position === undefined) return;
    this.failure = overflowError(this.position);
    this.end(this.failure);
    this.wake();
  }

  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Resolves at the next wake-up (new log, a status change, a failure, or the subscriber leaving). */
  nextWake(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  /** Calls `woken` at the next wake-up, synchronously: no promise to outlive the wait. */
  whenWoken(woken: () => void): void {
    this.#wake = woken;
  }
}

export class TraceHub {
  readonly #options: TraceHubOptions;
  readonly #pollers = new Map<string, BuildPoller>();
  readonly #streams = new Set<(error?: Error) => void>();
  /** Recent access checks by build and credential: subscribers sharing a token share one check. */
  readonly #checks: AccessChecks<BuildModel>;
  readonly #cluster: TraceCluster | undefined;
  #closed = false;
  #subscribers = 0;
  /** The subscribers to check again: one timer checks them all every `recheckMs`. */
  readonly #rechecks: Rechecks;

  /** `cluster`: the replicas sharing Redis, so that one of them polls each watched build for all. */
  constructor(options: Partial<TraceHubOptions> = {}, cluster?: TraceCluster) {
    this.#cluster = cluster;
    this.#options = { ...DEFAULT_TRACE_HUB_OPTIONS, ...options };
    for (const [name, value] of Object.entries(this.#options)) {
      if (!Number.isFinite(value) || value <= 0) throw new TypeError(`trace hub option ${name} must be a positive number, got ${value}`);
    }
    this.#checks = new AccessChecks(this.#options.recheckMs);
    this.#rechecks = new Rechecks(this.#options.recheckMs);
  }

  get stats(): { pollers: number; subscribers: number; polls: number; leases?: { held: number; followed: number } } {
    let polls = 0;
    for (const poller of this.#pollers.values()) polls += poller.polls;
    return { pollers: this.#pollers.size, subscribers: this.#subscribers, polls, ...(this.#cluster && { leases: this.#cluster.leases }) };
  }

  /** The poller of a build, if one runs (for tests and metrics). */
  poller(address: BuildAddress): BuildPoller | undefined {
    return this.#pollers.get(keyOf(address));
  }

  /** The build's log from `offset`, then each new piece, until the build ends and its last bytes are sent (follow-tail.ts). */
  trace(request: WatchRequest, offset: number): AsyncIterableIterator<TraceChunkModel> {
    return this.#watch<TraceChunkModel>(request, offset, (member, poller, build, push, isStopped) => {
      if (!poller) return this.#finishedTrace(request, build, offset, push, isStopped);
      return followTail({
        member,
        poller,
        offset,
        push,
        isStopped,
        backfill: (from) => this.#backfill(request, build, from, () => poller.tail.start, push, isStopped, member),
      });
    });
  }

  /** The build now, then again at every status change, until a terminal status. */
  status(request: WatchRequest): AsyncIterableIterator<BuildModel> {
    return this.#watch<BuildModel>(request, undefined, async (member, poller, build, push, isStopped) => {
      await push(build);
      if (!poller) return;
      let seen = poller.statusVersion;
      let last = build;
      for (;;) {
        if (isStopped()) return;
        const failure = member.failure ?? poller.failure;
        if (failure) throw failure;
        const current = poller.build;
        if (poller.statusVersion !== seen && current && (current.status !== last.status || current.attempt !== last.attempt)) {
          seen = poller.statusVersion;
          last = current;
          await push(current);
          if (TERMINAL_STATUSES.has(current.status)) return;
          continue;
        }
        if (poller.stopped) {
          if (poller.ended) return;
          throw new BuildgateError('UPSTREAM_UNAVAILABLE', 'the build\'s poller stopped');
        }
        await member.nextWake();
      }
    });
  }

  /** Ends every subscription with SHUTTING_DOWN (clients reconnect elsewhere) and stops every poller. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const shuttingDown = new BuildgateError('SHUTTING_DOWN', 'the gateway is shutting down; subscribe again to resume from your last nextOffset');
    for (const stop of [...this.#streams]) stop(shuttingDown);
    for (const poller of [...this.#pollers.values()]) poller.stop();
    this.#cluster?.close();
  }

  /** `offset`: where a trace subscriber starts (undefined for a status subscriber). */
  #watch<T>(
    request: WatchRequest,
    offset: number | undefined,
    run: (
      member: Member,
      /** Undefined for a build that had already finished: nothing left to poll. */
      poller: BuildPoller | undefined,
      build: BuildModel,
      push: (value: T, taken?: () => void) => Promise<unknown> | undefined,
      isStopped: () => boolean,
    ) => Promise<void>,
  ): AsyncIterableIterator<T> {
    return new Channel<T>(async (push, stop, streamEnded) => {
      if (this.#closed) {
        stop(new BuildgateError('SHUTTING_DOWN', 'the gateway is shutting down; subscribe again elsewhere'));
        return;
      }
      let stopped = false;
      const member = new Member(request.credential, offset !== undefined, stop);
      const end = () => {
        stopped = true;
        member.wake();
      };
      void streamEnded.then(end);
      this.#streams.add(stop);
      this.#subscribers += 1;
      let poller: BuildPoller | undefined;
      try {
        const build = await this.#sharedCheck(request);
        if (stopped) return;
        if (!TERMINAL_STATUSES.has(build.status)) {
          poller = this.#pollerFor(request, build, offset ?? 0);
          poller.join(member);
        }
        this.#rechecks.add(member, () => this.#sharedCheck(request));
        await run(member, poller, build, push, () => stopped);
        stop();
      } catch (error) {
        stop(error instanceof Error ? error : new Error(String(error)));
      } finally {
        this.#rechecks.remove(member);
        poller?.leave(member);
        this.#streams.delete(stop);
        this.#subscribers -= 1;
      }
    });
  }

  /** One cheap upstream read with the subscriber's own credential: it may see the build, or it gets the error. */
  #verify(request: WatchRequest): Promise<BuildModel> {
    const call: CallContext = { credential: request.credential };
    return request.adapter.getBuild(call, request.address.projectId, request.address.locator);
  }

  /** The access check of a subscriber, shared with every subscriber of the same build and credential for half a recheck period. */
  #sharedCheck(request: WatchRequest): Promise<BuildModel> {
    return this.#checks.check(keyOf(request.address), request.credential, () => (this.#cluster ? this.#replicatedCheck(request) : this.#verify(request)));
  }

  /**
   * The access check through Redis: an answer some replica got for this build and this credential's
   * digest in the last half recheck period is used as is; else this replica asks, and shares the
   * answer (access or refusal, never a transient fault) under that digest alone.
   */
  async #replicatedCheck(request: WatchRequest): Promise<BuildModel> {
    const cluster = this.#cluster!;
    const key = keyOf(request.address);
    const digest = credentialDigest(request.credential);
    const shared = await cluster.sharedAccess(key, digest);
    if (shared && 'build' in shared) return shared.build;
    if (shared) throw new BuildgateError(shared.refusal.code, shared.refusal.message, { extensions: shared.refusal.extensions });
    const ttlMs = this.#options.recheckMs / 2;
    try {
      const build = await this.#verify(request);
      cluster.shareAccess(key, digest, { build }, ttlMs);
      return build;
    } catch (error) {
      if (isRefusal(error)) {
        const { code: _code, ...extensions } = error.extensions as Record<string, unknown>;
        cluster.shareAccess(key, digest, { refusal: { code: error.code, message: error.message, extensions } }, ttlMs);
      }
      throw error;
    }
  }

  /** The build's poller, started (its tail at the first trace subscriber's offset) if none runs. */
  #pollerFor(request: WatchRequest, build: BuildModel, offset: number): BuildPoller {
    const key = keyOf(request.address);
    let poller = this.#pollers.get(key);
    if (!poller || poller.stopped) {
      poller = new BuildPoller(
        request.address,
        request.adapter,
        request.serviceCredential,
        { offset, build },
        this.#options,
        () => {
          if (this.#pollers.get(key) === poller) this.#pollers.delete(key);
        },
        this.#cluster && ((handlers) => this.#cluster!.replicaFor(key, handlers)),
      );
      this.#pollers.set(key, poller);
    }
    return poller;
  }

  /**
   * A build that had finished before the subscription: its whole log from `offset`, read with the
   * subscriber's own credential, one piece behind so that the last piece can say `complete`.
   */
  async #finishedTrace(
    request: WatchRequest,
    build: BuildModel,
    offset: number,
    push: (value: TraceChunkModel) => Promise<unknown> | undefined,
    isStopped: () => boolean,
  ): Promise<void> {
    let held: TraceSlice | undefined;
    const call: CallContext = { credential: request.credential };
    for await (const slice of request.adapter.streamTrace(call, request.address.projectId, request.address.locator, { offset, attempt: build.attempt })) {
      if (isStopped()) return;
      for (const piece of splitSlice(slice)) {
        if (held) await push({ ...held, complete: false });
        held = piece;
      }
    }
    const last = held ?? { offset, nextOffset: offset, content: '', size: offset, atEnd: true };
    await push({ ...last, atEnd: true, complete: true });
  }

  /**
   * Reads the log from `offset` with the subscriber's own credential until the shared tail covers the
   * rest (or the log ends), pushing each piece; returns the next offset.
   */
  async #backfill(
    request: WatchRequest,
    build: BuildModel,
    offset: number,
    tailStart: () => number,
    push: (value: TraceChunkModel) => Promise<unknown> | undefined,
    isStopped: () => boolean,
    member: Member,
  ): Promise<number> {
    let next = offset;
    const call: CallContext = { credential: request.credential };
    for await (const slice of request.adapter.streamTrace(call, request.address.projectId, request.address.locator, {
      offset,
      attempt: build.attempt,
    })) {
      for (const piece of splitSlice(slice)) {
        if (isStopped() || member.failure) return next;
        await push({ ...piece, complete: false });
        next = piece.nextOffset;
      }
      if (next >= tailStart()) return next;
    }
    // The upstream's log ends before the tail starts (it shrank, e.g. erased): wait for the poller.
    if (next < tailStart()) await member.nextWake();
    return next;
  }
}

function keyOf(address: BuildAddress): string {
  return JSON.stringify([address.upstream, address.projectId, address.locator]);
}
