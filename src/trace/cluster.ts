/**
 * The trace hub's side of the replicas sharing one Redis (`redis.url`): for each watched build, one
 * replica holds a lease and polls the upstream, appending what it reads to the build's stream; the
 * others follow that stream. `TraceCluster` is the replica's part (its stream reader, its counts);
 * `BuildReplica` is one build's role on this replica, which its poller asks before each poll:
 *
 * - `holder`: poll the upstream, as one process does alone, and append each new piece to the stream;
 * - `follower`: poll nothing; the stream reader applies the holder's pieces to the poller's tail;
 * - `local`: Redis is unreachable: poll the upstream for this replica's own subscribers.
 *
 * A follower tries the lease at every half interval, so when a holder dies (its lease expires after
 * `leaseMs`) or leaves (it releases it), a follower takes over within about 1.5 intervals; it first
 * applies what the stream holds, so it continues from the stream's last offset.
 */
import type { ErrorCode } from '../errors.js';
import type { BuildModel } from '../model.js';
import type { RedisLink } from '../redis/connection.js';
import { type AppendResult, BuildStream, type StreamAppend, type StreamEntry } from './build-stream.js';
import { BuildLease, tolerantLockClient } from './lease.js';
import { type StreamFollower, StreamReader } from './stream-reader.js';

export type ReplicaRole = 'local' | 'holder' | 'follower';

/** An access check's answer, shared by the replicas: the build the credential may see, or its refusal. */
export type SharedAccess = { build: BuildModel } | { refusal: { code: ErrorCode; message: string; extensions: Record<string, unknown> } };

export interface TraceClusterOptions {
  /** ms a lease outlives its holder's last refresh; a follower takes over about this long after the holder died. */
  leaseMs: number;
  /** ms between a follower's attempts to take the lease. */
  retryMs: number;
  /** Bytes (or characters) each build's stream keeps. */
  keepBytes: number;
  /** ms a build's stream is kept after its last write. */
  streamTtlMs: number;
}

/** What a build's replica asks of its poller. */
export interface ReplicaHandlers {
  /** Applies a piece the holder appended (this replica follows). */
  apply(entry: StreamEntry): void;
  /** Polls now: this replica stopped following (Redis lost) and must poll for itself. */
  pollNow(): void;
}

/** A build's identity in keys: readable, and one Redis Cluster slot for the stream and its meta. */
const buildId = (key: string): string => `{${key}}`;

export class TraceCluster {
  readonly link: RedisLink;
  readonly options: TraceClusterOptions;
  readonly reader: StreamReader;
  readonly #lockClient;
  readonly #replicas = new Set<BuildReplica>();

  constructor(link: RedisLink, options: TraceClusterOptions) {
    this.link = link;
    this.options = options;
    this.reader = new StreamReader(link, Math.max(10, Math.min(250, options.retryMs)));
    this.#lockClient = tolerantLockClient(link.client);
    // Followers poll for themselves as soon as Redis is lost, not at their next attempt.
    link.onStateChange((state) => {
      if (state !== 'ready') for (const replica of [...this.#replicas]) replica.lost();
    });
  }

  /** This replica's leases by role, for /metrics. */
  get leases(): { held: number; followed: number } {
    let held = 0;
    let followed = 0;
    for (const replica of this.#replicas) {
      if (replica.role === 'holder') held += 1;
      else if (replica.role === 'follower') followed += 1;
    }
    return { held, followed };
  }

  /**
   * A subscriber's access check as some replica made it for this build and credential digest within
   * its TTL: the build it saw, or the refusal it got. Undefined when none is shared (or Redis fails).
   */
  async sharedAccess(key: string, digest: string): Promise<SharedAccess | undefined> {
    if (!this.link.available) return undefined;
    try {
      const value = await this.link.client.get(this.#accessKey(key, digest));
      return value ? (JSON.parse(value) as SharedAccess) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Shares an answer (never a transient fault) for `ttlMs`, under this credential's digest only. */
  shareAccess(key: string, digest: string, access: SharedAccess, ttlMs: number): void {
    if (!this.link.available) return;
    this.link.client.set(this.#accessKey(key, digest), JSON.stringify(access), 'PX', Math.max(1, Math.round(ttlMs))).catch(() => {});
  }

  #accessKey(key: string, digest: string): string {
    return this.link.key('access', buildId(key), digest);
  }

  /** `key`: the build's canonical identity (the hub's poller key). */
  replicaFor(key: string, handlers: ReplicaHandlers): BuildReplica {
    const id = buildId(key);
    const stream = new BuildStream(this.link.client, this.link.key('trace', id), this.options.keepBytes, this.options.streamTtlMs);
    const replica = new BuildReplica(this, stream, this.link.key('lease', id), this.#lockClient, handlers, () => this.#replicas.delete(replica));
    this.#replicas.add(replica);
    return replica;
  }

  close(): void {
    this.reader.close();
  }
}

export class BuildReplica implements StreamFollower {
  role: ReplicaRole = 'local';
  /** Set on becoming the holder: the stream must be applied, and continued, before the first poll. */
  needsSync = false;
  lastId = '0-0';
  readonly stream: BuildStream;
  readonly #cluster: TraceCluster;
  readonly #lease: BuildLease;
  readonly #handlers: ReplicaHandlers;
  readonly #onClose: () => void;
  #closed = false;

  constructor(cluster: TraceCluster, stream: BuildStream, leaseKey: string, lockClient: ConstructorParameters<typeof BuildLease>[0], handlers: ReplicaHandlers, onClose: () => void) {
    this.#cluster = cluster;
    this.stream = stream;
    this.#handlers = handlers;
    this.#onClose = onClose;
    this.#lease = new BuildLease(lockClient, leaseKey, cluster.options.leaseMs, () => {
      // Noticed at the next poll: it asks `decide`, which tries to take the lease again.
    });
  }

  /** ms until a follower asks again. */
  get retryMs(): number {
    return this.#cluster.options.retryMs;
  }

  /** This replica's role for the next poll: keeps or takes the lease if it can, else follows; `local` without Redis. */
  async decide(): Promise<ReplicaRole> {
    if (this.#closed) return this.role;
    if (!this.#cluster.link.available) {
      this.#become('local');
      return this.role;
    }
    if (this.role === 'holder' && this.#lease.held) return this.role;
    const outcome = await this.#lease.take();
    if (this.#closed) {
      if (outcome === 'taken') void this.#lease.release();
      return this.role;
    }
    if (outcome === 'taken') {
      this.#become('holder');
      this.needsSync = true;
    } else {
      // A Redis that stopped answering (but holds its connections open) is as good as lost: followers
      // would wait on a stream nobody can append to.
      this.#become(outcome === 'elsewhere' && this.#cluster.link.available ? 'follower' : 'local');
    }
    return this.role;
  }

  /** Appends as the holder. `conflict`: the stream did not end where this replica's log does (read it again). */
  async publish(entry: StreamAppend): Promise<'ok' | 'conflict' | 'error'> {
    let result: AppendResult;
    try {
      result = await this.stream.append(entry);
    } catch {
      return 'error';
    }
    if (!result.ok) {
      // Another replica appended: if it holds the lease now, this one follows.
      if (!this.#lease.held) this.#become('follower');
      else this.needsSync = true;
      return 'conflict';
    }
    this.lastId = result.id;
    return 'ok';
  }

  /** Redis was lost: poll for this replica's own subscribers. Idempotent. */
  lost(): void {
    if (this.#closed || this.role === 'local') return;
    const wasFollowing = this.role === 'follower';
    this.#become('local');
    if (wasFollowing) this.#handlers.pollNow();
  }

  apply(entry: StreamEntry): void {
    if (this.role === 'follower') this.#handlers.apply(entry);
  }

  /** Releases the lease (another replica with watchers takes it at once) and stops following. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#become('local');
    this.#closed = true;
    this.#onClose();
  }

  #become(role: ReplicaRole): void {
    if (role !== 'holder' && this.#lease.held) void this.#lease.release();
    if (this.role === role) return;
    if (this.role === 'follower') this.#cluster.reader.unfollow(this.stream.key, this);
    // Back from polling alone (Redis was lost, maybe restarted empty, its ids starting again): the
    // stream is read from its start; what this tail holds already is skipped by offset.
    if (this.role === 'local') this.lastId = '0-0';
    this.role = role;
    if (role === 'follower') this.#cluster.reader.follow(this.stream.key, this);
  }
}
