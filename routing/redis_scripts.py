"""The Lua of `RedisStore`: every state transition that must be atomic is one function of one Redis library.

Redis runs a function to the end before any other command, so each transition below is seen by every router node
at once. The store loads the library once (`FUNCTION LOAD`) and calls its functions with `FCALL`: the helpers
below are built when the library loads, not on every call as a script's are, and the library keeps what never
goes stale between calls (decoded agent configs by their JSON, parsed requirements). Times travel as the exact
strings Python wrote (`repr(float)`) and are stored unchanged: Lua never formats a float, so enqueue times and
keys survive to the last bit. Functions read state through `hmap` and keep the Lua table in step with what they
write, so helpers see the current values.
"""
from __future__ import annotations

import hashlib

from routing.redis_keys import lua_prelude

VIEW_HEADS = 1    # tasks per bucket in a snapshot: Router._head reads the head, and more only past exclusions
FREE_PAGE = 2     # agents in the first page of a free list (the first usually fits; later pages grow)

# The helpers every function shares (after `lua_prelude`): in the library they are built once per load, not per call
_HELPERS = f"local VIEW_HEADS, FREE_PAGE = {VIEW_HEADS}, {FREE_PAGE}\n" + r"""
-- Agent fields written with `set`/`incr` are kept in the Lua table at once and reach Redis in one HSET per hash
-- (`save`): before a read of a hash with such writes pending (`hmap`) and at the end of every function (see
-- `entry`).
local DIRTY, DIRTY_KEYS = {}, {}
local function save()
  for _, k in ipairs(DIRTY_KEYS) do
    local flat = {}
    for f, v in pairs(DIRTY[k]) do flat[#flat + 1] = f; flat[#flat + 1] = v end
    redis.call('HSET', k, unpack(flat))
  end
  DIRTY, DIRTY_KEYS = {}, {}
end
local function hmap(k)
  if DIRTY[k] then save() end
  local flat = redis.call('HGETALL', k)
  local m = {}
  for i = 1, #flat, 2 do m[flat[i]] = flat[i + 1] end
  return m, flat
end
local function num(v) return tonumber(v) or 0 end
local function set(k, m, field, value)
  m[field] = value
  local d = DIRTY[k]
  if not d then
    d = {}
    DIRTY[k] = d
    DIRTY_KEYS[#DIRTY_KEYS + 1] = k
  end
  d[field] = value
end
-- counters of an agent hash are small integers: the sum is exact, and tostring gives what HINCRBY would store
local function incr(k, m, field, by)
  set(k, m, field, tostring(num(m[field]) + by))
end

-- The load fields of an agent are `l:<channel>`. The library keeps, by field name, whether a field is one (a table
-- look-up instead of two string.byte calls per field in every loop over an agent) and each channel's field name
-- (no concatenation to intern per use); both are bounded by the few field and channel names there are.
local IS_LOAD, LOADS = {}, {}
local function learn_load(f)
  local yes = string.byte(f, 1) == 108 and string.byte(f, 2) == 58
  IS_LOAD[f] = yes
  return yes
end
local function load_field(ch)
  local f = LOADS[ch]
  if not f then f = 'l:' .. ch; LOADS[ch] = f end
  return f
end

-- sum(agent.load.values())
local function held_of(a)
  local held = 0
  for f, v in pairs(a) do
    local yes = IS_LOAD[f]
    if yes == nil then yes = learn_load(f) end
    if yes then held = held + tonumber(v) end
  end
  return held
end

-- model.can_take, exactly
local function can_take(a, cfg, ch)
  if a.presence ~= 'available' then return false end
  local cap = cfg.capacity[ch] or 0
  local own = load_field(ch)
  if num(a[own]) >= cap then return false end
  for _, b in ipairs(cfg.blocking) do
    if b == ch then
      for f, held in pairs(a) do
        local yes = IS_LOAD[f]
        if yes == nil then yes = learn_load(f) end
        if yes and f ~= own and tonumber(held) > 0 then return false end
      end
    elseif num(a[load_field(b)]) > 0 then
      return false
    end
  end
  return true
end

-- AgentRecord.derived_state, exactly
local function derived(a)
  local held = held_of(a)
  local wrapping, offers = num(a.wrapping), num(a.offers)
  if held > wrapping + offers then return 'busy' end
  if wrapping > 0 then return 'wrapup' end
  return a.presence
end

local function restate(ak, a, now)
  local s = derived(a)
  if s ~= a.state then
    set(ak, a, 'state', s)
    set(ak, a, 'state_since', now)
  end
end

local function fits(a, cfg)
  local out = {}
  for ch, _ in pairs(cfg.capacity) do out[ch] = can_take(a, cfg, ch) end
  return out
end

-- model.free_score, exactly: fewest contacts held first, then longest idle
local function free_score(a)
  return held_of(a) * 1e10 + tonumber(a.idle_since)
end

-- the free lists of the agent's queues, scored by free_score: every list the agent fits gets its current score
-- (its load may have moved); of the others, only those it fitted `before` (what `fits` said before the change;
-- nil: any) hold it (the free lists hold exactly the agents that fit), so only those need a ZREM
local function index_free(id, a, cfg, before)
  local now, score = fits(a, cfg), nil
  for _, q in ipairs(cfg.queues) do
    for ch, fit in pairs(now) do
      if fit then
        score = score or free_score(a)
        redis.call('ZADD', key('free', q, ch), score, id)
      elseif not before or before[ch] then
        redis.call('ZREM', key('free', q, ch), id)
      end
    end
  end
end
local index_moved = index_free

-- the free lists and the signed-in sets of the agent's queues, all of them
local function index(id, a, cfg)
  for _, q in ipairs(cfg.queues) do
    if a.presence ~= 'offline' then
      redis.call('SADD', key('signed-in', q), id)
    else
      redis.call('SREM', key('signed-in', q), id)
    end
  end
  index_free(id, a, cfg, nil)
end

local function unindex(id, cfg)
  for _, q in ipairs(cfg.queues) do
    redis.call('SREM', key('signed-in', q), id)
    for ch, _ in pairs(cfg.capacity) do redis.call('ZREM', key('free', q, ch), id) end
  end
end

-- Decoded agent configs, by their JSON: a config never changes under the same JSON, so the library keeps them
-- across calls (bounded; functions only read them) instead of a cjson.decode per agent per call
local CONFIGS, CONFIG_COUNT = {}, 0
local function config_of(raw)
  local cfg = CONFIGS[raw]
  if not cfg then
    if CONFIG_COUNT >= 10000 then CONFIGS, CONFIG_COUNT = {}, 0 end
    cfg = cjson.decode(raw)
    -- what the choice derives from a config, derived once (AgentConfig's JSON has no `_` keys): its channels in
    -- order, and whether its skills meet a requirement, by requirement (filled by best_for)
    local channels = {}
    for ch, _ in pairs(cfg.capacity) do channels[#channels + 1] = ch end
    table.sort(channels)
    cfg._channels, cfg._fit = channels, {['']= true}
    CONFIGS[raw], CONFIG_COUNT = cfg, CONFIG_COUNT + 1
  end
  return cfg
end

local function load_agent(id)
  local ak = key('agent', id)
  local a = hmap(ak)
  if not a.config then return nil end
  return ak, a, config_of(a.config)
end

-- replies are one JSON string (cjson): one bulk reply instead of two per field, parsed in C by the client
local function reply(v) return cjson.encode(v) end
local function task_map(id) return (hmap(key('task', id))) end
-- `a` (optional): the agent's hash as a function holds it, kept in step with its writes: no need to read it again
-- The agent's tasks are exactly one per unit of load (claim adds both, release, close_task and drop_task remove
-- both): an agent with no load holds none, and one with a load of 1 that just claimed `claimed` holds just it;
-- then its set is not read.
local function read_agent(id, a, claimed)
  a = a or hmap(key('agent', id))
  if not a.config then return false end
  local held = held_of(a)
  if held == 0 then return {h = a, t = {}} end
  if held == 1 and claimed then return {h = a, t = {claimed}} end
  return {h = a, t = redis.call('SMEMBERS', key('agent-tasks', id))}
end

-- one contact of `ch` less on the agent: it is idle from `now` and goes to the back of the free lists (unless
-- `defer`: the caller indexes it once after more changes, with what `fits` said before, which this returns)
local function free_one(ak, a, cfg, ch, now, defer)
  local before = fits(a, cfg)
  incr(ak, a, load_field(ch), -1)
  set(ak, a, 'idle_since', now)
  restate(ak, a, now)
  if not defer then index_moved(a.id, a, cfg, before) end
  return before
end

local function is_queue_bucket(bucket) return string.sub(bucket, 1, 1) == 'q' end

-- A bucket member (redis_codec.bucket_member): 16 hex digits of enqueued_at and the id (what orders ties), then
-- NUL and what the choice reads of a head: priority SEP enqueued_at SEP 1 if the task has exclusions SEP queue.
-- A member written by an older library ends at the id: its task hash has those fields.
local function member_id(m)
  local z = string.find(m, '\0', 17, true)
  return string.sub(m, 17, (z or 0) - 1)
end
local function member_of(t)
  local excluded = '0'
  for f, _ in pairs(t) do
    if string.byte(f, 1) == 120 and string.byte(f, 2) == 58 then excluded = '1'; break end   -- 'x:'
  end
  return string.sub(t.m, 1, 16) .. t.id .. '\0' .. t.priority .. SEP .. t.enqueued_at .. SEP .. excluded .. SEP
    .. t.queue
end

local function bucket_add(t)
  redis.call('ZADD', key('bucket', t.bucket), t.key, t.m)
  redis.call('ZADD', key('queued', t.queue), t.queued_at, t.id)
  if is_queue_bucket(t.bucket) then redis.call('SADD', key('buckets', t.queue), t.bucket) end
end

local function bucket_remove(t)
  local bk = key('bucket', t.bucket)
  redis.call('ZREM', bk, t.m)
  redis.call('ZREM', key('queued', t.queue), t.id)
  if is_queue_bucket(t.bucket) and redis.call('EXISTS', bk) == 0 then
    redis.call('SREM', key('buckets', t.queue), t.bucket)
  end
end

-- a timer: numbered, so that timers due at the same instant pop in the order they were scheduled
local function add_timer(at, kind, ref)
  local member = string.format('%016d', redis.call('INCR', key('timer-seq'))) .. SEP .. kind .. SEP .. ref
  redis.call('ZADD', key('timers'), at, member)
  return member
end

-- an open offer disappears: its record, its place among the agent's offers, its timer; how it ended stays
-- readable for `ttl` seconds (`closed_offer`: an expired offer is told from an unknown one on every node)
local function offer_remove(o, outcome, ttl)
  redis.call('DEL', key('offer', o.id))
  redis.call('SET', key('closed-offer', o.id), outcome, 'EX', ttl)
  redis.call('ZREM', key('agent-offers', o.agent_id), o.id)
  redis.call('ZREM', key('timers'), o.timer)
end

-- bucket names are routing.model.bucket_name / preferred_bucket: kind SEP owner SEP channel [SEP requirement];
-- the library keeps their parts (bounded): a name never changes meaning, and a choice reads each several times
local PARTS, PARTS_COUNT = {}, 0
local function parts_of(b)
  local p = PARTS[b]
  if not p then
    if PARTS_COUNT >= 10000 then PARTS, PARTS_COUNT = {}, 0 end
    local first = string.find(b, SEP, 1, true)
    local second = string.find(b, SEP, first + 1, true)
    local third = string.find(b, SEP, second + 1, true)
    p = {owner = string.sub(b, first + 1, second - 1), channel = string.sub(b, second + 1, (third or 0) - 1),
         requirement = third and string.sub(b, third + 1) or '', queue = string.byte(b, 1) == 113}   -- 'q'
    PARTS[b], PARTS_COUNT = p, PARTS_COUNT + 1
  end
  return p
end
local function bucket_channel(b) return parts_of(b).channel end
local function preferred_bucket(id, ch) return 'a' .. SEP .. id .. SEP .. ch end

local function heads(b)
  local out = {}
  for _, m in ipairs(redis.call('ZRANGE', key('bucket', b), 0, VIEW_HEADS - 1)) do
    out[#out + 1] = task_map(member_id(m))
  end
  return out
end

-- Snapshots returned with a write, in the same atomic step, so that the reads the engine makes next cost no
-- round trip: an agent with what its next dispatch reads (Router._best_for: the bucket lists of its queues and
-- the heads of the buckets it can take now), and the first free agents of a (queue, channel) (_dispatch_task).
local function agent_view(id, held, cfg, claimed)
  local ag = read_agent(id, held, claimed)
  if not ag then return false end
  local a = ag.h
  if a.presence ~= 'available' then return {a = ag} end
  cfg = held and cfg or config_of(a.config)
  local open = false
  for ch, _ in pairs(cfg.capacity) do
    if can_take(a, cfg, ch) then open = true; break end
  end
  if not open then return {a = ag} end   -- full: the engine reads no bucket for it
  local qs, hs = {}, {}
  for _, q in ipairs(cfg.queues) do
    local bs = redis.call('SMEMBERS', key('buckets', q))
    qs[q] = bs
    for _, b in ipairs(bs) do
      if can_take(a, cfg, bucket_channel(b)) then hs[b] = heads(b) end
    end
  end
  for ch, _ in pairs(cfg.capacity) do
    if can_take(a, cfg, ch) then hs[preferred_bucket(id, ch)] = heads(preferred_bucket(id, ch)) end
  end
  return {a = ag, q = qs, h = hs}
end

local function free_view(q, ch)
  local out = {}
  for _, id in ipairs(redis.call('ZRANGE', key('free', q, ch), 0, FREE_PAGE - 1)) do out[#out + 1] = read_agent(id) end
  return {q = q, c = ch, a = out}
end

-- a new task: tk did not exist, so its hash is exactly these fields (all strings) and `t` is what HGETALL gives
local function add(tk, fields)
  local t, flat = cjson.decode(fields), {}
  for field, value in pairs(t) do flat[#flat + 1] = field; flat[#flat + 1] = value end
  redis.call('HSET', tk, unpack(flat))
  bucket_add(t)
  return t
end

-- the offer of queued task `t` (its hash, key tk) of queue q to the agent (ak, a, cfg), who can_take channel ch:
-- the task leaves its bucket, the agent's load and open offers grow, the offer and its timer are written (the
-- free lists too, unless `defer`: see free_one)
local function claim_task(tk, t, offer_id, ak, a, cfg, q, ch, made_at, expires_at, defer)
  local agent_id = a.id
  local before = not defer and fits(a, cfg)
  bucket_remove(t)
  t.state, t.offer_id, t.agent_id = 'offered', offer_id, agent_id
  redis.call('HSET', tk, 'state', 'offered', 'offer_id', offer_id, 'agent_id', agent_id)
  incr(ak, a, load_field(ch), 1)
  incr(ak, a, 'offers', 1)
  redis.call('SADD', key('agent-tasks', agent_id), t.id)
  redis.call('HSET', key('offer', offer_id), 'id', offer_id, 'task_id', t.id, 'agent_id', agent_id,
             'queue', q, 'channel', ch, 'made_at', made_at, 'expires_at', expires_at,
             'timer', add_timer(expires_at, 'offer', offer_id))
  -- scored by a per-agent claim count: offers_of lists them in the order they were made, as MemoryStore does
  incr(ak, a, 'claims', 1)
  redis.call('ZADD', key('agent-offers', agent_id), a.claims, offer_id)
  restate(ak, a, made_at)
  if before then index_free(agent_id, a, cfg, before) end
end

-- the end of a task's wrap-up: it is closed (readable for `ttl` seconds more) and its agent frees one unit
-- (`defer`, `before`: see free_one). `brief`: read (and return) only what the close and Router.wrapup_done need
-- of the task (CLOSED: a whole task hash is ~20 fields to turn into Lua strings, and into JSON for the reply)
local CLOSED = {'state', 'agent_id', 'channel', 'queue', 'assigned_at', 'ended_at'}
local function close(task_id, now, ttl, defer, brief)
  local tk = key('task', task_id)
  local t
  if brief then
    local f = redis.call('HMGET', tk, unpack(CLOSED))
    t = {id = task_id}
    for i, name in ipairs(CLOSED) do t[name] = f[i] end
  else
    t = hmap(tk)
  end
  if t.state ~= 'wrapup' then return false end
  t.state, t.closed_at = 'closed', now
  redis.call('HSET', tk, 'state', 'closed', 'closed_at', now)
  redis.call('EXPIRE', tk, ttl)
  local ak, a, cfg = load_agent(t.agent_id)
  incr(ak, a, 'wrapping', -1)
  redis.call('SREM', key('agent-tasks', t.agent_id), t.id)
  local before = free_one(ak, a, cfg, t.channel, now, defer)
  return t, ak, a, cfg, before
end

-- routing.skills: whether skills meet a requirement tree (redis_codec.encode_requirement)
local CMP = {['>='] = function(x, y) return x >= y end, ['>'] = function(x, y) return x > y end,
             ['<='] = function(x, y) return x <= y end, ['<'] = function(x, y) return x < y end,
             ['=='] = function(x, y) return x == y end, ['!='] = function(x, y) return x ~= y end}
local function matches(e, skills)
  local kind = e[1]
  if kind == 'h' then
    local level = skills[e[2]]
    if level == nil then return false end
    return e[3] == nil or CMP[e[3]](level, tonumber(e[4]))
  elseif kind == 'n' then
    return not matches(e[2], skills)
  elseif kind == 'a' then
    for i = 2, #e do if not matches(e[i], skills) then return false end end
    return true
  elseif kind == 'o' then
    for i = 2, #e do if matches(e[i], skills) then return true end end
    return false
  end
  return true
end

-- Parsed requirements, by expression: the `requirements` hash maps an expression to its one parsed tree and never
-- changes it, so the library keeps the trees it has read (bounded) instead of an HMGET and a cjson.decode per call
local TREES, TREE_COUNT = {}, 0
local function tree_of(req, raw)
  if TREE_COUNT >= 10000 then TREES, TREE_COUNT = {}, 0 end
  local tree = cjson.decode(raw)
  TREES[req], TREE_COUNT = tree, TREE_COUNT + 1
  return tree
end
"""

# Router._best_for, line for line, for close_and_claim: the queued task an agent should get next (highest
# effective priority, then longest waiting; the first bucket wins ties, buckets in the engine's order). It
# returns nil (none), or false and a reason when it cannot decide as the engine would (a requirement not yet
# parsed for Lua, a queue without config): the engine then decides itself.
CHOICE = r"""
local function requirement_of(b) return parts_of(b).requirement end

-- Router._head: the first task of a bucket the agent is not excluded from (x:<agent> > now) nor, in a preferred
-- agent's bucket, held past its hold's end (its timer not handled yet), read as much as the choice needs (queue,
-- priority, enqueued_at): from the member itself, and the task hash only for a task with exclusions (its
-- `x:<agent>`), in a preferred agent's bucket (its `preferred_until`) or of a member written by an older library
-- (see member_of)
local function head_for(b, agent_id, now)
  local bk, start, size = key('bucket', b), 0, 1
  local held = not is_queue_bucket(b)
  while true do
    local members = redis.call('ZRANGE', bk, start, start + size - 1)
    for _, m in ipairs(members) do
      local z = string.find(m, '\0', 17, true)
      if z and not held then
        local id = string.sub(m, 17, z - 1)
        local s1 = string.find(m, SEP, z + 1, true)
        local s2 = string.find(m, SEP, s1 + 1, true)
        local until_ = string.byte(m, s2 + 1) == 49 and redis.call('HGET', key('task', id), 'x:' .. agent_id)
        if not until_ or tonumber(until_) <= now then
          return id, string.sub(m, s2 + 3), tonumber(string.sub(m, z + 1, s1 - 1)), tonumber(string.sub(m, s1 + 1, s2 - 1))
        end
      else
        local id = member_id(m)
        local f = redis.call('HMGET', key('task', id), 'queue', 'priority', 'enqueued_at', 'x:' .. agent_id,
                             'preferred_until')
        local hold = held and tonumber(f[5] or '0') or 0
        if (not f[4] or tonumber(f[4]) <= now) and not (hold > 0 and now >= hold) then
          return id, f[1], tonumber(f[2]), tonumber(f[3])
        end
      end
    end
    if #members < size then return nil end
    start, size = start + size, size * 16
  end
end

-- Router._dispatch_task for a new task with a first-fit strategy (longest idle): the first agent of the free
-- list of its (queue, channel) who can take it and whose skills meet its requirement (a new task excludes
-- nobody); a task waiting for its preferred agent: that agent, if they can take it. Returns the agent (ak, a,
-- cfg), nil (none), or false and a requirement Lua has no parsed form of; past FIT_SCAN free agents it also
-- returns false, and the engine reads on.
local FIT_SCAN = 32
local function first_fit(t)
  local ch = t.channel
  if not is_queue_bucket(t.bucket) then
    local first = string.find(t.bucket, SEP, 1, true)
    local ak, a, cfg = load_agent(string.sub(t.bucket, first + 1, string.find(t.bucket, SEP, first + 1, true) - 1))
    if ak and can_take(a, cfg, ch) then return ak, a, cfg end
    return nil
  end
  local req, tree = requirement_of(t.bucket), nil
  if req ~= '' then
    tree = TREES[req]
    if not tree then
      local raw = redis.call('HGET', key('requirements'), req)
      if not raw then return false, req end
      tree = tree_of(req, raw)
    end
  end
  local ids = redis.call('ZRANGE', key('free', t.queue, ch), 0, FIT_SCAN - 1)
  for _, id in ipairs(ids) do
    local ak, a, cfg = load_agent(id)
    if ak and can_take(a, cfg, ch) and (not tree or matches(tree, cfg.skills)) then return ak, a, cfg end
  end
  if #ids == FIT_SCAN then return false end
  return nil
end

-- Redis calls are most of a function's time, so best_for batches what it can: one EXISTS for the agent's preferred
-- buckets (usually empty), one SUNION for the bucket lists of its queues, one HMGET for the requirements of its
-- buckets the library has not read yet, one for the ageing of their heads' queues
local function best_for(a, cfg, now)
  local open, channels = {}, {}
  for _, ch in ipairs(cfg._channels) do
    if can_take(a, cfg, ch) then open[ch] = true; channels[#channels + 1] = ch end
  end
  if #channels == 0 then return nil end
  local buckets, preferred = {}, {}
  for _, ch in ipairs(channels) do preferred[#preferred + 1] = key('bucket', preferred_bucket(a.id, ch)) end
  if redis.call('EXISTS', unpack(preferred)) > 0 then
    for _, ch in ipairs(channels) do buckets[#buckets + 1] = preferred_bucket(a.id, ch) end
  end
  if #cfg.queues > 0 then
    -- the engine's order: queues in the agent's order, each one's buckets by name (a queue bucket names its queue)
    local lists, of = {}, {}
    for i, q in ipairs(cfg.queues) do lists[i] = key('buckets', q) end
    local union = redis.call('SUNION', unpack(lists))
    table.sort(union)
    for _, b in ipairs(union) do
      local q = parts_of(b).owner
      local l = of[q]
      if not l then l = {}; of[q] = l end
      l[#l + 1] = b
    end
    for _, q in ipairs(cfg.queues) do
      for _, b in ipairs(of[q] or {}) do buckets[#buckets + 1] = b end
    end
  end
  local fit, wanted = cfg._fit, {}   -- kept with the config: a requirement's tree and the skills never change
  for _, b in ipairs(buckets) do
    local p = parts_of(b)
    if open[p.channel] and p.queue and fit[p.requirement] == nil then wanted[#wanted + 1] = p.requirement end
  end
  local unread = {}
  for _, req in ipairs(wanted) do
    local tree = TREES[req]
    if tree then fit[req] = matches(tree, cfg.skills) else unread[#unread + 1] = req end
  end
  if #unread > 0 then
    local trees = redis.call('HMGET', key('requirements'), unpack(unread))
    for i, req in ipairs(unread) do
      if not trees[i] then return false, {need = req} end
      fit[req] = matches(tree_of(req, trees[i]), cfg.skills)
    end
  end
  local heads, queues, seen = {}, {}, {}
  for _, b in ipairs(buckets) do
    local p = parts_of(b)
    local ok = open[p.channel]
    if ok and p.queue then ok = fit[p.requirement] end
    if ok then
      local id, q, priority, at = head_for(b, a.id, now)
      if id then
        heads[#heads + 1] = {id, q, priority, at}
        if not seen[q] then seen[q] = true; queues[#queues + 1] = q end
      end
    end
  end
  if #heads == 0 then return nil end
  if #heads == 1 then return heads[1][1] end   -- nothing to rank it against: its queue's ageing is not needed
  local ageing = {}
  for i, v in ipairs(redis.call('HMGET', key('ageing'), unpack(queues))) do
    local q = queues[i]
    if v then
      ageing[q] = tonumber(v)
    else   -- a queue written before the `ageing` hash: its config has it
      local config = redis.call('HGET', key('queues'), q)
      if not config then return false, {queue = q} end
      ageing[q] = cjson.decode(config).ageing_per_s
    end
  end
  local best, best_p, best_at
  for _, h in ipairs(heads) do
    local id, q, priority, at = h[1], h[2], h[3], h[4]
    local p = -(priority + ageing[q] * (now - at))
    if not best or p < best_p or (p == best_p and at < best_at) then best, best_p, best_at = id, p, at end
  end
  return best
end
"""

# Every function of the store takes one extra, last argument: the store's write-behind operations (JSON, or ""),
# applied before the function's own work, in the same atomic step; so they cost no round trip of their own.
#   ["c", scope, counter, units, counter, units, ...] -> add to the scope's counters (and remember the scope);
#   ["t", at, kind, ref] -> a timer;
#   ["r", requirement, tree] -> the parsed requirement close_and_claim asked for
WRITE_BEHIND = r"""
local function write_behind(pending)
  if pending == '' then return end
  -- counters come summed per scope and counter, in whole millionths as strings (`RedisStore.incr`): HINCRBY adds
  -- them in C, exactly, with no number conversion in Lua; one SADD of their scopes in all
  local scopes = {}
  for _, op in ipairs(cjson.decode(pending)) do
    if op[1] == 'c' then
      local ck = key('counters-micro', op[2])
      for i = 3, #op, 2 do redis.call('HINCRBY', ck, op[i], op[i + 1]) end
      scopes[#scopes + 1] = op[2]
    elseif op[1] == 't' then
      add_timer(op[2], op[3], op[4])
    else
      redis.call('HSET', key('requirements'), op[2], op[3])
    end
  end
  if #scopes > 0 then redis.call('SADD', key('counter-scopes'), unpack(scopes)) end
end

-- every function: ARGV = the prefix, its own arguments, the write-behind; the agent fields it wrote reach Redis
-- at its end (`save`). The per-call state is reset first (a function that raised may have left some).
local function entry(body)
  return function(_, argv)
    P, DIRTY, DIRTY_KEYS = argv[1], {}, {}
    write_behind(table.remove(argv))
    local out = body(argv)
    save()
    return out
  end
end
"""

# the helpers as a script's prelude (prefix from ARGV[1]), for one-off scripts such as the tests' audit
HELPERS = lua_prelude() + _HELPERS

# The bodies of the store's functions: each reads its arguments from ARGV (ARGV[1] is the key prefix)
SCRIPTS: dict[str, str] = {}


# ---- queues ----------------------------------------------------------------------------------------------------
# ARGV: prefix, queue name, QueueConfig JSON, ageing_per_s -> nothing
SCRIPTS["put_queue"] = r"""
redis.call('HSET', key('queues'), ARGV[2], ARGV[3])
redis.call('HSET', key('ageing'), ARGV[2], ARGV[4])
"""

# ---- agents ----------------------------------------------------------------------------------------------------
# ARGV: prefix, agent id, config JSON, now -> {v = agent view}
SCRIPTS["put_agent"] = r"""
local id, config, now = ARGV[2], ARGV[3], ARGV[4]
local ak = key('agent', id)
local old = redis.call('HGET', ak, 'config')
if old then
  unindex(id, config_of(old))
else
  redis.call('HSET', ak, 'id', id, 'presence', 'offline', 'state', 'offline', 'state_since', now,
             'idle_since', now, 'wrapping', 0, 'offers', 0, 'missed', 0)
  redis.call('SADD', key('agents'), id)
end
redis.call('HSET', ak, 'config', config)
local _, a, cfg = load_agent(id)
index(id, a, cfg)
return reply({v = agent_view(id)})
"""

# ARGV: prefix, agent id, presence, has reason (0/1), reason, now -> {v = agent view, or false: no agent}
SCRIPTS["set_presence"] = r"""
local id, presence, now = ARGV[2], ARGV[3], ARGV[6]
local ak, a, cfg = load_agent(id)
if not ak then return reply({v = false}) end
local became_available = presence == 'available' and a.presence ~= 'available'
set(ak, a, 'presence', presence)
if ARGV[4] == '1' then set(ak, a, 'reason', ARGV[5]) else a.reason = nil; redis.call('HDEL', ak, 'reason') end
if became_available then
  set(ak, a, 'missed', '0')
  set(ak, a, 'idle_since', now)
end
restate(ak, a, now)
index(id, a, cfg)
return reply({v = agent_view(id)})
"""

# ARGV: prefix -> every agent, by id, each with its counters (c): what the metrics read next, in one step
SCRIPTS["list_agents"] = r"""
local ids = redis.call('SMEMBERS', key('agents'))
table.sort(ids)
local out = {}
for _, id in ipairs(ids) do
  local ag = read_agent(id)
  if ag then
    ag.c = hmap(key('counters-micro', 'agent:' .. id))
    out[#out + 1] = ag
  end
end
return reply(out)
"""

# ARGV: prefix, agent id -> {v = agent view}
SCRIPTS["agent_view"] = r"""
return reply({v = agent_view(ARGV[2])})
"""

# ARGV: prefix, queue, channel, start, count -> agents of the free list, longest idle first
SCRIPTS["free_page"] = r"""
local ids = redis.call('ZRANGE', key('free', ARGV[2], ARGV[3]), ARGV[4], tonumber(ARGV[4]) + tonumber(ARGV[5]) - 1)
local out = {}
for _, id in ipairs(ids) do out[#out + 1] = read_agent(id) end
return reply(out)
"""

# ---- tasks -----------------------------------------------------------------------------------------------------
# ARGV: prefix, task id, the task's fields as one JSON object of strings -> {ok, t = task, f = free view}
SCRIPTS["add_task"] = r"""
local tk = key('task', ARGV[2])
if redis.call('EXISTS', tk) == 1 then return reply({ok = false}) end
local t = add(tk, ARGV[3])
local f = false
if is_queue_bucket(t.bucket) then f = free_view(t.queue, bucket_channel(t.bucket)) end
return reply({ok = true, t = t, f = f})
"""

# add_task, then the engine's first decision for the task in the same step (Router.enqueue -> _dispatch_task
# with a first-fit strategy: the longest idle agent that fits), claimed as offer ARGV[4]; the task's deadline
# timers (escalation, max wait) are written before the add, where the engine schedules them.
# ARGV: prefix, task id, the task's fields as JSON, offer id, made_at, expires_at, deadline times...
#   -> {ok, t = task, claimed = true when claimed; else f = free view, need = a requirement not yet parsed for Lua}
SCRIPTS["add_and_claim"] = r"""
local tk = key('task', ARGV[2])
if redis.call('EXISTS', tk) == 1 then return reply({ok = false}) end
for i = 7, #ARGV do add_timer(ARGV[i], 'task', ARGV[2]) end
local t = add(tk, ARGV[3])
local ak, a, cfg = first_fit(t)
if ak then
  claim_task(tk, t, ARGV[4], ak, a, cfg, t.queue, t.channel, ARGV[5], ARGV[6])
  return reply({ok = true, t = t, claimed = true})
end
local out = {ok = true, t = t, f = false}
if ak == false then out.need = a end
if is_queue_bucket(t.bucket) then out.f = free_view(t.queue, bucket_channel(t.bucket)) end
return reply(out)
"""

# ARGV: prefix, task ids... -> per task its hash ({} when missing)
SCRIPTS["read_tasks"] = r"""
local out = {}
for i = 2, #ARGV do out[#out + 1] = task_map(ARGV[i]) end
return reply(out)
"""

# ARGV: prefix, bucket, limit -> the head tasks of the bucket
SCRIPTS["read_bucket"] = r"""
local members = redis.call('ZRANGE', key('bucket', ARGV[2]), 0, tonumber(ARGV[3]) - 1)
local out = {}
for _, m in ipairs(members) do out[#out + 1] = task_map(member_id(m)) end
return reply(out)
"""

# ARGV: prefix, queue -> the queued task with the smallest queued_at, or false
SCRIPTS["oldest"] = r"""
local ids = redis.call('ZRANGE', key('queued', ARGV[2]), 0, 0)
if #ids == 0 then return reply(false) end
return reply(task_map(ids[1]))
"""

# ARGV: prefix -> the ids of every task not ended, in no order. No index of their own (one write less for every
# add and every close): they are the queued tasks, each in its queue's `queued`, and the tasks agents hold
# (offered, assigned, in wrap-up), each in its agent's `agent-tasks`. Queues and agents are never deleted.
SCRIPTS["active_ids"] = r"""
local out = {}
for _, q in ipairs(redis.call('HKEYS', key('queues'))) do
  for _, id in ipairs(redis.call('ZRANGE', key('queued', q), 0, -1)) do out[#out + 1] = id end
end
for _, a in ipairs(redis.call('SMEMBERS', key('agents'))) do
  for _, id in ipairs(redis.call('SMEMBERS', key('agent-tasks', a))) do out[#out + 1] = id end
end
return out
"""

# ARGV: prefix, task id -> how many queued tasks of its queue's buckets come before it, or false
# (a rank per bucket, summed: one queue's buckets share its priority weight, so their keys compare)
SCRIPTS["position"] = r"""
local t = redis.call('HMGET', key('task', ARGV[2]), 'state', 'queue', 'key', 'm')
if t[1] ~= 'queued' then return false end
-- members of equal key order by bytes, as ZRANK does (Lua's `<` follows the server's locale)
local function before(x, y)
  for i = 1, math.min(#x, #y) do
    local a, b = string.byte(x, i), string.byte(y, i)
    if a ~= b then return a < b end
  end
  return #x < #y
end
local ahead = 0
for _, b in ipairs(redis.call('SMEMBERS', key('buckets', t[2]))) do
  local bk = key('bucket', b)
  ahead = ahead + redis.call('ZCOUNT', bk, '-inf', '(' .. t[3])
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', bk, t[3], t[3])) do
    if before(m, t[4]) then ahead = ahead + 1 end
  end
end
return ahead
"""

# ARGV: prefix, task id, queue, bucket, key, requirement, queued_at, step, priority, preferred_until
#   -> {t = moved task}, or false when the task is not queued
SCRIPTS["move_task"] = r"""
local tk = key('task', ARGV[2])
local t = hmap(tk)
if t.state ~= 'queued' then return false end
bucket_remove(t)
t.queue, t.bucket, t.key, t.requirement, t.queued_at, t.step, t.priority, t.preferred_until =
  ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
t.m = member_of(t)
redis.call('HSET', tk, 'queue', t.queue, 'bucket', t.bucket, 'key', t.key, 'requirement', t.requirement,
           'queued_at', t.queued_at, 'step', t.step, 'priority', t.priority, 'preferred_until', t.preferred_until,
           'm', t.m)
bucket_add(t)
return reply({t = t})
"""

# ---- offers and the conversation -------------------------------------------------------------------------------
# ARGV: prefix, task id, offer id, agent id, queue, channel, made_at, expires_at -> {ok, t = task, v = agent view}
# The offer's timer is scheduled here, in the same step: a node dying right after a claim leaves an offer that
# still expires.
SCRIPTS["claim"] = r"""
local task_id, offer_id, agent_id, ch, made_at, expires_at = ARGV[2], ARGV[3], ARGV[4], ARGV[6], ARGV[7], ARGV[8]
local tk = key('task', task_id)
local t = hmap(tk)
if t.state ~= 'queued' then return reply({ok = false, v = agent_view(agent_id)}) end
local ak, a, cfg = load_agent(agent_id)
if not ak then return reply({ok = false, v = false}) end
if not can_take(a, cfg, ch) then return reply({ok = false, v = agent_view(agent_id, a, cfg)}) end
claim_task(tk, t, offer_id, ak, a, cfg, ARGV[5], ch, made_at, expires_at)
return reply({ok = true, t = t, v = agent_view(agent_id, a, cfg)})
"""

# ARGV: prefix, offer ids... -> per offer its hash ({} when gone)
SCRIPTS["read_offers"] = r"""
local out = {}
for i = 2, #ARGV do out[#out + 1] = (hmap(key('offer', ARGV[i]))) end
return reply(out)
"""

# ARGV: prefix, offer id -> how the offer ended (JSON string), or false (open, never made, or forgotten)
SCRIPTS["closed_offer"] = r"""
local outcome = redis.call('GET', key('closed-offer', ARGV[2]))
return outcome and reply(outcome)
"""

# ARGV: prefix, agent id -> the agent's open offers
SCRIPTS["offers_of"] = r"""
local out = {}
for _, id in ipairs(redis.call('ZRANGE', key('agent-offers', ARGV[2]), 0, -1)) do
  out[#out + 1] = (hmap(key('offer', id)))
end
return reply(out)
"""

# ARGV: prefix, offer id, now, retention seconds -> {t = assigned task, v = agent view}, or false when the
# offer is gone
SCRIPTS["accept"] = r"""
local now = ARGV[3]
local o = hmap(key('offer', ARGV[2]))
if not o.id then return false end
offer_remove(o, 'accepted', ARGV[4])
local tk = key('task', o.task_id)
redis.call('HSET', tk, 'state', 'assigned', 'assigned_at', now)
redis.call('HDEL', tk, 'offer_id')
local ak, a, cfg = load_agent(o.agent_id)
incr(ak, a, 'offers', -1)
set(ak, a, 'missed', '0')
restate(ak, a, now)
return reply({t = task_map(o.task_id), v = agent_view(o.agent_id, a, cfg)})
"""

# ARGV: prefix, offer id, now, missed (0/1), exclude_until, outcome, retention seconds -> {o = offer,
# t = task, v = agent view} or false
SCRIPTS["release"] = r"""
local now = ARGV[3]
local o = hmap(key('offer', ARGV[2]))
if not o.id then return false end
offer_remove(o, ARGV[6], ARGV[7])
local tk = key('task', o.task_id)
local t = hmap(tk)
t.state, t['x:' .. o.agent_id], t.offer_id, t.agent_id = 'queued', ARGV[5], nil, nil
t.m = member_of(t)   -- now with exclusions
redis.call('HSET', tk, 'state', 'queued', 'x:' .. o.agent_id, ARGV[5], 'm', t.m)
redis.call('HDEL', tk, 'offer_id', 'agent_id')
bucket_add(t)
local ak, a, cfg = load_agent(o.agent_id)
incr(ak, a, 'offers', -1)
redis.call('SREM', key('agent-tasks', o.agent_id), o.task_id)
if ARGV[4] == '1' then incr(ak, a, 'missed', 1) end
free_one(ak, a, cfg, o.channel, now)
return reply({o = o, t = t, v = agent_view(o.agent_id, a, cfg)})
"""

# ARGV: prefix, task id, now -> {t = task in wrap-up, v = agent view}, or false
SCRIPTS["end_task"] = r"""
local tk = key('task', ARGV[2])
local t = hmap(tk)
if t.state ~= 'assigned' then return false end
t.state, t.ended_at = 'wrapup', ARGV[3]
redis.call('HSET', tk, 'state', 'wrapup', 'ended_at', ARGV[3])
local ak, a, cfg = load_agent(t.agent_id)
incr(ak, a, 'wrapping', 1)
restate(ak, a, ARGV[3])
return reply({t = t, v = agent_view(t.agent_id, a, cfg)})
"""

# ARGV: prefix, task id, now, seconds an ended task stays readable -> {t = closed task, v}, or false
SCRIPTS["close_task"] = r"""
local t, ak, a, cfg = close(ARGV[2], ARGV[3], ARGV[4])
if not t then return false end
return reply({t = t, v = agent_view(t.agent_id, a, cfg)})
"""

# close_task, then the engine's next decision for the agent in the same step (Router.wrapup_done ->
# _dispatch_agent: best_for, then claim), so that an agent-side decision is one function call.
# ARGV: prefix, task id, now, retention seconds, offer id, then (channel, expires_at) pairs
#   -> {t = closed task (only id, closed_at and the CLOSED fields), v = agent view after all, c = claimed task;
#       or need = a requirement Lua has no parsed
#       form of, queue = a queue without config}, or false
SCRIPTS["close_and_claim"] = r"""
local now = ARGV[3]
-- the free lists change once, for both steps: a busy agent that takes its next contact at once never enters them
local t, ak, a, cfg, before = close(ARGV[2], now, ARGV[4], true, true)
if not t then return false end
local out = {t = t}
if a.presence == 'available' then
  local best, why = best_for(a, cfg, tonumber(now))
  local expires = {}
  for i = 6, #ARGV, 2 do expires[ARGV[i]] = ARGV[i + 1] end
  if best then
    local ctk = key('task', best)
    local c = hmap(ctk)
    if expires[c.channel] then
      claim_task(ctk, c, ARGV[5], ak, a, cfg, c.queue, c.channel, now, expires[c.channel], true)
      out.c = c
    end
  elseif why then
    out.need, out.queue = why.need, why.queue
  end
end
index_moved(a.id, a, cfg, before)
out.v = agent_view(t.agent_id, a, cfg, out.c and out.c.id)
return reply(out)
"""

# ARGV: prefix, task id, final state, now, retention seconds -> {b = task before, o = offer or false, v} or false
SCRIPTS["drop_task"] = r"""
local tk, now = key('task', ARGV[2]), ARGV[4]
local t = hmap(tk)
if t.state ~= 'queued' and t.state ~= 'offered' then return false end
local o = false
if t.state == 'queued' then
  bucket_remove(t)
else
  o = hmap(key('offer', t.offer_id))
  offer_remove(o, ARGV[3], ARGV[5])
  local ak, a, cfg = load_agent(o.agent_id)
  incr(ak, a, 'offers', -1)
  redis.call('SREM', key('agent-tasks', o.agent_id), t.id)
  free_one(ak, a, cfg, o.channel, now)
end
redis.call('HSET', tk, 'state', ARGV[3], 'ended_at', now, 'closed_at', now)
redis.call('EXPIRE', tk, ARGV[5])
redis.call('HDEL', tk, 'offer_id')
return reply({b = t, o = o, v = o and agent_view(o.agent_id)})
"""

# ---- timers and counters ---------------------------------------------------------------------------------------
# ARGV: prefix, now, limit, lease until ('' = pop), owner -> {member, score, ...} due, earliest first
# A leased timer stays in the set, pushed to the end of its lease: no other node gets it meanwhile, and if its
# owner dies before `done_timers` the next node to call `due` after the lease takes it over.
SCRIPTS["due"] = r"""
local tk, lease_end = key('timers'), ARGV[4]
local items = redis.call('ZRANGEBYSCORE', tk, '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #items, 2 do
  if lease_end == '' then
    redis.call('ZREM', tk, items[i])
  else
    redis.call('ZADD', tk, 'XX', lease_end, items[i])
    redis.call('HSET', key('timer-owner'), items[i], ARGV[5])
  end
end
return items
"""

# ARGV: prefix, timer members... -> nothing: the handled timers go
SCRIPTS["done_timers"] = r"""
local members = {unpack(ARGV, 2)}
redis.call('ZREM', key('timers'), unpack(members))
redis.call('HDEL', key('timer-owner'), unpack(members))
"""

# ARGV: prefix
SCRIPTS["reset_counters"] = r"""
-- also the hashes of the layout before counters-micro, which an upgraded store reads no more
for _, scope in ipairs(redis.call('SMEMBERS', key('counter-scopes'))) do
  redis.call('DEL', key('counters-micro', scope), key('counters', scope))
end
redis.call('DEL', key('counter-scopes'))
"""

# ARGV: prefix (then the write-behind operations, as every function) -> nothing: only applies them
SCRIPTS["flush"] = ""


def _library() -> tuple[str, str]:
    """(name, Lua) of the function library: named by a digest of its code, so that router nodes of different
    versions on one Redis each call their own functions (as EVALSHA did by script digest)."""
    body = (lua_prelude("nil") + _HELPERS + CHOICE + WRITE_BEHIND
            + "".join(f"redis.register_function('{{lib}}_{name}', entry(function(ARGV)\n{code}\nend))\n"
                      for name, code in SCRIPTS.items()))
    name = "routing_" + hashlib.sha1(body.encode()).hexdigest()[:16]
    return name, f"#!lua name={name}\n" + body.replace("{lib}", name)


LIBRARY, LIBRARY_SOURCE = _library()


def function_name(script: str) -> str:
    """The name of one of SCRIPTS in the library (what FCALL takes)."""
    return f"{LIBRARY}_{script}"
