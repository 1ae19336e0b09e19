/**
 * The Lua scripts of the finished-build cache in Redis (finished-cache-redis.ts). Each runs atomically,
 * so replicas writing and invalidating at once never leave the byte count, the index and the entries
 * disagreeing. Times are Redis's own (`TIME`): replicas' clocks never decide what has expired.
 *
 * The bound: every entry (one field of a build's hash) is a member `<hash key>\n<field>` of an index
 * (sorted set, scored by expiry) with its size in a sizes hash, and a counter holds their sum. A write
 * first drops a few expired members, then the oldest ones while the new entry would not fit in
 * `maxBytes` / `maxEntries`. Whatever removes an entry removes its member, size and bytes together, so
 * the counter is exact; an entry Redis evicted or expired on its own (`volatile-lru`) keeps its member
 * until its expiry sweeps it, so the count can only run high, and only for one TTL.
 */

/** Splits a member into its hash key and field, and forgets it everywhere. KEYS: index, sizes, bytes. */
const FORGET = `
local function forget(index, sizes, bytes, member)
  local size = redis.call('HGET', sizes, member)
  if size then
    redis.call('HDEL', sizes, member)
    redis.call('DECRBY', bytes, size)
  end
  redis.call('ZREM', index, member)
  local cut = string.find(member, '\\n', 1, true)
  if cut then redis.call('HDEL', string.sub(member, 1, cut - 1), string.sub(member, cut + 1)) end
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** Expired members dropped per write: more than one, so the sweep outpaces the writes that add them. */
const SWEEP_PER_WRITE = 32;

/**
 * Confirms access, then (unless `field` is empty, or the build was invalidated within the grace period)
 * keeps `value` under `field` of the build's hash until now + ttl.
 * KEYS: access, entry hash, tombstone, index, sizes, bytes.
 * ARGV: accessRecheckMs, field, value, ttlMs, maxBytes, maxEntries. Returns 1 if kept.
 */
export const SET_SCRIPT = `${FORGET}
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
local field = ARGV[2]
if field == '' then return 0 end
-- A read that began before a mutation must not write back the state the mutation changed.
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local at = now()
local ttl = tonumber(ARGV[4])
local maxBytes = tonumber(ARGV[5])
local maxEntries = tonumber(ARGV[6])
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', at, 'LIMIT', 0, ${SWEEP_PER_WRITE})) do
  forget(KEYS[4], KEYS[5], KEYS[6], member)
end
local member = KEYS[2] .. '\\n' .. field
local value = (at + ttl) .. '|' .. ARGV[3]
-- The entry's bytes as Redis holds them, about: the member twice (index, sizes), the value, and bookkeeping.
local size = 2 * #member + #value + 96
if size > maxBytes then return 0 end
if redis.call('HEXISTS', KEYS[5], member) == 1 then forget(KEYS[4], KEYS[5], KEYS[6], member) end
while redis.call('ZCARD', KEYS[4]) > 0
  and (tonumber(redis.call('GET', KEYS[6]) or '0') + size > maxBytes or redis.call('ZCARD', KEYS[4]) >= maxEntries) do
  forget(KEYS[4], KEYS[5], KEYS[6], redis.call('ZRANGE', KEYS[4], 0, 0)[1])
end
redis.call('HSET', KEYS[2], field, value)
-- The hash lives as long as its newest field; an older field carries its own expiry in its value.
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('ZADD', KEYS[4], at + ttl, member)
redis.call('HSET', KEYS[5], member, size)
redis.call('INCRBY', KEYS[6], size)
return 1
`;

/**
 * The value under `field`, if the credential's access is confirmed and the entry has not expired.
 * KEYS: access, entry hash. ARGV: field.
 */
export const GET_SCRIPT = `${FORGET}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local value = redis.call('HGET', KEYS[2], ARGV[1])
if not value then return false end
local cut = string.find(value, '|', 1, true)
if not cut or tonumber(string.sub(value, 1, cut - 1)) <= now() then return false end
return string.sub(value, cut + 1)
`;

/**
 * Forgets every entry of a build, for every credential, and keeps a tombstone for the grace period.
 * KEYS: entry hash, tombstone, index, sizes, bytes. ARGV: graceMs.
 */
export const INVALIDATE_SCRIPT = `${FORGET}
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  forget(KEYS[3], KEYS[4], KEYS[5], KEYS[1] .. '\\n' .. field)
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1
`;

/**
 * Forgets every entry of every build: after more invalidations than a replica could remember while it
 * was cut off from Redis. KEYS: index, sizes, bytes.
 */
export const CLEAR_SCRIPT = `${FORGET}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  forget(KEYS[1], KEYS[2], KEYS[3], member)
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1
`;
