"""The routing store protocol: where routing state lives (`MemoryStore` embedded, `RedisStore` shared by nodes).

The engine (`routing.engine.Router`) holds the decisions; a store holds the state and performs every state
transition as ONE atomic step, so that several router processes sharing one store can race safely:

* A task is in exactly one state (queued, offered, assigned, wrapup, closed, abandoned, overflowed) and, while
  queued, in exactly one waiting bucket. Buckets group tasks that the same agents may serve: one per
  (queue, channel, requirement) (`model.bucket_name`) plus one per (preferred agent, channel)
  (`model.preferred_bucket`). Within a bucket tasks are ordered by `(key, enqueued_at, id)`; `key` is the
  virtual enqueue time `queued_at - priority * priority_weight_s` (priority and ageing folded into a time, so
  the order never changes while tasks wait and nothing is ever re-sorted).
* An agent's `load[channel]` counts the contacts it holds (offered + assigned + wrap-up); `model.can_take` is THE
  capacity rule and a store must apply exactly it inside `claim`.
* "Free agents" of a (queue, channel) are the available agents serving the queue that `can_take` the channel,
  iterated fewest contacts held first, then longest idle (`idle_since` ascending: set when the agent becomes
  available or frees capacity): `model.free_score` ascending, ties by agent id.

Records returned are the store's view at that moment: the engine never mutates them (a memory store may hand out
its own objects for speed; a Redis store returns decoded copies).

Crash recovery: everything here must survive the loss of a router process. A restarted process (or another
node) must find every queued task in its original bucket with its original `key`, `enqueued_at` and
`queued_at` (hence its original order), every offer with its `expires_at`, and every timer still scheduled; an
offer whose holder died simply expires through `due` and goes back to the queue.

Agent state time (occupancy): a store that sets the class attribute `accounts_state_time = True` adds, in the
same atomic step as any change of an agent's derived `state`, `now - state_since` to the counter
`time_<previous state>` of scope `agent:<id>`. That is exact with any number of router nodes. Without the flag
the engine accounts it from its own observations, which is exact only with a single router node.

Counters are fixed-point: a store adds each increment as a whole number of millionths (`counter_units`:
`round(value * 1e6)`, microseconds for the time sums) and returns the sums in the caller's unit (`counter_value`).
Integers add exactly in any order, so every store, and Redis in C (`HINCRBY`), gives the same figures for the same
increments. Millionths, not billionths: a 64-bit counter of nanoseconds overflows at 292 years summed, which one
queue of 1,000 busy agents sums in 107 days (and an overflowing `HINCRBY` fails the call that carries it); of
microseconds, at 292,000 years; and the time differences counted, of epoch times in doubles, are good to ~0.2 us.

Every method is a coroutine. Methods documented "atomic" must appear to happen at once to every other client of
the same store (Redis: one Lua script or WATCH/MULTI/EXEC); "returns None/False" means nothing changed.

Optional: a store may also make a decision inside the write that calls for it, in the same atomic step, with the
engine's own rule: `close_task_and_claim(task_id, now, offer_id, expires_at)` (`close_task`, then the agent's
next offer as `Router._best_for` chooses it) and `add_task_and_claim(task, now, offer_id, expires_at, deadlines)`
(`add_task`, then its first offer as `Router._dispatch_task` with longest idle chooses it); see `RedisStore`.
The engine uses them when the store has them: one round trip instead of two, and no claim lost to a decision in
flight meanwhile. A store may decline (claim nothing) when it cannot decide exactly as the engine; the engine
then decides itself.
"""
from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from routing.model import AgentConfig, AgentRecord, OfferRecord, QueueConfig, TaskRecord

COUNTER_SCALE = 1_000_000   # counters are stored as whole millionths (see the module docstring)


def counter_units(value: float) -> int:
    """An increment as the whole number of millionths every store adds."""
    return round(value * COUNTER_SCALE)


def counter_value(units: int) -> float:
    """A stored counter (whole millionths) as the number its callers read: seconds for the time sums."""
    return units / COUNTER_SCALE


class Timer(NamedTuple):
    """A due timer as `Store.due` hands it out: when it was due, what it is for, and the store's handle of it."""
    at: float
    kind: str
    ref: str
    id: str


@runtime_checkable
class Store(Protocol):
    """Storage of routing state; see the module docstring for the atomicity and recovery rules."""

    # ---- configuration ------------------------------------------------------------------------------------
    async def put_queue(self, config: QueueConfig) -> None:
        """Insert or replace a queue config (a Redis store may drop `business_hours`, a callable)."""

    async def get_queue(self, name: str) -> QueueConfig | None:
        """The queue config, or None."""

    async def list_queues(self) -> list[QueueConfig]:
        """Every queue config, by name."""

    async def put_agent(self, config: AgentConfig, now: float) -> AgentRecord:
        """Atomic upsert of an agent's config, keeping its presence, load and tasks; re-index its free entries.
        A new agent starts offline."""

    async def get_agent(self, agent_id: str) -> AgentRecord | None:
        """The agent, or None."""

    async def list_agents(self) -> list[AgentRecord]:
        """Every agent, by id."""

    async def set_presence(self, agent_id: str, presence: str, reason: str | None, now: float) -> AgentRecord:
        """Atomic: set presence (offline/available/away) and reason; `state_since` when the derived state
        changes; becoming available resets `missed` and sets `idle_since = now`. The agent must exist."""

    async def signed_in(self, queue: str) -> int:
        """How many agents serving `queue` are not offline (the empty-queue rule)."""

    def free_agents(self, queue: str, channel: str) -> AsyncGenerator[AgentRecord, None]:
        """Available agents of `queue` that can take `channel`, fewest held then longest idle (lazy: callers stop early;
        they change nothing in the store before they are done iterating)."""

    # ---- waiting tasks -------------------------------------------------------------------------------------
    async def add_task(self, task: TaskRecord) -> bool:
        """Atomic: store a new task (state queued) and insert it into `task.bucket` at `task.key`.
        False when a task with this id exists in any state."""

    async def get_task(self, task_id: str) -> TaskRecord | None:
        """The task in whatever state, or None. Ended tasks (closed, abandoned, overflowed) may be forgotten
        after a retention (MemoryStore: the newest `keep_ended`; Redis: a TTL) so that state stays bounded."""

    async def buckets(self, queue: str) -> list[str]:
        """The non-empty queue buckets (`model.bucket_name`) of `queue`, sorted by name (the engine's tie order);
        the caller does not change the list."""

    async def waiting(self, bucket: str, limit: int) -> list[TaskRecord]:
        """Up to `limit` queued tasks of a bucket, head first."""

    async def move_task(self, task_id: str, *, queue: str, bucket: str, key: float, requirement: str,
                        queued_at: float, step: int, priority: int, preferred_until: float) -> TaskRecord | None:
        """Atomic: move a QUEUED task to another bucket/queue with the given fields (escalation, overflow,
        end of the preferred-agent time). None when the task is not queued."""

    async def waiting_count(self, queue: str) -> int:
        """Queued tasks of a queue (all its buckets and the preferred buckets of its tasks)."""

    async def oldest_waiting(self, queue: str) -> TaskRecord | None:
        """The queued task of `queue` with the smallest `queued_at`."""

    async def position(self, task_id: str) -> int | None:
        """How many queued tasks of the task's queue (all its queue buckets) come before it: its 0-based place
        in the queue, by effective priority then enqueue time (None when not queued). One rank per bucket."""

    async def active_tasks(self) -> list[TaskRecord]:
        """Every task not closed/abandoned/overflowed, by `enqueued_at` (recovery, supervisors)."""

    # ---- offers and the conversation ----------------------------------------------------------------------
    async def claim(self, task_id: str, offer: OfferRecord) -> bool:
        """Atomic: if the task is queued AND `can_take(agent, offer.channel)` holds, then: the task becomes
        offered (out of its bucket, remembering bucket and key), the agent's load/offers grow by one, the
        offer is stored. Otherwise nothing changes and False is returned. This is what makes "never two offers
        of one contact" and "never over capacity" hold across racing routers."""

    async def get_offer(self, offer_id: str) -> OfferRecord | None:
        """An open offer, or None once accepted, released or dropped."""

    async def offers_of(self, agent_id: str) -> list[OfferRecord]:
        """The agent's open offers."""

    async def accept(self, offer_id: str, now: float) -> TaskRecord | None:
        """Atomic: the offer disappears (closed as `accepted`), the task becomes assigned (agent_id,
        assigned_at), the agent's `offers` shrinks (load stays) and `missed` resets. None when the offer is
        gone."""

    async def release(self, offer_id: str, now: float, *, missed: bool, exclude_until: float,
                      outcome: str) -> tuple[OfferRecord, TaskRecord, AgentRecord] | None:
        """Atomic: the offer disappears (closed as `outcome`: `timeout`, `rejected`, `revoked`), the task goes
        back to its bucket with its original key (queued), the agent's load shrinks (idle_since = now),
        `missed` grows by one when `missed`, and the agent is excluded from this task until `exclude_until`.
        None when the offer is gone (already accepted/released)."""

    async def closed_offer(self, offer_id: str) -> str | None:
        """How a closed offer ended (`accepted`, `timeout`, `rejected`, `revoked`, or the `drop_task` state),
        remembered in the same step that closed it, for the retention of ended tasks; None for an offer open,
        never made or forgotten. Every node sees it: any node tells an expired offer from an unknown one."""

    async def end_task(self, task_id: str, now: float) -> TaskRecord | None:
        """Atomic: assigned -> wrapup (ended_at = now; load stays, agent.wrapping grows). None if not assigned."""

    async def close_task(self, task_id: str, now: float) -> TaskRecord | None:
        """Atomic: wrapup -> closed; the agent's load shrinks (idle_since = now). None if not in wrap-up."""

    async def drop_task(self, task_id: str, state: str,
                        now: float) -> tuple[TaskRecord, OfferRecord | None] | None:
        """Atomic: a queued or offered task ends as `state` (abandoned/overflowed): out of its bucket, or its
        offer removed (closed as `state`) and the agent's load freed. Returns the task (before the change of
        state) and the removed offer; None when the task is neither queued nor offered."""

    # ---- timers --------------------------------------------------------------------------------------------
    async def schedule(self, at: float, kind: str, ref: str) -> None:
        """Remember that (kind, ref) is due at `at` (durable; handlers re-check state, so extras are harmless)."""

    async def due(self, now: float, limit: int = 1000, *, lease_s: float = 0.0, owner: str = "") -> list[Timer]:
        """Atomic: up to `limit` timers with at <= now, earliest first (same time: in schedule order). With
        `lease_s` > 0 each is leased, not removed: pushed to `now + lease_s` with `owner` noted, so that no other
        caller gets it meanwhile and, if the owner dies before `done_timers`, whoever calls `due` after the lease
        takes it over. With `lease_s` = 0 they are removed (the caller alone answers for them)."""

    async def done_timers(self, timers: Sequence[Timer]) -> None:
        """Remove handled timers (by `Timer.id`); a timer already removed is ignored."""

    async def next_due(self) -> float | None:
        """The earliest scheduled time (virtual-clock drivers sleep until it)."""

    # ---- counters (real-time metrics) -----------------------------------------------------------------------
    async def incr(self, scope: str, values: Mapping[str, float]) -> None:
        """Atomic add to named counters of a scope (`queue:<name>`, `agent:<id>`), each value rounded to millionths
        (`counter_units`)."""

    async def counters(self, scope: str) -> dict[str, float]:
        """The counters of a scope (missing = 0)."""

    async def reset_counters(self) -> None:
        """Zero every counter (a new reporting interval; the simulator's warm-up)."""
