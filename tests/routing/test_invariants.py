"""Property-based: random operation sequences keep the routing invariants.

Two router nodes share one store and take turns, on MemoryStore and on RedisStore (the check reads the state
through the store protocol). No task offered twice at once, no agent over capacity, every task in exactly one
state (and, when queued, in exactly one bucket; held for its preferred agent exactly while the hold is on),
agent loads equal to the contacts they hold, and no free agent left idle next to a task it could take (the
matching invariant), whatever the order of operations and failures.
"""
from __future__ import annotations

import asyncio
import collections
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import (
    AgentConfig,
    EscalationStep,
    MemoryStore,
    QueueConfig,
    RedisStore,
    Router,
    RouterSettings,
    RoutingError,
    Task,
    can_take,
)
from routing.model import TASK_STATES, parse_bucket, preferred_bucket
from routing.skills import parse_skill_expr
from routing.store import Store
from tests.routing.conftest import Clock

AGENTS = ["a0", "a1", "a2", "a3"]
QUEUES = ["general", "billing"]
CHANNELS = ["voice", "chat", "email"]

agent_op = st.tuples(st.just("agent"), st.sampled_from(AGENTS), st.integers(0, 3), st.integers(1, 3),
                     st.sampled_from([("general",), ("billing",), ("general", "billing")]))
op = st.one_of(
    agent_op,
    st.tuples(st.just("state"), st.sampled_from(AGENTS), st.sampled_from(["available", "away", "offline"])),
    st.tuples(st.just("enqueue"), st.sampled_from(QUEUES), st.sampled_from(CHANNELS), st.integers(0, 3),
              st.sampled_from([None, "a0", "a1"])),
    st.tuples(st.just("accept"), st.integers(0, 50)),
    st.tuples(st.just("reject"), st.integers(0, 50)),
    st.tuples(st.just("complete"), st.integers(0, 50)),
    st.tuples(st.just("wrapup_done"), st.integers(0, 50)),
    st.tuples(st.just("abandon"), st.integers(0, 50)),
    st.tuples(st.just("wait"), st.sampled_from([0.5, 2.0, 5.0, 12.0, 21.0, 31.0])),
)


async def check(router: Router, open_offers: dict[str, str], kept: dict[tuple[str, str], int]) -> None:
    """`kept`: contacts an agent held beyond a capacity lowered under it (it keeps them; it gets no new one).
    Read through the store protocol only, so the same check audits MemoryStore and RedisStore."""
    store = router.store
    now = router.clock()
    tasks = await store.active_tasks()
    agents = await store.list_agents()
    buckets = [b for q in QUEUES for b in await store.buckets(q)]
    buckets += [preferred_bucket(a.id, ch) for a in agents for ch in CHANNELS]
    places: collections.Counter[str] = collections.Counter()
    for bucket in buckets:
        for task in await store.waiting(bucket, 1_000_000):
            assert task.bucket == bucket, (task, bucket)
            places[task.id] += 1
    held: dict[tuple[str, str], int] = {}
    for task in tasks:
        assert task.state in TASK_STATES
        assert places.pop(task.id, 0) == (1 if task.state == "queued" else 0), task
        if task.state == "queued":   # held for a preferred agent exactly while the hold is on
            assert (parse_bucket(task.bucket)[0] == "a") == bool(task.preferred_until), task
        if task.state == "offered":
            offer = await store.get_offer(task.offer_id)
            assert offer is not None and offer.task_id == task.id and open_offers[task.id] == offer.id
        if task.state in ("offered", "assigned", "wrapup"):
            held[(task.agent_id, task.channel)] = held.get((task.agent_id, task.channel), 0) + 1
    assert not places, f"ended tasks left in a bucket: {places}"
    offers = 0
    for agent in agents:
        for channel, cap in agent.config.capacity.items():
            load = agent.load.get(channel, 0)
            assert load == held.get((agent.id, channel), 0)
            assert load <= max(cap, kept.get((agent.id, channel), 0))
            if (agent.id, channel) in kept:
                kept[(agent.id, channel)] = min(kept[(agent.id, channel)], load)
        mine = await store.offers_of(agent.id)
        assert agent.offers == len(mine) and all(o.agent_id == agent.id for o in mine)
        offers += len(mine)
    assert offers == sum(1 for t in tasks if t.state == "offered")
    # matching invariant: nobody free next to a task they could take
    for task in tasks:
        if task.state != "queued":
            continue
        kind, owner, channel, requirement = parse_bucket(task.bucket)
        for agent in agents:
            if kind == "a" and agent.id != owner:
                continue
            if kind == "q" and (task.queue not in agent.config.queues
                                or not parse_skill_expr(requirement).matches(agent.config.skills)):
                continue
            if task.excluded.get(agent.id, 0.0) > now or (task.preferred_until and now >= task.preferred_until):
                continue   # excluded after a miss, or its ended hold is waiting for its timer
            assert not can_take(agent, channel), (task, agent)


async def run(ops, strategy: str, make_store: Callable[[], Awaitable[Store]]) -> None:
    """Play `ops` on two router nodes, each with its own `make_store()` client of one shared state."""
    clock = Clock()
    router = Router(await make_store(), clock=clock, settings=RouterSettings(max_missed_offers=2,
                                                                             reject_cooldown_s=6.0), seed=1)
    await router.add_queue(QueueConfig("general", max_wait_s=60, wrapup_s=10, strategy=strategy))
    # both kinds of escalation step, the second during the 8 s preferred-agent holds of the tasks
    await router.add_queue(QueueConfig("billing", skill_expr="billing >= 2", overflow="general", max_length=3,
                                       ageing_per_s=0.2,
                                       escalation=(EscalationStep(after_s=2, skill_expr="billing >= 1"),
                                                   EscalationStep(after_s=4, queue="general", priority_boost=1))))
    open_offers: dict[str, str] = {}
    seen_ids: list[str] = []
    terminal: set[str] = set()
    kept: dict[tuple[str, str], int] = {}

    def watch(event) -> None:
        if event.type == "offer.made":
            assert event.task_id not in open_offers, "two offers of one task at once"
            open_offers[event.task_id] = event.offer_id
        elif event.type in ("offer.accepted", "offer.rejected", "offer.timeout", "offer.revoked"):
            assert open_offers.pop(event.task_id) == event.offer_id
        if event.type in ("task.wrapped_up", "task.abandoned") or (event.type == "task.overflowed"
                                                                  and event.data.get("to") is None
                                                                  and event.data.get("reason") == "max_wait"):
            assert event.task_id not in terminal, "a task ended twice"
            terminal.add(event.task_id)
    router.subscribe(watch)
    # a second router node on the same store: operations alternate between the two
    other = Router(await make_store(), clock=clock, settings=router.settings, seed=2)
    for config in await router.store.list_queues():
        await other.add_queue(config)
    other.subscribe(watch)
    nodes = (router, other)
    n = 0
    for index, step in enumerate(ops):
        kind = step[0]
        router = nodes[index % 2]
        try:
            if kind == "agent":
                _, agent_id, level, chats, queues = step
                held = await router.store.get_agent(agent_id)
                if held is not None and held.load.get("chat", 0) > chats:   # capacity lowered under its load
                    kept[(agent_id, "chat")] = held.load["chat"]
                await router.add_agent(AgentConfig(agent_id, skills={"billing": level} if level else {},
                                                   queues=queues, capacity={"voice": 1, "chat": chats,
                                                                            "email": 2}))
            elif kind == "state":
                await router.set_agent_state(step[1], step[2])
            elif kind == "enqueue":
                n += 1
                await router.enqueue(Task(f"t{n}", step[1], step[2], priority=step[3], preferred_agent=step[4],
                                          preferred_for_s=8.0))
                seen_ids.append(f"t{n}")
            elif kind in ("accept", "reject"):
                if open_offers:
                    task_id = sorted(open_offers)[step[1] % len(open_offers)]
                    offer = await router.store.get_offer(open_offers[task_id])
                    await getattr(router, kind)(offer.id, offer.agent_id)
            elif kind in ("complete", "wrapup_done", "abandon"):
                # mostly a task in the state the call is for, so that calls succeed often; else any task
                wanted = {"complete": "assigned", "wrapup_done": "wrapup", "abandon": "queued"}[kind]
                fitting = [t.id for t in await router.store.active_tasks() if t.state == wanted]
                pool = fitting if fitting and step[1] % 4 else seen_ids
                if pool:
                    await getattr(router, kind)(pool[step[1] % len(pool)])
            elif kind == "wait":
                clock.advance(step[1])
                await router.tick()
        except RoutingError as e:   # refusals are fine; they must leave a consistent state
            assert e.code
        await check(router, open_offers, kept)


SCENARIO = (st.lists(agent_op, min_size=2, max_size=4), st.lists(op, min_size=20, max_size=80),
            st.sampled_from(["longest_idle", "least_occupied", "best_skill", "round_robin", "random",
                             "most_related"]))


def staffed(setup, ops):
    """A staffed start (agents configured and available) makes the interesting interleavings likely."""
    return setup + [("state", a, "available") for a in AGENTS] + ops


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(*SCENARIO)
def test_random_operations_keep_invariants(setup, ops, strategy):
    store = MemoryStore()

    async def same_store() -> Store:
        return store
    asyncio.run(run(staffed(setup, ops), strategy, same_store))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(*SCENARIO)
def test_random_operations_keep_invariants_on_redis(redis_url, setup, ops, strategy):
    """The same, on RedisStore: each router node its own client of one Redis state (a fresh prefix per case)."""
    async def scenario() -> None:
        prefix = f"inv-{uuid.uuid4().hex[:12]}:"
        stores: list[RedisStore] = []

        async def new_client() -> Store:
            stores.append(RedisStore(aioredis.Redis.from_url(redis_url), prefix=prefix))
            return stores[-1]
        try:
            await run(staffed(setup, ops), strategy, new_client)
        finally:
            keys = [k async for k in stores[0].redis.scan_iter(match=prefix + "*")]
            if keys:
                await stores[0].redis.delete(*keys)
            for store in stores:
                await store.close()
    asyncio.run(scenario())
