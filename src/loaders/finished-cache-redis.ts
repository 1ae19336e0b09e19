/**
 * The finished-build cache in the Redis the replicas share (`redis.url` with `cache.enabled`): what one
 * replica read from the upstream another serves, and a mutation through any replica forgets the build
 * for all of them. The rules are the memory cache's (finished-cache.ts): keyed by a digest of the
 * credential and the canonical build, never the credential; an entry lives `ttlMs`; it is served to a
 * credential only while an access confirmation (a key of its own, expiring after `accessRecheckMs`) for
 * that project and credential digest exists; the gateway's entries stay under `maxBytes` and
 * `maxEntries` (finished-cache-scripts.ts says how).
 *
 * Redis is a helper: while it is unreachable, or a command fails or outlasts `commandTimeoutMs`, a read
 * misses (the upstream answers) and a write is dropped. There is no in-memory fallback on purpose: an
 * entry kept in one process cannot hear a mutation made through another replica meanwhile, and would
 * be served stale. An invalidation that could not reach Redis is remembered and sent when it is back.
 */
import { createHash } from 'node:crypto';
import type { RedisLink } from '../redis/connection.js';
import { credentialDigest } from '../upstreams/credential-digest.js';
import type { BuildModel, Credential, TraceSlice } from '../model.js';
import { TERMINAL_STATUSES } from '../model.js';
import { CLEAR_SCRIPT, GET_SCRIPT, INVALIDATE_SCRIPT, SET_SCRIPT } from './finished-cache-scripts.js';
import { type BuildCacheKey, DEFAULT_ACCESS_RECHECK_MS, type FinishedCache, type FinishedCacheOptions } from './finished-cache.js';

export interface RedisFinishedCacheOptions extends FinishedCacheOptions {
  /**
   * ms after an invalidation during which no replica writes the build back: a read that began before
   * the mutation would otherwise keep the state it changed. At least the longest a request may take.
   * @default 30000
   */
  invalidationGraceMs?: number;
  /**
   * Most invalidations remembered while Redis is unreachable; past it, the whole cache is cleared when
   * Redis is back. @default 10000
   */
  maxPendingInvalidations?: number;
  /**
   * ms the cache leaves Redis alone after a command failed or timed out (reads miss, writes are
   * dropped, invalidations wait). @default 1000
   */
  restAfterFailureMs?: number;
  /** Told of a command that failed while Redis seemed reachable (logs). */
  onError?: (error: Error) => void;
}

const DEFAULT_INVALIDATION_GRACE_MS = 30_000;
const DEFAULT_MAX_PENDING_INVALIDATIONS = 10_000;
const DEFAULT_REST_AFTER_FAILURE_MS = 1_000;

/** The scripts as ioredis commands (`defineCommand`: EVALSHA, and EVAL once after Redis restarts empty). */
interface CacheCommands {
  buildgateCacheSet(...keysAndArgs: Array<string | number>): Promise<number>;
  buildgateCacheGet(...keysAndArgs: Array<string | number>): Promise<string | null>;
  buildgateCacheInvalidate(...keysAndArgs: Array<string | number>): Promise<number>;
  buildgateCacheClear(...keysAndArgs: Array<string | number>): Promise<number>;
}

/** A bounded digest of a key's parts: client-chosen ids never reach a Redis key as they are. */
const digestOf = (parts: readonly string[]): string => createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 32);

/** What a log window is stored as: every field by name (a `Utf8Slice` keeps `content` in a getter, which JSON would drop). */
interface StoredTrace {
  offset: number;
  nextOffset: number;
  content: string;
  size: number;
  atEnd: boolean;
  /** The raw bytes, base64, where the slice has them. */
  bytes?: string;
  numberedLines?: TraceSlice['numberedLines'];
}

export function encodeTrace(trace: TraceSlice): string {
  const stored: StoredTrace = { offset: trace.offset, nextOffset: trace.nextOffset, content: trace.content, size: trace.size, atEnd: trace.atEnd };
  if (trace.bytes) stored.bytes = trace.bytes.toString('base64');
  if (trace.numberedLines) stored.numberedLines = trace.numberedLines;
  return JSON.stringify(stored);
}

export function decodeTrace(text: string): TraceSlice {
  const { bytes, numberedLines, ...rest } = JSON.parse(text) as StoredTrace;
  return { ...rest, ...(bytes !== undefined && { bytes: Buffer.from(bytes, 'base64') }), ...(numberedLines && { numberedLines }) };
}

export class RedisFinishedCache implements FinishedCache {
  readonly #link: RedisLink;
  readonly #commands: CacheCommands;
  readonly #ttlMs: number;
  readonly #accessMs: number;
  readonly #graceMs: number;
  readonly #maxBytes: number;
  readonly #maxEntries: number;
  readonly #maxPending: number;
  readonly #onError: ((error: Error) => void) | undefined;
  /** Entry hashes whose invalidation has not reached Redis yet. */
  readonly #pending = new Set<string>();
  #pendingOverflowed = false;
  /** Until when (performance.now()) the cache sends nothing, after a command failed. */
  #restingUntil = 0;
  readonly #restMs: number;
  readonly #offStateChange: () => void;

  constructor(link: RedisLink, options: RedisFinishedCacheOptions) {
    this.#link = link;
    this.#ttlMs = options.ttlMs;
    this.#accessMs = options.accessRecheckMs ?? DEFAULT_ACCESS_RECHECK_MS;
    this.#graceMs = options.invalidationGraceMs ?? DEFAULT_INVALIDATION_GRACE_MS;
    this.#maxBytes = options.maxBytes;
    this.#maxEntries = options.maxEntries;
    this.#maxPending = options.maxPendingInvalidations ?? DEFAULT_MAX_PENDING_INVALIDATIONS;
    this.#onError = options.onError;
    this.#restMs = options.restAfterFailureMs ?? DEFAULT_REST_AFTER_FAILURE_MS;
    const { client } = link;
    client.defineCommand('buildgateCacheSet', { numberOfKeys: 6, lua: SET_SCRIPT });
    client.defineCommand('buildgateCacheGet', { numberOfKeys: 2, lua: GET_SCRIPT });
    client.defineCommand('buildgateCacheInvalidate', { numberOfKeys: 5, lua: INVALIDATE_SCRIPT });
    client.defineCommand('buildgateCacheClear', { numberOfKeys: 3, lua: CLEAR_SCRIPT });
    this.#commands = client as unknown as CacheCommands;
    this.#offStateChange = link.onStateChange((state) => {
      if (state !== 'ready') return;
      // A new connection: whatever made a command fail on the old one is gone.
      this.#restingUntil = 0;
      void this.#flushPending();
    });
  }

  #entryKey(key: BuildCacheKey): string {
    return this.#link.key('cache', 'build', digestOf([key.upstream, key.projectId, key.locator]));
  }

  #accessKey(key: BuildCacheKey, credential: Credential | undefined): string {
    return this.#link.key('cache', 'access', digestOf([key.upstream, key.projectId]), credentialDigest(credential));
  }

  #tombstoneKey(entryKey: string): string {
    return `${entryKey}:invalidated`;
  }

  #boundKeys(): string[] {
    return [this.#link.key('cache', 'index'), this.#link.key('cache', 'sizes'), this.#link.key('cache', 'bytes')];
  }

  /**
   * `command`'s answer, or `fallback` when Redis cannot give one (unreachable, failed, too slow). After a
   * failure the cache rests a while: with Redis stuck, one read would otherwise wait out a command
   * timeout for each of its cache commands, and every request would.
   */
  async #attempt<T>(fallback: T, command: () => Promise<T>): Promise<T> {
    if (!this.#link.available || performance.now() < this.#restingUntil) return fallback;
    // Redis answers again without having been down (it was stuck): what waited goes first.
    if (this.#pending.size > 0 || this.#pendingOverflowed) void this.#flushPending();
    try {
      return await command();
    } catch (error) {
      this.#restingUntil = performance.now() + this.#restMs;
      this.#onError?.(error instanceof Error ? error : new Error(String(error)));
      return fallback;
    }
  }

  async #set(key: BuildCacheKey, credential: Credential | undefined, field: string, value: string): Promise<void> {
    const entryKey = this.#entryKey(key);
    await this.#attempt(0, () =>
      this.#commands.buildgateCacheSet(
        this.#accessKey(key, credential),
        entryKey,
        this.#tombstoneKey(entryKey),
        ...this.#boundKeys(),
        this.#accessMs,
        field,
        value,
        this.#ttlMs,
        this.#maxBytes,
        this.#maxEntries,
      ),
    );
  }

  async #get<T>(key: BuildCacheKey, credential: Credential | undefined, field: string, decode: (text: string) => T): Promise<T | undefined> {
    return this.#attempt(undefined, async () => {
      const value = await this.#commands.buildgateCacheGet(this.#accessKey(key, credential), this.#entryKey(key), field);
      return value === null ? undefined : decode(value);
    });
  }

  async confirmAccess(key: BuildCacheKey, credential: Credential | undefined): Promise<void> {
    await this.#set(key, credential, '', '');
  }

  async getBuild(key: BuildCacheKey, credential: Credential | undefined): Promise<BuildModel | undefined> {
    return this.#get(key, credential, `build:${credentialDigest(credential)}`, (text) => JSON.parse(text) as BuildModel);
  }

  async setBuild(key: BuildCacheKey, credential: Credential | undefined, build: BuildModel): Promise<void> {
    const finished = TERMINAL_STATUSES.has(build.status);
    await this.#set(key, credential, finished ? `build:${credentialDigest(credential)}` : '', finished ? JSON.stringify(build) : '');
  }

  async getTrace(key: BuildCacheKey, credential: Credential | undefined, window: string): Promise<TraceSlice | undefined> {
    return this.#get(key, credential, `trace:${credentialDigest(credential)}:${window}`, decodeTrace);
  }

  async setTrace(key: BuildCacheKey, credential: Credential | undefined, window: string, trace: TraceSlice): Promise<void> {
    await this.#set(key, credential, `trace:${credentialDigest(credential)}:${window}`, encodeTrace(trace));
  }

  async invalidate(key: BuildCacheKey): Promise<void> {
    const entryKey = this.#entryKey(key);
    if (!(await this.#invalidateNow(entryKey))) this.#remember(entryKey);
  }

  async #invalidateNow(entryKey: string): Promise<boolean> {
    const done = await this.#attempt(0, () =>
      this.#commands.buildgateCacheInvalidate(entryKey, this.#tombstoneKey(entryKey), ...this.#boundKeys(), this.#graceMs),
    );
    return done === 1;
  }

  /** An invalidation Redis did not get: the entry may still be there for other replicas, so it is sent again later. */
  #remember(entryKey: string): void {
    if (this.#pendingOverflowed) return;
    if (this.#pending.size >= this.#maxPending) {
      this.#pending.clear();
      this.#pendingOverflowed = true;
      return;
    }
    this.#pending.add(entryKey);
  }

  /** Sent as soon as Redis is back, before the reads that follow on the same connection. */
  async #flushPending(): Promise<void> {
    if (this.#pendingOverflowed) {
      this.#pendingOverflowed = false;
      const cleared = await this.#attempt(0, () => this.#commands.buildgateCacheClear(...this.#boundKeys()));
      if (cleared !== 1) this.#pendingOverflowed = true;
      return;
    }
    const entryKeys = [...this.#pending];
    this.#pending.clear();
    await Promise.all(
      entryKeys.map(async (entryKey) => {
        if (!(await this.#invalidateNow(entryKey))) this.#remember(entryKey);
      }),
    );
  }

  /** Invalidations still waiting for Redis (the whole cache counts as one when it must be cleared). */
  get pendingInvalidations(): number {
    return this.#pendingOverflowed ? 1 : this.#pending.size;
  }

  /** Stops listening to the link (the link itself is the server's to close). */
  close(): void {
    this.#offStateChange();
  }
}
