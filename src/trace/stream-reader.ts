/**
 * One `XREAD BLOCK` loop per replica over the streams of every build it follows: however many builds
 * and subscribers, a replica holds one blocked read (on the link's blocking connection), which Redis
 * answers as soon as any followed stream grows. A follower that applies slowly holds up only this
 * replica's read, never the holder, which appends whatever the followers do.
 */
import type { RedisLink } from '../redis/connection.js';
import { type StreamEntry, decodeEntry, idBefore } from './build-stream.js';

export interface StreamFollower {
  /** The id of the last entry applied; the next read starts after it. */
  lastId: string;
  apply(entry: StreamEntry): void;
  /** The stream cannot be read (Redis lost): the follower polls for itself until it is back. */
  lost(): void;
}

export class StreamReader {
  readonly #link: RedisLink;
  readonly #blockMs: number;
  readonly #follows = new Map<string, StreamFollower>();
  #running = false;
  #closed = false;

  /** `blockMs`: longest wait of one read, which bounds how soon a newly followed stream is read. */
  constructor(link: RedisLink, blockMs: number) {
    this.#link = link;
    this.#blockMs = blockMs;
  }

  get size(): number {
    return this.#follows.size;
  }

  follow(key: string, follower: StreamFollower): void {
    this.#follows.set(key, follower);
    if (!this.#running) void this.#run();
  }

  unfollow(key: string, follower: StreamFollower): void {
    if (this.#follows.get(key) === follower) this.#follows.delete(key);
  }

  close(): void {
    this.#closed = true;
    this.#follows.clear();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (!this.#closed && this.#follows.size > 0) {
        if (!this.#link.available || !(await this.#blockingReady())) {
          this.#loseAll();
          await this.#link.ready(this.#blockMs * 4);
          continue;
        }
        const keys = [...this.#follows.keys()];
        const ids = keys.map((key) => this.#follows.get(key)!.lastId);
        let result: Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
        try {
          result = (await this.#link.blocking().xreadBuffer('COUNT', 64, 'BLOCK', this.#blockMs, 'STREAMS', ...keys, ...ids)) as typeof result;
        } catch {
          this.#loseAll();
          await this.#link.ready(this.#blockMs * 4);
          continue;
        }
        for (const [key, entries] of result ?? []) {
          const follower = this.#follows.get(key.toString());
          if (!follower) continue;
          for (const [id, fields] of entries) {
            const entry = decodeEntry(id.toString(), fields);
            // A follower that left (or took the lease) meanwhile applies nothing more.
            if (this.#follows.get(key.toString()) !== follower || !idBefore(follower.lastId, entry.id)) continue;
            follower.lastId = entry.id;
            follower.apply(entry);
          }
        }
      }
    } finally {
      this.#running = false;
    }
  }

  async #blockingReady(): Promise<boolean> {
    const blocking = this.#link.blocking();
    if (blocking.status === 'ready') return true;
    return new Promise<boolean>((resolve) => {
      const done = (ready: boolean) => {
        clearTimeout(timer);
        blocking.off('ready', onReady);
        resolve(ready);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(blocking.status === 'ready'), this.#blockMs * 4);
      blocking.once('ready', onReady);
    });
  }

  #loseAll(): void {
    for (const follower of [...this.#follows.values()]) follower.lost();
  }
}
