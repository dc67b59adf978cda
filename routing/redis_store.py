"""`RedisStore`: routing state in Redis, shared by every router process on every machine (`CC_REDIS_URL`).

Same semantics as `MemoryStore` (the contract is `routing.store.Store`). Each transition that must be atomic is
one Lua script (`routing.redis_scripts`, registered once per store with `register_script`), so router nodes racing
on one Redis never offer a contact twice nor put an agent over capacity. Keys come from `routing.redis_keys`.
Everything lives in Redis, nothing in the process: a router killed at any point loses no queued contact, and its
open offers expire through the shared `timers` set that any node's `tick()` pops.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis

from routing.errors import RoutingError
from routing.model import AgentConfig, AgentRecord, EscalationStep, OfferRecord, QueueConfig, TaskRecord
from routing.redis_keys import Keys, parse_timer_member, sortable
from routing.redis_scripts import HELPERS, SCRIPTS

_FREE_PAGES = (16, 64, 256, 1024)   # free agents are read lazily, in growing pages (callers usually stop early)
_OPTIONAL_TASK_FLOATS = ("assigned_at", "ended_at", "closed_at")


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _pairs(flat: Sequence[Any]) -> dict[str, str]:
    it = iter(flat)
    return {_s(k): _s(v) for k, v in zip(it, it)}


def _f(x: float) -> str:
    """A float as the exact string Redis and Lua store unchanged (repr round-trips)."""
    return repr(float(x))


# ---- codecs ------------------------------------------------------------------------------------------------------
def encode_queue(config: QueueConfig) -> str:
    """A queue config as JSON (`business_hours`, a callable, stays with the node that set it)."""
    data = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name != "business_hours"}
    data["escalation"] = [dataclasses.asdict(step) for step in config.escalation]
    return json.dumps(data, sort_keys=True)


def decode_queue(raw: Any) -> QueueConfig:
    """The inverse of `encode_queue`."""
    data = json.loads(_s(raw))
    data["escalation"] = tuple(EscalationStep(**step) for step in data["escalation"])
    return QueueConfig(**data)


def encode_agent_config(config: AgentConfig) -> str:
    """An agent config as JSON (read by the Lua capacity rule: capacity, blocking, queues)."""
    return json.dumps({"id": config.id, "name": config.name, "skills": dict(config.skills),
                       "queues": list(config.queues), "capacity": dict(config.capacity),
                       "blocking": list(config.blocking)}, sort_keys=True)


def encode_task(task: TaskRecord) -> list[str]:
    """A queued task as HSET field/value pairs."""
    try:
        attributes = json.dumps(dict(task.attributes), sort_keys=True)
    except (TypeError, ValueError) as e:
        raise RoutingError("bad_task", f"task attributes must be JSON-serialisable for Redis: {e}") from e
    fields = ["id", task.id, "queue", task.queue, "channel", task.channel, "priority", str(int(task.priority)),
              "attributes", attributes, "requirement", task.requirement, "enqueued_at", _f(task.enqueued_at),
              "queued_at", _f(task.queued_at), "key", _f(task.key), "bucket", task.bucket, "state", "queued",
              "preferred_until", _f(task.preferred_until), "step", str(task.step),
              "m", sortable(task.enqueued_at) + task.id]
    if task.preferred_agent is not None:
        fields += ["preferred_agent", task.preferred_agent]
    for agent_id, until in task.excluded.items():
        fields += ["x:" + agent_id, _f(until)]
    return fields


def decode_task(flat: Sequence[Any]) -> TaskRecord | None:
    """A task hash (flat HGETALL reply) as a TaskRecord; None for an empty reply."""
    if not flat:
        return None
    h = _pairs(flat)
    task = TaskRecord(id=h["id"], queue=h["queue"], channel=h["channel"], priority=int(h["priority"]),
                      attributes=json.loads(h["attributes"]), requirement=h["requirement"],
                      enqueued_at=float(h["enqueued_at"]), queued_at=float(h["queued_at"]), key=float(h["key"]),
                      bucket=h["bucket"], state=h["state"], preferred_agent=h.get("preferred_agent"),
                      preferred_until=float(h["preferred_until"]), step=int(h["step"]),
                      agent_id=h.get("agent_id"), offer_id=h.get("offer_id"))
    for name in _OPTIONAL_TASK_FLOATS:
        if name in h:
            setattr(task, name, float(h[name]))
    task.excluded = {k[2:]: float(v) for k, v in h.items() if k.startswith("x:")}
    return task


def decode_offer(flat: Sequence[Any]) -> OfferRecord | None:
    """An offer hash as an OfferRecord; None for an empty reply."""
    if not flat:
        return None
    h = _pairs(flat)
    return OfferRecord(h["id"], h["task_id"], h["agent_id"], h["queue"], h["channel"], float(h["made_at"]),
                       float(h["expires_at"]))


class RedisStore:
    """Routing state in Redis (see `routing.store.Store` for the contract, docs/routing.md for the key layout).

    `redis` is a `redis.asyncio.Redis` client (either `decode_responses` setting); all keys start with `prefix`.
    """

    def __init__(self, redis: aioredis.Redis, prefix: str = "cc:") -> None:
        self.redis = redis
        self.keys = Keys(prefix)
        self._prefix = prefix
        self._scripts = {name: redis.register_script(HELPERS + body) for name, body in SCRIPTS.items()}
        self._configs: dict[str, AgentConfig] = {}       # config JSON -> decoded config (decoding is hot)
        self._claimed_timers: set[str] = set()           # offer timers claim already wrote (see schedule)

    @classmethod
    def from_url(cls, url: str, prefix: str = "cc:") -> RedisStore:
        """A store on a new client for `url` (redis://, rediss:// or unix://)."""
        return cls(aioredis.Redis.from_url(url), prefix)

    async def close(self) -> None:
        """Close the Redis client's connections."""
        await self.redis.aclose()

    async def _run(self, name: str, *args: Any) -> Any:
        return await self._scripts[name](keys=[], args=[self._prefix, *args])

    # ---- decoding agents ----------------------------------------------------------------------------------
    def _config(self, raw: str) -> AgentConfig:
        config = self._configs.get(raw)
        if config is None:
            d = json.loads(raw)
            config = AgentConfig(d["id"], d["name"], d["skills"], tuple(d["queues"]), d["capacity"],
                                 tuple(d["blocking"]))
            if len(self._configs) > 10_000:
                self._configs.clear()
            self._configs[raw] = config
        return config

    def _agent(self, reply: Sequence[Any]) -> AgentRecord | None:
        """An agent from a `read_agent` reply ({hash, tasks} or {})."""
        if not reply:
            return None
        h = _pairs(reply[0])
        return AgentRecord(config=self._config(h["config"]), presence=h["presence"], reason=h.get("reason"),
                           state=h["state"], state_since=float(h["state_since"]),
                           idle_since=float(h["idle_since"]),
                           load={k[2:]: int(v) for k, v in h.items() if k.startswith("l:")},
                           wrapping=int(h["wrapping"]), offers=int(h["offers"]), missed=int(h["missed"]),
                           tasks={_s(t) for t in reply[1]})

    # ---- configuration ------------------------------------------------------------------------------------
    async def put_queue(self, config: QueueConfig) -> None:
        await self.redis.hset(self.keys.key("queues"), config.name, encode_queue(config))

    async def get_queue(self, name: str) -> QueueConfig | None:
        raw = await self.redis.hget(self.keys.key("queues"), name)
        return decode_queue(raw) if raw is not None else None

    async def list_queues(self) -> list[QueueConfig]:
        raw = await self.redis.hgetall(self.keys.key("queues"))
        return sorted((decode_queue(v) for v in raw.values()), key=lambda q: q.name)

    async def put_agent(self, config: AgentConfig, now: float) -> AgentRecord:
        agent = self._agent(await self._run("put_agent", config.id, encode_agent_config(config), _f(now)))
        assert agent is not None
        return agent

    async def get_agent(self, agent_id: str) -> AgentRecord | None:
        return self._agent((await self._run("read_agents", agent_id))[0])

    async def list_agents(self) -> list[AgentRecord]:
        ids = sorted(_s(i) for i in await self.redis.smembers(self.keys.key("agents")))
        if not ids:
            return []
        return [a for a in map(self._agent, await self._run("read_agents", *ids)) if a is not None]

    async def set_presence(self, agent_id: str, presence: str, reason: str | None, now: float) -> AgentRecord:
        reply = await self._run("set_presence", agent_id, presence, "0" if reason is None else "1",
                                reason or "", _f(now))
        agent = self._agent(reply)
        if agent is None:
            raise RoutingError("unknown_agent", f"unknown agent {agent_id!r}")
        return agent

    async def signed_in(self, queue: str) -> int:
        return int(await self.redis.scard(self.keys.key("signed-in", queue)))

    async def free_agents(self, queue: str, channel: str) -> AsyncIterator[AgentRecord]:
        seen: set[str] = set()
        start = 0
        for size in _FREE_PAGES + (1 << 30,):
            page = await self._run("free_page", queue, channel, start, size)
            for reply in page:
                agent = self._agent(reply)
                if agent is not None and agent.id not in seen:   # the list may shift between pages
                    seen.add(agent.id)
                    yield agent
            if len(page) < size:
                return
            start += size

    # ---- waiting tasks -------------------------------------------------------------------------------------
    async def add_task(self, task: TaskRecord) -> bool:
        added = bool(await self._run("add_task", task.id, *encode_task(task)))
        if added:
            task.state = "queued"
        return added

    async def get_task(self, task_id: str) -> TaskRecord | None:
        return decode_task((await self._run("read_tasks", task_id))[0])

    async def buckets(self, queue: str) -> list[str]:
        return sorted(_s(b) for b in await self.redis.smembers(self.keys.key("buckets", queue)))

    async def waiting(self, bucket: str, limit: int) -> list[TaskRecord]:
        if limit <= 0:
            return []
        return [t for t in map(decode_task, await self._run("read_bucket", bucket, limit)) if t is not None]

    async def move_task(self, task_id: str, *, queue: str, bucket: str, key: float, requirement: str,
                        queued_at: float, step: int, priority: int, preferred_until: float) -> TaskRecord | None:
        return decode_task(await self._run("move_task", task_id, queue, bucket, _f(key), requirement,
                                           _f(queued_at), str(int(step)), str(int(priority)),
                                           _f(preferred_until)) or [])

    async def waiting_count(self, queue: str) -> int:
        return int(await self.redis.zcard(self.keys.key("queued", queue)))

    async def oldest_waiting(self, queue: str) -> TaskRecord | None:
        return decode_task(await self._run("oldest", queue))

    async def position(self, task_id: str) -> int | None:
        rank = await self._run("position", task_id)
        return None if rank is None else int(rank)

    async def active_tasks(self) -> list[TaskRecord]:
        ids = [_s(i) for i in await self.redis.zrange(self.keys.key("active"), 0, -1)]
        out: list[TaskRecord] = []
        for i in range(0, len(ids), 1000):   # bounded script runs: other nodes keep going meanwhile
            out.extend(t for t in map(decode_task, await self._run("read_tasks", *ids[i:i + 1000]))
                       if t is not None)
        return out

    # ---- offers and the conversation ----------------------------------------------------------------------
    async def claim(self, task_id: str, offer: OfferRecord) -> bool:
        claimed = bool(await self._run("claim", task_id, offer.id, offer.agent_id, offer.queue, offer.channel,
                                       _f(offer.made_at), _f(offer.expires_at)))
        if claimed:
            if len(self._claimed_timers) > 1000:
                self._claimed_timers.clear()
            self._claimed_timers.add(self.keys.timer_member("offer", offer.id, offer.expires_at))
        return claimed

    async def get_offer(self, offer_id: str) -> OfferRecord | None:
        return decode_offer((await self._run("read_offers", offer_id))[0])

    async def offers_of(self, agent_id: str) -> list[OfferRecord]:
        offers = [o for o in map(decode_offer, await self._run("offers_of", agent_id)) if o is not None]
        return sorted(offers, key=lambda o: (o.made_at, o.id))

    async def accept(self, offer_id: str, now: float) -> TaskRecord | None:
        return decode_task(await self._run("accept", offer_id, _f(now)) or [])

    async def release(self, offer_id: str, now: float, *, missed: bool,
                      exclude_until: float) -> tuple[OfferRecord, TaskRecord, AgentRecord] | None:
        reply = await self._run("release", offer_id, _f(now), "1" if missed else "0", _f(exclude_until))
        if not reply:
            return None
        offer, task, agent = decode_offer(reply[0]), decode_task(reply[1]), self._agent(reply[2])
        assert offer is not None and task is not None and agent is not None
        return offer, task, agent

    async def end_task(self, task_id: str, now: float) -> TaskRecord | None:
        return decode_task(await self._run("end_task", task_id, _f(now)) or [])

    async def close_task(self, task_id: str, now: float) -> TaskRecord | None:
        return decode_task(await self._run("close_task", task_id, _f(now)) or [])

    async def drop_task(self, task_id: str, state: str,
                        now: float) -> tuple[TaskRecord, OfferRecord | None] | None:
        reply = await self._run("drop_task", task_id, state, _f(now))
        if not reply:
            return None
        before = decode_task(reply[0])
        assert before is not None
        return before, decode_offer(reply[1])

    # ---- timers --------------------------------------------------------------------------------------------
    async def schedule(self, at: float, kind: str, ref: str) -> None:
        member = self.keys.timer_member(kind, ref, at)
        if member in self._claimed_timers:   # `claim` wrote this very timer atomically with the offer
            self._claimed_timers.discard(member)
            return
        await self.redis.zadd(self.keys.key("timers"), {member: at})

    async def due(self, now: float, limit: int = 1000) -> list[tuple[float, str, str]]:
        items = await self._run("due", _f(now), int(limit))
        out = []
        for member, score in zip(items[::2], items[1::2]):
            kind, ref = parse_timer_member(_s(member))
            out.append((float(score), kind, ref))
        return out

    async def next_due(self) -> float | None:
        first = await self.redis.zrange(self.keys.key("timers"), 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    # ---- counters ------------------------------------------------------------------------------------------
    async def incr(self, scope: str, values: Mapping[str, float]) -> None:
        if not values:
            return
        args: list[str] = [scope]
        for name, value in values.items():
            args += [name, _f(value)]
        await self._run("incr", *args)

    async def counters(self, scope: str) -> dict[str, float]:
        raw = await self.redis.hgetall(self.keys.key("counters", scope))
        return {_s(k): float(v) for k, v in raw.items()}

    async def reset_counters(self) -> None:
        await self._run("reset_counters")
