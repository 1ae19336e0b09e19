/**
 * A watched build's Redis Stream: what its lease holder read from the upstream, for the replicas that
 * follow it. Each entry is one piece of log (`o` its first offset, `n` the next, `c` its bytes) and,
 * where it changed, the build (`b`, JSON), the end (`e`) or a failure for good (`f`).
 *
 * Appends go through one script that checks the piece continues the stream exactly where it ends
 * (`end` in the meta hash): a holder that lost its lease without knowing it yet cannot repeat or skip a
 * byte, its append is refused and it reads the stream again. An entry's id is the stream's cumulative
 * content size after it (`<size>-<seq>`), so trimming to the last `keepBytes` is one `XTRIM MINID`.
 */
import type { Redis } from '../redis/connection.js';

/** An entry as a follower applies it. */
export interface StreamEntry {
  id: string;
  offset: number;
  nextOffset: number;
  /** The piece's raw content: log bytes (GitLab) or UTF-8 text of whole lines (bk-ci). */
  content: Buffer;
  /** The build as the holder last read it, when it changed (JSON of a BuildModel). */
  build?: string;
  ended: boolean;
  /** A failure for good, as `{code, message}` JSON. */
  failure?: string;
}

/** What the holder appends. */
export interface StreamAppend {
  offset: number;
  nextOffset: number;
  content?: Buffer;
  build?: string;
  ended?: boolean;
  failure?: string;
  /** Append even where the stream does not end at `offset` (the holder restarts a stream it cannot continue). */
  force?: boolean;
}

export type AppendResult = { ok: true; id: string } | { ok: false; end: number };

const APPEND = `
local known = redis.call('HGET', KEYS[2], 'end')
if ARGV[7] ~= '1' and known and tonumber(known) ~= tonumber(ARGV[1]) then
  return {0, known}
end
local size = redis.call('HINCRBY', KEYS[2], 'size', string.len(ARGV[3]))
local id = redis.call('XADD', KEYS[1], size .. '-*', 'o', ARGV[1], 'n', ARGV[2], 'c', ARGV[3], 'b', ARGV[4], 'e', ARGV[5], 'f', ARGV[6])
redis.call('HSET', KEYS[2], 'end', ARGV[2])
local keep = size - tonumber(ARGV[8])
if keep > 0 then redis.call('XTRIM', KEYS[1], 'MINID', keep) end
redis.call('PEXPIRE', KEYS[1], ARGV[9])
redis.call('PEXPIRE', KEYS[2], ARGV[9])
return {1, id}
`;

interface AppendingRedis extends Redis {
  buildgateStreamAppend(stream: string, meta: string, ...args: Array<string | Buffer | number>): Promise<[number, Buffer | string]>;
}

/** The script, defined once per connection (ioredis sends EVALSHA, and the script itself after NOSCRIPT). */
function appending(client: Redis): AppendingRedis {
  const withScript = client as AppendingRedis;
  if (typeof withScript.buildgateStreamAppend !== 'function') client.defineCommand('buildgateStreamAppend', { numberOfKeys: 2, lua: APPEND });
  return withScript;
}

export class BuildStream {
  readonly key: string;
  readonly #meta: string;
  readonly #client: Redis;
  readonly #keepBytes: number;
  readonly #ttlMs: number;

  /** `id`: the build's identity in keys; `keepBytes`: what the stream keeps; `ttlMs`: how long after the last write. */
  constructor(client: Redis, key: string, keepBytes: number, ttlMs: number) {
    this.#client = client;
    this.key = key;
    this.#meta = `${key}:meta`;
    this.#keepBytes = keepBytes;
    this.#ttlMs = ttlMs;
  }

  async append(entry: StreamAppend): Promise<AppendResult> {
    const [ok, value] = await appending(this.#client).buildgateStreamAppend(
      this.key,
      this.#meta,
      entry.offset,
      entry.nextOffset,
      entry.content ?? '',
      entry.build ?? '',
      entry.ended ? '1' : '',
      entry.failure ?? '',
      entry.force ? '1' : '',
      this.#keepBytes,
      this.#ttlMs,
    );
    return ok === 1 ? { ok: true, id: String(value) } : { ok: false, end: Number(String(value)) };
  }

  /** Where the stream ends (the next offset its holder will append), or undefined for no stream. */
  async end(): Promise<number | undefined> {
    const end = await this.#client.hget(this.#meta, 'end');
    return end === null ? undefined : Number(end);
  }

  /** Every entry after `lastId`, in order. */
  async readAfter(lastId: string): Promise<StreamEntry[]> {
    const entries: StreamEntry[] = [];
    let from = lastId;
    for (;;) {
      const page = await this.#client.xrangeBuffer(this.key, `(${from}`, '+', 'COUNT', 256);
      for (const [id, fields] of page) entries.push(decodeEntry(id.toString(), fields));
      if (page.length < 256) return entries;
      from = entries.at(-1)!.id;
    }
  }

  /** The id of the stream's last entry ('0-0' for none). */
  async lastId(): Promise<string> {
    const [last] = await this.#client.xrevrangeBuffer(this.key, '+', '-', 'COUNT', 1);
    return last ? last[0].toString() : '0-0';
  }

  /** Keeps an idle build's stream alive while it is watched (a log can be silent for minutes). */
  async touch(): Promise<void> {
    await this.#client.multi().pexpire(this.key, this.#ttlMs).pexpire(this.#meta, this.#ttlMs).exec();
  }
}

/** An entry's fields (name, value, name, value…) as XRANGE and XREAD give them. */
export function decodeEntry(id: string, fields: Buffer[]): StreamEntry {
  const entry: StreamEntry = { id, offset: 0, nextOffset: 0, content: EMPTY, ended: false };
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    switch (fields[i]!.toString()) {
      case 'o':
        entry.offset = Number(value.toString());
        break;
      case 'n':
        entry.nextOffset = Number(value.toString());
        break;
      case 'c':
        entry.content = value;
        break;
      case 'b':
        if (value.length > 0) entry.build = value.toString();
        break;
      case 'e':
        entry.ended = value.length > 0;
        break;
      case 'f':
        if (value.length > 0) entry.failure = value.toString();
        break;
    }
  }
  return entry;
}

const EMPTY = Buffer.alloc(0);

/** Whether stream id `a` comes before `b` (ids are `<ms>-<seq>`). */
export function idBefore(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am < bm || (am === bm && as < bs);
}
