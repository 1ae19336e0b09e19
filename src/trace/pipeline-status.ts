/**
 * `pipelineStatus`: every subscription of one pipeline shares one poller, however many subscribers and
 * credentials. Like the trace hub's `buildStatus`, each subscriber's access is checked with its own
 * credential when it subscribes (one read, shared by the subscribers of the same pipeline and credential
 * for half a recheck period) and again every `recheckMs`; a subscriber whose check fails gets that error
 * and nothing else. The poller reads with the service credential, else with a verified subscriber's,
 * unmetered (one read per interval serves everyone), backs off while nothing changes, and stops at a
 * terminal status or when its last subscriber leaves. One process only: there are no leases here.
 */
import { BuildgateError, isRefusal } from '../errors.js';
import type { Credential, PipelineModel } from '../model.js';
import { TERMINAL_STATUSES } from '../model.js';
import type { CallContext, Upstream } from '../upstreams/types.js';
import { Channel } from './channel.js';
import { AccessChecks, Rechecks } from './access-checks.js';

export interface PipelineStatusOptions {
  /** ms between polls after a change. @default 1000 */
  intervalMs: number;
  /** Longest ms between polls while nothing changes. @default 10000 */
  maxIntervalMs: number;
  /** ms between two access checks of one subscriber's credential. @default 30000 */
  recheckMs: number;
  /** Consecutive failed polls after which every subscriber gets the error. @default 10 */
  maxFailures: number;
}

export const DEFAULT_PIPELINE_STATUS_OPTIONS: PipelineStatusOptions = { intervalMs: 1000, maxIntervalMs: 10_000, recheckMs: 30_000, maxFailures: 10 };

export interface PipelineAddress {
  upstream: string;
  /** The canonical project id, so every spelling of a project shares one poller. */
  projectId: string;
  pipelineId: string;
}

export interface PipelineWatchRequest {
  address: PipelineAddress;
  adapter: Upstream;
  /** The subscriber's own credential (and nothing else of its request). */
  credential: Credential | undefined;
  /** The upstream's configured service credential, which the poller prefers. */
  serviceCredential: Credential | undefined;
}

class Watcher {
  verified = true;
  failure: BuildgateError | undefined;
  #wake: (() => void) | undefined;

  constructor(readonly credential: Credential | undefined) {}

  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  nextWake(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }
}

class PipelinePoller {
  readonly #members = new Set<Watcher>();
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #interval: number;
  #failures = 0;
  /** The pipeline as last read. */
  pipeline: PipelineModel;
  /** Bumped at every status change the poller sees. */
  version = 0;
  failure: BuildgateError | undefined;
  ended = false;
  stopped = false;
  polls = 0;

  constructor(
    readonly request: PipelineWatchRequest,
    start: PipelineModel,
    readonly options: PipelineStatusOptions,
    readonly onStop: () => void,
  ) {
    this.pipeline = start;
    this.#interval = options.intervalMs;
    // The subscriber's own check has just read the pipeline: the first poll waits an interval.
    this.#schedule(options.intervalMs);
  }

  get size(): number {
    return this.#members.size;
  }

  join(member: Watcher): void {
    this.#members.add(member);
  }

  leave(member: Watcher): void {
    this.#members.delete(member);
    if (this.#members.size === 0) this.stop();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    this.#wakeAll();
    this.onStop();
  }

  #schedule(delay: number): void {
    if (!this.stopped) this.#timer = setTimeout(() => void this.#poll(), delay);
  }

  #wakeAll(): void {
    for (const member of this.#members) member.wake();
  }

  #reader(): { credential: Credential | undefined; member?: Watcher } | undefined {
    if (this.request.serviceCredential) return { credential: this.request.serviceCredential };
    for (const member of this.#members) if (member.verified && !member.failure) return { credential: member.credential, member };
    return undefined;
  }

  async #poll(): Promise<void> {
    const reader = this.#reader();
    if (!reader) return this.#schedule(this.#interval);
    const { adapter, address } = this.request;
    const call: CallContext = { credential: reader.credential, signal: this.#abort.signal, unmetered: true };
    const started = Date.now();
    let changed = false;
    try {
      this.polls += 1;
      const pipeline = await adapter.getPipeline(call, address.projectId, address.pipelineId);
      if (this.stopped) return;
      changed = pipeline.status !== this.pipeline.status;
      this.pipeline = pipeline;
      if (changed) this.version += 1;
      this.#failures = 0;
      if (TERMINAL_STATUSES.has(pipeline.status ?? 'CREATED')) this.ended = true;
    } catch (error) {
      if (this.stopped) return;
      const coded = error instanceof BuildgateError ? error : new BuildgateError('UPSTREAM_ERROR', 'reading the pipeline failed');
      if (reader.member && isRefusal(coded)) {
        // That credential lost its access: its subscriber ends; the next poll reads with another's.
        reader.member.failure = coded;
        reader.member.verified = false;
        reader.member.wake();
        return this.#schedule(0);
      }
      this.#failures += 1;
      if (this.#failures >= this.options.maxFailures || isRefusal(coded)) {
        this.failure = coded;
        return this.stop();
      }
    }
    if (changed) this.#wakeAll();
    if (this.ended) return this.stop();
    this.#interval = changed ? this.options.intervalMs : Math.min(this.#interval * 1.5, this.options.maxIntervalMs);
    this.#schedule(Math.max(0, this.#interval - (Date.now() - started)));
  }
}

export class PipelineStatusHub {
  readonly #options: PipelineStatusOptions;
  readonly #pollers = new Map<string, PipelinePoller>();
  readonly #checks: AccessChecks<PipelineModel>;
  /** The subscribers to check again: one timer checks them all every `recheckMs`. */
  readonly #rechecks: Rechecks;
  readonly #streams = new Set<(error?: Error) => void>();
  #subscribers = 0;
  #closed = false;

  constructor(options: Partial<PipelineStatusOptions> = {}) {
    this.#options = { ...DEFAULT_PIPELINE_STATUS_OPTIONS, ...options };
    for (const [name, value] of Object.entries(this.#options)) {
      if (!Number.isFinite(value) || value <= 0) throw new TypeError(`pipeline status option ${name} must be a positive number, got ${value}`);
    }
    this.#checks = new AccessChecks(this.#options.recheckMs);
    this.#rechecks = new Rechecks(this.#options.recheckMs);
  }

  get stats(): { pollers: number; subscribers: number; polls: number } {
    let polls = 0;
    for (const poller of this.#pollers.values()) polls += poller.polls;
    return { pollers: this.#pollers.size, subscribers: this.#subscribers, polls };
  }

  /** The pipeline now, then at every status change, until a terminal status. */
  watch(request: PipelineWatchRequest): AsyncIterableIterator<PipelineModel> {
    return new Channel<PipelineModel>(async (push, stop, streamEnded) => {
      if (this.#closed) return stop(new BuildgateError('SHUTTING_DOWN', 'the gateway is shutting down; subscribe again elsewhere'));
      const member = new Watcher(request.credential);
      let stopped = false;
      void streamEnded.then(() => {
        stopped = true;
        member.wake();
      });
      this.#streams.add(stop);
      this.#subscribers += 1;
      let poller: PipelinePoller | undefined;
      try {
        const start = await this.#sharedCheck(request);
        if (stopped) return;
        await push(start);
        if (TERMINAL_STATUSES.has(start.status ?? 'CREATED')) return stop();
        poller = this.#pollerFor(request, start);
        poller.join(member);
        this.#rechecks.add(member, () => this.#sharedCheck(request));
        // Only what the poller reads after this subscriber joined is news to it: a poller started
        // earlier may hold an older state than the subscriber's own check just read.
        let seen = poller.version;
        let last = start.status;
        for (;;) {
          if (stopped) return;
          const failure = member.failure ?? poller.failure;
          if (failure) throw failure;
          const current = poller.pipeline;
          if (poller.version !== seen && current.status !== last) {
            seen = poller.version;
            last = current.status;
            await push(current);
            if (TERMINAL_STATUSES.has(current.status ?? 'CREATED')) return stop();
            continue;
          }
          if (poller.stopped) throw new BuildgateError('UPSTREAM_UNAVAILABLE', "the pipeline's poller stopped");
          await member.nextWake();
        }
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

  /** Ends every subscription with SHUTTING_DOWN and stops every poller. Idempotent. */
  close(): void {
    this.#closed = true;
    const shuttingDown = new BuildgateError('SHUTTING_DOWN', 'the gateway is shutting down; subscribe again');
    for (const stop of [...this.#streams]) stop(shuttingDown);
    for (const poller of [...this.#pollers.values()]) poller.stop();
  }

  #pollerFor(request: PipelineWatchRequest, start: PipelineModel): PipelinePoller {
    const key = keyOf(request.address);
    let poller = this.#pollers.get(key);
    if (!poller || poller.stopped) {
      const created: PipelinePoller = new PipelinePoller(request, start, this.#options, () => {
        if (this.#pollers.get(key) === created) this.#pollers.delete(key);
      });
      this.#pollers.set(key, (poller = created));
    }
    return poller;
  }

  /** One read with the subscriber's own credential, shared with the same pipeline and credential for half a recheck period. */
  #sharedCheck(request: PipelineWatchRequest): Promise<PipelineModel> {
    const { adapter, address } = request;
    return this.#checks.check(keyOf(address), request.credential, () => adapter.getPipeline({ credential: request.credential }, address.projectId, address.pipelineId));
  }
}

function keyOf(address: PipelineAddress): string {
  return JSON.stringify([address.upstream, address.projectId, address.pipelineId]);
}
