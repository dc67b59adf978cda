"""The store contract: every routing store must pass these tests (MemoryStore here, RedisStore too).

Use: in a test module, `from tests.routing.store_contract import *` and define an async fixture
`store_factory` returning an async callable that makes a fresh, empty store. A second call within one test must
return another client of the SAME state (a second router node), which is how the races below are run.
"""
from __future__ import annotations

import asyncio

import pytest

from routing import AgentConfig, OfferRecord, QueueConfig, Router, RoutingError, Task, TaskRecord, can_take
from routing.model import bucket_name
from tests.routing.conftest import Clock

NOW = 1_700_000_000.0


def _task(task_id: str, key: float, queue: str = "general", channel: str = "chat") -> TaskRecord:
    return TaskRecord(id=task_id, queue=queue, channel=channel, priority=0, attributes={"n": task_id},
                      requirement="", enqueued_at=key, queued_at=key, key=key,
                      bucket=bucket_name(queue, channel, ""))


def _offer(offer_id: str, task_id: str, agent_id: str, channel: str = "chat") -> OfferRecord:
    return OfferRecord(offer_id, task_id, agent_id, "general", channel, NOW, NOW + 30)


async def _agent(store, agent_id: str = "a1", *, available: bool = True, **kw):
    await store.put_queue(QueueConfig("general"))
    await store.put_agent(AgentConfig(agent_id, **kw), NOW)
    if available:
        await store.set_presence(agent_id, "available", None, NOW)
    return await store.get_agent(agent_id)


async def test_contract_implements_the_protocol(store_factory):
    from routing import Store
    store = await store_factory()
    assert isinstance(store, Store)
    missing = [name for name in dir(Store) if not name.startswith("_") and not hasattr(store, name)]
    assert missing == []


async def test_contract_add_and_get_task(store_factory):
    store = await store_factory()
    assert await store.add_task(_task("t1", NOW))
    assert not await store.add_task(_task("t1", NOW + 1))
    got = await store.get_task("t1")
    assert (got.state, got.enqueued_at, got.attributes) == ("queued", NOW, {"n": "t1"})
    assert await store.get_task("nope") is None
    assert await store.waiting_count("general") == 1


async def test_contract_bucket_order_and_position(store_factory):
    store = await store_factory()
    for i, key in enumerate([5.0, 1.0, 3.0, 2.0, 4.0]):
        await store.add_task(_task(f"t{i}", NOW + key))
    bucket = bucket_name("general", "chat", "")
    assert [t.id for t in await store.waiting(bucket, 10)] == ["t1", "t3", "t2", "t4", "t0"]
    assert [t.id for t in await store.waiting(bucket, 2)] == ["t1", "t3"]
    assert await store.position("t2") == 2
    assert (await store.oldest_waiting("general")).id == "t1"
    assert await store.buckets("general") == [bucket]


async def test_contract_buckets_are_listed_by_name(store_factory):
    """The engine breaks ties between bucket heads by bucket order, so stores list a queue's buckets by name."""
    store = await store_factory()
    for i, channel in enumerate(["voice", "chat", "sms", "email", "chat"]):
        await store.add_task(_task(f"t{i}", NOW + i, channel=channel))
    names = [bucket_name("general", ch, "") for ch in ("chat", "email", "sms", "voice")]
    assert await store.buckets("general") == names
    await store.drop_task("t3", "abandoned", NOW + 9)   # the email bucket empties
    await store.add_task(_task("t9", NOW + 9, channel="email"))
    await store.drop_task("t0", "abandoned", NOW + 9)   # and the voice one
    assert await store.buckets("general") == names[:3]


async def test_contract_claim_is_exclusive(store_factory):
    store = await store_factory()
    await _agent(store, "a1")
    await _agent(store, "a2")
    await store.add_task(_task("t1", NOW))
    assert await store.claim("t1", _offer("o1", "t1", "a1"))
    assert not await store.claim("t1", _offer("o2", "t1", "a2"))
    assert (await store.get_task("t1")).state == "offered"
    assert await store.get_offer("o2") is None
    assert (await store.get_agent("a2")).load.get("chat", 0) == 0
    assert await store.waiting_count("general") == 0


async def test_contract_claim_respects_capacity(store_factory):
    store = await store_factory()
    await _agent(store, "a1", capacity={"chat": 2, "voice": 1})
    for i in range(3):
        await store.add_task(_task(f"c{i}", NOW + i))
    assert await store.claim("c0", _offer("o0", "c0", "a1"))
    assert await store.claim("c1", _offer("o1", "c1", "a1"))
    assert not await store.claim("c2", _offer("o2", "c2", "a1"))
    agent = await store.get_agent("a1")
    assert agent.load["chat"] == 2 and not can_take(agent, "chat")
    # a voice contact blocks the other channels
    await _agent(store, "a2", capacity={"chat": 2, "voice": 1})
    await store.add_task(_task("v", NOW, channel="voice"))
    assert await store.claim("v", _offer("ov", "v", "a2", "voice"))
    assert not await store.claim("c2", _offer("o3", "c2", "a2"))


async def test_contract_release_restores_order(store_factory):
    store = await store_factory()
    await _agent(store, "a1")
    for i in range(3):
        await store.add_task(_task(f"t{i}", NOW + i))
    assert await store.claim("t0", _offer("o0", "t0", "a1"))
    released = await store.release("o0", NOW + 50, missed=True, exclude_until=NOW + 60)
    assert released is not None
    offer, task, agent = released
    assert (offer.id, task.state, agent.missed, agent.load["chat"]) == ("o0", "queued", 1, 0)
    assert task.excluded == {"a1": NOW + 60}
    assert [t.id for t in await store.waiting(bucket_name("general", "chat", ""), 5)] == ["t0", "t1", "t2"]
    assert await store.release("o0", NOW + 51, missed=True, exclude_until=0) is None


async def test_contract_accept_end_close(store_factory):
    store = await store_factory()
    await _agent(store, "a1")
    await store.add_task(_task("t1", NOW))
    await store.claim("t1", _offer("o1", "t1", "a1"))
    task = await store.accept("o1", NOW + 3)
    assert (task.state, task.agent_id, task.assigned_at) == ("assigned", "a1", NOW + 3)
    assert await store.accept("o1", NOW + 4) is None
    assert (await store.get_agent("a1")).state == "busy"
    assert await store.close_task("t1", NOW + 5) is None
    assert (await store.end_task("t1", NOW + 10)).state == "wrapup"
    assert (await store.get_agent("a1")).state == "wrapup"
    assert (await store.close_task("t1", NOW + 20)).state == "closed"
    agent = await store.get_agent("a1")
    assert (agent.state, agent.load["chat"], agent.idle_since) == ("available", 0, NOW + 20)
    assert await store.active_tasks() == []


async def test_contract_drop_queued_and_offered(store_factory):
    store = await store_factory()
    await _agent(store, "a1")
    await store.add_task(_task("t1", NOW))
    await store.add_task(_task("t2", NOW + 1))
    await store.claim("t2", _offer("o2", "t2", "a1"))
    before, offer = await store.drop_task("t1", "abandoned", NOW + 5)
    assert (before.state, offer) == ("queued", None)
    before, offer = await store.drop_task("t2", "abandoned", NOW + 6)
    assert (before.state, offer.id) == ("offered", "o2")
    assert (await store.get_agent("a1")).load["chat"] == 0
    assert (await store.get_task("t2")).state == "abandoned"
    assert await store.drop_task("t2", "abandoned", NOW + 7) is None
    assert await store.waiting_count("general") == 0


async def test_contract_timers_pop_once(store_factory):
    store = await store_factory()
    other = await store_factory()
    await store.schedule(NOW + 5, "offer", "o1")
    await store.schedule(NOW + 1, "task", "t1")
    await store.schedule(NOW + 9, "task", "t2")
    assert await store.next_due() == NOW + 1
    assert await store.due(NOW + 6) == [(NOW + 1, "task", "t1"), (NOW + 5, "offer", "o1")]
    assert await other.due(NOW + 6) == []
    assert await other.due(NOW + 10) == [(NOW + 9, "task", "t2")]
    assert await store.next_due() is None


async def test_contract_counters(store_factory):
    store = await store_factory()
    await store.incr("queue:general", {"queued": 1, "answer_wait_s": 2.5})
    await store.incr("queue:general", {"queued": 1})
    assert await store.counters("queue:general") == {"queued": 2, "answer_wait_s": 2.5}
    assert await store.counters("queue:other") == {}
    await store.reset_counters()
    assert await store.counters("queue:general") == {}


async def test_contract_free_agents_longest_idle_first(store_factory):
    store = await store_factory()
    for i, agent_id in enumerate(["a", "b", "c"]):
        await store.put_queue(QueueConfig("general"))
        await store.put_agent(AgentConfig(agent_id), NOW)
        await store.set_presence(agent_id, "available", None, NOW + i)
    assert [a.id async for a in store.free_agents("general", "chat")] == ["a", "b", "c"]
    await store.add_task(_task("t", NOW))
    await store.claim("t", _offer("o", "t", "a", "voice" if False else "chat"))
    await store.release("o", NOW + 10, missed=False, exclude_until=0)
    assert [a.id async for a in store.free_agents("general", "chat")] == ["b", "c", "a"]
    await store.set_presence("b", "away", "lunch", NOW + 11)
    assert [a.id async for a in store.free_agents("general", "chat")] == ["c", "a"]
    assert (await store.get_agent("b")).reason == "lunch"
    assert await store.signed_in("general") == 3


async def test_contract_move_task(store_factory):
    store = await store_factory()
    await store.put_queue(QueueConfig("other"))
    await store.add_task(_task("t", NOW))
    moved = await store.move_task("t", queue="other", bucket=bucket_name("other", "chat", "x"), key=NOW - 5,
                                  requirement="x", queued_at=NOW + 30, step=0, priority=1, preferred_until=0.0)
    assert (moved.queue, moved.requirement, moved.enqueued_at) == ("other", "x", NOW)
    assert await store.waiting_count("general") == 0 and await store.waiting_count("other") == 1
    assert await store.buckets("other") == [bucket_name("other", "chat", "x")]


async def test_contract_presence_and_state(store_factory):
    store = await store_factory()
    agent = await _agent(store, "a1", available=False)
    assert (agent.presence, agent.state) == ("offline", "offline")
    agent = await store.set_presence("a1", "away", "break", NOW + 5)
    assert (agent.state, agent.state_since, agent.reason) == ("away", NOW + 5, "break")


async def test_contract_recovery_by_another_router(store_factory):
    """A second router on the same state (a restarted node) finds the queue in its original order and times."""
    clock = Clock()
    first = Router(await store_factory(), clock=clock)
    await first.add_queue(QueueConfig("general"))
    for i, priority in enumerate([0, 2, 0, 1]):
        await first.enqueue(Task(f"t{i}", "general", "chat", priority=priority))
        clock.advance(1)
    await first.add_agent(AgentConfig("a1", capacity={"chat": 1}))
    await first.set_agent_state("a1", "available")
    offered = await first.get_task("t1")
    assert offered.state == "offered"
    del first  # the node dies with an open offer
    second = Router(await store_factory(), clock=clock)
    await second.add_queue(QueueConfig("general"))
    assert [(t.id, t.enqueued_at) for t in await second.store.active_tasks()] == \
        [(f"t{i}", clock.now - 4 + i) for i in range(4)]
    clock.advance(60)
    await second.tick()   # the open offer expires and goes back, first in line
    assert (await second.get_task("t1")).state == "queued"
    await second.add_agent(AgentConfig("a2", capacity={"chat": 1}))
    await second.set_agent_state("a2", "available")
    assert (await second.get_task("t1")).agent_id == "a2"
    with pytest.raises(RoutingError) as err:
        await second.enqueue(Task("t0", "general", "chat"))
    assert err.value.code == "duplicate_task"


async def test_contract_enqueue_keeps_a_given_enqueue_time(store_factory):
    """A task handed back with its original enqueue time (recovery after a crash) keeps its place, its wait and
    its timers: it goes before later tasks, its wait counts from then, a max wait already passed fires at once."""
    clock = Clock()
    router = Router(await store_factory(), clock=clock)
    events: list = []
    router.subscribe(events.append)
    await router.add_queue(QueueConfig("general", sl_threshold_s=20))
    await router.add_queue(QueueConfig("short", max_wait_s=30, overflow="general"))
    await router.enqueue(Task("new", "general", "chat"))
    old = await router.enqueue(Task("old", "general", "chat", enqueued_at=clock.now - 100))
    assert (old.enqueued_at, old.queued_at) == (clock.now - 100, clock.now - 100)
    assert [t.id for t in await router.store.active_tasks()] == ["old", "new"]
    assert await router.position("old") == 0 and await router.position("new") == 1
    assert (await router.queue_stats("general"))["longest_wait_s"] == 100
    queued = [e for e in events if e.type == "task.queued" and e.task_id == "old"]
    assert queued[0].data["enqueued_at"] == clock.now - 100
    # waited past its max wait before the restart: overflows now, not 30 s from now
    await router.enqueue(Task("late", "short", "chat", enqueued_at=clock.now - 45))
    late = await router.get_task("late")
    assert (late.queue, late.enqueued_at) == ("general", clock.now - 45)
    assert [e.data.get("reason") for e in events if e.type == "task.overflowed"] == ["max_wait"]
    await router.add_agent(AgentConfig("a1", capacity={"chat": 1}))
    await router.set_agent_state("a1", "available")
    offered = await router.get_task("old")
    assert (offered.state, offered.agent_id) == ("offered", "a1")
    assignment = await router.accept(offered.offer_id, "a1")
    assert assignment.waited_s == 100   # ASA and service level count the wait before the restart
    stats = await router.queue_stats("general")
    assert stats["answered"] == 1 and stats["service_level"] == 0.0
    for bad in (clock.now + 1, float("nan"), "yesterday", True):
        with pytest.raises(RoutingError) as err:
            await router.enqueue(Task(f"bad-{bad}", "general", "chat", enqueued_at=bad))  # type: ignore[arg-type]
        assert err.value.code == "bad_task"
    assert {t.id for t in await router.store.active_tasks()} == {"old", "new", "late"}


async def test_contract_racing_routers_no_double_offer(store_factory):
    """Three routers sharing one store, racing: no task offered twice, no agent over capacity."""
    clock = Clock()
    routers = []
    offers: dict[str, int] = {}
    for _ in range(3):
        router = Router(await store_factory(), clock=clock)
        router.subscribe(lambda e: offers.__setitem__(e.task_id, offers.get(e.task_id, 0) + 1)
                         if e.type == "offer.made" else None)
        await router.add_queue(QueueConfig("general"))
        routers.append(router)
    for i in range(6):
        await routers[0].add_agent(AgentConfig(f"a{i}", capacity={"chat": 2}))
    await asyncio.gather(*(routers[i % 3].enqueue(Task(f"t{i}", "general", "chat")) for i in range(30)))
    await asyncio.gather(*(routers[i % 3].set_agent_state(f"a{i}", "available") for i in range(6)))
    assert sorted(offers.values()) == [1] * 12
    for agent in await routers[0].store.list_agents():
        assert agent.load["chat"] == 2
    assert await routers[1].store.waiting_count("general") == 18


async def test_contract_racing_routers_keep_loads_and_matching(store_factory):
    """Three routers race enqueues, availability and rejections: loads match the contacts held, nobody exceeds
    capacity, and no free agent is left next to a queued task it could take."""
    from routing.model import parse_bucket
    from routing.skills import parse_skill_expr

    clock = Clock()
    routers = []
    for _ in range(3):
        router = Router(await store_factory(), clock=clock)
        await router.add_queue(QueueConfig("general"))
        await router.add_queue(QueueConfig("billing", skill_expr="billing >= 2"))
        routers.append(router)
    for i in range(8):
        await routers[0].add_agent(AgentConfig(f"a{i}", skills={"billing": i % 4},
                                               queues=("general", "billing") if i % 2 else ("general",),
                                               capacity={"chat": 1 + i % 3, "voice": 1}))
    await asyncio.gather(*(routers[i % 3].enqueue(Task(f"t{i}", ("general", "billing")[i % 2],
                                                       ("chat", "voice")[i % 5 == 0], priority=i % 3))
                           for i in range(40)),
                         *(routers[i % 3].set_agent_state(f"a{i}", "available") for i in range(8)))
    store = routers[0].store
    offered = [t for t in await store.active_tasks() if t.state == "offered"]
    await asyncio.gather(*(routers[i % 3].reject(t.offer_id, t.agent_id) for i, t in enumerate(offered[::2])))
    tasks = await store.active_tasks()
    agents = await store.list_agents()
    now = clock.now
    for agent in agents:
        for channel, cap in agent.config.capacity.items():
            held = sum(1 for t in tasks if t.agent_id == agent.id and t.channel == channel
                       and t.state in ("offered", "assigned", "wrapup"))
            assert agent.load.get(channel, 0) == held <= cap
    for task in tasks:
        if task.state != "queued":
            continue
        kind, _, channel, requirement = parse_bucket(task.bucket)
        for agent in agents:
            if (kind == "q" and task.queue in agent.config.queues
                    and parse_skill_expr(requirement).matches(agent.config.skills)
                    and task.excluded.get(agent.id, 0.0) <= now):
                assert not can_take(agent, channel), (task.id, agent.id)


async def test_contract_state_time_accounting_when_declared(store_factory):
    """Stores declaring `accounts_state_time` add the time spent in the previous state at each change."""
    store = await store_factory()
    if not getattr(store, "accounts_state_time", False):
        assert (await store.counters("agent:a1")) == {}
        return
    await _agent(store, "a1")                                     # offline -> available at NOW
    await store.add_task(_task("t1", NOW))
    await store.claim("t1", OfferRecord("o1", "t1", "a1", "general", "chat", NOW + 10, NOW + 40))
    await store.accept("o1", NOW + 12)                            # available 12 s -> busy
    await store.end_task("t1", NOW + 42)                          # busy 30 s -> wrapup
    await store.close_task("t1", NOW + 47)                        # wrapup 5 s -> available
    counters = await store.counters("agent:a1")
    assert counters["time_available"] == 12 and counters["time_busy"] == 30 and counters["time_wrapup"] == 5


# Every contract test, for `from tests.routing.store_contract import *` in a store's test module.
__all__ = [name for name in list(globals()) if name.startswith("test_contract_")]
