"""Every state change is one RoutingEvent, in order, with timestamps: what contact_center records."""
from __future__ import annotations

from routing import EVENT_TYPES, Task
from tests.routing.conftest import add_agents, make_router


async def test_full_life_of_a_contact_in_order(clock, store):
    router = await make_router(clock, store, wrapup_s=5)
    await add_agents(router, "a1", "a2", capacity={"voice": 1})
    router.events.clear()
    await router.enqueue(Task("t1", "general", "voice", attributes={"customer": "c1"}))
    first = router.events[-1]
    clock.advance(2)
    await router.reject(first.offer_id, "a1")
    second = router.events[-1]
    clock.advance(3)
    await router.accept(second.offer_id, "a2")
    clock.advance(60)
    await router.complete("t1")
    clock.advance(5)
    await router.tick()
    got = [(e.type, e.agent_id, e.at - 1_700_000_000.0) for e in router.events]
    assert got == [
        ("task.queued", None, 0.0),
        ("offer.made", "a1", 0.0),
        ("offer.rejected", "a1", 2.0),
        ("offer.made", "a2", 2.0),
        ("offer.accepted", "a2", 5.0),
        ("task.assigned", "a2", 5.0),
        ("agent.state", "a2", 5.0),
        ("task.wrapup", "a2", 65.0),
        ("agent.state", "a2", 65.0),
        ("task.wrapped_up", "a2", 70.0),
        ("agent.state", "a2", 70.0),
    ]
    assert first.data["attributes"] == {"customer": "c1"} and first.data["expires_at"] == 1_700_000_020.0
    states = [e.data["state"] for e in router.events if e.type == "agent.state"]
    assert states == ["busy", "wrapup", "available"]
    assert all(e.type in EVENT_TYPES for e in router.events)
    assert all(e.queue == "general" for e in router.events if e.type != "agent.state")
    assert router.events[0].to_json()["type"] == "task.queued"


async def test_a_broken_subscriber_does_not_break_routing(clock, store):
    router = await make_router(clock, store)

    def broken(event):
        raise RuntimeError("listener bug")
    router.subscribe(broken)
    await add_agents(router, "a1")
    record = await router.enqueue(Task("t1", "general", "chat"))
    assert record.state == "offered"


async def test_unsubscribe(clock, store):
    router = await make_router(clock, store)
    seen = []
    unsubscribe = router.subscribe(seen.append)
    await add_agents(router, "a1")
    unsubscribe()
    count = len(seen)
    await router.enqueue(Task("t1", "general", "chat"))
    assert len(seen) == count > 0
