"""The store contract: every routing store must pass these tests (MemoryStore here, RedisStore too).

Use: in a test module, `from tests.routing.store_contract import *` and define an async fixture
`store_factory` returning an async callable that makes a fresh, empty store. A second call within one test must
return another client of the SAME state (a second router node), which is how the races below are run.
"""
from __future__ import annotations

import asyncio
import collections

import pytest

from routing import (
    AgentConfig,
    EscalationStep,
    OfferRecord,
    QueueConfig,
    Router,
    RouterSettings,
    RoutingError,
    Task,
    TaskRecord,
    can_take,
    register_strategy,
)
from routing.model import bucket_name, preferred_bucket
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


async def test_contract_position_counts_the_whole_queue(store_factory):
    """A task's position counts every queued task of its queue served before it, across its buckets (channels,
    requirements), by key then enqueue time then id; ties across buckets order as within one."""
    store = await store_factory()
    tasks = [("v0", NOW + 1, "voice"), ("c0", NOW + 2, "chat"), ("v1", NOW + 3, "voice"), ("c1", NOW + 4, "chat"),
             ("e0", NOW + 2, "email"), ("e1", NOW + 2, "email")]
    for task_id, key, channel in tasks:
        await store.add_task(_task(task_id, key, channel=channel))
    await store.add_task(_task("other", NOW, queue="elsewhere"))
    positions = {task_id: await store.position(task_id) for task_id, _, _ in tasks}
    # by (key, enqueued_at, id): v0, c0, e0, e1 (NOW + 2: ids c0 < e0 < e1), v1, c1
    assert positions == {"v0": 0, "c0": 1, "e0": 2, "e1": 3, "v1": 4, "c1": 5}
    assert await store.position("other") == 0


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


async def test_contract_voice_is_offered_only_to_an_agent_holding_nothing_else(store_factory):
    """A blocking channel is exclusive both ways: an agent holding a chat (or an email) gets no voice contact,
    and drops out of the voice free list until it holds nothing."""
    store = await store_factory()
    await _agent(store, "a1", capacity={"chat": 2, "email": 1, "voice": 1})
    await store.add_task(_task("c", NOW))
    await store.add_task(_task("v", NOW, channel="voice"))
    assert [a.id async for a in store.free_agents("general", "voice")] == ["a1"]
    assert await store.claim("c", _offer("oc", "c", "a1"))
    agent = await store.get_agent("a1")
    assert not can_take(agent, "voice") and can_take(agent, "chat")
    assert [a.id async for a in store.free_agents("general", "voice")] == []
    assert not await store.claim("v", _offer("ov", "v", "a1", "voice"))
    await store.release("oc", NOW + 1, missed=False, exclude_until=0, outcome="rejected")
    assert [a.id async for a in store.free_agents("general", "voice")] == ["a1"]
    assert await store.claim("v", _offer("ov", "v", "a1", "voice"))


async def test_contract_release_restores_order(store_factory):
    store = await store_factory()
    await _agent(store, "a1")
    for i in range(3):
        await store.add_task(_task(f"t{i}", NOW + i))
    assert await store.claim("t0", _offer("o0", "t0", "a1"))
    released = await store.release("o0", NOW + 50, missed=True, exclude_until=NOW + 60, outcome="timeout")
    assert released is not None
    offer, task, agent = released
    assert (offer.id, task.state, agent.missed, agent.load["chat"]) == ("o0", "queued", 1, 0)
    assert task.excluded == {"a1": NOW + 60}
    assert [t.id for t in await store.waiting(bucket_name("general", "chat", ""), 5)] == ["t0", "t1", "t2"]
    assert await store.release("o0", NOW + 51, missed=True, exclude_until=0, outcome="timeout") is None
    assert await store.closed_offer("o0") == "timeout"


async def test_contract_accept_end_close(store_factory):
    store = await store_factory()
    await _agent(store, "a1")
    await store.add_task(_task("t1", NOW))
    await store.claim("t1", _offer("o1", "t1", "a1"))
    assert await store.closed_offer("o1") is None   # open
    task = await store.accept("o1", NOW + 3)
    assert await store.closed_offer("o1") == "accepted"
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


async def test_contract_active_tasks_are_every_task_not_ended_by_enqueue_time(store_factory):
    """Queued (in any queue, in a queue's or a preferred agent's bucket), offered, assigned and in wrap-up, by
    enqueue time and then id; not the closed, the abandoned nor the overflowed."""
    store = await store_factory()
    await _agent(store, "a1", capacity={"chat": 3})
    await _agent(store, "a2", capacity={"chat": 1})
    await store.put_queue(QueueConfig("other"))
    for task_id, at in [("queued-b", NOW + 1), ("queued-a", NOW + 1), ("offered", NOW + 4), ("assigned", NOW),
                        ("wrapup", NOW + 2), ("closed", NOW - 1), ("abandoned", NOW - 2)]:
        assert await store.add_task(_task(task_id, at))
    assert await store.add_task(_task("other-queue", NOW + 3, queue="other"))
    held = _task("preferred", NOW + 5)
    held.bucket, held.preferred_until = preferred_bucket("a2", "chat"), NOW + 60
    assert await store.add_task(held)
    for n, task_id in enumerate(["offered", "assigned", "wrapup", "closed"]):
        assert await store.claim(task_id, _offer(f"o{n}", task_id, "a1" if n < 3 else "a2"))
    for n, task_id in enumerate(["assigned", "wrapup", "closed"], start=1):
        await store.accept(f"o{n}", NOW + 6)
    for task_id in ["wrapup", "closed"]:
        await store.end_task(task_id, NOW + 7)
    await store.close_task("closed", NOW + 8)
    await store.drop_task("abandoned", "abandoned", NOW + 8)
    active = await store.active_tasks()
    assert [(t.id, t.state) for t in active] == [
        ("assigned", "assigned"), ("queued-a", "queued"), ("queued-b", "queued"), ("wrapup", "wrapup"),
        ("other-queue", "queued"), ("offered", "offered"), ("preferred", "queued")]


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
    assert await store.closed_offer("o2") == "abandoned"
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
    assert [t[:3] for t in await store.due(NOW + 6)] == [(NOW + 1, "task", "t1"), (NOW + 5, "offer", "o1")]
    assert await other.due(NOW + 6) == []
    assert [t[:3] for t in await other.due(NOW + 10)] == [(NOW + 9, "task", "t2")]
    assert await store.next_due() is None


async def test_contract_timers_are_leased_until_done(store_factory):
    """A leased timer goes to no one else during its lease, comes back after it (its owner died), and leaves
    only with `done_timers`; a done timer never comes back, a second `done_timers` is harmless."""
    store = await store_factory()
    other = await store_factory()
    await store.schedule(NOW + 1, "offer", "o1")
    await store.schedule(NOW + 1, "task", "t1")
    await store.schedule(NOW + 2, "wrapup", "t2")
    first = await store.due(NOW + 1, lease_s=10, owner="n1")
    assert [t[:3] for t in first] == [(NOW + 1, "offer", "o1"), (NOW + 1, "task", "t1")]
    assert await other.due(NOW + 1, lease_s=10, owner="n2") == []      # leased to n1
    assert await store.next_due() == NOW + 2
    await store.done_timers(first[1:])                    # t1 handled; o1's handler failed (or n1 died)
    assert [t[:3] for t in await other.due(NOW + 10.5, lease_s=10, owner="n2")] == [(NOW + 2, "wrapup", "t2")]
    again = await other.due(NOW + 11, lease_s=10, owner="n2")
    assert [t[:3] for t in again] == [(NOW + 11, "offer", "o1")]   # taken over when n1's lease ended
    await other.done_timers(again)
    await other.done_timers(again)
    await store.done_timers(first)                        # n1 comes back late: nothing left to remove
    assert [t.ref for t in await store.due(NOW + 100, lease_s=10)] == ["t2"]   # n2 never said t2 was done
    await store.done_timers(await store.due(NOW + 200))   # lease_s=0: due removes them itself
    assert await store.next_due() is None


async def test_contract_timers_lease_in_batches(store_factory):
    """`limit` leases only that many; the rest stay due for the next call, in order."""
    store = await store_factory()
    for i in range(5):
        await store.schedule(NOW + i, "task", f"t{i}")
    first = await store.due(NOW + 10, limit=2, lease_s=30)
    second = await store.due(NOW + 10, limit=10, lease_s=30)
    assert [t.ref for t in first] == ["t0", "t1"] and [t.ref for t in second] == ["t2", "t3", "t4"]
    await store.done_timers(first + second)
    assert await store.next_due() is None


async def test_contract_counters(store_factory):
    store = await store_factory()
    await store.incr("queue:general", {"queued": 1, "answer_wait_s": 2.5})
    await store.incr("queue:general", {"queued": 1})
    assert await store.counters("queue:general") == {"queued": 2, "answer_wait_s": 2.5}
    assert await store.counters("queue:other") == {}
    await store.reset_counters()
    assert await store.counters("queue:general") == {}


async def test_contract_counters_add_each_increment_in_whole_millionths(store_factory):
    """Each increment is rounded to millionths and added as an integer: the same figures on every store, whatever
    the order (a sum of the floats themselves would give 10.883334001)."""
    store = await store_factory()
    values = [0.1, 0.2, 1e-9, 3.0, 1 / 3, 7.25, 2e-6 / 3]
    for v in values:
        await store.incr("queue:general", {"talk_s": v, "handled": 1})
    for v in reversed(values):
        await store.incr("agent:a1", {"talk_s": v})
    assert await store.counters("queue:general") == {"talk_s": 10.883334, "handled": 7.0}
    assert await store.counters("agent:a1") == {"talk_s": 10.883334}


async def test_contract_free_agents_longest_idle_first(store_factory):
    store = await store_factory()
    for i, agent_id in enumerate(["a", "b", "c"]):
        await store.put_queue(QueueConfig("general"))
        await store.put_agent(AgentConfig(agent_id), NOW)
        await store.set_presence(agent_id, "available", None, NOW + i)
    assert [a.id async for a in store.free_agents("general", "chat")] == ["a", "b", "c"]
    await store.add_task(_task("t", NOW))
    await store.claim("t", _offer("o", "t", "a", "voice" if False else "chat"))
    await store.release("o", NOW + 10, missed=False, exclude_until=0, outcome="rejected")
    assert [a.id async for a in store.free_agents("general", "chat")] == ["b", "c", "a"]
    await store.set_presence("b", "away", "lunch", NOW + 11)
    assert [a.id async for a in store.free_agents("general", "chat")] == ["c", "a"]
    assert (await store.get_agent("b")).reason == "lunch"
    assert await store.signed_in("general") == 3


async def test_contract_free_agents_keep_idle_order_through_config_changes_and_ties(store_factory):
    """Longest idle first, equal idle times by id; an agent whose new config adds a queue joins that queue's
    free list at its idle place, not behind agents idle for less long."""
    store = await store_factory()
    await store.put_queue(QueueConfig("general"))
    await store.put_queue(QueueConfig("other"))
    await store.put_agent(AgentConfig("old", queues=("other",)), NOW)
    await store.set_presence("old", "available", None, NOW)
    for agent_id in ("z", "y"):
        await store.put_agent(AgentConfig(agent_id), NOW)
        await store.set_presence(agent_id, "available", None, NOW + 10)
    assert [a.id async for a in store.free_agents("general", "chat")] == ["y", "z"]
    await store.put_agent(AgentConfig("old", queues=("other", "general")), NOW + 20)
    assert [a.id async for a in store.free_agents("general", "chat")] == ["old", "y", "z"]

async def test_contract_free_agents_fewest_held_then_longest_idle(store_factory):
    """Free lists order by contacts held (fewest first), then longest idle, exactly alike in both stores."""
    store = await store_factory()
    await store.put_queue(QueueConfig("general"))
    for i, agent_id in enumerate(["a", "b", "c"]):
        await store.put_agent(AgentConfig(agent_id, capacity={"chat": 3}), NOW)
        await store.set_presence(agent_id, "available", None, NOW + i + 0.123456789)
    for i, agent_id in enumerate(["a", "b"]):
        await store.add_task(_task(f"t{i}", NOW))
        assert await store.claim(f"t{i}", _offer(f"o{i}", f"t{i}", agent_id))
    assert [a.id async for a in store.free_agents("general", "chat")] == ["c", "a", "b"]
    await store.release("o0", NOW + 10, missed=False, exclude_until=0, outcome="rejected")
    assert [a.id async for a in store.free_agents("general", "chat")] == ["c", "a", "b"]
    await store.add_task(_task("t2", NOW))
    assert await store.claim("t2", _offer("o2", "t2", "c"))
    assert [a.id async for a in store.free_agents("general", "chat")] == ["a", "b", "c"]


async def test_contract_chats_spread_over_idle_agents(store_factory):
    """longest_idle with multi-capacity channels: new chats go to the agents holding fewest, not all to one."""
    clock = Clock()
    router = Router(await store_factory(), clock=clock)
    await router.add_queue(QueueConfig("general"))
    for agent_id in ("a1", "a2", "a3"):
        await router.add_agent(AgentConfig(agent_id, capacity={"chat": 3}))
        await router.set_agent_state(agent_id, "available")
        clock.advance(1)
    for i in range(6):
        await router.enqueue(Task(f"c{i}", "general", "chat"))
    assert [(await router.get_task(f"c{i}")).agent_id for i in range(6)] == ["a1", "a2", "a3"] * 2


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


async def test_contract_timers_survive_a_node_dying_mid_tick(store_factory):
    """A node that leased due timers and died before handling them loses none: after the lease another node's
    tick expires the open offer (the agent's capacity comes back) and the contact is offered again."""
    clock = Clock()
    settings = RouterSettings(offer_timeout_s={"chat": 30.0}, timer_lease_s=5.0, reject_cooldown_s=1.0)
    dead = Router(await store_factory(), clock=clock, settings=settings)
    await dead.add_queue(QueueConfig("general"))
    await dead.add_agent(AgentConfig("a1", capacity={"chat": 1}))
    await dead.set_agent_state("a1", "available")
    await dead.enqueue(Task("t1", "general", "chat"))
    clock.advance(31)
    leased = await dead.store.due(clock.now, lease_s=5.0, owner="dead")   # ... and the node is SIGKILLed here
    assert [t.kind for t in leased] == ["offer"]
    alive = Router(await store_factory(), clock=clock, settings=settings)
    events: list = []
    alive.subscribe(events.append)
    await alive.add_queue(QueueConfig("general"))
    assert await alive.tick() == 0 and (await alive.get_task("t1")).state == "offered"   # still leased
    clock.advance(5)
    assert await alive.tick() == 1
    assert [e.type for e in events if e.type.startswith("offer.")] == ["offer.timeout"]
    assert (await alive.get_task("t1")).state == "queued"
    assert (await alive.store.get_agent("a1")).load["chat"] == 0
    clock.advance(1)   # the cool-down ends: a1 gets it again
    await alive.tick()
    assert (await alive.get_task("t1")).state == "offered"
    await dead.store.done_timers(leased)   # the dead node's late word changes nothing
    assert (await alive.get_task("t1")).state == "offered"


async def test_contract_a_timer_handled_twice_changes_nothing_the_second_time(store_factory):
    """After a takeover a timer may be handled twice: offer, wrap-up and task (max wait) timers are idempotent."""
    clock = Clock()
    settings = RouterSettings(offer_timeout_s={"chat": 30.0}, reject_cooldown_s=100.0, max_missed_offers=1)
    router = Router(await store_factory(), clock=clock, settings=settings)
    events: list = []
    router.subscribe(events.append)
    await router.add_queue(QueueConfig("spill"))
    await router.add_queue(QueueConfig("general", wrapup_s=5, max_wait_s=40, overflow="spill"))
    await router.add_agent(AgentConfig("a1", capacity={"chat": 1}))
    await router.add_agent(AgentConfig("a2", capacity={"chat": 1}))
    await router.set_agent_state("a1", "available")
    await router.set_agent_state("a2", "available")
    await router.enqueue(Task("t1", "general", "chat"))      # offered to a1: its offer will time out
    await router.enqueue(Task("t2", "general", "chat"))      # offered to a2: accepted, then wrap-up
    await router.enqueue(Task("t3", "general", "chat"))      # waits: max wait 40 s -> spill
    t1, t2 = await router.get_task("t1"), await router.get_task("t2")
    await router.accept(t2.offer_id, "a2")
    await router.complete("t2")
    store = router.store
    for at, kind, ref in [(clock.now + 30, "offer", t1.offer_id), (clock.now + 5, "wrapup", "t2"),
                          (clock.now + 40, "task", "t3")]:
        await store.schedule(at, kind, ref)                   # the same timers once more: a takeover
    await router.set_agent_state("a2", "away")                # t3 is not taken when a2 frees up
    clock.advance(41)
    await router.tick()
    counted = collections.Counter((e.type, e.task_id) for e in events)
    assert counted[("offer.timeout", "t1")] == 1
    assert counted[("task.wrapped_up", "t2")] == 1
    assert counted[("task.overflowed", "t3")] == 1 and counted[("task.overflowed", "t1")] == 1   # t1 waited too
    assert (await router.get_task("t3")).queue == "spill"
    assert (await router.queue_stats("general"))["overflowed"] == 2
    assert await store.next_due() is None or await store.next_due() > clock.now


async def test_contract_preferred_agent_bounds_and_rejects_and_abandon_revokes(store_factory):
    """Preferred agent: preferred_for_s bounds an open offer (revoked at the limit); a reject by the preferred
    agent ends the preference at once. A customer leaving during an offer revokes it (reason abandoned)."""
    clock = Clock()
    router = Router(await store_factory(), clock=clock,
                    settings=RouterSettings(offer_timeout_s={"email": 120.0, "chat": 30.0}))
    events: list = []
    router.subscribe(events.append)
    await router.add_queue(QueueConfig("general"))
    for agent_id in ("pref", "other"):
        await router.add_agent(AgentConfig(agent_id, capacity={"email": 1, "chat": 1}, blocking=()))
    await router.set_agent_state("pref", "available")
    await router.enqueue(Task("mail", "general", "email", preferred_agent="pref", preferred_for_s=20))
    await router.enqueue(Task("chat", "general", "chat", preferred_agent="pref", preferred_for_s=60))
    mail, chat = await router.get_task("mail"), await router.get_task("chat")
    assert (mail.agent_id, chat.agent_id) == ("pref", "pref")
    await router.set_agent_state("other", "available")
    clock.advance(5)
    await router.reject(chat.offer_id, "pref")                  # ends the 60 s preference at once
    assert (await router.get_task("chat")).agent_id == "other"
    clock.advance(15)
    await router.tick()                                          # 20 s: the email offer (120 s) is revoked
    revoked = [(e.task_id, e.data["reason"]) for e in events if e.type == "offer.revoked"]
    assert revoked == [("mail", "preferred_agent_timeout")]
    escalated = [(e.task_id, e.data["reason"]) for e in events if e.type == "task.escalated"]
    assert escalated == [("chat", "preferred_agent_rejected"), ("mail", "preferred_agent_timeout")]
    mail = await router.get_task("mail")
    assert mail.state == "offered" and mail.agent_id == "pref"  # in the queue now: pref holds nothing, other a chat
    await router.abandon("mail")
    assert [(e.type, e.data.get("reason")) for e in events if e.task_id == "mail"][-2:] == \
        [("offer.revoked", "abandoned"), ("task.abandoned", None)]
    assert (await router.store.get_agent("pref")).load.get("email", 0) == 0


async def test_contract_an_escalation_to_another_queue_keeps_the_preferred_agent_hold(store_factory):
    """A step moving the task to another queue during the preferred-agent hold keeps it reserved for that agent
    until the hold ends (as a widening step does), then it joins the new queue."""
    clock = Clock(NOW)
    router = Router(await store_factory(), clock=clock)
    events: list = []
    router.subscribe(events.append)
    await router.add_queue(QueueConfig("other"))
    await router.add_queue(QueueConfig("general", escalation=(EscalationStep(after_s=5, queue="other"),)))
    await router.add_agent(AgentConfig("pref", queues=("general",)))
    await router.set_agent_state("pref", "away", "break")
    await router.add_agent(AgentConfig("ot", queues=("other",)))
    await router.set_agent_state("ot", "available")
    await router.enqueue(Task("t1", "general", "chat", preferred_agent="pref", preferred_for_s=20))
    clock.advance(6)
    await router.tick()
    task = await router.get_task("t1")
    assert (task.queue, task.state, task.bucket) == ("other", "queued", "a\x1fpref\x1fchat")
    clock.advance(14)
    await router.tick()
    task = await router.get_task("t1")
    assert (task.queue, task.state, task.agent_id) == ("other", "offered", "ot")
    escalated = [(e.queue, e.data.get("from_queue"), e.data.get("reason")) for e in events
                 if e.type == "task.escalated"]
    assert escalated == [("other", "general", None), ("other", None, "preferred_agent_timeout")]

async def test_contract_an_ended_hold_reserves_nothing_before_its_timer(store_factory):
    """A preferred-agent hold that has ended, its timer not handled yet, no longer reserves the task: the agent
    freeing up meanwhile is not offered it (an offer the next tick would revoke); the tick puts it in its queue."""
    clock = Clock(NOW)
    router = Router(await store_factory(), clock=clock)
    events: list = []
    router.subscribe(events.append)
    await router.add_queue(QueueConfig("general"))
    await router.add_agent(AgentConfig("pref", capacity={"chat": 1}))
    await router.set_agent_state("pref", "available")
    await router.enqueue(Task("busy", "general", "chat"))
    await router.accept((await router.get_task("busy")).offer_id, "pref")
    await router.enqueue(Task("t1", "general", "chat", preferred_agent="pref", preferred_for_s=20))
    await router.complete("busy")
    clock.advance(21)
    await router.wrapup_done("busy")
    assert (await router.get_task("t1")).state == "queued"
    await router.set_agent_state("pref", "away")
    await router.set_agent_state("pref", "available")
    assert (await router.get_task("t1")).state == "queued"
    await router.tick()
    assert [(e.type, e.agent_id, e.data.get("reason")) for e in events if e.task_id == "t1"] == [
        ("task.queued", None, None), ("task.escalated", None, "preferred_agent_timeout"),
        ("offer.made", "pref", None)]

async def test_contract_an_agent_going_offline_releases_reserved_tasks_channel_by_channel(store_factory):
    """The tasks held for an agent who goes offline join their queues channel by channel, by channel name,
    whatever order the agent's capacity was given in (a store may keep it in its own order)."""
    clock = Clock(NOW)
    router = Router(await store_factory(), clock=clock)
    events: list = []
    router.subscribe(events.append)
    await router.add_queue(QueueConfig("general"))
    await router.add_agent(AgentConfig("pref", capacity={"voice": 1, "email": 1, "chat": 1}))
    await router.set_agent_state("pref", "away")
    for task_id, channel in (("v", "voice"), ("e", "email"), ("c", "chat")):
        await router.enqueue(Task(task_id, "general", channel, preferred_agent="pref", preferred_for_s=60))
    await router.set_agent_state("pref", "offline")
    assert [(e.task_id, e.data["reason"]) for e in events if e.type == "task.escalated"] == \
        [("c", "preferred_agent_offline"), ("e", "preferred_agent_offline"), ("v", "preferred_agent_offline")]

_FAIL_ONCE: set[str] = set()


@register_strategy("contract_fails_once")
def _fails_once(candidates, task, ctx):
    """A strategy with a bug: the first choice for each task raises (a handler that raises inside tick)."""
    if task.id not in _FAIL_ONCE:
        _FAIL_ONCE.add(task.id)
        raise ZeroDivisionError("strategy bug")
    return candidates[0] if candidates else None


async def test_contract_a_failing_timer_handler_stops_nothing_else(store_factory):
    """A handler raising inside tick is logged, its timer is retried after the lease, and the other timers of
    the same batch are handled: no offer stays open, no capacity is held."""
    clock = Clock()
    settings = RouterSettings(offer_timeout_s={"chat": 30.0}, timer_lease_s=5.0, reject_cooldown_s=2.0)
    router = Router(await store_factory(), clock=clock, settings=settings)
    events: list = []
    router.subscribe(events.append)
    await router.add_queue(QueueConfig("general"))
    await router.add_queue(QueueConfig("buggy", strategy="contract_fails_once"))
    await router.add_agent(AgentConfig("a1", queues=("buggy",), capacity={"chat": 1}))
    await router.add_agent(AgentConfig("a2", queues=("general",), capacity={"chat": 1}))
    await router.add_agent(AgentConfig("a3", queues=("buggy",), capacity={"chat": 1}))
    await router.set_agent_state("a1", "available")
    await router.set_agent_state("a2", "available")
    _FAIL_ONCE.update({"b1", "g1"})
    await router.enqueue(Task("b1", "buggy", "chat"))
    await router.enqueue(Task("g1", "general", "chat"))
    await router.set_agent_state("a3", "available")
    clock.advance(31)
    _FAIL_ONCE.discard("b1")          # b1's re-offer (to a3) will raise inside the timer's handler
    assert await router.tick() == 1   # g1's offer timer is handled; b1's fails and stays leased
    timeouts = [e.task_id for e in events if e.type == "offer.timeout"]
    assert sorted(timeouts) == ["b1", "g1"]
    assert [(await router.get_task(t)).state for t in ("b1", "g1")] == ["queued", "queued"]
    assert [(await router.store.get_agent(a)).load["chat"] for a in ("a1", "a2")] == [0, 0]
    clock.advance(2)                  # b1's cool-down from a1 ends: offered again, by a timer
    await router.tick()
    assert (await router.get_task("b1")).state == "offered"
    clock.advance(3)                  # the failed timer's lease ends: retried, changes nothing now
    await router.tick()
    assert (await router.get_task("b1")).state == "offered"
    assert len([e for e in events if e.type == "offer.timeout"]) == 2


async def test_contract_away_during_a_call_is_busy_until_it_ends(store_factory):
    """The shown state is busy while the agent holds contacts (wrapup while only wrapping up) whatever the
    presence; away counts from when nothing is held. Time in state, occupancy and agent.state follow."""
    clock = Clock(NOW)
    router = Router(await store_factory(), clock=clock)
    events: list = []
    router.subscribe(events.append)
    await router.add_queue(QueueConfig("general", wrapup_s=0))
    await router.add_agent(AgentConfig("a1", capacity={"voice": 1}))
    await router.set_agent_state("a1", "available")
    clock.advance(10)
    await router.enqueue(Task("t1", "general", "voice"))
    await router.accept((await router.get_task("t1")).offer_id, "a1")
    clock.advance(10)
    await router.set_agent_state("a1", "away", "lunch")
    agent = await router.store.get_agent("a1")
    assert (agent.presence, agent.state, agent.state_since) == ("away", "busy", NOW + 10)
    clock.advance(90)
    await router.complete("t1")
    clock.advance(5)
    await router.wrapup_done("t1")
    assert (await router.store.get_agent("a1")).state == "away"
    clock.advance(15)
    stats = await router.agent_stats("a1")
    assert {k: v for k, v in stats["time_in_state_s"].items() if v} == {"available": 10, "busy": 100, "wrapup": 5,
                                                                       "away": 15}
    assert stats["occupancy"] == 105 / 115
    seen = [(e.data["state"], e.data["presence"]) for e in events if e.type == "agent.state"]
    assert seen == [("offline", "offline"), ("available", "available"), ("busy", "available"), ("busy", "away"),
                    ("wrapup", "away"), ("away", "away")]


async def test_contract_refusals_and_overflows_are_counted_per_queue(store_factory):
    """A refusal counts `refused:<code>` on the queue whose rule refused (and changes nothing else); an overflow
    counts `overflowed` and `overflowed_to:<target>` on the queue it left, by max length and by max wait."""
    clock = Clock(NOW)
    router = Router(await store_factory(), clock=clock)
    await router.add_queue(QueueConfig("general", max_length=1))
    await router.add_queue(QueueConfig("vip", max_length=1, max_wait_s=30, overflow="general"))
    await router.add_queue(QueueConfig("night", business_hours=lambda now: False))
    await router.add_queue(QueueConfig("staffed", when_empty="refuse"))
    await router.add_queue(QueueConfig("solo", max_length=0))
    await router.enqueue(Task("v1", "vip", "chat"))
    await router.enqueue(Task("v2", "vip", "chat"))      # vip full: overflows to general
    for task_id, queue in (("v3", "vip"), ("g1", "general"), ("n1", "night"), ("n2", "night"), ("s1", "staffed"),
                           ("o1", "solo")):
        with pytest.raises(RoutingError):
            await router.enqueue(Task(task_id, queue, "chat"))
    await router.abandon("v2")                             # room in general again
    clock.advance(31)
    await router.tick()                                    # v1 waited past vip's max wait: to general
    stats = {q["name"]: q for q in await router.queue_stats()}
    assert stats["general"]["refused"] == {"queue_full": 2}   # v3 passed vip, refused by general; then g1
    assert stats["vip"]["refused"] == {}
    assert stats["night"]["refused"] == {"queue_closed": 2}
    assert stats["staffed"]["refused"] == {"queue_empty": 1}
    assert stats["solo"]["refused"] == {"queue_full": 1}
    assert (stats["vip"]["overflowed"], stats["vip"]["overflowed_to"]) == (2, {"general": 2})
    assert (stats["general"]["overflowed"], stats["general"]["overflowed_to"]) == (0, {})
    assert stats["vip"]["queued"] == 1
    assert {t.id for t in await router.store.active_tasks()} == {"v1"}


async def test_contract_a_duplicate_is_told_as_such_before_any_refusal_and_leaves_nothing(store_factory):
    """Enqueueing an id that exists raises `duplicate_task` whatever the queue's rules would say, and writes
    nothing: no refusal or overflow counted, no timer, the existing contact untouched (its queue, its place, its
    preferred agent's hold)."""
    clock = Clock(NOW)
    router = Router(await store_factory(), clock=clock)
    events: list = []
    router.subscribe(events.append)
    await router.add_queue(QueueConfig("general", max_length=2))
    await router.add_queue(QueueConfig("vip", max_length=1, max_wait_s=30, overflow="general"))
    await router.add_queue(QueueConfig("night", business_hours=lambda now: False))
    await router.add_agent(AgentConfig("a1", capacity={"chat": 1}))
    await router.set_agent_state("a1", "away")
    await router.enqueue(Task("v1", "vip", "chat"))
    await router.enqueue(Task("p1", "general", "chat", preferred_agent="a1", preferred_for_s=60))
    clock.advance(5)
    before = (await router.get_task("v1"), await router.get_task("p1"))
    emitted = len(events)
    for task in (Task("v1", "vip", "chat"),                    # vip is full: it would overflow to general
                 Task("v1", "night", "chat"),                  # closed: it would be refused
                 Task("p1", "general", "chat"),
                 Task("p1", "vip", "chat", preferred_agent="a1", preferred_for_s=10)):
        with pytest.raises(RoutingError) as err:
            await router.enqueue(task)
        assert err.value.code == "duplicate_task"
    assert (await router.get_task("v1"), await router.get_task("p1")) == before
    assert len(events) == emitted
    stats = {q["name"]: q for q in await router.queue_stats()}
    assert [(stats[q]["refused"], stats[q]["overflowed"], stats[q]["queued"]) for q in ("general", "vip", "night")] \
        == [({}, 0, 1), ({}, 0, 1), ({}, 0, 0)]
    assert await router.store.next_due() == NOW + 30           # v1's max wait; no timer of the duplicates
    clock.advance(26)
    await router.tick()                                        # v1 overflows once, at its own max wait
    assert [(e.type, e.task_id, e.queue) for e in events[emitted:]] == [("task.overflowed", "v1", "vip"),
                                                                         ("task.queued", "v1", "general")]
    assert (await router.get_task("v1")).queue == "general" and (await router.get_task("p1")).queue == "general"


async def test_contract_a_new_away_reason_is_an_agent_state_event(store_factory):
    """Away for lunch after a break changes neither state nor presence, but the reason is news: one event."""
    router = Router(await store_factory(), clock=Clock(NOW))
    events: list = []
    router.subscribe(events.append)
    await router.add_queue(QueueConfig("general"))
    await router.add_agent(AgentConfig("a1"))
    await router.set_agent_state("a1", "away", "break")
    await router.set_agent_state("a1", "away", "break")
    await router.set_agent_state("a1", "away", "lunch")
    seen = [(e.data["presence"], e.data["reason"]) for e in events if e.type == "agent.state"]
    assert seen == [("offline", None), ("away", "break"), ("away", "lunch")]
    assert (await router.agent_stats("a1"))["reason"] == "lunch"


async def test_contract_an_offer_timed_out_by_another_node_is_expired_everywhere(store_factory):
    """Why an offer closed is in the store, not in the node that closed it: node A's offer, timed out by node
    B's tick, answers `offer_expired` on A (and on a node started later); other endings answer
    `offer_closed`."""
    clock = Clock(NOW)
    a = Router(await store_factory(), clock=clock)
    b = Router(await store_factory(), clock=clock)
    made: dict[str, tuple[str, str]] = {}   # task -> (offer, agent) of its latest offer, made on either node
    for node in (a, b):
        node.subscribe(lambda e: made.update({e.task_id: (e.offer_id, e.agent_id)}) if e.type == "offer.made"
                       else None)
        await node.add_queue(QueueConfig("general"))
    await a.add_agent(AgentConfig("a1"))
    await a.set_agent_state("a1", "available")
    await a.enqueue(Task("t1", "general", "chat"))
    timed_out = made["t1"]
    clock.advance(31)
    assert await b.tick() >= 1                          # B times out the offer A made
    later = Router(await store_factory(), clock=clock)  # a node (re)started after the timeout
    for node in (a, later):
        with pytest.raises(RoutingError) as err:
            await node.accept(*timed_out)
        assert err.value.code == "offer_expired"
    await a.enqueue(Task("t2", "general", "chat"))      # to a1 (in a cool-down for t1 only)
    rejected = made["t2"]
    await b.reject(*rejected)
    clock.advance(11)                                   # after the cool-downs: t1 or t2 offered to a1 again
    await b.tick()
    offered = sorted(t.id for t in await a.store.active_tasks() if t.state == "offered")
    abandoned = made[offered[0]]
    await b.abandon(offered[0])                         # its open offer withdrawn with it
    for closed in (rejected, abandoned):
        with pytest.raises(RoutingError) as err:
            await a.accept(*closed)
        assert err.value.code == "offer_closed"
    with pytest.raises(RoutingError) as err:
        await a.accept("never-made", "a1")
    assert err.value.code == "offer_not_found"


async def test_contract_a_max_wait_overflow_meets_the_target_queues_rules(store_factory):
    """A contact past its max wait enters the overflow queue as a newcomer would: a full target sends it on to
    its own overflow queue; a closed, unstaffed (refuse when empty) or full target with nowhere further
    (never back to a queue already passed: a cycle ends) ends it `overflowed`, the refusal counted by the
    refusing queue."""
    clock = Clock(NOW)
    router = Router(await store_factory(), clock=clock)
    events: list = []
    router.subscribe(events.append)
    for config in (QueueConfig("spill"), QueueConfig("full", max_length=1, overflow="spill"),
                   QueueConfig("night", business_hours=lambda now: False),
                   QueueConfig("staffed", when_empty="refuse"),
                   QueueConfig("ping", max_length=1), QueueConfig("pong", max_length=1, overflow="ping"),
                   QueueConfig("to-full", max_wait_s=30, overflow="full"),
                   QueueConfig("to-night", max_wait_s=30, overflow="night"),
                   QueueConfig("to-staffed", max_wait_s=30, overflow="staffed"),
                   QueueConfig("to-pong", max_wait_s=30, overflow="pong")):
        await router.add_queue(config)
    await router.add_queue(QueueConfig("ping", max_length=1, overflow="pong"))   # a cycle: ping <-> pong
    for task_id, queue in (("f", "full"), ("p", "ping"), ("q", "pong"), ("1", "to-full"), ("2", "to-night"),
                           ("3", "to-staffed"), ("4", "to-pong")):
        await router.enqueue(Task(task_id, queue, "chat"))
    clock.advance(31)
    await router.tick()
    assert (await router.get_task("1")).queue == "spill"          # full was full: on to its overflow queue
    assert {t: (await router.get_task(t)).state for t in "234"} == {t: "overflowed" for t in "234"}
    stats = {q["name"]: q for q in await router.queue_stats()}
    assert (stats["to-full"]["overflowed_to"], stats["full"]["overflowed_to"]) == ({"full": 1}, {"spill": 1})
    assert (stats["full"]["queued"], stats["spill"]["queued"], stats["full"]["waiting"]) == (1, 1, 1)
    assert stats["night"]["refused"] == {"queue_closed": 1}
    assert stats["staffed"]["refused"] == {"queue_empty": 1}
    assert (stats["ping"]["refused"], stats["pong"]["refused"]) == ({"queue_full": 1}, {})
    for queue in ("to-night", "to-staffed", "to-pong"):
        assert (stats[queue]["overflowed"], stats[queue]["overflowed_to"]) == (1, {})
    ended = {e.task_id: e.data for e in events if e.type == "task.overflowed" and e.data["to"] is None}
    assert {t: data["refused"] for t, data in ended.items()} == {"2": "queue_closed", "3": "queue_empty",
                                                                 "4": "queue_full"}
    moves = [(e.queue, e.data["to"]) for e in events if e.type == "task.overflowed" and e.task_id == "1"]
    assert moves == [("to-full", "full"), ("full", "spill")]
    assert {t.id for t in await router.store.active_tasks()} == {"f", "p", "q", "1"}


async def test_contract_an_escalation_move_meets_the_target_queues_rules(store_factory):
    """An escalation step into a full queue follows that queue's overflow; into a queue that refuses the
    contact it keeps the contact where it is (as a transfer to a queue at capacity in Amazon Connect): the
    step counts as done, its priority boost applies, its requirement (meant for the target) does not."""
    clock = Clock(NOW)
    router = Router(await store_factory(), clock=clock)
    events: list = []
    router.subscribe(events.append)
    await router.add_queue(QueueConfig("spill"))
    await router.add_queue(QueueConfig("full", max_length=1, overflow="spill"))
    await router.add_queue(QueueConfig("night", business_hours=lambda now: False))
    await router.add_queue(QueueConfig("via-full", escalation=(EscalationStep(10, "french", "full"),)))
    await router.add_queue(QueueConfig("via-night", escalation=(EscalationStep(10, "french", "night", 5),
                                                                EscalationStep(20, priority_boost=1))))
    for task_id, queue in (("f", "full"), ("1", "via-full"), ("2", "via-night")):
        await router.enqueue(Task(task_id, queue, "chat"))
    clock.advance(11)
    await router.tick()
    moved, kept = await router.get_task("1"), await router.get_task("2")
    assert (moved.queue, moved.requirement, moved.state) == ("spill", "", "queued")
    assert (kept.queue, kept.requirement, kept.priority, kept.step) == ("via-night", "", 5, 1)
    stats = {q["name"]: q for q in await router.queue_stats()}
    assert (stats["via-full"]["transferred_out"], stats["full"]["overflowed_to"]) == (1, {"spill": 1})
    assert (stats["via-night"]["transferred_out"], stats["night"]["refused"]) == (0, {"queue_closed": 1})
    refused = [e.data for e in events if e.type == "task.escalated" and e.task_id == "2"]
    assert [(d["step"], d["priority"], d.get("refused")) for d in refused] == [(0, 5, "queue_closed")]
    clock.advance(10)
    await router.tick()                                             # the next step still comes
    assert (await router.get_task("2")).priority == 6


async def test_contract_attributes_that_json_cannot_carry_are_refused(store_factory):
    """Task attributes travel as JSON (the Redis hash, events into the history): what JSON cannot carry is
    refused with `bad_task` on every store, before anything changes."""
    import datetime
    router = Router(await store_factory(), clock=Clock(NOW))
    await router.add_queue(QueueConfig("general"))
    refused = ({"at": datetime.date(2026, 1, 1)}, {"x": object()}, {"score": float("nan")},
               {"n": {1: "a", "b": 2}}, {"tags": {"vip"}}, {1: "integer key"})
    for i, attributes in enumerate(refused):
        with pytest.raises(RoutingError) as err:
            await router.enqueue(Task(f"t{i}", "general", "chat", attributes=attributes))
        assert err.value.code == "bad_task"
        assert await router.store.get_task(f"t{i}") is None
    stats = await router.queue_stats("general")
    assert (stats["queued"], stats["waiting"]) == (0, 0)
    attributes = {"related_agents": ["a1"], "n": 1.5}
    record = await router.enqueue(Task("ok", "general", "chat", attributes=attributes))
    assert dict(record.attributes) == attributes


# Every contract test, for `from tests.routing.store_contract import *` in a store's test module.
__all__ = [name for name in list(globals()) if name.startswith("test_contract_")]
