/**
 * Which replica polls a build for every replica (holds its lease), so that `--kill-at` kills the one
 * whose loss matters. Asked in turn, first answer wins:
 * 1. Redis: keys under the prefix whose name says `lease` (the build's own first, by its upstream job
 *    id), whose value names a replica by its pid or port (a lease's owner identifier usually carries
 *    the host and pid; a random one names nobody and is passed over);
 * 2. the replicas' `/metrics`: the only one with `buildgate_trace_leases{role="held"}` above 0;
 * 3. the first live replica: before coordination every replica polls alone, so any one will do.
 * Written against no particular key layout, so that it keeps working as the coordination changes.
 */
import { Redis } from 'ioredis';

const SCAN_LIMIT = 10_000;

/** Replica indexes whose pid or port appears as a whole token of `text`. */
function named(text, replicas) {
  const tokens = new Set(String(text).split(/[^A-Za-z0-9]+/));
  return replicas.filter((r) => tokens.has(String(r.pid)) || tokens.has(String(r.port))).map((r) => r.index);
}

async function fromRedis(redisUrl, keyPrefix, replicas, jobId) {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const keys = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${keyPrefix}*lease*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0' && keys.length < SCAN_LIMIT);
    const ownFirst = [...keys].sort((a, b) => Number(!a.split(/[^0-9]+/).includes(String(jobId))) - Number(!b.split(/[^0-9]+/).includes(String(jobId))));
    for (const key of ownFirst) {
      const type = await client.type(key);
      let value;
      if (type === 'string') value = await client.get(key);
      else if (type === 'hash') value = JSON.stringify(await client.hgetall(key));
      else continue;
      const matches = named(value, replicas);
      if (matches.length === 1) return { index: matches[0], source: `redis key ${key}` };
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

async function fromMetrics(replicas) {
  const held = [];
  await Promise.all(
    replicas.map(async (r) => {
      try {
        const text = await (await fetch(new URL('/metrics', r.url), { signal: AbortSignal.timeout(2_000) })).text();
        const value = Number(/^buildgate_trace_leases\{role="held"\}\s+(\S+)/m.exec(text)?.[1]);
        if (value > 0) held.push(r.index);
      } catch {
        // a replica that does not answer holds nothing we can kill usefully
      }
    }),
  );
  return held.length === 1 ? { index: held[0], source: '/metrics buildgate_trace_leases{role="held"}' } : undefined;
}

/**
 * `replicas`: the live ones, `[{index, pid, port, url}]`. Resolves `{index, source}`; never throws.
 */
export async function findLeaseHolder({ redisUrl, keyPrefix = 'buildgate:', replicas, jobId }) {
  if (!replicas.length) throw new Error('no live replica');
  return (
    (await fromRedis(redisUrl, keyPrefix, replicas, jobId)) ??
    (await fromMetrics(replicas)) ?? { index: replicas[0].index, source: 'none found: the first live replica' }
  );
}
