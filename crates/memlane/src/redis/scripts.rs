//! The Lua scripts: every write, and every read that must see a memory and its indexes together.
//!
//! A script runs atomically, and its effects are replicated and written to the AOF as one transaction, so a crash
//! never leaves a memory and its indexes disagreeing. Each script first checks everything, then writes: a script
//! that refuses (a conflict, a stale version) has written nothing. All keys a script touches share one tenant's hash
//! tag (see [`super::keys`]), so they are in one cluster slot; the tenant's index key is declared in `KEYS` for
//! routing, and the rest is computed by the store and passed in `ARGV`.
//!
//! Time is the server's (`TIME`): expiry is decided by the same clock that runs `PEXPIREAT`.

use redis::Script;

/// Helpers every script starts with.
const PRELUDE: &str = r#"
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function ms(n)
  return string.format('%d', n)
end

-- Calls f(key, member) for every pair of a footprint (lines: key, member, key, member, ...).
local function each_pair(fp, f)
  if not fp then return end
  local key = nil
  for line in string.gmatch(fp, '[^\n]+') do
    if key then
      f(key, line)
      key = nil
    else
      key = line
    end
  end
end

local function index(fp)
  each_pair(fp, function(k, m) redis.call('ZADD', k, 0, m) end)
end

local function unindex(fp)
  each_pair(fp, function(k, m) redis.call('ZREM', k, m) end)
end

-- Whether the memory hash `key` has not expired at `now`, and whether it exists at all.
local function live(key, now)
  local v = redis.call('HMGET', key, 'version', 'expires_at')
  if not v[1] then
    return false, false
  end
  return (not v[2]) or tonumber(v[2]) > now, true
end

-- Sorted-set members to add, by key: written with one ZADD per key and chunk by `flush`.
local function collect(pending, fp)
  each_pair(fp, function(k, m)
    local l = pending[k]
    if not l then
      l = {}
      pending[k] = l
    end
    l[#l + 1] = 0
    l[#l + 1] = m
  end)
end

local function flush(pending)
  for k, l in pairs(pending) do
    for i = 1, #l, 1000 do
      redis.call('ZADD', k, unpack(l, i, math.min(i + 999, #l)))
    end
  end
end

-- Deletes memory `id` (hash `mem`) and every index entry that names it.
local function remove(mem, id, x, f)
  local fp = redis.call('HGET', mem, 'index')
  if not fp then
    fp = redis.call('HGET', f, id)
  end
  unindex(fp)
  redis.call('DEL', mem)
  redis.call('ZREM', x, id)
  redis.call('HDEL', f, id)
end

-- Deletes up to `n` memories of one tenant that expired at `now`; returns how many.
local function purge(mprefix, x, f, now, n)
  local ids = redis.call('ZRANGEBYSCORE', x, '-inf', ms(now), 'LIMIT', 0, n)
  for _, id in ipairs(ids) do
    remove(mprefix .. id, id, x, f)
  end
  return #ids
end

-- The smallest of the sorted sets KEYS.
local function smallest()
  local idx, size = KEYS[1], redis.call('ZCARD', KEYS[1])
  for i = 2, #KEYS do
    local s = redis.call('ZCARD', KEYS[i])
    if s < size then
      idx, size = KEYS[i], s
    end
  end
  return idx
end
"#;

/// Adds a batch, all or nothing.
///
/// `KEYS`: the index of every tenant in the batch (routing only). `ARGV`: dedup (`1`/`0`), the registry key (or
/// empty on a cluster, where it is another slot), the number of memories, then per memory: tenant, hash key, memory
/// key prefix, id, expiry index, footprint hash, dedup key, content hash, `expires_at` (or empty), footprint, the
/// number of field values, the field values.
///
/// Returns `{'conflict', i}` (nothing written), or `{'ok', results, tenants}` where each result is `{'created'}`,
/// `{'same', j}` (the same as the batch's memory `j`) or `{'existing', id, fields}`, and `tenants` are those whose
/// first expiring memory this added.
const ADD: &str = r#"
local now = now_ms()
local dedup = ARGV[1] == '1'
local reg = ARGV[2]
local n = tonumber(ARGV[3])
local items = {}
local p = 4
for i = 1, n do
  local it = {tenant = ARGV[p], mem = ARGV[p + 1], mprefix = ARGV[p + 2], id = ARGV[p + 3], x = ARGV[p + 4],
    f = ARGV[p + 5], dkey = ARGV[p + 6], hash = ARGV[p + 7], exp = ARGV[p + 8], fp = ARGV[p + 9]}
  local nf = tonumber(ARGV[p + 10])
  it.fields = {}
  for j = 1, nf do
    it.fields[j] = ARGV[p + 10 + j]
  end
  p = p + 11 + nf
  items[i] = it
end

local purged = {}
for _, it in ipairs(items) do
  if not purged[it.x] then
    purged[it.x] = true
    purge(it.mprefix, it.x, it.f, now, 100)
  end
end

local out, creates, by_id, by_content = {}, {}, {}, {}
for i, it in ipairs(items) do
  local res = nil
  local j = by_id[it.mem]
  if j then
    if items[j].hash == it.hash and items[j].dkey == it.dkey then
      res = {'same', j}
    else
      return {'conflict', i}
    end
  else
    local alive, exists = live(it.mem, now)
    it.exists = exists
    if alive then
      local cur = redis.call('HMGET', it.mem, 'content_hash', 'scope')
      if cur[1] == it.hash and cur[2] == it.dkey then
        res = {'existing', it.id, redis.call('HGETALL', it.mem)}
      else
        return {'conflict', i}
      end
    end
  end
  local ck = it.dkey .. '\n' .. it.hash
  if not res and dedup then
    j = by_content[ck]
    if j then
      res = {'same', j}
    else
      local cands = redis.call('ZRANGEBYLEX', it.dkey, '[' .. it.hash .. ':', '(' .. it.hash .. ';', 'LIMIT', 0, 64)
      for _, c in ipairs(cands) do
        local cid = string.sub(c, #it.hash + 2)
        local cmem = it.mprefix .. cid
        if live(cmem, now) then
          res = {'existing', cid, redis.call('HGETALL', cmem)}
          break
        end
      end
    end
  end
  if not res then
    res = {'created'}
    by_id[it.mem] = i
    if not by_content[ck] then
      by_content[ck] = i
    end
    creates[#creates + 1] = it
  end
  out[i] = res
end

local first, expiring, pending = {}, {}, {}
for _, it in ipairs(creates) do
  if it.exp == '' or tonumber(it.exp) > now then
    if expiring[it.x] == nil then
      expiring[it.x] = redis.call('ZCARD', it.x) > 0
    end
    if expiring[it.x] then
      -- An expired memory with the same id may have left index entries.
      local old = redis.call('HGET', it.f, it.id)
      if old then
        unindex(old)
        redis.call('HDEL', it.f, it.id)
        redis.call('ZREM', it.x, it.id)
      end
    end
    if it.exists then
      redis.call('DEL', it.mem)
    end
    redis.call('HSET', it.mem, unpack(it.fields))
    collect(pending, it.fp)
    if it.exp ~= '' then
      if first[it.tenant] == nil then
        first[it.tenant] = not expiring[it.x]
      end
      expiring[it.x] = true
      redis.call('PEXPIREAT', it.mem, it.exp)
      redis.call('ZADD', it.x, it.exp, it.id)
      redis.call('HSET', it.f, it.id, it.fp)
      if reg ~= '' then
        redis.call('SADD', reg, it.tenant)
      end
    end
  end
end
flush(pending)
local firsts = {}
for t, was_empty in pairs(first) do
  if was_empty then
    firsts[#firsts + 1] = t
  end
end
return {'ok', out, firsts}
"#;

/// Replaces a memory's state if its version is still the one read.
///
/// `KEYS[1]`: the hash. `ARGV`: the version read, id, expiry index, footprint hash, registry key (or empty), tenant,
/// new `expires_at` (or empty), new footprint, the number of fields to delete, those fields, the number of field
/// values to set, those values. Returns `{'missing'}`, `{'version', current}` (nothing written) or `{'ok', first}`
/// (`first` = 1 when this made the tenant's first expiring memory).
const UPDATE: &str = r#"
local mem = KEYS[1]
local now = now_ms()
if not live(mem, now) then
  return {'missing'}
end
local cur = redis.call('HGET', mem, 'version')
if cur ~= ARGV[1] then
  return {'version', cur}
end
local id, x, f, reg, tenant, exp, fp = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local p = 9
local nd = tonumber(ARGV[p])
p = p + 1
for _ = 1, nd do
  redis.call('HDEL', mem, ARGV[p])
  p = p + 1
end
local ns = tonumber(ARGV[p])
p = p + 1
local sets = {}
for j = 1, ns do
  sets[j] = ARGV[p]
  p = p + 1
end
unindex(redis.call('HGET', mem, 'index'))
redis.call('HSET', mem, unpack(sets))
index(fp)
local first = 0
if exp == '' then
  redis.call('PERSIST', mem)
  redis.call('ZREM', x, id)
  redis.call('HDEL', f, id)
else
  if redis.call('ZCARD', x) == 0 then
    first = 1
  end
  redis.call('PEXPIREAT', mem, exp)
  redis.call('ZADD', x, exp, id)
  redis.call('HSET', f, id, fp)
  if reg ~= '' then
    redis.call('SADD', reg, tenant)
  end
end
return {'ok', first}
"#;

/// Deletes one live memory. `KEYS[1]`: the hash; `ARGV`: id, expiry index, footprint hash. Returns 1, or 0 when
/// there was no live memory.
const DELETE: &str = r#"
local now = now_ms()
if not live(KEYS[1], now) then
  return 0
end
remove(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
return 1
"#;

/// Reads the next live memories of a scope, newest first, from the smallest candidate index; purges first.
///
/// `KEYS`: the candidate indexes. `ARGV`: memory key prefix, expiry index, footprint hash, upper bound (`+` or
/// `(MEMBER`), how many index entries to examine at most, how many memories to return at most, user, agent,
/// session (empty = any). Returns `{last, {id, fields, id, fields, ...}}` where `last` is the last entry examined,
/// empty when the index is exhausted.
const SCAN: &str = r#"
local mprefix, x, f = ARGV[1], ARGV[2], ARGV[3]
local now = now_ms()
purge(mprefix, x, f, now, 100)
local idx = smallest()
local budget, want = tonumber(ARGV[5]), tonumber(ARGV[6])
local need = {user = ARGV[7], agent = ARGV[8], session = ARGV[9]}
local members = redis.call('ZREVRANGEBYLEX', idx, ARGV[4], '-', 'LIMIT', 0, budget)
local out, found, last = {}, 0, ''
for i, m in ipairs(members) do
  last = m
  local id = string.sub(m, 18)
  local h = redis.call('HGETALL', mprefix .. id)
  if #h > 0 then
    local ok = true
    local seen = {}
    for j = 1, #h, 2 do
      local k = h[j]
      if k == 'expires_at' then
        if tonumber(h[j + 1]) <= now then
          ok = false
        end
      elseif k == 'user' or k == 'agent' or k == 'session' then
        seen[k] = h[j + 1]
      end
    end
    for k, v in pairs(need) do
      if v ~= '' and seen[k] ~= v then
        ok = false
      end
    end
    if ok then
      out[#out + 1] = id
      out[#out + 1] = h
      found = found + 1
      if found >= want then
        if i == #members and #members < budget then
          last = ''
        end
        return {last, out}
      end
    end
  end
end
if #members < budget then
  last = ''
end
return {last, out}
"#;

/// Counts an index after purging. `KEYS[1]`: the index; `ARGV`: memory key prefix, expiry index, footprint hash.
/// Returns the count, or -1 when expired memories are left to purge (call again).
const COUNT: &str = r#"
local now = now_ms()
purge(ARGV[1], ARGV[2], ARGV[3], now, 1000)
if #redis.call('ZRANGEBYSCORE', ARGV[2], '-inf', ms(now), 'LIMIT', 0, 1) > 0 then
  return -1
end
return redis.call('ZCARD', KEYS[1])
"#;

/// Deletes the memories of a scope, one chunk of the smallest candidate index at a time.
///
/// `KEYS`: the candidate indexes. `ARGV`: memory key prefix, expiry index, footprint hash, upper bound, how many
/// entries to examine, user, agent, session (empty = any). Returns `{deleted, last}`; `last` is empty when done.
const FORGET: &str = r#"
local mprefix, x, f = ARGV[1], ARGV[2], ARGV[3]
local now = now_ms()
purge(mprefix, x, f, now, 1000)
local idx = smallest()
local budget = tonumber(ARGV[5])
local user, agent, session = ARGV[6], ARGV[7], ARGV[8]
local members = redis.call('ZREVRANGEBYLEX', idx, ARGV[4], '-', 'LIMIT', 0, budget)
local n, last = 0, ''
for _, m in ipairs(members) do
  last = m
  local id = string.sub(m, 18)
  local mem = mprefix .. id
  local h = redis.call('HMGET', mem, 'user', 'agent', 'session', 'expires_at', 'index')
  if h[5] then
    if (user == '' or h[1] == user) and (agent == '' or h[2] == agent) and (session == '' or h[3] == session) then
      local alive = (not h[4]) or tonumber(h[4]) > now
      remove(mem, id, x, f)
      if alive then
        n = n + 1
      end
    end
  else
    local fp = redis.call('HGET', f, id)
    if fp then
      unindex(fp)
      redis.call('HDEL', f, id)
      redis.call('ZREM', x, id)
    else
      redis.call('ZREM', idx, m)
    end
  end
end
if #members < budget then
  last = ''
end
return {n, last}
"#;

/// Purges one tenant. `KEYS[1]`: its expiry index; `ARGV`: memory key prefix, footprint hash, how many at most.
/// Returns `{purged, more (0/1), left}` where `left` counts the expiring memories that remain.
const PURGE: &str = r#"
local now = now_ms()
local n = purge(ARGV[1], KEYS[1], ARGV[2], now, tonumber(ARGV[3]))
local more = #redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ms(now), 'LIMIT', 0, 1)
return {n, more, redis.call('ZCARD', KEYS[1])}
"#;

/// The scripts, loaded (by SHA1, `EVALSHA`, re-sent on `NOSCRIPT`) on first use.
pub(crate) struct Scripts {
    pub(crate) add: Script,
    pub(crate) update: Script,
    pub(crate) delete: Script,
    pub(crate) scan: Script,
    pub(crate) count: Script,
    pub(crate) forget: Script,
    pub(crate) purge: Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        let s = |body: &str| Script::new(&format!("{PRELUDE}\n{body}"));
        Scripts {
            add: s(ADD),
            update: s(UPDATE),
            delete: s(DELETE),
            scan: s(SCAN),
            count: s(COUNT),
            forget: s(FORGET),
            purge: s(PURGE),
        }
    }
}
