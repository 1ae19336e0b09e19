/**
 * The optional cross-request cache of finished builds: a GitLab build in a terminal status (and its
 * log) no longer changes, so it can be served without an upstream request. Bounded (entries, bytes),
 * expiring (TTL), and keyed by credential — an entry read with one credential is never served to
 * another, which must show the upstream it may see the build. A credential can be revoked, or lose its
 * access to the project, long before an entry expires: an entry is served only while an upstream read
 * with that credential in that project succeeded within `accessRecheckMs`; after that the next read
 * goes upstream (and confirms access again, or fails with the upstream's refusal). Off unless configured.
 */
import { LRUCache } from 'lru-cache';
import { credentialDigest } from '../upstreams/credential-digest.js';
import type { BuildModel, Credential, TraceSlice } from '../model.js';
import { TERMINAL_STATUSES } from '../model.js';

export interface FinishedCacheOptions {
  /** Most entries (builds and log windows). @default 10000 */
  maxEntries: number;
  /** Most bytes of cached logs and builds, approximately. @default 64 MiB */
  maxBytes: number;
  /** ms an entry lives: bounds how long a change made outside the gateway (an erase) can go unseen. @default 300000 */
  ttlMs: number;
  /** ms a successful upstream read confirms a credential's access to a project for. @default 30000 */
  accessRecheckMs?: number;
}

export const DEFAULT_ACCESS_RECHECK_MS = 30_000;

export interface BuildCacheKey {
  upstream: string;
  projectId: string;
  locator: string;
}

/** A value now, or once a store outside the process (Redis) answers. */
type Maybe<T> = T | Promise<T>;

/**
 * What the loaders and resolvers need of a finished-build cache, wherever it keeps its entries: in
 * memory (`FinishedBuildCache`) or in the Redis the replicas share (`RedisFinishedCache`). Callers
 * await every method; a store that cannot answer misses (never throws), so the upstream is asked.
 */
export interface FinishedCache {
  /** An upstream read of this project with this credential just succeeded. */
  confirmAccess(key: BuildCacheKey, credential: Credential | undefined): Maybe<void>;
  getBuild(key: BuildCacheKey, credential: Credential | undefined): Maybe<BuildModel | undefined>;
  /** Call with what an upstream read with `credential` answered: confirms access, and keeps the build only if it is finished. */
  setBuild(key: BuildCacheKey, credential: Credential | undefined, build: BuildModel): Maybe<void>;
  getTrace(key: BuildCacheKey, credential: Credential | undefined, window: string): Maybe<TraceSlice | undefined>;
  /** Call with what an upstream read with `credential` answered: confirms access, and keeps the log window. */
  setTrace(key: BuildCacheKey, credential: Credential | undefined, window: string, trace: TraceSlice): Maybe<void>;
  /** Forgets a build for every credential (after a mutation changed it). */
  invalidate(key: BuildCacheKey): Maybe<void>;
}

type Entry = { build: BuildModel } | { trace: TraceSlice };

const buildKeyOf = (build: BuildCacheKey): string => JSON.stringify([build.upstream, build.projectId, build.locator]);

export class FinishedBuildCache implements FinishedCache {
  readonly #entries: LRUCache<string, Entry>;
  /** Project and credential digest → confirmed recently; an expired entry means "ask the upstream again". */
  readonly #access: LRUCache<string, true>;

  constructor(options: FinishedCacheOptions) {
    this.#access = new LRUCache<string, true>({ max: options.maxEntries, ttl: options.accessRecheckMs ?? DEFAULT_ACCESS_RECHECK_MS });
    this.#entries = new LRUCache<string, Entry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      ttl: options.ttlMs,
      sizeCalculation: (entry) => ('trace' in entry ? entry.trace.content.length * 2 + 64 : 2048),
    });
  }

  #key(kind: string, build: BuildCacheKey, credential: Credential | undefined, extra = ''): string {
    return `${kind}\0${buildKeyOf(build)}\0${credentialDigest(credential)}\0${extra}`;
  }

  #accessKey(build: BuildCacheKey, credential: Credential | undefined): string {
    return `${JSON.stringify([build.upstream, build.projectId])}\0${credentialDigest(credential)}`;
  }

  /** Whether this credential's access to the build's project was confirmed recently enough to serve from memory. */
  #mayServe(key: BuildCacheKey, credential: Credential | undefined): boolean {
    return this.#access.get(this.#accessKey(key, credential)) === true;
  }

  /** An upstream read of this project with this credential just succeeded. */
  confirmAccess(key: BuildCacheKey, credential: Credential | undefined): void {
    this.#access.set(this.#accessKey(key, credential), true);
  }

  getBuild(key: BuildCacheKey, credential: Credential | undefined): BuildModel | undefined {
    if (!this.#mayServe(key, credential)) return undefined;
    const entry = this.#entries.get(this.#key('build', key, credential));
    return entry && 'build' in entry ? entry.build : undefined;
  }

  /** Call with what an upstream read with `credential` answered: confirms access, and keeps the build only if it is finished. */
  setBuild(key: BuildCacheKey, credential: Credential | undefined, build: BuildModel): void {
    this.confirmAccess(key, credential);
    if (TERMINAL_STATUSES.has(build.status)) this.#entries.set(this.#key('build', key, credential), { build });
  }

  getTrace(key: BuildCacheKey, credential: Credential | undefined, window: string): TraceSlice | undefined {
    if (!this.#mayServe(key, credential)) return undefined;
    const entry = this.#entries.get(this.#key('trace', key, credential, window));
    return entry && 'trace' in entry ? entry.trace : undefined;
  }

  /** Call with what an upstream read with `credential` answered: confirms access, and keeps the log window. */
  setTrace(key: BuildCacheKey, credential: Credential | undefined, window: string, trace: TraceSlice): void {
    this.confirmAccess(key, credential);
    this.#entries.set(this.#key('trace', key, credential, window), { trace });
  }

  /**
   * Forgets a build for every credential (after a mutation changed it). The entries themselves go, so
   * nothing is kept per invalidated build (a generation counter per build would grow with every build
   * ever mutated). A scan of at most `maxEntries` keys, and mutations are rare next to reads.
   */
  invalidate(key: BuildCacheKey): void {
    const buildKey = buildKeyOf(key);
    const prefixes = [`build\0${buildKey}\0`, `trace\0${buildKey}\0`];
    const doomed = [...this.#entries.keys()].filter((entry) => prefixes.some((prefix) => entry.startsWith(prefix)));
    for (const entry of doomed) this.#entries.delete(entry);
  }

  get size(): number {
    return this.#entries.size;
  }
}
