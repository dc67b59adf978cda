"""An atomic audit of a RedisStore's whole state (one Lua script: it sees one instant, never a half-done step).

Checks the invariants the racing routers must keep: every agent's load per channel equals the contacts it holds
and is within its capacity; each open offer points to an offered task whose `offer_id` is that offer (so a task
has at most one open offer); queued tasks are in exactly their bucket and their queue's index, nothing else is;
the tasks agents hold and the queued ones are every task not ended (`RedisStore.active_tasks` reads them so).
"""
from __future__ import annotations

from routing import RedisStore
from routing.redis_scripts import HELPERS

AUDIT = HELPERS + r"""
local errs = {}
local function bad(msg) errs[#errs + 1] = msg end
local HELD = {offered = true, assigned = true, wrapup = true}
local holder = {}   -- task id -> the agent whose agent-tasks lists it
for _, id in ipairs(redis.call('SMEMBERS', key('agents'))) do
  local a = hmap(key('agent', id))
  local cfg = cjson.decode(a.config)
  local held, offers, wrapping = {}, 0, 0
  for _, tid in ipairs(redis.call('SMEMBERS', key('agent-tasks', id))) do
    holder[tid] = id
    local t = hmap(key('task', tid))
    if not HELD[t.state] or t.agent_id ~= id then bad('agent ' .. id .. ' holds ' .. tid .. ' in ' .. tostring(t.state)) end
    held[t.channel] = (held[t.channel] or 0) + 1
    if t.state == 'offered' then offers = offers + 1 end
    if t.state == 'wrapup' then wrapping = wrapping + 1 end
  end
  for ch, n in pairs(held) do
    if num(a['l:' .. ch]) ~= n then bad('agent ' .. id .. ' load ' .. ch .. ' is ' .. tostring(a['l:' .. ch]) .. ' but holds ' .. n) end
    if n > (cfg.capacity[ch] or 0) then bad('agent ' .. id .. ' over capacity on ' .. ch .. ': ' .. n) end
  end
  for f, v in pairs(a) do
    if string.sub(f, 1, 2) == 'l:' and tonumber(v) ~= (held[string.sub(f, 3)] or 0) then
      bad('agent ' .. id .. ' ' .. f .. '=' .. v .. ' but holds ' .. (held[string.sub(f, 3)] or 0))
    end
  end
  if num(a.offers) ~= offers then bad('agent ' .. id .. ' offers ' .. a.offers .. ' ~= ' .. offers) end
  if num(a.wrapping) ~= wrapping then bad('agent ' .. id .. ' wrapping ' .. a.wrapping .. ' ~= ' .. wrapping) end
  if redis.call('ZCARD', key('agent-offers', id)) ~= offers then bad('agent ' .. id .. ' offer set size') end
  for _, oid in ipairs(redis.call('ZRANGE', key('agent-offers', id), 0, -1)) do
    local o = hmap(key('offer', oid))
    if o.agent_id ~= id then bad('offer ' .. oid .. ' listed under ' .. id) end
  end
end
local queued = 0
-- every task hash, whatever indexes it: one that is active yet in no index would be lost to active_tasks
for _, tk in ipairs(redis.call('KEYS', key('task', '*'))) do
  local t = hmap(tk)
  local tid = t.id
  local in_bucket = t.m and t.bucket and redis.call('ZSCORE', key('bucket', t.bucket), t.m)
  if t.state == 'queued' then
    queued = queued + 1
    if not in_bucket then bad('queued ' .. tid .. ' missing from its bucket') end
    if not redis.call('ZSCORE', key('queued', t.queue), tid) then bad('queued ' .. tid .. ' missing from queue index') end
  elseif in_bucket then
    bad(t.state .. ' ' .. tid .. ' still in a bucket')
  end
  if HELD[t.state] and not holder[tid] then bad(t.state .. ' ' .. tid .. ' held by no agent') end
  if t.state == 'offered' then
    local o = hmap(key('offer', t.offer_id))
    if o.task_id ~= tid or o.agent_id ~= t.agent_id then bad('offered ' .. tid .. ' has no matching offer') end
  end
end
local indexed = 0
for _, q in ipairs(redis.call('HKEYS', key('queues'))) do indexed = indexed + redis.call('ZCARD', key('queued', q)) end
if indexed ~= queued then bad('queue indexes hold ' .. indexed .. ' tasks, ' .. queued .. ' are queued') end
local offers = redis.call('KEYS', key('offer', '*'))
local seen = {}
for _, ok in ipairs(offers) do
  local o = hmap(ok)
  if seen[o.task_id] then bad('two open offers for ' .. o.task_id) end
  seen[o.task_id] = true
  local t = hmap(key('task', o.task_id))
  if t.state ~= 'offered' or t.offer_id ~= o.id then bad('offer ' .. o.id .. ' for a task in ' .. t.state) end
end
return errs
"""


async def audit(store: RedisStore) -> list[str]:
    """Every broken invariant of the store's state at one instant (empty when all hold)."""
    script = store.redis.register_script(AUDIT)
    return [e.decode() if isinstance(e, bytes) else e for e in await script(keys=[], args=[store.keys.prefix])]
