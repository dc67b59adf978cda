"""`RedisStore.close_task_and_claim` (the end of a wrap-up and the agent's next offer in one script) and
`add_task_and_claim` (a new contact and its first offer in one script). Their Lua choices must be the engine's
exactly (`Router._best_for`; `Router._dispatch_task` with longest idle): the same offers as a Router on a
MemoryStore makes, through ties (same priority, same enqueue time), ageing, skill requirements, preferred-agent
buckets and exclusions."""
from __future__ import annotations

import contextlib
import dataclasses
import random
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from routing import (
    AgentConfig,
    MemoryStore,
    QueueConfig,
    RedisStore,
    Router,
    RouterSettings,
    RoutingError,
    Task,
)
from routing.model import RoutingEvent
from tests.routing.conftest import Clock

QUEUES = (QueueConfig("a", ageing_per_s=0.5), QueueConfig("b"),
          QueueConfig("c", skill_expr="x >= 2 and not y", ageing_per_s=0.25),
          QueueConfig("d", skill_expr="x or y == 1.5"), QueueConfig("e", strategy="least_occupied"))
AGENTS = (AgentConfig("p", skills={"x": 2}, queues=("a", "b", "c", "d", "e"), capacity={"voice": 1, "chat": 2}),
          AgentConfig("q", skills={"x": 3, "y": 1.5}, queues=("b", "c", "d"), capacity={"chat": 1, "email": 2}),
          AgentConfig("r", skills={"y": 1}, queues=("a", "d", "e"), capacity={"voice": 1, "email": 1}))
SETTINGS = RouterSettings(reject_cooldown_s=3.0, max_missed_offers=0, preferred_for_s=5.0)


class Side:
    """One router and the offers it made, in order."""

    def __init__(self, store, clock: Clock) -> None:
        self.router = Router(store, clock=clock, settings=SETTINGS, seed=1)
        self.offers: list[tuple[str | None, str | None, float]] = []
        self.open: dict[str, tuple[str, str]] = {}   # task -> (offer id, agent)
        self.router.subscribe(self.seen)

    def seen(self, event: RoutingEvent) -> None:
        if event.type == "offer.made":
            self.offers.append((event.task_id, event.agent_id, event.at))
            self.open[str(event.task_id)] = (str(event.offer_id), str(event.agent_id))
        elif event.type.startswith("offer.") or event.type == "task.abandoned":
            self.open.pop(str(event.task_id), None)

    async def do(self, op: str, *args) -> str:
        try:
            if op in ("accept", "reject"):
                offer_id, agent_id = self.open[args[0]]
                await getattr(self.router, op)(offer_id, agent_id)
            else:
                await getattr(self.router, op)(*args)
            return "ok"
        except RoutingError as e:
            return e.code


@dataclasses.dataclass
class Claims:
    """Per call of the real store's fused methods, whether Lua claimed (not the engine's fall-back)."""
    agent: list[bool] = dataclasses.field(default_factory=list)   # close_task_and_claim
    task: list[bool] = dataclasses.field(default_factory=list)    # add_task_and_claim


@contextlib.asynccontextmanager
async def memory_and_redis(redis_url: str, clock: Clock) -> AsyncIterator[tuple[tuple[Side, Side], Claims]]:
    """A router on a MemoryStore and one on a fresh RedisStore prefix, with the Redis store's Lua claims counted
    (a test must reach the Lua choices, not only their fall-backs); the prefix's keys go afterwards."""
    client = aioredis.Redis.from_url(redis_url)
    prefix = f"fused-{uuid.uuid4().hex[:8]}:"
    store = RedisStore(client, prefix)
    claims = Claims()
    close_and_claim, add_and_claim = store.close_task_and_claim, store.add_task_and_claim

    async def closed(*args):
        done = await close_and_claim(*args)
        claims.agent.append(bool(done and done[2]))
        return done

    async def added(*args):
        done = await add_and_claim(*args)
        claims.task.append(done[1] is not None)
        return done
    store.close_task_and_claim = closed  # type: ignore[method-assign]
    store.add_task_and_claim = added  # type: ignore[method-assign]
    try:
        yield (Side(MemoryStore(), clock), Side(store, clock)), claims
    finally:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await store.close()


@pytest.mark.parametrize("seed", range(6))
async def test_the_lua_choice_is_the_engines(redis_url, seed):
    rng = random.Random(seed)
    clock = Clock()
    async with memory_and_redis(redis_url, clock) as (sides, claims):
        for side in sides:
            for queue in QUEUES:
                await side.router.add_queue(queue)
            for agent in AGENTS:
                await side.router.add_agent(agent)
        memory = sides[0].router.store
        n = 0
        for _ in range(600):
            clock.advance(rng.choice([0.0, 0.0, 0.5, 2.0, 4.0]))   # many contacts share an enqueue time
            roll = rng.random()
            agent = rng.choice(AGENTS).id
            active = await memory.active_tasks()
            # contacts arrive now and then into a long queue (agent-side decisions), often into a short one
            # (contacts offered on arrival)
            if roll < (0.1 if sum(t.state == "queued" for t in active) > 3 else 0.35):
                n += 1
                call: tuple = ("enqueue", Task(f"t{n}", rng.choice(QUEUES).name, rng.choice(["voice", "chat", "email"]),
                                               priority=rng.choice([0, 0, 1, 2]),
                                               preferred_agent=agent if rng.random() < 0.15 else None))
            elif roll < 0.45:
                call = ("set_agent_state", agent, rng.choice(["available", "available", "available", "away"]))
            elif roll < 0.6 and sides[0].open:
                call = (rng.choice(["accept", "accept", "reject"]), rng.choice(sorted(sides[0].open)))
            elif roll < 0.95:   # wrap-up ends: the agent gets its next contact
                held = [t for t in active if t.state in ("assigned", "wrapup")]
                if not held:
                    call = ("tick",)
                else:
                    task = rng.choice(held)
                    call = ("complete" if task.state == "assigned" else "wrapup_done", task.id)
            else:
                call = ("tick",)
            outcomes = [await side.do(*call) for side in sides]
            assert outcomes[0] == outcomes[1], call
            assert sides[0].offers == sides[1].offers, call
        assert sum(claims.agent) >= 10 and sum(claims.task) >= 5, claims   # the Lua choices made many of those offers


async def test_past_the_agents_lua_reads_the_engine_decides(redis_url):
    """More free agents that do not fit than `add_and_claim` reads (32): it declines, and the engine finds the
    one that fits further down the free list, as on a MemoryStore."""
    clock = Clock()
    async with memory_and_redis(redis_url, clock) as (sides, claims):
        for side in sides:
            await side.router.add_queue(QueueConfig("q", skill_expr="rare"))
            for i in range(40):   # longest idle first: the one with the skill comes last
                await side.router.add_agent(AgentConfig(f"a{i:02d}", skills={"rare": 1} if i == 39 else {},
                                                        queues=("q",), capacity={"chat": 1}))
                await side.router.set_agent_state(f"a{i:02d}", "available")
                clock.advance(1)
        # the first contact teaches Redis the requirement (declined: parsed for Lua on the way); the second
        # finds 32 agents that do not fit before the one who does
        for n in range(2):
            for op in (("enqueue", Task(f"t{n}", "q", "chat")), ("accept", f"t{n}"), ("complete", f"t{n}"),
                       ("wrapup_done", f"t{n}")):
                assert [await side.do(*op) for side in sides] == ["ok", "ok"], op
            clock.advance(1)
        assert sides[0].offers == sides[1].offers == [("t0", "a39", clock.now - 2), ("t1", "a39", clock.now - 1)]
        assert claims.task == [False, False]   # both offers were the engine's: Lua declined each


async def test_a_changed_agent_config_is_the_one_lua_chooses_with(redis_url):
    """The function library keeps decoded agent configs between calls: a config changed by `add_agent` must be
    the one the next Lua choice applies (skills raised: the contact it could not take before is offered)."""
    clock = Clock()
    async with memory_and_redis(redis_url, clock) as (sides, claims):
        for side in sides:
            await side.router.add_queue(QueueConfig("easy"))
            await side.router.add_queue(QueueConfig("hard", skill_expr="x >= 2"))
        low = AgentConfig("a", skills={"x": 1}, queues=("easy", "hard"), capacity={"chat": 1})
        steps: list[tuple] = [("add_agent", low), ("set_agent_state", "a", "available"),
                              ("enqueue", Task("t0", "easy", "chat")), ("accept", "t0"), ("complete", "t0"),
                              ("enqueue", Task("hard1", "hard", "chat")), ("wrapup_done", "t0"),   # x=1: not hard1
                              ("enqueue", Task("t2", "easy", "chat")), ("accept", "t2"), ("complete", "t2"),
                              ("wrapup_done", "t2"),   # again x=1, and now Lua has the requirement: it decides
                              ("enqueue", Task("t3", "easy", "chat")), ("accept", "t3"), ("complete", "t3"),
                              ("add_agent", AgentConfig("a", skills={"x": 3}, queues=("easy", "hard"),
                                                        capacity={"chat": 1})),
                              ("wrapup_done", "t3")]   # x=3: hard1
        for step in steps:
            clock.advance(1)
            assert [await side.do(*step) for side in sides] == ["ok", "ok"], step
        assert [o[:2] for o in sides[1].offers] == [("t0", "a"), ("t2", "a"), ("t3", "a"), ("hard1", "a")]
        assert sides[0].offers == sides[1].offers
        assert claims.agent == [False, False, True]   # the first two found nothing; the last was Lua's choice


async def test_a_tie_across_queues_goes_to_the_agents_first_queue_not_the_first_name(redis_url):
    """Two heads of equal effective priority and enqueue time in two queues: the engine takes the one of the queue
    the agent lists first, and so must Lua's choice, here where that queue's name sorts last (the random test above
    has every agent's queues in name order, so it cannot tell the two orders apart)."""
    clock = Clock()
    async with memory_and_redis(redis_url, clock) as (sides, claims):
        for side in sides:
            for queue in (QueueConfig("a"), QueueConfig("b")):
                await side.router.add_queue(queue)
            await side.router.add_agent(AgentConfig("z", queues=("b", "a"), capacity={"voice": 1}))
            await side.router.set_agent_state("z", "available")
            await side.router.enqueue(Task("first", "a", "voice"))   # offered to z at once
            assert await side.do("accept", "first") == "ok"
            await side.router.enqueue(Task("in-a", "a", "voice"))   # the same instant: a tie
            await side.router.enqueue(Task("in-b", "b", "voice"))
            await side.router.complete("first")
            await side.router.wrapup_done("first")
        assert sides[0].offers[-1][:2] == ("in-b", "z")
        assert sides[1].offers == sides[0].offers
        assert claims.agent == [True]   # Lua made that choice, not the engine's fall-back
