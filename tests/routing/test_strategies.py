"""Agent-selection strategies: each registered function picks as documented; the registry is extensible."""
from __future__ import annotations

import collections
import itertools
import random

import pytest

from routing import AgentConfig, MemoryStore, QueueConfig, RoutingError, Task, register_strategy
from routing.model import AgentRecord, free_score
from tests.routing.conftest import add_agents, make_router


async def offered_to(router, task_id):
    return (await router.get_task(task_id)).agent_id


async def staffed(clock, store, strategy, **queue_kw):
    router = await make_router(clock, store, strategy=strategy, **queue_kw)
    await add_agents(router, "b", skills={"billing": 2}, capacity={"chat": 3})
    clock.advance(1)
    await add_agents(router, "a", skills={"billing": 5}, capacity={"chat": 3})
    clock.advance(1)
    await add_agents(router, "c", skills={"billing": 1}, capacity={"chat": 3})
    return router


async def test_longest_idle_is_the_default(clock, store):
    router = await staffed(clock, store, None)
    await router.enqueue(Task("t1", "general", "chat"))
    assert await offered_to(router, "t1") == "b"


async def test_least_occupied(clock, store):
    router = await staffed(clock, store, "least_occupied")
    await router.enqueue(Task("t1", "general", "chat"))
    await router.enqueue(Task("t2", "general", "chat"))
    await router.enqueue(Task("t3", "general", "chat"))
    assert {await offered_to(router, t) for t in ("t1", "t2", "t3")} == {"a", "b", "c"}


async def test_best_skill(clock, store):
    router = await staffed(clock, store, "best_skill", skill_expr="billing >= 1")
    await router.enqueue(Task("t1", "general", "chat"))
    assert await offered_to(router, "t1") == "a"


async def test_round_robin_cycles_by_id(clock, store):
    router = await staffed(clock, store, "round_robin")
    for i in range(4):
        await router.enqueue(Task(f"t{i}", "general", "chat"))
    assert [await offered_to(router, f"t{i}") for i in range(4)] == ["a", "b", "c", "a"]


async def test_random_is_seeded_and_spreads(clock, store):
    router = await staffed(clock, store, "random")
    for i in range(6):
        await router.enqueue(Task(f"t{i}", "general", "chat"))
    assert len({await offered_to(router, f"t{i}") for i in range(6)}) >= 2


async def served_in_turn(router, clock, n):
    """Who gets each of n contacts arriving one at a time, each handled before the next comes."""
    chosen = []
    for i in range(n):
        await router.enqueue(Task(f"s{i}", "general", "chat"))
        task = await router.get_task(f"s{i}")
        chosen.append(task.agent_id)
        await router.accept(task.offer_id, task.agent_id)
        clock.advance(1)
        await router.complete(task.id)
        await router.wrapup_done(task.id)
    return chosen


@pytest.mark.parametrize("strategy", ["longest_idle", "least_occupied", "best_skill", "round_robin", "random",
                                      "most_related"])
async def test_every_strategy_shares_work_fairly_and_repeats_with_its_seed(clock, store, strategy):
    """Three equal agents share 90 contacts: each strategy spreads them (random: within its seed's luck, the
    others exactly), and the same seed makes the same choices on a MemoryStore."""
    runs = []
    for home in (store, MemoryStore()):
        clock.now = 1_700_000_000.0
        router = await make_router(clock, home, strategy=strategy)
        await add_agents(router, "c", "a", "b", capacity={"chat": 1})
        runs.append(await served_in_turn(router, clock, 90))
    assert runs[0] == runs[1]
    shares = sorted(collections.Counter(runs[0]).values())
    if strategy == "random":   # fair within its seed's luck
        assert len(shares) == 3 and 20 <= shares[0] <= shares[2] <= 40
    else:
        assert shares == [30, 30, 30]
    if strategy == "round_robin":
        assert runs[0][:6] == ["a", "b", "c", "a", "b", "c"]


async def test_most_related_reads_the_task_attributes(clock, store):
    router = await staffed(clock, store, "most_related")
    await router.enqueue(Task("t1", "general", "chat", attributes={"related_agents": ["zz", "c", "a"]}))
    await router.enqueue(Task("t2", "general", "chat", attributes={"related_agent": "a"}))
    await router.enqueue(Task("t3", "general", "chat"))
    assert [await offered_to(router, t) for t in ("t1", "t2", "t3")] == ["c", "a", "b"]


async def test_custom_strategy_and_unknown_name(clock, store):
    @register_strategy("alphabetical_last")
    def alphabetical_last(candidates, task, ctx):
        return max(candidates, key=lambda a: a.id, default=None)

    router = await staffed(clock, store, "alphabetical_last")
    await router.enqueue(Task("t1", "general", "chat"))
    assert await offered_to(router, "t1") == "c"
    with pytest.raises(RoutingError) as err:
        await router.add_queue(QueueConfig("x", strategy="nope"))
    assert err.value.code == "unknown_strategy"


async def test_strategy_never_picks_an_ineligible_agent(clock, store):
    router = await staffed(clock, store, "best_skill", skill_expr="billing >= 2 and billing < 5")
    await router.add_agent(AgentConfig("a", skills={"billing": 5}, capacity={"chat": 3}))
    await router.enqueue(Task("t1", "general", "chat"))
    assert await offered_to(router, "t1") == "b"


def test_free_score_keeps_the_order_of_load_then_idle_time():
    """The one-float score orders (load, idle_since) lexicographically for epoch times, to its resolution."""
    rng = random.Random(5)
    records = []
    for _ in range(2000):
        agent = AgentRecord(AgentConfig("x", capacity={"chat": 60}), idle_since=1_700_000_000.0 + rng.uniform(-1e8, 1e8))
        agent.load["chat"] = rng.randint(0, 50)
        records.append(agent)
    by_score = sorted(records, key=free_score)
    for first, second in itertools.pairwise(by_score):
        held = (sum(first.load.values()), sum(second.load.values()))
        assert held[0] <= held[1]
        if held[0] == held[1]:
            assert first.idle_since <= second.idle_since + 2e-5
