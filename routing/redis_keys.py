"""Every Redis key of the routing store, built in one place (as arq does), for Python and for the Lua scripts.

A key is `prefix + name` for a singleton and `prefix + name + ":" + "\\x1f".join(parts)` for a family: the unit
separator cannot appear in queue or agent names (`QueueConfig.validate`, `AgentConfig.validate`), so two
different part lists never give the same key. Use a hash tag in the prefix (`"{cc}:"`) to keep every key in one
Redis Cluster slot, which the Lua scripts need there (they compute keys from the prefix).
"""
from __future__ import annotations

import struct

SEP = "\x1f"

# name -> what the key holds (the layout documented in docs/routing.md, section "Redis store")
LAYOUT = {
    "queues": "HASH queue name -> QueueConfig as JSON",
    "ageing": "HASH queue name -> its ageing_per_s (repr), written with `queues`: the Lua choice reads it without "
              "decoding the config",
    "agents": "SET of agent ids",
    "agent": "HASH per agent: config (JSON), presence, reason, state, state_since, idle_since, l:<channel> "
             "(load), wrapping, offers, missed, claims (offers made so far)",
    "agent-tasks": "SET per agent: ids of the tasks it holds (offered, assigned, wrap-up)",
    "agent-offers": "ZSET per agent: ids of its open offers, in the order they were made",
    "free": "ZSET per (queue, channel): agents that can take one more contact, scored by model.free_score "
            "(contacts held * 1e10 + idle_since)",
    "signed-in": "SET per queue: agents serving it that are not offline",
    "task": "HASH per task: TaskRecord fields, m (its bucket member), x:<agent> (excluded until)",
    "bucket": "ZSET per waiting bucket, scored by key: member = sortable(enqueued_at) + task id, then NUL and what "
              "the Lua choice reads of a head (redis_codec.bucket_member: priority, enqueued_at, has exclusions, "
              "queue)",
    "buckets": "SET per queue: its non-empty queue buckets",
    "queued": "ZSET per queue: queued task ids scored by queued_at",
    "offer": "HASH per open offer: OfferRecord fields",
    "closed-offer": "STRING per closed offer: how it ended (accepted, timeout, rejected, revoked, abandoned, "
                    "overflowed), written by the function that closed it; expires with the ended tasks",
    "timers": "ZSET of timers scored by when they are due; member = 16-digit sequence SEP kind SEP ref",
    "timer-owner": "HASH timers member -> the router node holding its lease (`due` with a lease, until done)",
    "timer-seq": "STRING counter numbering timers, so that timers due at the same time pop in schedule order",
    "counters-micro": "HASH per scope (queue:<name>, agent:<id>): counter -> its value in whole millionths "
                      "(routing.store.counter_units), added with HINCRBY",
    "counters": "HASH per scope: counters of the layout before counters-micro (float strings); read by nothing, "
                "deleted by reset_counters",
    "counter-scopes": "SET of scopes that have counters",
    "requirements": "HASH skill expression -> its parsed form as JSON (redis_codec.encode_requirement), for the "
                    "Lua choice of close_and_claim; written by the store the first time a script asks for one",
}


class Keys:
    """Key builder for one prefix."""

    def __init__(self, prefix: str = "cc:") -> None:
        if not isinstance(prefix, str) or SEP in prefix:
            raise ValueError(f"bad Redis key prefix {prefix!r}")
        self.prefix = prefix

    def key(self, name: str, *parts: str) -> str:
        """The key `name` (one of LAYOUT) of the given parts."""
        assert name in LAYOUT, name
        return self.prefix + name + (":" + SEP.join(parts) if parts else "")



def parse_timer_member(member: str) -> tuple[str, str]:
    """(kind, ref) of a `timers` member (`add_timer` in routing/redis_scripts.py builds them)."""
    _, kind, ref = member.split(SEP, 2)
    return kind, ref


def sortable(x: float) -> str:
    """16 hex digits whose byte order is the numeric order of `x` (ties in a bucket sort by enqueued_at, id)."""
    (bits,) = struct.unpack(">Q", struct.pack(">d", x))
    bits = bits ^ 0xFFFF_FFFF_FFFF_FFFF if bits >> 63 else bits | (1 << 63)
    return f"{bits:016x}"


def lua_prelude(prefix: str = "ARGV[1]") -> str:
    """Lua that defines `key(name, ...)` exactly like `Keys.key`, with the prefix `P` taken from the Lua expression
    `prefix` (a script's ARGV[1]; a function library sets `P` on every call instead)."""
    names = ", ".join(f"['{n}'] = true" for n in LAYOUT)
    return f"""
local P = {prefix}
local KNOWN = {{{names}}}
-- no table for the usual zero to two parts: a script builds ~35 keys, and a table each cost ~0.3 us
local function key(name, a, b, c, ...)
  if not KNOWN[name] then error('unknown key name ' .. name) end
  if a == nil then return P .. name end
  if b == nil then return P .. name .. ':' .. a end
  if c == nil then return P .. name .. ':' .. a .. '\\31' .. b end
  return P .. name .. ':' .. table.concat({{a, b, c, ...}}, '\\31')
end
local SEP = '\\31'
"""
