"""Queue semantics: priorities and ageing, escalation, preferred agent, overflow, limits, hours, empty queues."""
from __future__ import annotations

import pytest

from routing import AgentConfig, EscalationStep, QueueConfig, RouterSettings, RoutingError, Task
from tests.routing.conftest import add_agents, make_router


async def serve_next(router, agent_id):
    """Let `agent_id` become available for one contact and return the task it is offered."""
    await router.set_agent_state(agent_id, "available")
    offered = [e for e in router.events if e.type == "offer.made" and e.agent_id == agent_id][-1]
    await router.accept(offered.offer_id, agent_id)
    await router.set_agent_state(agent_id, "away")
    await router.complete(offered.task_id)
    await router.wrapup_done(offered.task_id)
    return offered.task_id


async def test_highest_priority_first_then_longest_waiting(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "a1", available=False, capacity={"voice": 1})
    for task_id, priority in [("low1", 0), ("high1", 5), ("low2", 0), ("high2", 5), ("mid", 2)]:
        await router.enqueue(Task(task_id, "general", "voice", priority=priority))
        clock.advance(1)
    order = [await serve_next(router, "a1") for _ in range(5)]
    assert order == ["high1", "high2", "mid", "low1", "low2"]


async def test_ageing_lets_old_low_priority_tasks_overtake(clock, store):
    router = await make_router(clock, store, ageing_per_s=0.1)   # 10 s of waiting = one priority point
    await add_agents(router, "a1", available=False, capacity={"voice": 1})
    await router.enqueue(Task("old", "general", "voice", priority=0))
    clock.advance(30)
    await router.enqueue(Task("new", "general", "voice", priority=2))   # 3 points behind after 30 s
    clock.advance(1)
    assert await serve_next(router, "a1") == "old"


async def test_agent_across_queues_takes_highest_effective_priority(clock, store):
    router = await make_router(clock, store)
    await router.add_queue(QueueConfig("vip", ageing_per_s=1.0))
    await add_agents(router, "a1", available=False, queues=("general", "vip"), capacity={"chat": 1})
    await router.enqueue(Task("g", "general", "chat", priority=3))
    await router.enqueue(Task("v", "vip", "chat", priority=0))
    clock.advance(5)   # v's effective priority is now 5
    assert await serve_next(router, "a1") == "v"


async def test_skill_requirement_and_widening_escalation(clock, store):
    router = await make_router(clock, store, skill_expr="billing >= 4",
                               escalation=(EscalationStep(after_s=30, skill_expr="billing >= 1"),))
    await add_agents(router, "junior", skills={"billing": 2})
    await router.enqueue(Task("t1", "general", "chat"))
    assert (await router.get_task("t1")).state == "queued"
    clock.advance(30)
    await router.tick()
    task = await router.get_task("t1")
    assert (task.state, task.agent_id, task.requirement) == ("offered", "junior", "billing >= 1")
    escalated = [e for e in router.events if e.type == "task.escalated"]
    assert [(e.task_id, e.queue, e.at, dict(e.data)) for e in escalated] == \
        [("t1", "general", clock.now, {"step": 0, "requirement": "billing >= 1", "priority": 0})]


async def test_escalation_moves_to_another_queue_keeping_its_age(clock, store):
    router = await make_router(clock, store)
    await router.add_queue(QueueConfig("backup"))   # a target first, then the queue that sends to it
    await router.add_queue(QueueConfig("general", escalation=(EscalationStep(after_s=60, queue="backup",
                                                                             priority_boost=2),)))
    await add_agents(router, "b1", queues=("backup",), available=False, capacity={"chat": 1})
    await router.enqueue(Task("t1", "general", "chat"))
    clock.advance(10)
    await router.enqueue(Task("t2", "backup", "chat"))
    clock.advance(50)
    await router.tick()
    assert (await router.get_task("t1")).queue == "backup"
    escalated = [e for e in router.events if e.type == "task.escalated"]
    assert [(e.task_id, e.queue, dict(e.data)) for e in escalated] == \
        [("t1", "backup", {"step": 0, "from_queue": "general", "requirement": "", "priority": 2})]
    assert await serve_next(router, "b1") == "t1"   # it arrived first and is 2 points up
    stats = await router.queue_stats("general")
    assert stats["transferred_out"] == 1


async def waiting_for_pref(clock, store):
    """A router where t1 waits (up to 20 s) for the away agent `pref` while `other` is free."""
    router = await make_router(clock, store)
    await add_agents(router, "other")
    await add_agents(router, "pref", available=False)
    await router.set_agent_state("pref", "away")
    await router.enqueue(Task("t1", "general", "chat", preferred_agent="pref", preferred_for_s=20))
    assert (await router.get_task("t1")).state == "queued"
    return router


async def test_preferred_agent_then_fallback(clock, store):
    router = await waiting_for_pref(clock, store)
    clock.advance(20)
    await router.tick()
    assert (await router.get_task("t1")).agent_id == "other"


async def test_preferred_agent_gets_it_when_free(clock, store):
    router = await waiting_for_pref(clock, store)
    clock.advance(5)
    await router.set_agent_state("pref", "available")
    assert (await router.get_task("t1")).agent_id == "pref"


async def test_a_reject_by_the_preferred_agent_ends_the_preference_at_once(clock, store):
    router = await waiting_for_pref(clock, store)
    await router.set_agent_state("other", "away")
    await router.set_agent_state("pref", "available")
    offer = (await router.get_task("t1")).offer_id
    await router.set_agent_state("other", "available")
    clock.advance(2)
    await router.reject(offer, "pref")
    escalated = [e for e in router.events if e.type == "task.escalated"]
    assert [e.data["reason"] for e in escalated] == ["preferred_agent_rejected"]
    assert (await router.get_task("t1")).agent_id == "other"   # at once, not after the 20 s


async def test_preferred_for_s_bounds_an_open_offer_of_the_preferred_agent(clock, store):
    """An email offer lasts 120 s, the preference 20 s: at 20 s the offer is revoked and the queue takes over."""
    router = await make_router(clock, store)
    await add_agents(router, "pref", "other", capacity={"email": 1})
    await router.set_agent_state("other", "away")
    await router.enqueue(Task("t1", "general", "email", preferred_agent="pref", preferred_for_s=20))
    offer = (await router.get_task("t1")).offer_id
    assert (await router.get_task("t1")).agent_id == "pref"
    await router.set_agent_state("other", "available")
    clock.advance(19.9)
    await router.tick()
    assert (await router.get_task("t1")).offer_id == offer
    clock.advance(0.1)
    await router.tick()
    revoked = [e for e in router.events if e.type == "offer.revoked"]
    assert [(e.offer_id, e.data["reason"]) for e in revoked] == [(offer, "preferred_agent_timeout")]
    assert [e.data["reason"] for e in router.events if e.type == "task.escalated"] == ["preferred_agent_timeout"]
    task = await router.get_task("t1")
    assert task.state == "offered" and task.agent_id == "other"   # pref freed last: other is idle longest
    with pytest.raises(RoutingError) as err:
        await router.accept(offer, "pref")
    assert err.value.code == "offer_closed"


async def test_max_wait_overflows_or_ends(clock, store):
    router = await make_router(clock, store, max_wait_s=30, overflow="spill",
                               targets=(QueueConfig("spill", max_wait_s=10),))
    await router.enqueue(Task("t1", "general", "email"))
    clock.advance(30)
    await router.tick()
    assert (await router.get_task("t1")).queue == "spill"
    clock.advance(10)
    await router.tick()
    assert (await router.get_task("t1")).state == "overflowed"
    overflows = [e for e in router.events if e.type == "task.overflowed"]
    assert [(e.queue, e.data["to"]) for e in overflows] == [("general", "spill"), ("spill", None)]


async def test_max_length_overflow_and_refusal(clock, store):
    router = await make_router(clock, store, max_length=1, overflow="spill", targets=(QueueConfig("spill", max_length=1),))
    await router.enqueue(Task("t1", "general", "sms"))
    record = await router.enqueue(Task("t2", "general", "sms"))
    assert record.queue == "spill"
    with pytest.raises(RoutingError) as err:
        await router.enqueue(Task("t3", "general", "sms"))
    assert err.value.code == "queue_full"
    assert await router.store.get_task("t3") is None


async def test_business_hours_and_empty_queue_rules(clock, store):
    router = await make_router(clock, store, business_hours=lambda now: False)
    with pytest.raises(RoutingError) as err:
        await router.enqueue(Task("t1", "general", "chat"))
    assert err.value.code == "queue_closed"
    await router.add_queue(QueueConfig("general", when_empty="refuse"))
    with pytest.raises(RoutingError) as err:
        await router.enqueue(Task("t1", "general", "chat"))
    assert err.value.code == "queue_empty"
    await add_agents(router, "a1", available=False)
    await router.set_agent_state("a1", "away")
    assert (await router.enqueue(Task("t1", "general", "chat"))).state == "queued"


async def test_unknown_things_are_refused(clock, store):
    router = await make_router(clock, store, settings=RouterSettings(skills=frozenset({"billing"})))
    cases = [(router.enqueue(Task("t", "nope", "chat")), "unknown_queue"),
             (router.enqueue(Task("t", "general", "fax")), "unknown_channel"),
             (router.enqueue(Task("t", "general", "chat", preferred_agent="ghost")), "unknown_agent"),
             (router.add_queue(QueueConfig("q", skill_expr="cooking")), "unknown_skill"),
             (router.add_queue(QueueConfig("q", skill_expr="billing >=")), "bad_skill_expression"),
             (router.add_queue(QueueConfig("q", strategy="best_guess")), "unknown_strategy"),
             (router.add_agent(AgentConfig("a", skills={"cooking": 1})), "unknown_skill"),
             (router.complete("t"), "unknown_task"),
             (router.set_agent_state("ghost", "busy"), "bad_state")]
    for call, code in cases:
        with pytest.raises(RoutingError) as err:
            await call
        assert err.value.code == code
    assert await router.store.active_tasks() == [] and await router.store.list_agents() == []


async def test_queue_configs_that_cannot_work_are_refused(clock, store):
    """Unknown overflow / escalation targets and non-finite or negative times are refused at add_queue, before
    a timer could meet them; nothing is stored."""
    router = await make_router(clock, store)
    nan, inf = float("nan"), float("inf")
    cases = [(QueueConfig("q", max_length=0, overflow="nope"), "unknown_queue"),
             (QueueConfig("q", escalation=(EscalationStep(5, queue="nope"),)), "unknown_queue"),
             (QueueConfig("q", sl_threshold_s=nan), "bad_queue"),
             (QueueConfig("q", sl_threshold_s=-1), "bad_queue"),
             (QueueConfig("q", max_wait_s=nan), "bad_queue"),
             (QueueConfig("q", max_wait_s=inf), "bad_queue"),
             (QueueConfig("q", max_wait_s=0), "bad_queue"),
             (QueueConfig("q", wrapup_s=inf), "bad_queue"),
             (QueueConfig("q", wrapup_s=-2), "bad_queue"),
             (QueueConfig("q", max_length=2.5), "bad_queue"),  # type: ignore[arg-type]
             (QueueConfig("q", max_length=True), "bad_queue"),
             (QueueConfig("q", escalation=(EscalationStep(nan),)), "bad_queue"),
             (QueueConfig("q", escalation=(EscalationStep(-1),)), "bad_queue"),
             (QueueConfig("q", escalation=(EscalationStep(5, priority_boost=10**7),)), "bad_queue"),
             (QueueConfig("q", ageing_per_s=nan), "bad_queue"),
             (QueueConfig("q", overflow=""), "bad_queue")]
    for config, code in cases:
        with pytest.raises(RoutingError) as err:
            await router.add_queue(config)
        assert err.value.code == code, config
    assert [q.name for q in await router.store.list_queues()] == ["general"]
    # the same targets, added first, are fine
    await router.add_queue(QueueConfig("spill"))
    await router.add_queue(QueueConfig("q", max_length=1, overflow="spill",
                                       escalation=(EscalationStep(5, queue="spill"),)))


async def test_bad_task_and_agent_input_is_a_routing_error(clock, store):
    """Bad input is a RoutingError with a code, never a plain exception nor silently accepted; nothing changes."""
    def closing_hook_fails(now: float) -> bool:
        raise ZeroDivisionError("a bug in the hook")

    router = await make_router(clock, store)
    await router.add_queue(QueueConfig("broken", business_hours=closing_hook_fails))
    await add_agents(router, "a1")
    nan = float("nan")
    cases = [(router.enqueue(Task("t\0", "general", "chat")), "bad_task"),
             (router.enqueue(Task("t", "general", "chat", priority=10**400)), "bad_task"),
             (router.enqueue(Task("t", "general", "chat", priority=-10**7)), "bad_task"),
             (router.enqueue(Task("t", "general", "chat", priority=1.5)), "bad_task"),  # type: ignore[arg-type]
             (router.enqueue(Task("t", "general", "chat", preferred_agent="a1",
                                  preferred_for_s="x")), "bad_task"),  # type: ignore[arg-type]
             (router.enqueue(Task("t", "general", "chat", preferred_agent="a1", preferred_for_s=nan)), "bad_task"),
             (router.enqueue(Task("t", "general", "chat", preferred_agent="a1",
                                  preferred_for_s=float("inf"))), "bad_task"),
             (router.enqueue(Task("t", "broken", "chat")), "business_hours_failed"),
             (router.add_agent(AgentConfig("b", skills={"billing": nan})), "bad_skills"),
             (router.add_agent(AgentConfig("b", skills={"billing": float("inf")})), "bad_skills"),
             (router.add_agent(AgentConfig("b", blocking="voice")), "bad_agent"),  # type: ignore[arg-type]
             (router.add_agent(AgentConfig("b", blocking=("fax",))), "unknown_channel"),
             (router.set_agent_state("a1", "away", 5), "bad_state")]  # type: ignore[arg-type]
    for call, code in cases:
        with pytest.raises(RoutingError) as err:
            await call
        assert err.value.code == code
    assert await router.store.active_tasks() == []
    assert [a.id for a in await router.store.list_agents()] == ["a1"]
    record = await router.enqueue(Task("t", "general", "chat", priority=10**6))   # the limit itself is fine
    assert record.state == "offered"


async def test_voice_blocks_other_channels_and_capacity_per_channel(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "a1", capacity={"voice": 1, "chat": 2})
    for i in range(3):
        await router.enqueue(Task(f"c{i}", "general", "chat"))
    assert [(await router.get_task(f"c{i}")).state for i in range(3)] == ["offered", "offered", "queued"]
    await add_agents(router, "a2", capacity={"voice": 1, "chat": 2})   # takes c2
    await router.enqueue(Task("v", "general", "voice"))
    assert (await router.get_task("v")).state == "queued"              # both hold chats: no call on top
    await add_agents(router, "a3", capacity={"voice": 1, "chat": 2})
    assert (await router.get_task("v")).agent_id == "a3"
    await router.enqueue(Task("c3", "general", "chat"))
    assert (await router.get_task("c3")).agent_id == "a2"               # not a3: the call blocks its chats


async def test_wrapup_timer_frees_agent(clock, store):
    router = await make_router(clock, store, wrapup_s=15)
    await add_agents(router, "a1", capacity={"voice": 1})
    await router.enqueue(Task("t1", "general", "voice"))
    offer = [e for e in router.events if e.type == "offer.made"][-1]
    await router.accept(offer.offer_id, "a1")
    await router.complete("t1")
    clock.advance(15)
    await router.tick()
    assert (await router.get_task("t1")).state == "closed"
    assert (await router.agent_stats("a1"))["state"] == "available"


async def test_estimated_wait_and_position(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "a1", "a2", capacity={"voice": 1})
    for i in range(6):
        await router.enqueue(Task(f"t{i}", "general", "voice"))
    assert await router.position("t2") == 0 and await router.position("t5") == 3
    assert await router.position("t0") is None
    # 4 waiting, 2 agents, no history yet: default AHT 300 s
    assert await router.estimated_wait("general") == 5 * 300 / 2
    assert await router.estimated_wait("general", "t3") == 2 * 300 / 2
    stats = await router.queue_stats("general")
    assert (stats["waiting"], stats["agents_signed_in"]) == (4, 2)
    # an away agent does not serve: the estimate divides by the agents who can (busy a1 and a2 on a call...)
    await add_agents(router, "a3", capacity={"voice": 1}, available=False)
    await router.set_agent_state("a3", "away", "break")
    stats = await router.queue_stats("general")
    assert (stats["agents_signed_in"], stats["agents_serving"]) == (3, 2)
    assert await router.estimated_wait("general") == 5 * 300 / 2
    # ... and a2 going away during its call still serves until the call ends (it is busy)
    offer = next(e for e in router.events if e.type == "offer.made" and e.agent_id == "a2")
    await router.accept(offer.offer_id, "a2")
    await router.set_agent_state("a2", "away", "break")
    assert (await router.queue_stats("general"))["agents_serving"] == 2


async def test_preferred_agent_going_offline_releases_the_task_at_once(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "other", available=False)
    await router.set_agent_state("other", "away")
    await add_agents(router, "pref", available=False)
    await router.set_agent_state("pref", "away")
    await router.enqueue(Task("t1", "general", "chat", preferred_agent="pref", preferred_for_s=300))
    await router.set_agent_state("other", "available")
    assert (await router.get_task("t1")).state == "queued"
    await router.set_agent_state("pref", "offline")
    assert (await router.get_task("t1")).agent_id == "other"
    reasons = [e.data.get("reason") for e in router.events if e.type == "task.escalated"]
    assert reasons == ["preferred_agent_offline"]


async def test_refusal_after_an_overflow_leaves_no_trace(clock, store):
    router = await make_router(clock, store, max_length=0, overflow="night",
                               targets=(QueueConfig("night", business_hours=lambda now: False),))
    with pytest.raises(RoutingError) as err:
        await router.enqueue(Task("t1", "general", "chat"))
    assert err.value.code == "queue_closed"
    assert router.events == [] and (await router.queue_stats("general"))["overflowed"] == 0
    with pytest.raises(RoutingError) as err:
        await router.enqueue(Task("t2", "general", "chat", attributes=["not", "a", "mapping"]))  # type: ignore
    assert err.value.code == "bad_task"
