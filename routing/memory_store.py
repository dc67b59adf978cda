"""`MemoryStore`: the embedded home of routing state (one process). Every method runs without awaiting anything,
so each is atomic on the event loop; indexes make every decision O(log n) in waiting tasks."""
from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, Mapping, Sequence

from sortedcontainers import SortedList

from routing.model import (
    ACTIVE_TASK_STATES,
    AgentConfig,
    AgentRecord,
    OfferRecord,
    QueueConfig,
    TaskRecord,
    can_take,
    free_score,
    parse_bucket,
)
from routing.store import Timer, counter_units, counter_value


def _entry(task: TaskRecord) -> tuple[float, float, str]:
    return (task.key, task.enqueued_at, task.id)


class MemoryStore:
    """Routing state in this process's memory (see `routing.store.Store` for the contract)."""

    accounts_state_time = True   # time in each agent state is added to the counters with each state change

    def __init__(self, *, keep_ended: int = 100_000) -> None:
        """`keep_ended`: how many ended (closed/abandoned/overflowed) tasks, and closed offers, stay readable
        before the oldest are forgotten, so that a long-running process does not grow without bound."""
        self._keep_ended = keep_ended
        self._ended: deque[str] = deque()
        self._closed_offers: OrderedDict[str, str] = OrderedDict()   # offer id -> how it ended, oldest first
        self._queues: dict[str, QueueConfig] = {}
        self._agents: dict[str, AgentRecord] = {}
        self._tasks: dict[str, TaskRecord] = {}
        self._offers: dict[str, OfferRecord] = {}
        self._buckets: dict[str, SortedList] = {}            # bucket -> (key, enqueued_at, id)
        self._queue_buckets: dict[str, set[str]] = {}         # queue -> non-empty queue buckets
        self._sorted_buckets: dict[str, list[str]] = {}       # queue -> them by name (`buckets`), while unchanged
        self._count: dict[str, int] = {}                      # queue -> queued tasks
        # queue -> heap of (queued_at, id), lazily cleaned: removal is free, peeking skips stale entries
        self._oldest: dict[str, list[tuple[float, str]]] = {}
        # Free lists, per (queue, channel): the agents that can take it, fewest held then longest idle
        # (model.free_score), ties by id. Those holding nothing come first, in a dict kept in
        # (idle_since, id) order: they mostly enter it when their last contact ends or they become available,
        # which is when idle_since is set, so the common case (one call at a time) is an O(1) append
        # (`_free_add`). The others are sorted by (free_score, id).
        self._free: dict[tuple[str, str], dict[str, None]] = {}
        self._free_held: dict[tuple[str, str], SortedList] = {}
        # agent -> (its free_score, None while it holds nothing; the free lists it is in)
        self._free_at: dict[str, tuple[float | None, set[tuple[str, str]]]] = {}
        # (at, order, timer id, kind, ref); a timer's live order is in _live_timers (a lease re-pushes it)
        self._timers: list[tuple[float, int, int, str, str]] = []
        self._live_timers: dict[int, int] = {}
        self._seq = itertools.count()
        self._counters: dict[str, dict[str, int]] = {}   # scope -> counter -> whole millionths

    # ---- configuration ------------------------------------------------------------------------------------
    async def put_queue(self, config: QueueConfig) -> None:
        self._queues[config.name] = config

    async def get_queue(self, name: str) -> QueueConfig | None:
        return self._queues.get(name)

    async def list_queues(self) -> list[QueueConfig]:
        return [self._queues[n] for n in sorted(self._queues)]

    async def put_agent(self, config: AgentConfig, now: float) -> AgentRecord:
        agent = self._agents.get(config.id)
        if agent is None:
            agent = self._agents[config.id] = AgentRecord(config=config, state_since=now, idle_since=now)
        else:
            agent.config = config
        self._index(agent)
        return agent

    async def get_agent(self, agent_id: str) -> AgentRecord | None:
        return self._agents.get(agent_id)

    async def list_agents(self) -> list[AgentRecord]:
        return [self._agents[i] for i in sorted(self._agents)]

    async def set_presence(self, agent_id: str, presence: str, reason: str | None, now: float) -> AgentRecord:
        agent = self._agents[agent_id]
        became_available = presence == "available" and agent.presence != "available"
        agent.presence, agent.reason = presence, reason
        if became_available:
            agent.missed = 0
            agent.idle_since = now
        self._restate(agent, now)
        self._index(agent)
        return agent

    async def signed_in(self, queue: str) -> int:
        return sum(1 for a in self._agents.values() if a.presence != "offline" and queue in a.config.queues)

    async def free_agents(self, queue: str, channel: str) -> AsyncGenerator[AgentRecord, None]:
        # No copy: the engine reads the candidates before it changes anything (claims come after).
        for agent_id in self._free.get((queue, channel), ()):
            yield self._agents[agent_id]
        for _, agent_id in self._free_held.get((queue, channel), ()):
            yield self._agents[agent_id]

    # ---- indexes ------------------------------------------------------------------------------------------
    def _restate(self, agent: AgentRecord, now: float) -> None:
        state = agent.derived_state()
        if state != agent.state:
            counters = self._counters.setdefault("agent:" + agent.id, {})
            key = "time_" + agent.state
            counters[key] = counters.get(key, 0) + counter_units(max(0.0, now - agent.state_since))
            agent.state, agent.state_since = state, now

    def _index(self, agent: AgentRecord) -> None:
        """Put the agent in each free list it fits, at its place (fewest held, longest idle), and out of the
        others: O(1) per list while it holds nothing, O(log n) otherwise, only for lists whose entry moved."""
        agent_id = agent.id
        score = free_score(agent) if any(agent.load.values()) else None
        lists = {(queue, channel) for channel in agent.config.capacity if can_take(agent, channel)
                 for queue in agent.config.queues}
        old_score, old_lists = self._free_at.get(agent_id, (score, set()))
        moved = old_score != score
        for key in old_lists if moved else old_lists - lists:
            if old_score is None:
                del self._free[key][agent_id]
            else:
                self._free_held[key].remove((old_score, agent_id))
        for key in lists if moved else lists - old_lists:
            if score is None:
                self._free_add(key, agent)
            else:
                entries = self._free_held.get(key)
                if entries is None:
                    entries = self._free_held[key] = SortedList()
                entries.add((score, agent_id))
        if lists:
            self._free_at[agent_id] = (score, lists)
        else:
            self._free_at.pop(agent_id, None)

    def _free_add(self, key: tuple[str, str], agent: AgentRecord) -> None:
        """Put an agent holding nothing in a free list at its (idle_since, id) place, as RedisStore's sorted
        set orders it: an append, unless it belongs before the last one (a config change adding a queue or
        channel to an agent idle for a while, an idle-time tie with a smaller id); then the list is rebuilt."""
        entries = self._free.get(key)
        if entries:
            last = self._agents[next(reversed(entries))]
            if (agent.idle_since, agent.id) < (last.idle_since, last.id):
                ordered = sorted([*entries, agent.id], key=lambda i: (self._agents[i].idle_since, i))
                self._free[key] = dict.fromkeys(ordered)   # a new dict: a reader iterating the old one is safe
                return
        else:
            entries = self._free[key] = {}
        entries[agent.id] = None

    def _bucket_add(self, task: TaskRecord) -> None:
        self._buckets.setdefault(task.bucket, SortedList()).add(_entry(task))
        self._count[task.queue] = self._count.get(task.queue, 0) + 1
        heapq.heappush(self._oldest.setdefault(task.queue, []), (task.queued_at, task.id))
        kind, _, _, _ = parse_bucket(task.bucket)
        if kind == "q":
            buckets = self._queue_buckets.setdefault(task.queue, set())
            if task.bucket not in buckets:
                buckets.add(task.bucket)
                self._sorted_buckets.pop(task.queue, None)

    def _bucket_remove(self, task: TaskRecord) -> None:
        entries = self._buckets[task.bucket]
        entries.remove(_entry(task))
        self._count[task.queue] -= 1
        heap = self._oldest[task.queue]
        if len(heap) > 4 * self._count[task.queue] + 1024:   # mostly stale: compact (amortised O(1))
            self._compact(task.queue, heap)
        if not entries:
            del self._buckets[task.bucket]
            buckets = self._queue_buckets.get(task.queue)
            if buckets is not None:
                buckets.discard(task.bucket)
                self._sorted_buckets.pop(task.queue, None)

    # ---- waiting tasks -------------------------------------------------------------------------------------
    async def add_task(self, task: TaskRecord) -> bool:
        if task.id in self._tasks:
            return False
        task.state = "queued"
        self._tasks[task.id] = task
        self._bucket_add(task)
        return True

    async def get_task(self, task_id: str) -> TaskRecord | None:
        return self._tasks.get(task_id)

    async def buckets(self, queue: str) -> list[str]:
        listed = self._sorted_buckets.get(queue)
        if listed is None:   # sorted once per change of the set: read on every agent-side decision
            listed = self._sorted_buckets[queue] = sorted(self._queue_buckets.get(queue, ()))
        return listed

    async def waiting(self, bucket: str, limit: int) -> list[TaskRecord]:
        entries = self._buckets.get(bucket)
        if not entries:
            return []
        if limit == 1:   # the common case: just the head
            return [self._tasks[entries[0][2]]]
        return [self._tasks[e[2]] for e in entries.islice(0, limit)]

    async def move_task(self, task_id: str, *, queue: str, bucket: str, key: float, requirement: str,
                        queued_at: float, step: int, priority: int, preferred_until: float) -> TaskRecord | None:
        task = self._tasks.get(task_id)
        if task is None or task.state != "queued":
            return None
        self._bucket_remove(task)
        task.queue, task.bucket, task.key, task.requirement = queue, bucket, key, requirement
        task.queued_at, task.step, task.priority, task.preferred_until = queued_at, step, priority, preferred_until
        self._bucket_add(task)
        return task

    async def waiting_count(self, queue: str) -> int:
        return self._count.get(queue, 0)

    async def oldest_waiting(self, queue: str) -> TaskRecord | None:
        heap = self._oldest.get(queue)
        if not heap:
            return None
        while heap:
            if self._live(queue, heap[0]):
                return self._tasks[heap[0][1]]
            heapq.heappop(heap)
        return None

    def _compact(self, queue: str, heap: list[tuple[float, str]]) -> None:
        heap[:] = {e for e in heap if self._live(queue, e)}   # a set: re-queued tasks may appear twice
        heapq.heapify(heap)

    def _live(self, queue: str, entry: tuple[float, str]) -> bool:
        task = self._tasks[entry[1]]
        return task.state == "queued" and task.queue == queue and task.queued_at == entry[0]

    async def position(self, task_id: str) -> int | None:
        task = self._tasks.get(task_id)
        if task is None or task.state != "queued":
            return None
        # one queue's buckets share its priority weight: their `key`s compare across buckets, a rank in each
        entry = _entry(task)
        return sum(self._buckets[bucket].bisect_left(entry) for bucket in self._queue_buckets.get(task.queue, ()))

    async def active_tasks(self) -> list[TaskRecord]:
        return sorted((t for t in self._tasks.values() if t.state in ACTIVE_TASK_STATES),
                      key=lambda t: (t.enqueued_at, t.id))

    # ---- offers --------------------------------------------------------------------------------------------
    async def claim(self, task_id: str, offer: OfferRecord) -> bool:
        task = self._tasks.get(task_id)
        agent = self._agents.get(offer.agent_id)
        if task is None or agent is None or task.state != "queued" or not can_take(agent, offer.channel):
            return False
        self._bucket_remove(task)
        task.state, task.offer_id, task.agent_id = "offered", offer.id, agent.id
        agent.load[offer.channel] = agent.load.get(offer.channel, 0) + 1
        agent.offers += 1
        agent.tasks.add(task_id)
        self._offers[offer.id] = offer
        self._restate(agent, offer.made_at)
        self._index(agent)
        return True

    async def get_offer(self, offer_id: str) -> OfferRecord | None:
        return self._offers.get(offer_id)

    async def offers_of(self, agent_id: str) -> list[OfferRecord]:
        agent = self._agents.get(agent_id)
        if agent is None:
            return []
        return [o for o in self._offers.values() if o.agent_id == agent_id] if agent.offers else []

    async def accept(self, offer_id: str, now: float) -> TaskRecord | None:
        offer = self._offers.pop(offer_id, None)
        if offer is None:
            return None
        self._closed(offer_id, "accepted")
        task, agent = self._tasks[offer.task_id], self._agents[offer.agent_id]
        task.state, task.offer_id, task.assigned_at = "assigned", None, now
        agent.offers -= 1
        agent.missed = 0
        self._restate(agent, now)
        return task

    def _free_one(self, agent: AgentRecord, channel: str, now: float) -> None:
        agent.load[channel] -= 1
        agent.idle_since = now
        self._restate(agent, now)
        self._index(agent)

    async def release(self, offer_id: str, now: float, *, missed: bool, exclude_until: float,
                      outcome: str) -> tuple[OfferRecord, TaskRecord, AgentRecord] | None:
        offer = self._offers.pop(offer_id, None)
        if offer is None:
            return None
        self._closed(offer_id, outcome)
        task, agent = self._tasks[offer.task_id], self._agents[offer.agent_id]
        task.state, task.offer_id, task.agent_id = "queued", None, None
        task.excluded[agent.id] = exclude_until
        self._bucket_add(task)
        agent.offers -= 1
        agent.tasks.discard(task.id)
        if missed:
            agent.missed += 1
        self._free_one(agent, offer.channel, now)
        return offer, task, agent

    def _closed(self, offer_id: str, outcome: str) -> None:
        self._closed_offers[offer_id] = outcome
        if len(self._closed_offers) > self._keep_ended:
            self._closed_offers.popitem(last=False)

    async def closed_offer(self, offer_id: str) -> str | None:
        return self._closed_offers.get(offer_id)

    async def end_task(self, task_id: str, now: float) -> TaskRecord | None:
        task = self._tasks.get(task_id)
        if task is None or task.state != "assigned":
            return None
        task.state, task.ended_at = "wrapup", now
        agent = self._agents[task.agent_id]  # type: ignore[index]
        agent.wrapping += 1
        self._restate(agent, now)
        return task

    async def close_task(self, task_id: str, now: float) -> TaskRecord | None:
        task = self._tasks.get(task_id)
        if task is None or task.state != "wrapup":
            return None
        task.state, task.closed_at = "closed", now
        agent = self._agents[task.agent_id]  # type: ignore[index]
        agent.wrapping -= 1
        agent.tasks.discard(task_id)
        self._free_one(agent, task.channel, now)
        self._forget_later(task_id)
        return task

    def _forget_later(self, task_id: str) -> None:
        self._ended.append(task_id)
        while len(self._ended) > self._keep_ended:
            old = self._tasks.get(self._ended.popleft())
            if old is not None and old.state not in ACTIVE_TASK_STATES:
                del self._tasks[old.id]

    async def drop_task(self, task_id: str, state: str,
                        now: float) -> tuple[TaskRecord, OfferRecord | None] | None:
        task = self._tasks.get(task_id)
        if task is None or task.state not in ("queued", "offered"):
            return None
        before = TaskRecord(**{f: getattr(task, f) for f in TaskRecord.__slots__})  # type: ignore[attr-defined]
        offer = None
        if task.state == "queued":
            self._bucket_remove(task)
        else:
            offer = self._offers.pop(task.offer_id)  # type: ignore[arg-type]
            self._closed(offer.id, state)
            agent = self._agents[offer.agent_id]
            agent.offers -= 1
            agent.tasks.discard(task_id)
            self._free_one(agent, offer.channel, now)
        task.state, task.offer_id, task.ended_at, task.closed_at = state, None, now, now
        self._forget_later(task_id)
        return before, offer

    # ---- timers --------------------------------------------------------------------------------------------
    async def schedule(self, at: float, kind: str, ref: str) -> None:
        seq = next(self._seq)
        self._live_timers[seq] = seq
        heapq.heappush(self._timers, (at, seq, seq, kind, ref))

    def _drop_stale_timers(self) -> None:
        # entries of handled timers, and the old places of leased ones, leave the heap when they reach its top
        timers, live = self._timers, self._live_timers
        while timers and live.get(timers[0][2]) != timers[0][1]:
            heapq.heappop(timers)

    async def due(self, now: float, limit: int = 1000, *, lease_s: float = 0.0, owner: str = "") -> list[Timer]:
        out: list[Timer] = []
        timers, live = self._timers, self._live_timers
        self._drop_stale_timers()
        while timers and timers[0][0] <= now and len(out) < limit:
            at, _, timer_id, kind, ref = heapq.heappop(timers)
            if lease_s > 0:   # one process: the owner is this one, the lease only guards against a failed handler
                seq = next(self._seq)
                live[timer_id] = seq
                heapq.heappush(timers, (now + lease_s, seq, timer_id, kind, ref))
            else:
                del live[timer_id]
            out.append(Timer(at, kind, ref, str(timer_id)))
            self._drop_stale_timers()
        return out

    async def done_timers(self, timers: Sequence[Timer]) -> None:
        for timer in timers:
            self._live_timers.pop(int(timer.id), None)

    async def next_due(self) -> float | None:
        self._drop_stale_timers()
        return self._timers[0][0] if self._timers else None

    # ---- counters ------------------------------------------------------------------------------------------
    async def incr(self, scope: str, values: Mapping[str, float]) -> None:
        counters = self._counters.setdefault(scope, {})
        for name, value in values.items():
            counters[name] = counters.get(name, 0) + counter_units(value)

    async def counters(self, scope: str) -> dict[str, float]:
        return {name: counter_value(units) for name, units in self._counters.get(scope, {}).items()}

    async def reset_counters(self) -> None:
        self._counters.clear()
