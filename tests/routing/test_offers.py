"""Offers: made at once, accepted, rejected and re-offered, timed out, autopause, exclusivity."""
from __future__ import annotations

import pytest

from routing import AgentConfig, Router, RouterSettings, RoutingError, Task
from tests.routing.conftest import add_agents, make_router, types


def offer_of(router, task_id):
    return [e for e in router.events if e.type == "offer.made" and e.task_id == task_id][-1]


async def test_enqueue_offers_longest_idle_agent_at_once(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "a1")
    clock.advance(5)
    await add_agents(router, "a2")
    record = await router.enqueue(Task("t1", "general", "chat"))
    assert (record.state, record.agent_id) == ("offered", "a1")
    event = offer_of(router, "t1")
    assert event.data["expires_at"] == clock.now + 30.0 and event.queue == "general"


async def test_accept_assigns_and_complete_wrapup_frees(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "a1", capacity={"voice": 1})
    await router.enqueue(Task("t1", "general", "voice"))
    clock.advance(4)
    assignment = await router.accept(offer_of(router, "t1").offer_id, "a1")
    assert (assignment.task_id, assignment.agent_id, assignment.waited_s) == ("t1", "a1", 4)
    assert (await router.agent_stats("a1"))["state"] == "busy"
    await router.enqueue(Task("t2", "general", "voice"))
    assert (await router.get_task("t2")).state == "queued"
    clock.advance(60)
    await router.complete("t1")
    assert (await router.agent_stats("a1"))["state"] == "wrapup"
    assert (await router.get_task("t2")).state == "queued"   # capacity still held in wrap-up
    clock.advance(10)
    await router.wrapup_done("t1")
    assert (await router.get_task("t2")).agent_id == "a1"
    stats = await router.queue_stats("general")
    assert (stats["handled"], stats["aht_s"], stats["asa_s"]) == (1, 70.0, 4.0)
    assert types(router, "task.assigned", "task.wrapup", "task.wrapped_up") == [
        ("task.assigned", "t1", "a1"), ("task.wrapup", "t1", "a1"), ("task.wrapped_up", "t1", "a1")]


async def test_reject_reoffers_to_next_agent_and_not_back_during_cooldown(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "a1", "a2")
    await router.enqueue(Task("t1", "general", "chat"))
    await router.reject(offer_of(router, "t1").offer_id, "a1")
    assert (await router.get_task("t1")).agent_id == "a2"
    await router.reject(offer_of(router, "t1").offer_id, "a2")
    assert (await router.get_task("t1")).state == "queued"
    clock.advance(10)
    await router.tick()
    assert (await router.get_task("t1")).state == "offered"


async def test_timeout_reoffers_and_autopause_after_n_misses(clock, store):
    router = await make_router(clock, store, settings=RouterSettings(max_missed_offers=2, reject_cooldown_s=1))
    await add_agents(router, "a1")
    for i in range(3):
        await router.enqueue(Task(f"t{i}", "general", "chat"))
    clock.advance(31)
    await router.tick()
    stats = await router.agent_stats("a1")
    # two timeouts pause the agent; the third open offer is withdrawn, not missed
    assert (stats["state"], stats["reason"], stats["timeouts"]) == ("away", "missed_offers", 2)
    assert len(types(router, "offer.revoked")) == 1
    assert [(await router.get_task(f"t{i}")).state for i in range(3)] == ["queued"] * 3
    await router.set_agent_state("a1", "available")
    assert (await router.agent_stats("a1"))["missed_in_a_row"] == 0


async def test_accept_errors_leave_state_intact(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "a1", "a2")
    await router.enqueue(Task("t1", "general", "chat"))
    offer_id = offer_of(router, "t1").offer_id
    for args, code in [(("nope", "a1"), "offer_not_found"), ((offer_id, "a2"), "not_your_offer"),
                       ((offer_id, "ghost"), "unknown_agent")]:
        with pytest.raises(RoutingError) as err:
            await router.accept(*args)
        assert err.value.code == code
    assert (await router.get_task("t1")).state == "offered"
    clock.advance(30)
    with pytest.raises(RoutingError) as err:
        await router.accept(offer_id, "a1")
    assert err.value.code == "offer_expired"
    assert (await router.get_task("t1")).agent_id == "a2"
    clock.advance(30)
    await router.tick()
    with pytest.raises(RoutingError) as err:
        await router.accept(offer_id, "a1")
    assert err.value.code == "offer_expired"


async def test_abandon_queued_and_offered(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "a1", capacity={"voice": 1})
    await router.enqueue(Task("t1", "general", "voice"))
    await router.enqueue(Task("t2", "general", "voice"))
    offer_id = offer_of(router, "t1").offer_id
    clock.advance(3)
    await router.abandon("t1")
    assert types(router, "offer.revoked", "task.abandoned")[-2:] == [("offer.revoked", "t1", "a1"),
                                                                     ("task.abandoned", "t1", "a1")]
    assert [e.data["reason"] for e in router.events if e.type == "offer.revoked"] == ["abandoned"]
    assert (await router.get_task("t2")).state == "offered"   # the agent is free again at once
    with pytest.raises(RoutingError) as err:
        await router.accept(offer_id, "a1")
    assert err.value.code == "offer_closed"
    with pytest.raises(RoutingError) as err:
        await router.abandon("t1")
    assert err.value.code == "task_not_active"
    stats = await router.queue_stats("general")
    assert (stats["abandoned"], stats["abandonment_rate"]) == (1, 0.5)


async def test_going_away_revokes_open_offers(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "a1", "a2")
    await router.enqueue(Task("t1", "general", "chat"))
    await router.set_agent_state("a1", "away", reason="lunch")
    assert (await router.get_task("t1")).agent_id == "a2"
    assert ("offer.revoked", "t1", "a1") in types(router)


def test_a_timer_lease_must_be_positive():
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(RoutingError) as err:
            Router(settings=RouterSettings(timer_lease_s=bad))
        assert err.value.code == "bad_settings"


async def test_bad_agent_config_is_refused(clock, store):
    router = await make_router(clock, store)
    for config, code in [(AgentConfig("a", capacity={"chat": 0}), "bad_capacity"),
                         (AgentConfig("a", capacity={"fax": 1}), "unknown_channel"),
                         (AgentConfig("a", queues=("nope",)), "unknown_queue"),
                         (AgentConfig("a", skills={"x": -1}), "bad_skills")]:
        with pytest.raises(RoutingError) as err:
            await router.add_agent(config)
        assert err.value.code == code
    assert await router.store.list_agents() == []
    with pytest.raises(RoutingError) as err:
        await router.set_agent_state("ghost", "available")
    assert err.value.code == "unknown_agent"


async def test_run_loop_fires_offer_timeouts_on_the_real_clock():
    import asyncio

    from routing import MemoryStore, QueueConfig, Router
    router = Router(MemoryStore(), settings=RouterSettings(offer_timeout_s={"chat": 0.05}))
    await router.add_queue(QueueConfig("general"))
    await router.add_agent(AgentConfig("a1"))
    await router.set_agent_state("a1", "available")
    seen = []
    router.subscribe(lambda e: seen.append(e.type))
    await router.enqueue(Task("t1", "general", "chat"))
    loop = asyncio.create_task(router.run(interval_s=0.01))
    try:
        for _ in range(100):
            if "offer.timeout" in seen:
                break
            await asyncio.sleep(0.01)
    finally:
        loop.cancel()
    assert "offer.timeout" in seen
