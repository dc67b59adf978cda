"""`RedisStore`: routing state in Redis, shared by every router process on every machine (`CC_REDIS_URL`).

Same semantics as `MemoryStore` (the contract is `routing.store.Store`). Each transition that must be atomic is
one Lua function (`routing.redis_scripts`: one library, loaded into Redis with `FUNCTION LOAD`, called with
`FCALL`), so router nodes racing on one Redis never offer a contact twice nor put an agent over capacity. Keys come
from `routing.redis_keys`.
Everything lives in Redis, nothing in the process: a router killed at any point loses no queued contact, and its
open offers expire through the shared `timers` set that any node's `tick()` pops.

Round trips are the cost of a decision, so two things save them, both invisible to the engine:
* Snapshots: a write function also returns, from the same atomic step, what the engine reads next (the agent, its
  buckets and their heads; a new task and the first free agents of its queue). Those reads are answered from the
  snapshot until this store makes its next round trip (and for at most `SNAPSHOT_TTL_S`): they see exactly the
  state right after this client's last command, as if they had run then.
* Write-behind: counter increments and timers (`incr`, `schedule`) ride inside this store's next function (applied
  first, in the same atomic step), or go on their own after at most 5 ms. Offer timers never
  wait: `claim` writes them in the same step as the offer, so an offer always expires even if its node dies.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, NamedTuple

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from routing.errors import RoutingError
from routing.model import ACTIVE_TASK_STATES, AgentConfig, AgentRecord, OfferRecord, QueueConfig, TaskRecord
from routing.redis_codec import (
    AgentDecoder,
    decode_offer,
    decode_queue,
    decode_task,
    encode_agent_config,
    encode_queue,
    encode_requirement,
    encode_task,
    exact,
    items,
    pairs,
    text,
)
from routing.redis_keys import Keys, parse_timer_member
from routing.redis_scripts import FREE_PAGE, LIBRARY_SOURCE, SCRIPTS, VIEW_HEADS, function_name
from routing.store import Timer, counter_units, counter_value

try:
    from routing.redis_wire import Wire
except ImportError:   # no hiredis: every round trip goes through redis-py (slower, same results)
    Wire = None  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)
SNAPSHOT_TTL_S = 0.02
WRITE_BEHIND_S = 0.005   # pending counter increments and timers go alone after this, if no command took them
METRICS_TTL_S = 1.0   # counters read with every agent serve the metrics computed next (at most this stale)
_FREE_PAGES = (FREE_PAGE, 16, 64, 256, 1024, 1 << 30)   # free agents are read lazily: callers usually stop early


def _unloaded(reply: Any) -> bool:
    """Whether a reply is Redis refusing a call of a function it does not have (the library is not loaded)."""
    return isinstance(reply, ResponseError) and "Function not found" in str(reply)


class Closed(NamedTuple):
    """What `Router.wrapup_done` reads of the task `close_task_and_claim` closed: not the whole record, which
    would cost the atomic step a read of every field of the task and the reply its JSON."""
    id: str
    queue: str
    agent_id: str
    assigned_at: float | None
    ended_at: float | None


@dataclass
class _Snapshot:
    """What the last function returned: valid until this store's next round trip, and `until` (monotonic s;
    not the loop's clock: asyncio.get_running_loop() costs a getpid() system call on Python 3.11)."""
    until: float
    agent: AgentRecord | None = None
    queues: Mapping[str, Any] = field(default_factory=dict)      # queue -> its non-empty queue buckets
    heads: Mapping[str, Any] = field(default_factory=dict)       # bucket -> its first VIEW_HEADS task hashes
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    free: tuple[str, str, list[Any]] | None = None               # (queue, channel, first page of free agents)
    counters: dict[str, dict[str, float]] = field(default_factory=dict)   # scope -> counters


class RedisStore:
    """Routing state in Redis (see `routing.store.Store` for the contract, docs/routing.md for the key layout).

    `redis` is a `redis.asyncio.Redis` client (either `decode_responses` setting); all keys start with `prefix`.
    Ended tasks (closed, abandoned, overflowed), and how closed offers ended, stay readable for `ended_ttl_s`,
    then Redis forgets them.
    """

    def __init__(self, redis: aioredis.Redis, prefix: str = "cc:", *, ended_ttl_s: int = 86_400) -> None:
        if isinstance(ended_ttl_s, bool) or not isinstance(ended_ttl_s, int) or ended_ttl_s < 1:
            raise ValueError(f"ended_ttl_s must be a positive integer, not {ended_ttl_s!r}")
        self.redis = redis
        self._ended_ttl = str(ended_ttl_s)
        self.keys = Keys(prefix)
        self._functions = {name: function_name(name) for name in SCRIPTS}
        self._agent = AgentDecoder()
        self._claimed_timers: set[tuple[str, str, float]] = set()   # offer timers `claim` wrote (`schedule`)
        self._pending: list[list[str]] = []         # write-behind operations (see redis_scripts.WRITE_BEHIND)
        self._sums: dict[str, dict[str, int]] = {}   # write-behind counter increments: scope -> counter -> millionths
        self._flush_timer: asyncio.TimerHandle | None = None   # sends pending writes if no command takes them
        self._pending_since = 0.0                   # time.monotonic() when the oldest pending write came
        self._flush_due = 0.0                       # time.monotonic() when the flush timer fires
        self._flushes: set[asyncio.Task[None]] = set()
        self._inflight: asyncio.Future[None] | None = None   # a write-behind flush on the wire
        self._snap: _Snapshot | None = None
        # round trips skip redis-py's per-command machinery and its pool's limit (see routing.redis_wire)
        self._wire = Wire.for_client(redis) if Wire is not None else None
        self.round_trips = 0                        # commands or pipelines sent (benchmarks, monitoring)

    @classmethod
    def from_url(cls, url: str, prefix: str = "cc:", **kw: Any) -> RedisStore:
        """A store on a new client for `url` (redis://, rediss:// or unix://)."""
        return cls(aioredis.Redis.from_url(url), prefix, **kw)

    async def close(self) -> None:
        """Send what is pending, then close the Redis client's connections. A write-behind send already on its
        way is waited for: closing under it would lose its writes (timers, counters)."""
        try:
            if self._flush_timer is not None:
                self._flush_timer.cancel()
                self._flush_timer = None
            if self._flushes:
                await asyncio.gather(*self._flushes)   # each logs its own failure
            if self._inflight is not None:
                await self._inflight
            await self.flush()
        finally:
            if self._wire is not None:
                self._wire.close()
            await self.redis.aclose()

    # ---- round trips ---------------------------------------------------------------------------------------
    async def _send(self, command: tuple[Any, ...], function: str | None = None) -> Any:
        """One round trip; an unreachable Redis is RoutingError `store_unavailable`."""
        try:
            return await self._round_trip(command, function)
        except (RedisConnectionError, RedisTimeoutError) as e:
            raise RoutingError("store_unavailable", f"the routing store (Redis) is unreachable: {e}") from e

    async def _round_trip(self, command: tuple[Any, ...], function: str | None) -> Any:
        """A function call carries the pending write-behind operations as its last argument; a plain command goes
        after the `flush` function in one pipeline."""
        self._snap = None
        self.round_trips += 1
        if self._inflight is not None:
            await self._inflight   # keep this client's writes in order
        pending = self._take_pending()
        if function is not None:
            return await self._fcall(function, [*command[3:], pending])
        if not pending:
            return await self._command(command)
        flush = ("FCALL", self._functions["flush"], 0, self.keys.prefix, pending)
        if self._wire is not None:   # plain commands too: one pipelined connection, however many are in flight
            done, result = await self._wire.call_all(flush, command)
        else:
            pipe = self.redis.pipeline(transaction=False)   # one connection: Redis runs them in this order
            pipe.execute_command(*flush)
            pipe.execute_command(*command)
            done, result = await pipe.execute(raise_on_error=False)
        if _unloaded(done):
            await self._fcall("flush", [self.keys.prefix, pending])
            result = await self._command(command)
        elif isinstance(done, Exception):
            log.error("routing write-behind failed: %s", done)
        if isinstance(result, Exception):
            raise result
        return result

    async def _command(self, command: tuple[Any, ...]) -> Any:
        """One command on the wire when there is one, else on redis-py."""
        if self._wire is not None:
            return await self._wire.call(*command)
        return await self.redis.execute_command(*command)

    async def _fcall(self, function: str, args: list[Any]) -> Any:
        """Call a function of the library. A Redis without it (never loaded, restarted without persistence,
        FUNCTION FLUSH) refuses the call before running anything: load the library and call again."""
        command = ("FCALL", self._functions[function], 0, *args)
        try:
            return await self._command(command)
        except ResponseError as e:
            if not _unloaded(e):
                raise
        try:
            await self._command(("FUNCTION", "LOAD", LIBRARY_SOURCE))
        except ResponseError as e:
            if "already exists" not in str(e):   # another call or node loaded it meanwhile
                raise
        return await self._command(command)

    def _take_pending(self) -> str:
        # the flush timer stays armed (see _flush_alone): cancelling and re-arming it on every round trip
        # costs more than one spare wake-up every WRITE_BEHIND_S, and cancelled timers pile up in the loop's heap
        pending, self._pending = self._pending, []
        if self._sums:   # one operation per scope, its counters' increments summed in the order they came
            pending += [["c", scope, *chain.from_iterable((name, str(units)) for name, units in sums.items())]
                        for scope, sums in self._sums.items()]
            self._sums = {}
        return json.dumps(pending, separators=(",", ":")) if pending else ""

    async def _run(self, name: str, *args: Any) -> Any:
        """Call a function; its reply is one JSON document (or a plain integer/nil)."""
        reply = await self._send(("FCALL", self._functions[name], 0, self.keys.prefix, *args), name)
        return json.loads(reply) if isinstance(reply, (bytes, str)) else reply

    def _buffer(self, *operations: list[str]) -> None:
        self._arrived()
        self._pending.extend(operations)

    def _arrived(self) -> None:
        """A write-behind operation is about to be buffered: the oldest pending one's time; the flush timer."""
        now = time.monotonic()
        if not self._pending and not self._sums:
            self._pending_since = now
        # the engine's next command usually takes them along before the timer fires; a timer long overdue
        # belongs to an event loop that is gone (a store used from a new loop): arm one on this loop
        if self._flush_timer is None or now > self._flush_due + 1.0:
            self._arm_flush(WRITE_BEHIND_S)

    def _arm_flush(self, delay: float) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
        self._flush_timer = asyncio.get_running_loop().call_later(delay, self._flush_alone)
        self._flush_due = time.monotonic() + delay

    def _flush_alone(self) -> None:
        self._flush_timer = None
        if not self._pending and not self._sums:   # a command took them along
            return
        wait = self._pending_since + WRITE_BEHIND_S - time.monotonic()
        if wait > 0:   # those pending now came after the ones this timer was for: their own WRITE_BEHIND_S
            self._arm_flush(wait)
            return
        task = asyncio.get_running_loop().create_task(self._flush_logged())
        self._flushes.add(task)   # a strong reference until it is done
        task.add_done_callback(self._flushes.discard)

    async def _flush_logged(self) -> None:
        try:
            await self.flush()
        except Exception:   # Redis unreachable: the writes are lost, routing goes on and reports it
            log.exception("routing write-behind flush failed")

    async def flush(self) -> None:
        """Send the pending write-behind operations now."""
        if not self._pending and not self._sums:
            return
        pending = self._take_pending()
        done = self._inflight = asyncio.get_running_loop().create_future()
        self.round_trips += 1
        try:
            await self._fcall("flush", [self.keys.prefix, pending])
        finally:
            self._inflight = None
            done.set_result(None)

    # ---- snapshots -----------------------------------------------------------------------------------------
    def _fresh(self) -> _Snapshot | None:
        snap = self._snap
        if snap is not None and time.monotonic() > snap.until:
            snap = self._snap = None
        return snap

    def _remember(self, reply: Mapping[str, Any]) -> _Snapshot:
        """Keep what a function returned for the reads that follow it."""
        snap = _Snapshot(time.monotonic() + SNAPSHOT_TTL_S)
        view = reply.get("v")
        if view:
            snap.agent = self._agent(view["a"])
            if isinstance(view.get("q"), dict):
                snap.queues = view["q"]
            if isinstance(view.get("h"), dict):
                snap.heads = view["h"]
        for field_ in ("t", "c"):   # the task the function wrote; the task it claimed (close_and_claim)
            if reply.get(field_):
                task = decode_task(reply[field_])
                assert task is not None
                snap.tasks[task.id] = task
        if reply.get("f"):
            snap.free = (reply["f"]["q"], reply["f"]["c"], items(reply["f"]["a"]))
        self._snap = snap
        return snap

    # ---- configuration ------------------------------------------------------------------------------------
    async def put_queue(self, config: QueueConfig) -> None:
        await self._run("put_queue", config.name, encode_queue(config), exact(config.ageing_per_s))

    async def get_queue(self, name: str) -> QueueConfig | None:
        raw = await self._send(("HGET", self.keys.key("queues"), name))
        return decode_queue(raw) if raw is not None else None

    async def list_queues(self) -> list[QueueConfig]:
        raw = await self._send(("HGETALL", self.keys.key("queues")))
        return sorted((decode_queue(v) for v in pairs(raw).values()), key=lambda q: q.name)

    async def put_agent(self, config: AgentConfig, now: float) -> AgentRecord:
        agent = self._remember(await self._run("put_agent", config.id, encode_agent_config(config),
                                               exact(now))).agent
        assert agent is not None
        return agent

    async def get_agent(self, agent_id: str) -> AgentRecord | None:
        snap = self._fresh()
        if snap is not None and snap.agent is not None and snap.agent.id == agent_id:
            return snap.agent
        return self._remember(await self._run("agent_view", agent_id)).agent

    async def list_agents(self) -> list[AgentRecord]:
        """Every agent, by id; their counters come along (queue and agent metrics read them next)."""
        replies = items(await self._run("list_agents"))
        snap = self._snap = _Snapshot(time.monotonic() + METRICS_TTL_S)
        agents = []
        for reply in replies:
            agent = self._agent(reply)
            assert agent is not None
            agents.append(agent)
            snap.counters["agent:" + agent.id] = {k: counter_value(int(v)) for k, v in dict(reply["c"]).items()}
        return agents

    async def set_presence(self, agent_id: str, presence: str, reason: str | None, now: float) -> AgentRecord:
        reply = await self._run("set_presence", agent_id, presence, "0" if reason is None else "1", reason or "",
                                exact(now))
        agent = self._remember(reply).agent
        if agent is None:
            raise RoutingError("unknown_agent", f"unknown agent {agent_id!r}")
        return agent

    async def signed_in(self, queue: str) -> int:
        return int(await self._send(("SCARD", self.keys.key("signed-in", queue))))

    async def free_agents(self, queue: str, channel: str) -> AsyncGenerator[AgentRecord, None]:
        seen: set[str] = set()
        start = 0
        snap = self._fresh()
        for size in _FREE_PAGES:
            if start == 0 and snap is not None and snap.free is not None and snap.free[:2] == (queue, channel):
                page = snap.free[2]
            else:
                page = items(await self._run("free_page", queue, channel, start, size))
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
        reply = await self._run("add_task", task.id, encode_task(task))
        if not reply["ok"]:
            return False
        self._remember(reply)
        task.state = "queued"
        return True

    async def add_task_and_claim(self, task: TaskRecord, now: float, offer_id: str, expires_at: float,
                                 deadlines: list[float]) -> tuple[bool, tuple[TaskRecord, OfferRecord] | None]:
        """`add_task` (its deadline timers written first, in the same step), then the first-fit choice of
        `Router._dispatch_task` (the longest idle free agent of its queue and channel whose skills meet its
        requirement; its preferred agent, for a task waiting for one) claimed as offer `offer_id`. Returns
        (added, (task, offer) claimed or None); no claim may also mean that Lua declined (a requirement it meets
        for the first time, more free agents than it reads): the engine then decides as after `add_task`."""
        reply = await self._run("add_and_claim", task.id, encode_task(task), offer_id, exact(now), exact(expires_at),
                                *map(exact, deadlines))
        if not reply["ok"]:
            return False, None
        if reply.get("need"):   # parsed once for Lua; it travels with this store's next function call
            self._buffer(["r", reply["need"], encode_requirement(reply["need"])])
        claimed = self._remember(reply).tasks[task.id]
        task.state = "queued"
        if not reply.get("claimed"):
            return True, None
        offer = OfferRecord(offer_id, task.id, str(claimed.agent_id), claimed.queue, claimed.channel, now,
                            expires_at)
        return True, (claimed, offer)

    async def get_task(self, task_id: str) -> TaskRecord | None:
        snap = self._fresh()
        if snap is not None and task_id in snap.tasks:
            return snap.tasks[task_id]
        return decode_task(items(await self._run("read_tasks", task_id))[0])

    async def buckets(self, queue: str) -> list[str]:
        snap = self._fresh()
        if snap is not None and queue in snap.queues:
            return sorted(items(snap.queues[queue]))
        return sorted(text(b) for b in await self._send(("SMEMBERS", self.keys.key("buckets", queue))))

    async def waiting(self, bucket: str, limit: int) -> list[TaskRecord]:
        if limit <= 0:
            return []
        snap = self._fresh()
        if snap is not None and bucket in snap.heads:
            heads = items(snap.heads[bucket])
            if limit <= len(heads) or len(heads) < VIEW_HEADS:   # the snapshot holds all that was asked
                return [t for t in map(decode_task, heads[:limit]) if t is not None]
        return [t for t in map(decode_task, items(await self._run("read_bucket", bucket, limit))) if t is not None]

    async def move_task(self, task_id: str, *, queue: str, bucket: str, key: float, requirement: str,
                        queued_at: float, step: int, priority: int, preferred_until: float) -> TaskRecord | None:
        reply = await self._run("move_task", task_id, queue, bucket, exact(key), requirement, exact(queued_at),
                                str(int(step)), str(int(priority)), exact(preferred_until))
        return decode_task(reply["t"]) if reply else None

    async def waiting_count(self, queue: str) -> int:
        return int(await self._send(("ZCARD", self.keys.key("queued", queue))))

    async def oldest_waiting(self, queue: str) -> TaskRecord | None:
        return decode_task(await self._run("oldest", queue))

    async def position(self, task_id: str) -> int | None:
        rank = await self._run("position", task_id)
        return None if rank is None else int(rank)

    async def active_tasks(self) -> list[TaskRecord]:
        ids = list(dict.fromkeys(text(i) for i in await self._run("active_ids")))
        out: list[TaskRecord] = []
        for i in range(0, len(ids), 1000):   # bounded function runs: other nodes keep going meanwhile
            out.extend(t for t in map(decode_task, items(await self._run("read_tasks", *ids[i:i + 1000])))
                       if t is not None and t.state in ACTIVE_TASK_STATES)
        # as MemoryStore, and as a sorted set scored by enqueued_at orders ties (by the id's bytes: UTF-8 keeps
        # code point order)
        return sorted(out, key=lambda t: (t.enqueued_at, t.id))

    # ---- offers and the conversation ----------------------------------------------------------------------
    async def claim(self, task_id: str, offer: OfferRecord) -> bool:
        reply = await self._run("claim", task_id, offer.id, offer.agent_id, offer.queue, offer.channel,
                                exact(offer.made_at), exact(offer.expires_at))
        self._remember(reply)
        if reply["ok"]:
            if len(self._claimed_timers) > 1000:
                self._claimed_timers.clear()
            self._claimed_timers.add(("offer", offer.id, offer.expires_at))
        return bool(reply["ok"])

    async def get_offer(self, offer_id: str) -> OfferRecord | None:
        return decode_offer(items(await self._run("read_offers", offer_id))[0])

    async def offers_of(self, agent_id: str) -> list[OfferRecord]:
        return [o for o in map(decode_offer, items(await self._run("offers_of", agent_id))) if o is not None]

    async def accept(self, offer_id: str, now: float) -> TaskRecord | None:
        reply = await self._run("accept", offer_id, exact(now), self._ended_ttl)
        if not reply:
            return None
        return self._remember(reply).tasks.get(reply["t"]["id"])

    async def release(self, offer_id: str, now: float, *, missed: bool, exclude_until: float,
                      outcome: str) -> tuple[OfferRecord, TaskRecord, AgentRecord] | None:
        reply = await self._run("release", offer_id, exact(now), "1" if missed else "0", exact(exclude_until),
                                outcome, self._ended_ttl)
        if not reply:
            return None
        snap = self._remember(reply)
        offer, task = decode_offer(reply["o"]), snap.tasks.get(reply["o"]["task_id"])
        assert offer is not None and task is not None and snap.agent is not None
        return offer, task, snap.agent

    async def closed_offer(self, offer_id: str) -> str | None:
        outcome = await self._run("closed_offer", offer_id)
        return outcome if isinstance(outcome, str) else None

    async def end_task(self, task_id: str, now: float) -> TaskRecord | None:
        reply = await self._run("end_task", task_id, exact(now))
        return self._remember(reply).tasks.get(task_id) if reply else None

    async def close_task(self, task_id: str, now: float) -> TaskRecord | None:
        reply = await self._run("close_task", task_id, exact(now), self._ended_ttl)
        return self._remember(reply).tasks.get(task_id) if reply else None

    async def close_task_and_claim(self, task_id: str, now: float, offer_id: str, expires_at: Mapping[str, float]
                                   ) -> tuple[Closed, AgentRecord, tuple[TaskRecord, OfferRecord] | None] | None:
        """`close_task`, then in the same atomic step the engine's next decision for the agent (the choice of
        `Router._best_for` at `now`, mirrored in Lua) claimed as offer `offer_id` expiring at `expires_at[channel]`.
        Returns (what `Closed` holds of the closed task, the agent right after the close, (task, offer) claimed or
        None), or None as `close_task`. No claim does not mean nothing to claim: Lua declines what it cannot decide
        exactly as the engine (a requirement it meets for the first time), and the engine then decides as after
        `close_task`."""
        args = [task_id, exact(now), self._ended_ttl, offer_id]
        for channel, at in expires_at.items():
            args += [channel, exact(at)]
        reply = await self._run("close_and_claim", *args)
        if not reply:
            return None
        if reply.get("need"):   # parsed once for Lua; it travels with this store's next function call
            self._buffer(["r", reply["need"], encode_requirement(reply["need"])])
        t = reply.pop("t")   # not a whole task: not one for the snapshot
        closed = Closed(t["id"], t["queue"], t["agent_id"], float(t["assigned_at"]) if t["assigned_at"] else None,
                        float(t["ended_at"]) if t["ended_at"] else None)
        snap = self._remember(reply)
        agent = snap.agent
        assert agent is not None
        if not reply.get("c"):
            return closed, agent, None
        task = snap.tasks[reply["c"]["id"]]
        offer = OfferRecord(offer_id, task.id, agent.id, task.queue, task.channel, now, expires_at[task.channel])
        # the agent before the claim: one contact and one open offer less; the derived state and its time are
        # the same (an offer raises both), and idle_since is the close's
        load = dict(agent.load)
        load[task.channel] -= 1
        before = AgentRecord(agent.config, agent.presence, agent.reason, agent.state, agent.state_since,
                             agent.idle_since, load, agent.wrapping, agent.offers - 1, agent.missed,
                             agent.tasks - {task.id})
        return closed, before, (task, offer)

    async def drop_task(self, task_id: str, state: str,
                        now: float) -> tuple[TaskRecord, OfferRecord | None] | None:
        reply = await self._run("drop_task", task_id, state, exact(now), self._ended_ttl)
        if not reply:
            return None
        self._remember({"v": reply["v"]})
        before = decode_task(reply["b"])
        assert before is not None
        return before, decode_offer(reply["o"])

    # ---- timers --------------------------------------------------------------------------------------------
    async def schedule(self, at: float, kind: str, ref: str) -> None:
        timer = (kind, ref, at)
        if timer in self._claimed_timers:   # `claim` wrote this very timer atomically with the offer
            self._claimed_timers.discard(timer)
            return
        self._buffer(["t", exact(at), kind, ref])

    async def due(self, now: float, limit: int = 1000, *, lease_s: float = 0.0, owner: str = "") -> list[Timer]:
        until = exact(now + lease_s) if lease_s > 0 else ""
        reply = await self._run("due", exact(now), int(limit), until, owner)
        out = []
        for member, at in zip(reply[::2], reply[1::2], strict=True):
            kind, ref = parse_timer_member(text(member))
            out.append(Timer(float(at), kind, ref, text(member)))
        return out

    async def done_timers(self, timers: Sequence[Timer]) -> None:
        if timers:
            await self._run("done_timers", *[timer.id for timer in timers])

    async def next_due(self) -> float | None:
        first = await self._send(("ZRANGE", self.keys.key("timers"), 0, 0, "WITHSCORES"))
        if not first:
            return None
        return float(first[0][1] if isinstance(first[0], (list, tuple)) else first[1])   # RESP3 or RESP2

    # ---- counters ------------------------------------------------------------------------------------------
    async def incr(self, scope: str, values: Mapping[str, float]) -> None:
        # in whole millionths, summed here (integers: the same sum in any grouping); the call that carries the sum
        # adds it to the stored value with HINCRBY
        self._arrived()
        sums = self._sums.get(scope)
        if sums is None:
            sums = self._sums[scope] = {}
        for name, value in values.items():
            sums[name] = sums.get(name, 0) + counter_units(value)

    async def counters(self, scope: str) -> dict[str, float]:
        snap = self._fresh()
        if snap is not None and scope in snap.counters and scope not in self._sums:   # own increments not in it
            return dict(snap.counters[scope])
        raw = await self._send(("HGETALL", self.keys.key("counters-micro", scope)))
        return {text(k): counter_value(int(v)) for k, v in pairs(raw).items()}

    async def reset_counters(self) -> None:
        await self._run("reset_counters")
