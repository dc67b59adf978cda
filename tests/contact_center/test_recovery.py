"""Crash recovery: contacts the history shows open when the server starts are re-queued or closed, not stranded."""
from __future__ import annotations

import asyncio

import pytest

from contact_center.app import create_app
from contact_center.keys import HISTORY, INTAKE, LIFECYCLE, RECOVERED, ROUTER
from tests.harness import PASSWORD, add_user, agent_socket, chat, logged_in, settle


async def _state(app, contact_id):
    contact, events = await app[HISTORY].get_contact(contact_id)
    return contact.state.value, [e for e in events if e.type == "contact.recovered"]


async def _accepted(agent):
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    return offer


@pytest.mark.parametrize("cc_settings", [{"chat_abandon_s": 30.0}], indirect=True)
async def test_open_contacts_left_by_a_stop_are_requeued_or_closed_at_start(aiohttp_client, cc, cc_settings):
    # Before the "crash": one chat in wrap-up, one assigned; then alice goes away and two more stay queued.
    alice_user = await add_user(cc, "alice")
    alice = await logged_in(aiohttp_client, cc, "alice")
    agent = await agent_socket(alice)
    ending, ended = await chat(cc, name="Ending")
    await _accepted(agent)
    await agent.send({"type": "end", "contact_id": ended["contact_id"]})
    await agent.expect("ended")
    talking, assigned = await chat(cc, name="Talking")
    await _accepted(agent)
    await agent.send({"type": "state", "state": "away"})
    await agent.expect("state", state="away")
    first, queued1 = await chat(cc, name="First")
    second, queued2 = await chat(cc, name="Second")
    for sock in (first, second):
        await sock.expect("status", state="queued")
    await settle(cc)
    old = cc.server.app
    assert [(await _state(old, c["contact_id"]))[0] for c in (ended, assigned, queued1, queued2)] == \
        ["wrapup", "assigned", "queued", "queued"]
    since = [(await old[ROUTER].get_task(c["contact_id"])).enqueued_at for c in (queued1, queued2)]
    for sock in (ending, talking, first, second, agent):
        await sock.close()
    await cc.close()   # the history keeps those states, as after a SIGKILL; the in-memory routing is gone

    restarted = await aiohttp_client(create_app(cc_settings))
    app = restarted.server.app
    await app[LIFECYCLE].drain()
    report = app[RECOVERED]
    assert report.requeued == [assigned["contact_id"], queued1["contact_id"], queued2["contact_id"]]
    assert report.closed == [ended["contact_id"]]

    state, recovered = await _state(app, ended["contact_id"])
    assert state == "closed" and [e.data for e in recovered] == [{"was": "wrapup", "action": "closed"}]
    # the queued ones are waiting again, in their original order
    for contact in (queued1, queued2):
        state, recovered = await _state(app, contact["contact_id"])
        assert state == "queued" and recovered[0].data["was"] == "queued"
    router = app[ROUTER]
    assigned_task = await router.get_task(assigned["contact_id"])
    assert assigned_task.state == "queued" and assigned_task.preferred_agent == str(alice_user.id)
    _, recovered = await _state(app, assigned["contact_id"])
    assert recovered[0].data["agent"] == str(alice_user.id)
    # the waiting ones keep their place and their wait; the chat that had been answered waits anew, behind them
    assert [(await router.get_task(c["contact_id"])).enqueued_at for c in (queued1, queued2)] == since
    assert [await router.position(c["contact_id"]) for c in (queued1, queued2, assigned)] == [0, 1, 2]
    assert assigned_task.enqueued_at > since[1]

    # the customer resumes and sees it queued; the agent comes back and is offered every waiting chat
    back, resumed = await chat(restarted, token=assigned["token"])
    assert resumed["contact_id"] == assigned["contact_id"] and resumed["resumed"] is True
    await back.expect("status", state="queued")
    client = await aiohttp_client(restarted.server)
    resp = await client.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert resp.status == 200
    agent = await agent_socket(client)
    offered = [(await agent.expect("offer"))["contact"]["id"] for _ in range(3)]
    # (each contact's notifications are written in its own lane, so the socket's order is not routing's)
    assert sorted(offered) == sorted(c["contact_id"] for c in (queued1, queued2, assigned))


@pytest.mark.parametrize("cc_settings", [{"chat_abandon_s": 0.3}], indirect=True)
async def test_a_recovered_chat_whose_customer_never_returns_is_abandoned(aiohttp_client, cc, cc_settings):
    sock, started = await chat(cc)
    await sock.expect("status", state="queued")
    await settle(cc)
    await sock.close()
    await cc.close()

    restarted = await aiohttp_client(create_app(cc_settings))
    app = restarted.server.app
    assert app[RECOVERED].requeued == [started["contact_id"]]
    await asyncio.sleep(cc_settings.chat_abandon_s + 0.5)
    await app[LIFECYCLE].drain()
    assert (await _state(app, started["contact_id"]))[0] == "abandoned"
    stats = await app[ROUTER].queue_stats("general")
    assert stats["waiting"] == 0


async def test_a_contact_routing_still_knows_is_not_enqueued_twice(aiohttp_client, cc):
    from contact_center.recovery import recover

    sock, started = await chat(cc)
    await sock.expect("status", state="queued")
    await settle(cc)
    app = cc.server.app
    # as with a shared (Redis) store that survived the crash: routing still has the task
    report = await recover(app[HISTORY], app[ROUTER], app[INTAKE])
    assert report.kept == [started["contact_id"]] and report.requeued == []
    assert report.kept_waiting == [started["contact_id"]]   # its customer gets the abandon grace on start
    _, recovered = await _state(app, started["contact_id"])
    assert recovered == []


async def test_requeued_contacts_keep_their_wait_and_a_passed_max_wait_fires_at_once(aiohttp_client, cc):
    import time

    from contact_center.intake import Intake
    from contact_center.keys import HUB, METRICS, SETTINGS
    from contact_center.lifecycle import Lifecycle
    from contact_center.recovery import recover
    from routing import MemoryStore, QueueConfig, Router

    app = cc.server.app
    history = app[HISTORY]
    waiting = []
    for name in ("Patient", "Hurried"):
        sock, started = await chat(cc, name=name)
        await sock.expect("status", state="queued")
        waiting.append(started["contact_id"])
    await settle(cc)
    since = [(await app[ROUTER].get_task(c)).enqueued_at for c in waiting]
    await history.update_contact(waiting[1], queue="short")
    # a restarted node, a minute later: fresh in-memory routing, the same history
    router = Router(MemoryStore(), clock=lambda: time.time() + 60)
    await router.add_queue(QueueConfig("general", max_wait_s=600))
    await router.add_queue(QueueConfig("short", max_wait_s=30))
    lifecycle = Lifecycle(history, router, app[HUB], app[METRICS], app[SETTINGS], {})
    router.subscribe(lifecycle.on_routing_event)
    lifecycle.start()
    try:
        report = await recover(history, router, Intake(history, router, app[HUB], lifecycle, app[METRICS],
                                                       app[SETTINGS]))
    finally:
        await lifecycle.stop()
    assert report.requeued == waiting
    patient, hurried = [await router.get_task(c) for c in waiting]
    assert (patient.state, patient.enqueued_at, patient.queued_at) == ("queued", since[0], since[0])
    assert (await router.queue_stats("general"))["longest_wait_s"] >= 60
    # waited over a minute of its 30 s before the restart: gone at once, without waiting for a timer
    assert (hurried.state, hurried.enqueued_at) == ("overflowed", since[1])
    contact, events = await history.get_contact(waiting[1])
    assert contact.state.value == "closed"
    assert [e.data.get("reason") for e in events if e.type == "queue.overflowed"] == ["max_wait"]
    joined = [e for e in events if e.type == "queue.joined"]
    assert joined[-1].data["enqueued_at"] == since[1]


async def test_a_node_adopting_routing_state_catches_the_history_up(aiohttp_client, cc):
    """Routing (shared) went ahead of the history when the node died: the history's last writes were lost. The
    restarted node's lifecycle takes up routing's view, and the history is corrected with contact.recovered."""
    from contact_center.intake import Intake
    from contact_center.keys import CHANNELS, HUB, METRICS, SETTINGS
    from contact_center.lifecycle import Lifecycle
    from contact_center.recovery import recover

    app = cc.server.app
    history, router = app[HISTORY], app[ROUTER]
    alice_user = await add_user(cc, "alice")
    alice = await logged_in(aiohttp_client, cc, "alice")
    agent = await agent_socket(alice)
    _, talking = await chat(cc, name="Talking")
    await _accepted(agent)
    _, done = await chat(cc, name="Done")
    await _accepted(agent)
    await agent.send({"type": "wrapup", "contact_id": done["contact_id"], "disposition": "ok"})
    await agent.expect("closed", contact_id=done["contact_id"])
    await settle(cc)
    # as if the writes of "assigned" and of the wrap-up never reached the history before the crash
    await history.update_contact(talking["contact_id"], state="queued")
    await history.update_contact(done["contact_id"], state="assigned")

    lifecycle = Lifecycle(history, router, app[HUB], app[METRICS], app[SETTINGS], app[CHANNELS])
    report = await recover(history, router, Intake(history, router, app[HUB], lifecycle, app[METRICS],
                                                   app[SETTINGS]))
    assert report.kept == [talking["contact_id"], done["contact_id"]] and report.requeued == []
    assert lifecycle.agent_of(talking["contact_id"]) == str(alice_user.id)
    assert lifecycle.contacts_of(str(alice_user.id)) == [talking["contact_id"]]
    state, recovered = await _state(app, talking["contact_id"])
    assert state == "assigned"
    assert [e.data for e in recovered] == [{"was": "queued", "action": "adopted", "routing": "assigned",
                                            "state": "assigned"}]
    state, recovered = await _state(app, done["contact_id"])
    assert state == "closed"
    assert [e.data for e in recovered] == [{"was": "assigned", "action": "closed", "routing": "closed"}]
