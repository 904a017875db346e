"""The Lua of the Redis store: each operation that must read and write at once is one script,
which Redis runs atomically (no other command runs meanwhile, on any connection).

Keys, under the store's prefix P (redis.py builds them):

- P s:<session id>   hash: `created`, `expires` (epoch seconds, as Python's repr), and each
                      session item as the field "." + key (so no item meets the two above)
- P c:<key>          string: a claim-once record, its value the expiry
- P n:<key>          hash: a counter's `value` and `expires`
- P r:<request id>   hash: a recorded request's summary fields and its `events` (JSON text)
- P rb:<brand>       sorted set: a brand's request ids, scored by start time
- P ra               sorted set: every brand's request ids, scored by start time
- P brands           set: the brands that recorded requests (for `purge`)

Every time comes from the caller's clock (ARGV), as in the SQLite store, so every worker of
every machine judges expiry alike; each key also gets a Redis TTL of the same length, so what
expires is removed by Redis itself.
"""

from __future__ import annotations

# Shared helpers, prepended to the scripts that use them. A sorted set keeps members of one
# score in byte order, and so must `before`: Lua's `<` on strings follows the locale.
_BYTES_LESS = """
local function bytes_less(a, b)
  local n = math.min(#a, #b)
  for k = 1, n do
    local x, y = string.byte(a, k), string.byte(b, k)
    if x ~= y then return x < y end
  end
  return #a < #b
end
"""

# HSET/HDEL of many fields, in slices: Lua's unpack takes some thousands of values at most.
_IN_SLICES = """
local function in_slices(command, key, values)
  for k = 1, #values, 1000 do
    redis.call(command, key, unpack(values, k, math.min(k + 999, #values)))
  end
end
"""

# KEYS[1] the session; KEYS[2] the session it replaces (only when ARGV[4] is "replace").
# ARGV: now, created_at, expires_at, mode (update | create | replace), max_bytes (-1: none),
# ttl_ms, then the kept keys (count, keys; count -1: keep all), the keys set (count, key/value
# pairs) and the keys deleted (count, keys). Answers "saved", "ended" or "too_large".
SAVE_SESSION = _IN_SLICES + """
local now = tonumber(ARGV[1])
local mode, max_bytes = ARGV[4], tonumber(ARGV[5])
local at = 7
local function take_count() local n = tonumber(ARGV[at]); at = at + 1; return n end
local keep = nil
local kept = take_count()
if kept >= 0 then
  keep = {}
  for _ = 1, kept do keep['.' .. ARGV[at]] = true; at = at + 1 end
end
local sets = {}
for _ = 1, take_count() do sets[#sets + 1] = {'.' .. ARGV[at], ARGV[at + 1]}; at = at + 2 end
local deletes = {}
for _ = 1, take_count() do deletes[#deletes + 1] = '.' .. ARGV[at]; at = at + 1 end

local function live(key)
  local expires = redis.call('HGET', key, 'expires')
  return expires ~= false and tonumber(expires) > now
end

local function items_of(key, wanted)
  local items, all = {}, redis.call('HGETALL', key)
  for k = 1, #all, 2 do
    local field = all[k]
    if string.sub(field, 1, 1) == '.' and (wanted == nil or wanted[field]) then
      items[field] = all[k + 1]
    end
  end
  return items
end

local target = KEYS[1]
local fresh, items = false, nil  -- fresh: the session is (re)made with `items`
if mode == 'replace' then
  fresh = true
  items = live(KEYS[2]) and items_of(KEYS[2], keep) or {}
elseif not live(target) then
  if mode ~= 'create' then return 'ended' end
  fresh, items = true, {}
end

if max_bytes >= 0 and #sets > 0 then  -- the size rule, on the session as it would be
  local after = items or items_of(target, nil)
  for _, field in ipairs(deletes) do after[field] = nil end
  for _, pair in ipairs(sets) do after[pair[1]] = pair[2] end
  local size = 0
  for field, value in pairs(after) do size = size + #field - 1 + #value end
  if size > max_bytes then return 'too_large' end
end

if fresh then
  if mode == 'replace' then redis.call('DEL', KEYS[2]) end
  redis.call('DEL', target)
  for _, field in ipairs(deletes) do items[field] = nil end
  for _, pair in ipairs(sets) do items[pair[1]] = pair[2] end
  local fields = {'created', ARGV[2], 'expires', ARGV[3]}
  for field, value in pairs(items) do fields[#fields + 1] = field; fields[#fields + 1] = value end
  in_slices('HSET', target, fields)
  redis.call('PEXPIRE', target, ARGV[6])
  return 'saved'
end
in_slices('HDEL', target, deletes)
local fields = {}
for _, pair in ipairs(sets) do fields[#fields + 1] = pair[1]; fields[#fields + 1] = pair[2] end
in_slices('HSET', target, fields)
return 'saved'
"""

# KEYS[1] the record. ARGV: now, expires (now + ttl), ttl_ms. 1 when claimed. SET NX PX claims
# a key Redis does not hold; a record the caller's clock has seen expire is claimed again.
CLAIM = """
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then return 1 end
if tonumber(redis.call('GET', KEYS[1])) <= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""

# KEYS[1] the counter. ARGV: now, amount, expires (now + window), window_ms. The new value.
INCREMENT = """
local expires = redis.call('HGET', KEYS[1], 'expires')
if expires == false or tonumber(expires) <= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'value', ARGV[2], 'expires', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return tonumber(ARGV[2])
end
return redis.call('HINCRBY', KEYS[1], 'value', ARGV[2])
"""

# Retention for one brand: none older than the cutoff, the newest `limit` kept.
_PRUNE = """
local function forget(prefix, ids)
  if #ids == 0 then return end
  local keys = {}
  for k, id in ipairs(ids) do keys[k] = prefix .. 'r:' .. id end
  redis.call('DEL', unpack(keys))
  redis.call('ZREM', prefix .. 'ra', unpack(ids))
end

local function prune(prefix, brand, cutoff, limit)
  local index = prefix .. 'rb:' .. brand
  local old = redis.call('ZRANGE', index, '-inf', '(' .. cutoff, 'BYSCORE')
  for k = 1, #old, 1000 do
    local ids = {unpack(old, k, math.min(k + 999, #old))}
    redis.call('ZREM', index, unpack(ids))
    forget(prefix, ids)
  end
  local extra = redis.call('ZCARD', index) - limit
  while extra > 0 do
    local ids = redis.call('ZRANGE', index, 0, math.min(extra, 1000) - 1)
    redis.call('ZREM', index, unpack(ids))
    forget(prefix, ids)
    extra = extra - #ids
  end
  if redis.call('EXISTS', index) == 0 then redis.call('SREM', prefix .. 'brands', brand) end
end
"""

# ARGV: prefix, cutoff, limit, then for each record: its id, brand, started_at, ttl_ms, the
# number of fields, and those field/value pairs. A record id seen again replaces the record.
# Followers of the live feed (on every machine) hear of the new records on P requests.
RECORD_REQUESTS = _PRUNE + """
local prefix, cutoff, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local brands, at = {}, 4
while at <= #ARGV do
  local id, brand, started, ttl, count = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3],
    tonumber(ARGV[at + 4])
  local fields = {unpack(ARGV, at + 5, at + 4 + 2 * count)}
  at = at + 5 + 2 * count
  local key = prefix .. 'r:' .. id
  local before = redis.call('HGET', key, 'brand')
  if before ~= false and before ~= brand then redis.call('ZREM', prefix .. 'rb:' .. before, id) end
  redis.call('DEL', key)
  redis.call('HSET', key, unpack(fields))
  redis.call('PEXPIRE', key, ttl)
  redis.call('ZADD', prefix .. 'rb:' .. brand, started, id)
  redis.call('ZADD', prefix .. 'ra', started, id)
  redis.call('SADD', prefix .. 'brands', brand)
  brands[brand] = true
end
for brand in pairs(brands) do prune(prefix, brand, cutoff, limit) end
redis.call('ZREMRANGEBYSCORE', prefix .. 'ra', '-inf', '(' .. cutoff)
redis.call('PUBLISH', prefix .. 'requests', 'recorded')
return 0
"""

# ARGV: prefix, cutoff, limit. Applies retention to every brand.
PURGE_REQUESTS = _PRUNE + """
local prefix, cutoff, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
for _, brand in ipairs(redis.call('SMEMBERS', prefix .. 'brands')) do
  prune(prefix, brand, cutoff, limit)
end
redis.call('ZREMRANGEBYSCORE', prefix .. 'ra', '-inf', '(' .. cutoff)
return 0
"""

# KEYS[1] the index (P ra, or a brand's P rb:<brand>). ARGV: prefix, cutoff, before score,
# before id, after score, after id (scores "" when absent), path ("" any), status ("" any),
# errors only ("1"), limit, then the summary fields to answer. Walks the index newest first
# (oldest first with `after`) and answers the matching records' fields, one list each.
LIST_REQUESTS = _BYTES_LESS + """
local index, prefix, cutoff = KEYS[1], ARGV[1], ARGV[2]
local path, status, errors_only, limit = ARGV[7], ARGV[8], ARGV[9] == '1', tonumber(ARGV[10])
local fields = {unpack(ARGV, 11)}

-- How many members come before (score, id); with `inclusive`, also (score, id) itself.
local function position(score, id, inclusive)
  local n = redis.call('ZCOUNT', index, '-inf', '(' .. score)
  for _, member in ipairs(redis.call('ZRANGE', index, score, score, 'BYSCORE')) do
    if bytes_less(member, id) or (inclusive and member == id) then n = n + 1 end
  end
  return n
end

local low = redis.call('ZCOUNT', index, '-inf', '(' .. cutoff)
local high = redis.call('ZCARD', index) - 1
if ARGV[3] ~= '' then high = math.min(high, position(ARGV[3], ARGV[4], false) - 1) end
if ARGV[5] ~= '' then low = math.max(low, position(ARGV[5], ARGV[6], true)) end
local ascending = ARGV[5] ~= ''

local found = {}
local function consider(id)
  local values = redis.call('HMGET', prefix .. 'r:' .. id, 'path', 'status', 'error', unpack(fields))
  if values[1] == false then return end  -- expired meanwhile
  if path ~= '' and values[1] ~= path then return end
  if status ~= '' and values[2] ~= status then return end
  if errors_only and values[3] ~= '1' then return end
  found[#found + 1] = {unpack(values, 4, 3 + #fields)}
end

local chunk = 200
while #found < limit and low <= high do
  local first, last
  if ascending then first, last = low, math.min(high, low + chunk - 1); low = last + 1
  else first, last = math.max(low, high - chunk + 1), high; high = first - 1 end
  local ids = redis.call('ZRANGE', index, first, last)
  local from, to, step = 1, #ids, 1
  if not ascending then from, to, step = #ids, 1, -1 end
  for k = from, to, step do
    consider(ids[k])
    if #found >= limit then break end
  end
end
return found
"""
