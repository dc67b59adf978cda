"""Real-time metrics with Amazon Connect's definitions, and capacity rules seen through them."""
from __future__ import annotations

import pytest

from routing import Task
from tests.routing.conftest import add_agents, make_router


def last_offer(router, task_id):
    return [e for e in router.events if e.type == "offer.made" and e.task_id == task_id][-1]


async def test_queue_figures(clock, store):
    router = await make_router(clock, store, sl_threshold_s=20)
    await add_agents(router, "a1", capacity={"voice": 1})
    await router.enqueue(Task("fast", "general", "voice"))          # answered at 5 s: within 20 s
    await router.enqueue(Task("slow", "general", "voice"))          # answered at 100 s
    await router.enqueue(Task("gone", "general", "voice"))          # abandons at 10 s: removed within 20 s
    await router.enqueue(Task("late", "general", "voice"))          # abandons at 50 s
    clock.advance(5)
    await router.accept(last_offer(router, "fast").offer_id, "a1")
    clock.advance(5)
    await router.abandon("gone")
    clock.advance(40)
    await router.abandon("late")
    stats = await router.queue_stats("general")
    assert (stats["waiting"], stats["longest_wait_s"]) == (1, 50.0)
    clock.advance(45)
    await router.complete("fast")
    await router.wrapup_done("fast")                                 # talk 90 s + wrap-up 0
    clock.advance(5)
    await router.accept(last_offer(router, "slow").offer_id, "a1")
    stats = await router.queue_stats("general")
    assert stats["queued"] == 4 and stats["answered"] == 2 and stats["abandoned"] == 2
    assert stats["service_level"] == pytest.approx(2 / 4)          # fast + gone removed within 20 s
    assert stats["service_level_answered"] == pytest.approx(1 / 4)
    assert stats["asa_s"] == pytest.approx((5 + 100) / 2)
    assert stats["aht_s"] == pytest.approx(90.0)
    assert stats["abandonment_rate"] == pytest.approx(0.5)
    assert stats["waiting"] == 0 and stats["agents_available"] == 0


async def test_agent_figures_and_occupancy(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "a1", capacity={"voice": 1})
    clock.advance(30)                                                 # 30 s available
    await router.enqueue(Task("t1", "general", "voice"))
    await router.accept(last_offer(router, "t1").offer_id, "a1")
    clock.advance(60)                                                 # 60 s busy
    await router.complete("t1")
    clock.advance(10)                                                 # 10 s wrap-up
    stats = await router.agent_stats("a1")
    assert stats["state"] == "wrapup" and stats["state_since"] == clock.now - 10
    assert stats["time_in_state_s"]["available"] == pytest.approx(30)
    assert stats["occupancy"] == pytest.approx(70 / 100)
    await router.wrapup_done("t1")
    stats = await router.agent_stats("a1")
    assert (stats["handled"], stats["aht_s"], stats["accepted"], stats["offered"]) == (1, 70.0, 1, 1)


async def test_a_voice_contact_blocks_chats_until_it_is_done(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "a1", capacity={"voice": 1, "chat": 2})
    await router.enqueue(Task("call", "general", "voice"))
    await router.accept(last_offer(router, "call").offer_id, "a1")
    await router.enqueue(Task("chat", "general", "chat"))
    assert (await router.get_task("chat")).state == "queued"
    await router.complete("call")
    assert (await router.get_task("chat")).state == "queued"          # wrap-up still holds the call
    await router.wrapup_done("call")
    assert (await router.get_task("chat")).agent_id == "a1"


async def test_chats_up_to_capacity_and_a_call_only_without_them(clock, store):
    router = await make_router(clock, store)
    await add_agents(router, "a1", capacity={"voice": 1, "chat": 2})
    for i in range(3):
        await router.enqueue(Task(f"c{i}", "general", "chat"))
    await router.enqueue(Task("call", "general", "voice"))
    stats = await router.agent_stats("a1")
    assert stats["load"] == {"chat": 2}   # voice blocks both ways: no call on top of chats
    assert [(await router.get_task(t)).state for t in ("c2", "call")] == ["queued", "queued"]
    # without blocking channels (cross-channel concurrency) the call goes on top
    await add_agents(router, "a2", capacity={"voice": 1, "chat": 2}, blocking=())
    assert (await router.agent_stats("a2"))["load"] == {"chat": 1, "voice": 1}
