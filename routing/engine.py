"""`Router`: the routing engine (ACD). Decisions live here; every state change goes through the store atomically.

Invariant after every public call: no free agent could take a queued task it is eligible for (apart from agents
in a cool-down after missing that task). Hence a new task only looks at free agents, and an agent that frees
capacity only looks at the heads of the buckets it may serve: no decision scans the waiting tasks or all agents.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import random
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import aclosing
from typing import Any

from routing.errors import RoutingError
from routing.memory_store import MemoryStore
from routing.metrics import agent_metrics, collect_queue_stats, estimated_wait
from routing.model import (
    PRESENCES,
    PRIORITY_LIMIT,
    AgentConfig,
    AgentRecord,
    Assignment,
    OfferRecord,
    QueueConfig,
    RouterSettings,
    RoutingEvent,
    Task,
    TaskRecord,
    bucket_name,
    can_take,
    is_priority,
    is_seconds,
    parse_bucket,
    preferred_bucket,
)
from routing.skills import parse_skill_expr
from routing.store import Store
from routing.strategies import StrategyContext, get_strategy, longest_idle

log = logging.getLogger(__name__)
Subscriber = Callable[[RoutingEvent], None]
_SCAN = 16             # bucket entries read at once when looking past excluded tasks
# A claim is only lost when another router node changed that task or agent meanwhile (progress elsewhere), so
# retrying is safe; several nodes racing for the same bucket heads lose many in a row (the Redis race tests).
_LOST_CLAIMS = 64


def _enqueued_at(value: object, now: float) -> float:
    """A task's first enqueue time: `now` when not given; a given one must be finite and not in the future."""
    if value is None:
        return now
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RoutingError("bad_task", f"enqueued_at must be epoch seconds, got {value!r}")
    if value > now:
        raise RoutingError("bad_task", f"enqueued_at {value} is in the future (now {now})")
    return float(value)


class Router:
    """The ACD engine; see docs/routing.md. All methods are coroutines; `clock()` returns epoch seconds."""

    def __init__(self, store: Store | None = None, *, clock: Callable[[], float] | None = None,
                 settings: RouterSettings | None = None, seed: int | None = None) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self.clock = clock or time.time
        self.settings = settings = settings or RouterSettings()
        get_strategy(settings.strategy)
        if not is_seconds(settings.timer_lease_s, positive=True):   # 0 would drop a failed timer for good
            raise RoutingError("bad_settings", f"timer_lease_s must be finite seconds > 0, "
                                               f"got {settings.timer_lease_s!r}")
        self._queues: dict[str, QueueConfig] = {}
        self._subscribers: list[Subscriber] = []
        self._rng = random.Random(seed)
        self._memory: dict[str, object] = {}
        self._node = uuid.uuid4().hex[:8]
        self._ids = itertools.count(1)
        # agent -> (state, state_since, presence, when last announced, reason)
        self._agent_seen: dict[str, tuple[str, float, str, float, str | None]] = {}
        self._store_accounts_time = bool(getattr(self.store, "accounts_state_time", False))
        self._fit_cache: dict[tuple[int, str], tuple[AgentConfig, bool]] = {}

    # ---- events --------------------------------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event)` synchronously for every state change, in order; returns an unsubscribe."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def _emit(self, type_: str, task_id: str | None, queue: str | None, agent_id: str | None = None,
              offer_id: str | None = None, at: float | None = None, **data: Any) -> None:
        if not self._subscribers:
            return
        event = RoutingEvent(type_, task_id, queue, agent_id, offer_id, self.clock() if at is None else at, data)
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:   # a broken listener must not break routing
                log.exception("routing event subscriber failed on %s", type_)

    async def _agent_changed(self, agent: AgentRecord | None) -> None:
        """Emit agent.state when the derived state, the presence or its reason moved (an agent set away during a
        call stays busy, but the console shows the presence; away for lunch after a break is news to the board);
        account time in the previous state when the state moved."""
        if agent is None:
            return
        seen = self._agent_seen.get(agent.id)
        if seen is not None and seen[0] == agent.state and seen[2] == agent.presence and seen[4] == agent.reason:
            return
        at = self.clock() if seen and seen[0] == agent.state else agent.state_since
        # never before the last announcement: with calls in flight, a presence-only change stamped now may be
        # announced before a state change the store stamped a moment earlier
        at = max(at, seen[3]) if seen is not None else at
        self._agent_seen[agent.id] = (agent.state, agent.state_since, agent.presence, at, agent.reason)
        if seen is not None and seen[0] != agent.state and not self._store_accounts_time:
            # Fallback for stores that do not account state time themselves: exact with one router node.
            await self.store.incr("agent:" + agent.id, {"time_" + seen[0]: max(0.0, agent.state_since - seen[1])})
        self._emit("agent.state", None, None, agent.id, at=at, state=agent.state, previous=seen[0] if seen else None,
                   presence=agent.presence, reason=agent.reason)

    # ---- configuration -------------------------------------------------------------------------------------
    async def add_queue(self, config: QueueConfig) -> None:
        """Insert or update a queue (idempotent)."""
        if not isinstance(config, QueueConfig):
            raise RoutingError("bad_queue", "add_queue takes a QueueConfig")
        config.validate(self.settings)
        get_strategy(config.strategy or self.settings.strategy)
        for target in sorted(config.targets()):   # a timer must never meet an unknown queue later
            if target not in self._queues and await self.store.get_queue(target) is None:
                raise RoutingError("unknown_queue", f"queue {config.name!r} sends contacts to unknown queue "
                                                    f"{target!r}: add that queue first")
        self._queues[config.name] = config
        await self.store.put_queue(config)

    async def _queue(self, name: str) -> QueueConfig:
        config = self._queues.get(name)
        if config is None:
            config = await self.store.get_queue(name)   # configured by another router node
            if config is None:
                raise RoutingError("unknown_queue", f"unknown queue {name!r}")
            self._queues[name] = config
        return config

    async def add_agent(self, config: AgentConfig) -> None:
        """Insert or update an agent (idempotent); its state, load and contacts are kept."""
        if not isinstance(config, AgentConfig):
            raise RoutingError("bad_agent", "add_agent takes an AgentConfig")
        config.validate(self.settings)
        for queue in config.queues:
            await self._queue(queue)
        config = AgentConfig(config.id, config.name, dict(config.skills), tuple(config.queues),
                             dict(config.capacity), tuple(config.blocking))
        agent = await self.store.put_agent(config, self.clock())
        await self._agent_changed(agent)
        await self._dispatch_agent(agent.id)

    async def _agent(self, agent_id: str) -> AgentRecord:
        agent = await self.store.get_agent(agent_id) if isinstance(agent_id, str) else None
        if agent is None:
            raise RoutingError("unknown_agent", f"unknown agent {agent_id!r}")
        return agent

    async def set_agent_state(self, agent_id: str, state: str, reason: str | None = None) -> None:
        """Set an agent offline, available or away (with a reason); leaving `available` withdraws open offers."""
        if state not in PRESENCES:
            raise RoutingError("bad_state", f"state must be one of {', '.join(PRESENCES)}, not {state!r}")
        if reason is not None and not isinstance(reason, str):
            raise RoutingError("bad_state", f"reason must be a string, not {reason!r:.40}")
        await self._agent(agent_id)
        agent = await self.store.set_presence(agent_id, state, reason, self.clock())
        await self._agent_changed(agent)
        if state != "available":   # after the change, so that withdrawn offers cannot come straight back
            for offer in await self.store.offers_of(agent_id):
                await self._release(offer.id, "offer.revoked", missed=False, exclude_s=0.0, reason="agent_" + state)
        if state == "offline":     # nobody waits for an agent who left: their reserved tasks join their queues
            for channel in sorted(agent.config.capacity):   # by name: a RedisStore config comes back sorted
                for task in await self.store.waiting(preferred_bucket(agent_id, channel), 1_000_000):
                    await self._end_preference(task, "preferred_agent_offline")
        if state == "available":
            await self._dispatch_agent(agent_id)

    # ---- tasks ---------------------------------------------------------------------------------------------
    async def enqueue(self, task: Task) -> TaskRecord:
        """Queue a task; it is offered at once when an agent fits. Refusals raise RoutingError
        (`queue_closed`, `queue_empty`, `queue_full`, `duplicate_task`, ...)."""
        # no NUL: the Redis store's bucket members end the id with one, so that ties sort by id on both stores
        if not isinstance(task, Task) or not isinstance(task.id, str) or not task.id or "\0" in task.id:
            raise RoutingError("bad_task", "enqueue takes a Task with a non-empty string id without NUL")
        if task.channel not in self.settings.channels:
            raise RoutingError("unknown_channel", f"unknown channel {task.channel!r}")
        if not is_priority(task.priority):
            raise RoutingError("bad_task", f"priority must be an integer within +-{PRIORITY_LIMIT}, "
                                           f"got {task.priority!r:.40}")
        if task.preferred_agent is not None:
            await self._agent(task.preferred_agent)
        if task.preferred_for_s is not None and not is_seconds(task.preferred_for_s):
            raise RoutingError("bad_task", f"preferred_for_s must be finite seconds >= 0, got {task.preferred_for_s!r}")
        now = self.clock()
        since = _enqueued_at(task.enqueued_at, now)
        # A duplicate is refused by the add itself, atomically (on Redis no round trip of its own); a contact
        # that gets a hold timer before its add, or that a queue's rule refuses, is checked first, so that a
        # duplicate leaves nothing behind and is told as a duplicate before any refusal.
        if task.preferred_agent is not None:
            await self._refuse_duplicate(task.id)
        if not isinstance(task.attributes, Mapping):
            raise RoutingError("bad_task", "attributes must be a mapping")
        if not all(isinstance(k, str) for k in task.attributes):   # JSON would give an integer key back as text
            raise RoutingError("bad_task", "attribute names must be strings")
        try:   # they travel as JSON (RedisStore's hash, events to the history): refused alike on every store
            if task.attributes:   # (an empty mapping is JSON: skip the encoder's ~1 us)
                json.dumps(task.attributes, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise RoutingError("bad_task", f"task attributes must be JSON-serialisable: {e}") from e
        queue, hops, refusal = await self._target_queue(await self._queue(task.queue), now)
        if refusal is not None:   # counted by the queue whose rule refused, as Connect counts per queue
            await self._refuse_duplicate(task.id)
            await self.store.incr("queue:" + queue.name, {"refused:" + refusal.code: 1})
            raise refusal
        record = TaskRecord(id=task.id, queue=queue.name, channel=task.channel, priority=task.priority,
                            attributes=dict(task.attributes), requirement=queue.skill_expr, enqueued_at=since,
                            queued_at=since, preferred_agent=task.preferred_agent)
        record.key = since - task.priority * queue.priority_weight_s
        record.bucket = bucket_name(queue.name, task.channel, queue.skill_expr)
        if task.preferred_agent is not None:
            agent = await self._agent(task.preferred_agent)
            hold = self.settings.preferred_for_s if task.preferred_for_s is None else task.preferred_for_s
            if hold > 0 and agent.presence != "offline":
                record.bucket = preferred_bucket(agent.id, task.channel)
                record.preferred_until = now + hold
                await self.store.schedule(record.preferred_until, "task", task.id)
        claimed: tuple[TaskRecord, OfferRecord] | None = None
        fused = getattr(self.store, "add_task_and_claim", None)
        if fused is not None and since == now and get_strategy(queue.strategy or self.settings.strategy).pick \
                is longest_idle:
            # a store that can add the task and make its first-fit decision in one atomic step (RedisStore: one
            # script instead of two, and no claim lost to a decision in flight meanwhile); the deadline timers
            # go first, where _entered schedules them, so that timers due at one instant keep their order
            added, claimed = await fused(record, now, self._offer_id(),
                                         now + self.settings.timeout_for(record.channel),
                                         self._deadlines(record, queue))
        else:
            fused = None
            added = await self.store.add_task(record)
        if not added:   # nothing was written: the store checks before it adds (and writes the timers)
            raise RoutingError("duplicate_task", f"task {task.id!r} exists")
        await self._passed(task.id, hops, now)
        await self._entered(record, queue, now, schedule=fused is None)
        if claimed is not None:   # what _dispatch_task would have offered, already claimed
            await self.store.incr("agent:" + claimed[1].agent_id, {"offered": 1})
            self._offered(*claimed)
            return claimed[0]
        if since < now:   # a contact waiting since before: escalation / max wait already due fire now
            await self._catch_up(record.id)
        await self._dispatch_task(record.id)
        return await self.store.get_task(record.id) or record   # fresh: it may already be offered

    async def _refuse_duplicate(self, task_id: str) -> None:
        if await self.store.get_task(task_id) is not None:
            raise RoutingError("duplicate_task", f"task {task_id!r} exists")

    async def _target_queue(self, queue: QueueConfig, now: float, came_from: str | None = None
                            ) -> tuple[QueueConfig, list[QueueConfig], RoutingError | None]:
        """Apply business hours, the empty-queue rule and max length to a contact entering `queue` (a new
        one, or one moved from `came_from`), following overflow targets but never back to a queue passed
        already (nor to `came_from`), so a cycle ends. Returns the queue that takes it, or the one that refused
        it with the refusal, and the full queues passed on the way; changes nothing (the caller counts what
        took effect)."""
        seen = {came_from} if came_from is not None else set()
        hops: list[QueueConfig] = []
        while True:
            seen.add(queue.name)
            try:
                if queue.business_hours is not None and not self._open(queue, now):
                    raise RoutingError("queue_closed", f"queue {queue.name!r} is closed now")
                if queue.when_empty == "refuse" and await self.store.signed_in(queue.name) == 0:
                    raise RoutingError("queue_empty", f"no agent is signed in for queue {queue.name!r}")
                if queue.max_length is None or await self.store.waiting_count(queue.name) < queue.max_length:
                    return queue, hops, None
                if queue.overflow is None or queue.overflow in seen:
                    raise RoutingError("queue_full", f"queue {queue.name!r} is full")
            except RoutingError as e:
                if e.code == "store_unavailable":   # not the queue's answer
                    raise
                return queue, hops, e
            hops.append(queue)
            queue = await self._queue(queue.overflow)

    async def _passed(self, task_id: str, hops: list[QueueConfig], now: float) -> None:
        """Count and announce the full queues a contact passed for their overflow queues (max length)."""
        for full in hops:
            await self.store.incr("queue:" + full.name, {"overflowed": 1,
                                                         "overflowed_to:" + str(full.overflow): 1})
            self._emit("task.overflowed", task_id, full.name, at=now, reason="max_length", to=full.overflow)

    @staticmethod
    def _open(queue: QueueConfig, now: float) -> bool:
        """The queue's business-hours hook; one that fails refuses the contact (`business_hours_failed`): neither
        "open" nor "closed" would be true, and the caller must know the hook is broken."""
        assert queue.business_hours is not None
        try:
            return bool(queue.business_hours(now))
        except Exception as e:
            log.exception("business_hours hook of queue %r failed", queue.name)
            raise RoutingError("business_hours_failed",
                               f"the business-hours hook of queue {queue.name!r} failed: {e!r}") from e

    async def _entered(self, task: TaskRecord, queue: QueueConfig, now: float, schedule: bool = True) -> None:
        """A task entered a queue: count it, announce it, schedule its escalation and max-wait checks (unless
        the store wrote them already)."""
        await self.store.incr("queue:" + queue.name, {"queued": 1})
        self._emit("task.queued", task.id, queue.name, at=now, enqueued_at=task.enqueued_at,
                   channel=task.channel, priority=task.priority,
                   requirement=task.requirement, preferred_agent=task.preferred_agent if task.preferred_until
                   else None)
        for at in self._deadlines(task, queue) if schedule else ():
            await self.store.schedule(at, "task", task.id)

    def _deadlines(self, task: TaskRecord, queue: QueueConfig) -> list[float]:
        out = [task.queued_at + step.after_s for step in queue.escalation[task.step:task.step + 1]]
        if queue.max_wait_s is not None:
            out.append(task.queued_at + queue.max_wait_s)
        return out

    async def _task(self, task_id: str) -> TaskRecord:
        task = await self.store.get_task(task_id) if isinstance(task_id, str) else None
        if task is None:
            raise RoutingError("unknown_task", f"unknown task {task_id!r}")
        return task

    async def get_task(self, task_id: str) -> TaskRecord:
        """The task's record (state, queue, agent, times); RoutingError `unknown_task`."""
        return await self._task(task_id)

    async def get_offer(self, offer_id: str) -> OfferRecord | None:
        """An open offer (agent, expiry), or None once accepted, released or dropped."""
        return await self.store.get_offer(offer_id) if isinstance(offer_id, str) else None

    async def position(self, task_id: str) -> int | None:
        """0-based place of a queued task among those served before it (None when not queued)."""
        await self._task(task_id)
        return await self.store.position(task_id)

    async def estimated_wait(self, queue: str, task_id: str | None = None) -> float | None:
        """Expected wait for a new contact of `queue` (or for the queued task `task_id`: position announcements)."""
        stats = await self.queue_stats(queue)
        ahead = stats["waiting"] if task_id is None else (await self.position(task_id) or 0)
        return estimated_wait(ahead, stats["agents_serving"], stats["agents_available"],
                              stats["aht_s"] or self.settings.default_aht_s)

    # ---- matching ------------------------------------------------------------------------------------------
    def _eligible(self, task: TaskRecord, agent: AgentRecord, now: float) -> bool:
        # a preferred-agent hold that has ended reserves the task no more, though its timer (which puts it in
        # its queue) may not have been handled yet: offered now, the offer would be revoked at the next tick
        ended_hold = task.preferred_until and now >= task.preferred_until
        return task.excluded.get(agent.id, 0.0) <= now and not ended_hold

    async def _dispatch_task(self, task_id: str, _retries: int = 0) -> bool:
        """Offer a queued task to the best free agent that fits it, if any."""
        task = await self.store.get_task(task_id)
        if task is None or task.state != "queued":
            return False
        now = self.clock()
        kind, owner, channel, requirement = parse_bucket(task.bucket)
        if kind == "a":
            agent = await self.store.get_agent(owner)
            if agent is None or not can_take(agent, channel) or not self._eligible(task, agent, now):
                return False
            return await self._offer(task, agent, now)
        queue = await self._queue(task.queue)
        strategy = get_strategy(queue.strategy or self.settings.strategy)
        candidates: list[AgentRecord] = []
        # aclosing: stopping early must close the generator now, not leave it to the loop's finalizer
        async with aclosing(self.store.free_agents(task.queue, channel)) as free:
            async for agent in free:
                if self._fits(agent, requirement) and self._eligible(task, agent, now):
                    candidates.append(agent)
                    if strategy.first_fit:
                        break
        ctx = StrategyContext(now, task.queue, self._rng, self._memory)
        while candidates:
            chosen = strategy.pick(candidates, task, ctx)
            if chosen is None:
                return False
            if await self._offer(task, chosen, now):
                return True
            candidates.remove(chosen)   # lost a race for it (another router node): try the next one
            if not candidates and strategy.first_fit and _retries < _LOST_CLAIMS:
                return await self._dispatch_task(task_id, _retries + 1)
        return False

    async def _best_for(self, agent: AgentRecord, now: float) -> TaskRecord | None:
        """The queued task this agent should get next: highest effective priority, then longest waiting."""
        best: TaskRecord | None = None
        best_rank: tuple[float, float] | None = None
        open_channels = {ch for ch in agent.config.capacity if can_take(agent, ch)}
        if not open_channels:
            return None
        # ties go to the first bucket, so the order is part of the rule (and of its Lua mirror,
        # redis_scripts.CHOICE): channels by name (a set's order would change with the hash seed), then each
        # queue's buckets by name (as stores list them)
        buckets = [preferred_bucket(agent.id, ch)
                   for ch in (sorted(open_channels) if len(open_channels) > 1 else open_channels)]
        for queue in agent.config.queues:
            buckets.extend(await self.store.buckets(queue))
        for bucket in buckets:
            kind, _, channel, requirement = parse_bucket(bucket)
            if channel not in open_channels:
                continue
            if kind == "q" and not self._fits(agent, requirement):
                continue
            task = await self._head(bucket, agent, now)
            if task is None:
                continue
            config = self._queues.get(task.queue) or await self._queue(task.queue)
            ageing = config.ageing_per_s
            rank = (-(task.priority + ageing * (now - task.enqueued_at)), task.enqueued_at)
            if best_rank is None or rank < best_rank:
                best, best_rank = task, rank
        return best

    def _fits(self, agent: AgentRecord, requirement: str) -> bool:
        """Whether the agent's skills meet a requirement (cached per skills object: configs are immutable)."""
        key = (id(agent.config), requirement)
        cached = self._fit_cache.get(key)
        if cached is None or cached[0] is not agent.config:
            if len(self._fit_cache) > 100_000:
                self._fit_cache.clear()
            cached = self._fit_cache[key] = (agent.config,
                                             parse_skill_expr(requirement).matches(agent.config.skills))
        return cached[1]

    async def _head(self, bucket: str, agent: AgentRecord, now: float) -> TaskRecord | None:
        """The first task of a bucket this agent is not excluded from."""
        limit = 1   # the head almost always fits; look further only past exclusions
        while True:
            tasks = await self.store.waiting(bucket, limit)
            for task in tasks:
                if self._eligible(task, agent, now):
                    return task
            if len(tasks) < limit:
                return None
            limit *= _SCAN

    async def _dispatch_agent(self, agent_id: str) -> None:
        """Fill the agent's free capacity from the heads of the buckets it may serve."""
        lost = 0
        while lost < _LOST_CLAIMS:   # a claim lost to another router node is retried with fresh state
            agent = await self.store.get_agent(agent_id)
            if agent is None or agent.presence != "available":
                return
            now = self.clock()
            task = await self._best_for(agent, now)
            if task is None:
                return
            if not await self._offer(task, agent, now):
                lost += 1

    def _offer_id(self) -> str:
        return f"{self._node}-{next(self._ids)}"

    async def _offer(self, task: TaskRecord, agent: AgentRecord, now: float) -> bool:
        offer = OfferRecord(self._offer_id(), task.id, agent.id, task.queue, task.channel, now,
                            now + self.settings.timeout_for(task.channel))
        if not await self.store.claim(task.id, offer):
            return False
        await self.store.schedule(offer.expires_at, "offer", offer.id)
        await self.store.incr("agent:" + offer.agent_id, {"offered": 1})
        self._offered(task, offer)
        return True

    def _offered(self, task: TaskRecord, offer: OfferRecord) -> None:
        """Announce an offer the store has claimed (its timer is written with it; the caller counts it)."""
        self._emit("offer.made", task.id, task.queue, offer.agent_id, offer.id, at=offer.made_at,
                   expires_at=offer.expires_at, timeout_s=self.settings.timeout_for(task.channel),
                   channel=task.channel, attributes=dict(task.attributes))
        # no agent.state here: an offer raises both the load and the open offers, so the derived state stays

    # ---- offers --------------------------------------------------------------------------------------------
    async def _open_offer(self, offer_id: str, agent_id: str) -> OfferRecord:
        await self._agent(agent_id)
        offer = await self.store.get_offer(offer_id) if isinstance(offer_id, str) else None
        if offer is None:
            # the store remembers how it closed, whichever node closed it (or before this node started)
            outcome = await self.store.closed_offer(offer_id) if isinstance(offer_id, str) else None
            if outcome == "timeout":
                raise RoutingError("offer_expired", f"offer {offer_id!r} has expired")
            if outcome is not None:
                raise RoutingError("offer_closed", f"offer {offer_id!r} is no longer open ({outcome})")
            raise RoutingError("offer_not_found", f"no offer {offer_id!r}")
        if offer.agent_id != agent_id:
            raise RoutingError("not_your_offer", f"offer {offer_id!r} is not for agent {agent_id!r}")
        if offer.expires_at <= self.clock():
            await self._release(offer.id, "offer.timeout", missed=True, exclude_s=self.settings.reject_cooldown_s,
                                task_id=offer.task_id)
            raise RoutingError("offer_expired", f"offer {offer_id!r} has expired")
        return offer

    async def accept(self, offer_id: str, agent_id: str) -> Assignment:
        """The agent takes the offered task: it is assigned to them."""
        await self._open_offer(offer_id, agent_id)
        now = self.clock()
        task = await self.store.accept(offer_id, now)
        if task is None:
            raise RoutingError("offer_closed", f"offer {offer_id!r} is no longer open")
        queue = await self._queue(task.queue)
        waited = now - task.queued_at
        in_sl = 1 if waited <= queue.sl_threshold_s else 0
        await self.store.incr("queue:" + task.queue, {"answered": 1, "answered_in_sl": in_sl,
                                                      "answer_wait_s": waited})
        await self.store.incr("agent:" + agent_id, {"accepted": 1})
        self._emit("offer.accepted", task.id, task.queue, agent_id, offer_id, at=now)
        self._emit("task.assigned", task.id, task.queue, agent_id, offer_id, at=now, waited_s=waited,
                   channel=task.channel)
        await self._agent_changed(await self.store.get_agent(agent_id))
        return Assignment(task.id, agent_id, task.queue, task.channel, offer_id, now, waited,
                          dict(task.attributes))

    async def reject(self, offer_id: str, agent_id: str) -> None:
        """The agent declines: the task goes back to the queue and is offered to someone else."""
        offer = await self._open_offer(offer_id, agent_id)
        await self._release(offer_id, "offer.rejected", missed=False, exclude_s=self.settings.reject_cooldown_s,
                            task_id=offer.task_id)

    async def _release(self, offer_id: str, event: str, *, missed: bool, exclude_s: float,
                       task_id: str | None = None, **data: Any) -> None:
        now = self.clock()
        if exclude_s > 0 and task_id is not None:
            # the end of the cool-down, scheduled before the release: a store that writes timers behind sends it
            # with the release itself, so a node dying right after cannot strand the task (an extra is harmless)
            await self.store.schedule(now + exclude_s, "task", task_id)
        released = await self.store.release(offer_id, now, missed=missed, exclude_until=now + exclude_s,
                                            outcome=event.removeprefix("offer."))
        if released is None:
            return
        _, task, agent = released
        counter = {"offer.rejected": "rejected", "offer.timeout": "timeouts"}.get(event)
        if counter:
            await self.store.incr("agent:" + agent.id, {counter: 1})
        self._emit(event, task.id, task.queue, agent.id, offer_id, at=now, **data)
        if exclude_s > 0 and task_id is None:
            await self.store.schedule(now + exclude_s, "task", task.id)
        limit = self.settings.max_missed_offers
        if missed and limit and agent.missed >= limit and agent.presence == "available":
            await self._agent_changed(await self.store.set_presence(agent.id, "away", "missed_offers", now))
            for other in await self.store.offers_of(agent.id):
                await self._release(other.id, "offer.revoked", missed=False, exclude_s=0.0, reason="missed_offers")
        await self._agent_changed(await self.store.get_agent(agent.id))
        if event == "offer.rejected" and task.preferred_until and task.bucket == preferred_bucket(agent.id,
                                                                                                  task.channel):
            await self._end_preference(task, "preferred_agent_rejected")   # the agent said no: stop waiting
        await self._catch_up(task.id)
        await self._dispatch_task(task.id)
        await self._dispatch_agent(agent.id)

    # ---- the conversation ----------------------------------------------------------------------------------
    async def complete(self, task_id: str) -> None:
        """The conversation ended: the agent is in wrap-up for the task (capacity still held)."""
        now = self.clock()
        ended = await self.store.end_task(task_id, now) if isinstance(task_id, str) else None
        if ended is None:
            task = await self._task(task_id)
            raise RoutingError("task_not_assigned", f"task {task_id!r} is {task.state}, not assigned")
        queue = await self._queue(ended.queue)
        self._emit("task.wrapup", task_id, ended.queue, ended.agent_id, at=now,
                   talk_s=now - (ended.assigned_at or now), wrapup_s=queue.wrapup_s or None)
        if queue.wrapup_s > 0:
            await self.store.schedule(now + queue.wrapup_s, "wrapup", task_id)
        await self._agent_changed(await self.store.get_agent(ended.agent_id or ""))

    async def wrapup_done(self, task_id: str) -> None:
        """Wrap-up finished: the agent's capacity is freed."""
        now = self.clock()
        agent: AgentRecord | None = None
        claimed: tuple[TaskRecord, OfferRecord] | None = None
        # A store that can also make the agent's next decision in the same atomic step (RedisStore: one script
        # instead of two, and no claim lost to a decision in flight meanwhile) gets what `_offer` would need.
        fused = getattr(self.store, "close_task_and_claim", None)
        if not isinstance(task_id, str):
            closed = None
        elif fused is not None:
            expires_at = {ch: now + self.settings.timeout_for(ch) for ch in self.settings.channels}
            done = await fused(task_id, now, self._offer_id(), expires_at)
            closed, agent, claimed = done if done is not None else (None, None, None)
        else:
            closed = await self.store.close_task(task_id, now)
        if closed is None:
            task = await self._task(task_id)
            raise RoutingError("task_not_in_wrapup", f"task {task_id!r} is {task.state}, not in wrap-up")
        ended = closed.ended_at or now
        talk, wrap = ended - (closed.assigned_at or ended), now - ended
        figures = {"handled": 1, "talk_s": talk, "wrapup_s": wrap}
        await self.store.incr("queue:" + closed.queue, figures)
        await self.store.incr("agent:" + (closed.agent_id or ""), figures)
        self._emit("task.wrapped_up", task_id, closed.queue, closed.agent_id, at=now, talk_s=talk, wrapup_s=wrap)
        await self._agent_changed(agent or await self.store.get_agent(closed.agent_id or ""))
        if claimed is not None:   # what _dispatch_agent would have offered first, already claimed
            await self.store.incr("agent:" + claimed[1].agent_id, {"offered": 1})
            self._offered(*claimed)
        await self._dispatch_agent(closed.agent_id or "")

    async def abandon(self, task_id: str) -> None:
        """The customer left. Queued or offered: the task ends as abandoned (an open offer is withdrawn);
        assigned: the conversation simply ended (as `complete`)."""
        task = await self._task(task_id)
        if task.state == "assigned":
            await self.complete(task_id)
            return
        now = self.clock()
        dropped = await self.store.drop_task(task_id, "abandoned", now)
        if dropped is None:
            raise RoutingError("task_not_active", f"task {task_id!r} is already {task.state}")
        before, offer = dropped
        queue = await self._queue(before.queue)
        waited = now - before.queued_at
        in_sl = 1 if waited <= queue.sl_threshold_s else 0
        await self.store.incr("queue:" + before.queue, {"abandoned": 1, "abandoned_in_sl": in_sl,
                                                        "abandon_wait_s": waited})
        if offer is not None:   # the open offer is withdrawn with it, as any other
            self._emit("offer.revoked", task_id, before.queue, offer.agent_id, offer.id, at=now, reason="abandoned")
        self._emit("task.abandoned", task_id, before.queue, offer.agent_id if offer else None,
                   offer.id if offer else None, at=now, waited_s=waited, was=before.state)
        if offer is not None:
            await self._agent_changed(await self.store.get_agent(offer.agent_id))
            await self._dispatch_agent(offer.agent_id)

    # ---- timers --------------------------------------------------------------------------------------------
    async def tick(self) -> int:
        """Fire everything due (offer timeouts, escalations, preferred-agent ends, max wait, wrap-up timers,
        cool-downs); returns how many timers fired.

        Each due timer is leased to this node for `settings.timer_lease_s` and removed only once handled, so a
        node that dies mid-tick loses none: another node's tick takes them over when the lease ends. A handler
        that raises is logged and its timer retried after the lease; the others of the batch go on. Handlers
        re-read the state, so a timer handled twice (a takeover) changes nothing the second time."""
        fired = 0
        while True:
            due = await self.store.due(self.clock(), lease_s=self.settings.timer_lease_s, owner=self._node)
            if not due:
                return fired
            done = []
            for timer in due:
                try:
                    await self._fire(timer.kind, timer.ref)
                except Exception:   # one bad timer must not stop the others; it is retried after its lease
                    log.exception("routing timer %s %r (due at %s) failed; retried in %s s", timer.kind,
                                  timer.ref, timer.at, self.settings.timer_lease_s)
                    continue
                fired += 1
                done.append(timer)
            await self.store.done_timers(done)

    async def _fire(self, kind: str, ref: str) -> None:
        """Handle one timer (idempotent: each handler checks the state it acts on)."""
        if kind == "offer":
            offer = await self.store.get_offer(ref)
            if offer is not None:   # else accepted, rejected, withdrawn or timed out already
                await self._release(ref, "offer.timeout", missed=True, exclude_s=self.settings.reject_cooldown_s,
                                    task_id=offer.task_id)
        elif kind == "wrapup":
            task = await self.store.get_task(ref)
            if task is not None and task.state == "wrapup":
                try:
                    await self.wrapup_done(ref)
                except RoutingError as e:   # ended meanwhile (by the agent, or another node's timer)
                    if e.code != "task_not_in_wrapup":
                        raise
        else:
            task = await self.store.get_task(ref)
            if (task is not None and task.state == "offered" and task.offer_id and task.preferred_until
                    and self.clock() >= task.preferred_until and parse_bucket(task.bucket)[0] == "a"):
                # preferred_for_s is an upper bound: the preferred agent's open offer does not extend it
                await self._release(task.offer_id, "offer.revoked", missed=False, exclude_s=0.0,
                                    reason="preferred_agent_timeout")
                return
            await self._catch_up(ref)
            await self._dispatch_task(ref)

    async def run(self, interval_s: float = 0.25) -> None:
        """Call `tick` forever, at least every `interval_s` (the app runs this as a background task)."""
        while True:
            try:
                await self.tick()
            except Exception:   # one bad timer must not stop every later one
                log.exception("routing tick failed")
            due = await self.store.next_due()
            wait = interval_s if due is None else min(interval_s, max(0.0, due - self.clock()))
            await asyncio.sleep(wait)

    async def _catch_up(self, task_id: str) -> None:
        """Apply to a queued task what its waiting time calls for: the end of the preferred-agent time,
        escalation steps, max wait (overflow)."""
        now = self.clock()
        while True:
            task = await self.store.get_task(task_id)
            if task is None or task.state != "queued":
                return
            queue = await self._queue(task.queue)
            if task.preferred_until and now >= task.preferred_until:
                await self._end_preference(task, "preferred_agent_timeout")
                continue
            if queue.max_wait_s is not None and now >= task.queued_at + queue.max_wait_s:
                await self._overflow(task, queue, now)
                return
            if task.step < len(queue.escalation) and now >= task.queued_at + queue.escalation[task.step].after_s:
                await self._escalate(task, queue, now)
                continue
            return

    async def _end_preference(self, task: TaskRecord, reason: str) -> None:
        """Stop waiting for the preferred agent: the task joins its queue's bucket (and may be offered)."""
        bucket = bucket_name(task.queue, task.channel, task.requirement)
        if await self._move(task, bucket=bucket, preferred_until=0.0) is not None:
            self._emit("task.escalated", task.id, task.queue, reason=reason, requirement=task.requirement)
            await self._dispatch_task(task.id)

    async def _move(self, task: TaskRecord, **changes: Any) -> TaskRecord | None:
        fields: dict[str, Any] = {"queue": task.queue, "bucket": task.bucket, "key": task.key, "requirement": task.requirement,
                  "queued_at": task.queued_at, "step": task.step, "priority": task.priority,
                  "preferred_until": task.preferred_until}
        fields.update(changes)
        return await self.store.move_task(task.id, **fields)

    async def _escalate(self, task: TaskRecord, queue: QueueConfig, now: float) -> None:
        applied = task.step   # read before the move: a MemoryStore record changes under us, a RedisStore one not
        step = queue.escalation[applied]
        priority = task.priority + step.priority_boost
        refused: tuple[QueueConfig, RoutingError] | None = None
        if step.queue is not None and step.queue != queue.name:
            # the target's rules apply as to a newcomer: a full target sends the contact on to its overflow
            target, hops, refusal = await self._target_queue(await self._queue(step.queue), now, queue.name)
            if refusal is None:
                requirement = (step.skill_expr if step.skill_expr is not None and target.name == step.queue
                               else target.skill_expr)
                # a preferred-agent hold outlives the move, as it outlives a widening: the task stays reserved
                moved = await self._move(task, queue=target.name, step=0, queued_at=now, priority=priority,
                                         requirement=requirement, key=task.enqueued_at - priority *
                                         target.priority_weight_s,
                                         bucket=task.bucket if task.preferred_until else
                                         bucket_name(target.name, task.channel, requirement))
                if moved is None:
                    return
                await self.store.incr("queue:" + queue.name, {"transferred_out": 1})
                self._emit("task.escalated", task.id, step.queue, at=now, step=applied, from_queue=queue.name,
                           requirement=requirement, priority=priority)
                await self._passed(task.id, hops, now)
                await self._entered(moved, target, now)
                return
            # refused: the contact stays where it is (Connect keeps a contact whose transfer meets a queue at
            # capacity in its queue); the step is done, its boost applies, its requirement was for the target
            refused = target, refusal
        requirement = step.skill_expr if step.skill_expr is not None and refused is None else task.requirement
        moved = await self._move(task, step=task.step + 1, priority=priority, requirement=requirement,
                                 key=task.enqueued_at - priority * queue.priority_weight_s,
                                 bucket=task.bucket if task.preferred_until else
                                 bucket_name(queue.name, task.channel, requirement))
        if moved is None:
            return
        if refused is not None:
            await self.store.incr("queue:" + refused[0].name, {"refused:" + refused[1].code: 1})
        why = {"refused": refused[1].code, "refused_by": refused[0].name} if refused is not None else {}
        self._emit("task.escalated", task.id, queue.name, at=now, step=applied, requirement=requirement,
                   priority=priority, **why)
        for at in self._deadlines(moved, queue)[:1] if moved.step < len(queue.escalation) else []:
            await self.store.schedule(at, "task", task.id)

    async def _overflow(self, task: TaskRecord, queue: QueueConfig, now: float) -> None:
        # counted only by the node whose move or drop took effect: a timer handled twice counts once
        target, refusal = queue, None
        if queue.overflow is not None and queue.overflow != queue.name:
            # the target's rules apply as to a newcomer: a full target sends the contact on to its overflow
            target, hops, refusal = await self._target_queue(await self._queue(queue.overflow), now,
                                                             queue.name)
            if refusal is None:
                moved = await self._move(task, queue=target.name, step=0, queued_at=now,
                                         requirement=target.skill_expr, preferred_until=0.0,
                                         key=task.enqueued_at - task.priority * target.priority_weight_s,
                                         bucket=bucket_name(target.name, task.channel, target.skill_expr))
                if moved is not None:
                    await self.store.incr("queue:" + queue.name, {"overflowed": 1,
                                                                  "overflowed_to:" + queue.overflow: 1})
                    self._emit("task.overflowed", task.id, queue.name, at=now, reason="max_wait",
                               to=queue.overflow)
                    await self._passed(task.id, hops, now)
                    await self._entered(moved, target, now)
                return
        # nowhere to go, or refused there: the contact ends here (with the refusal, counted where it refused)
        if await self.store.drop_task(task.id, "overflowed", now) is not None:
            await self.store.incr("queue:" + queue.name, {"overflowed": 1})
            if refusal is not None:
                await self.store.incr("queue:" + target.name, {"refused:" + refusal.code: 1})
            self._emit("task.overflowed", task.id, queue.name, at=now, reason="max_wait", to=None,
                       waited_s=now - task.queued_at, refused=refusal.code if refusal else None,
                       refused_by=target.name if refusal else None)

    # ---- metrics -------------------------------------------------------------------------------------------
    async def queue_stats(self, name: str | None = None) -> Any:
        """Real-time figures of one queue (a dict) or of every queue (a list); see routing.metrics."""
        if name is None:
            return [await self.queue_stats(q.name) for q in await self.store.list_queues()]
        return await collect_queue_stats(self.store, await self._queue(name), self.clock(),
                                         default_aht_s=self.settings.default_aht_s)

    async def agent_stats(self, agent_id: str | None = None) -> Any:
        """Real-time figures of one agent (a dict) or of every agent (a list); see routing.metrics."""
        now = self.clock()
        if agent_id is None:
            return [agent_metrics(a, await self.store.counters("agent:" + a.id), now)
                    for a in await self.store.list_agents()]
        agent = await self._agent(agent_id)
        return agent_metrics(agent, await self.store.counters("agent:" + agent_id), now)
