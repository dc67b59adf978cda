"""`/ws/chat`: acks after commit, idempotent resends, resume by token, bad input, leaving and abandonment."""
from __future__ import annotations

import asyncio

import pytest

from contact_center.keys import HISTORY, LIFECYCLE
from tests.harness import Socket, add_user, agent_socket, chat, logged_in, settle


async def _events(cc, contact_id):
    _, events = await cc.server.app[HISTORY].get_contact(contact_id)
    return events


async def test_a_message_is_recorded_before_its_ack_and_a_resend_is_acked_without_a_duplicate(cc):
    customer, started = await chat(cc)
    await customer.send({"type": "message", "text": "first", "client_id": "m-1"})
    ack = await customer.expect("ack", client_id="m-1")
    # the ack names an event that is already in the history
    recorded = [e for e in await _events(cc, started["contact_id"]) if e.type == "message.in"]
    assert [(e.id, e.client_id, e.data["text"]) for e in recorded] == [(ack["id"], "m-1", "first")]

    # the socket drops; the client resends the same message on a new socket (resumed by token)
    await customer.close()
    again, resumed = await chat(cc, token=started["token"])
    assert resumed["contact_id"] == started["contact_id"] and resumed["resumed"] is True
    history = await again.expect("history")
    assert [(m["id"], m["from"], m["text"], m["client_id"]) for m in history["messages"]] == \
        [(ack["id"], "customer", "first", "m-1")]
    await again.send({"type": "message", "text": "first", "client_id": "m-1"})
    second = await again.expect("ack", client_id="m-1")
    assert second["id"] == ack["id"], (again.seen, [(e.id, e.type, e.contact_id, e.client_id) for e in await _events(cc, started["contact_id"])])
    assert len([e for e in await _events(cc, started["contact_id"]) if e.type == "message.in"]) == 1


async def test_resume_shows_what_the_customer_missed_while_away(cc, aiohttp_client):
    await add_user(cc, "alice")
    agent = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    customer, started = await chat(cc)
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    await customer.close()
    await agent.send({"type": "reply", "contact_id": started["contact_id"], "text": "are you there?"})
    await agent.expect("message")

    back, _resumed = await chat(cc, token=started["token"])
    history = await back.expect("history")
    assert [(m["from"], m["text"], m["agent_name"]) for m in history["messages"]] == \
        [("agent", "are you there?", "alice")]
    status = await back.expect("status")
    assert status["state"] == "assigned" and status["agent_name"] == "alice"


async def test_oversized_message_gets_too_large_and_the_chat_goes_on(cc, cc_settings):
    customer, started = await chat(cc)
    await customer.send({"type": "message", "text": "x" * (cc_settings.max_message_chars + 1), "client_id": "big"})
    error = await customer.expect("error")
    assert error["code"] == "too_large" and error["client_id"] == "big"
    await customer.send({"type": "message", "text": "x" * cc_settings.max_message_chars, "client_id": "ok"})
    await customer.expect("ack", client_id="ok")
    texts = [e.data["text"] for e in await _events(cc, started["contact_id"]) if e.type == "message.in"]
    assert texts == ["x" * cc_settings.max_message_chars]


async def test_bad_frames_get_errors_with_codes_and_the_socket_stays_open(cc):
    sock = Socket(await cc.ws_connect("/ws/chat"))
    await sock.send({"type": "message", "text": "hi", "client_id": "a"})
    assert (await sock.expect("error"))["code"] == "not_started"
    await sock.ws.send_str("this is not json")
    assert (await sock.expect("error"))["code"] == "bad_json"
    await sock.ws.send_str("[1, 2]")
    assert (await sock.expect("error"))["code"] == "bad_message"
    await sock.send({"type": "dance"})
    assert (await sock.expect("error"))["code"] == "unknown_type"
    await sock.send({"type": "start"})
    assert (await sock.expect("error"))["code"] == "missing_field"
    await sock.send({"type": "start", "name": 42})
    assert (await sock.expect("error"))["code"] == "bad_field"
    await sock.send({"type": "start", "name": "Bob", "email": "not an email"})
    assert (await sock.expect("error"))["code"] == "bad_email"

    await sock.send({"type": "start", "name": "Bob"})
    started = await sock.expect("started")
    await sock.send({"type": "start", "name": "Bob"})
    assert (await sock.expect("error"))["code"] == "already_started"
    await sock.send({"type": "message", "text": "no id"})
    assert (await sock.expect("error"))["code"] == "missing_field"
    await sock.send({"type": "message", "client_id": "c"})
    assert (await sock.expect("error", client_id="c"))["code"] == "missing_field"
    await sock.send({"type": "message", "text": "   ", "client_id": "blank"})
    assert (await sock.expect("error", client_id="blank"))["code"] == "empty"
    await sock.send({"type": "message", "text": "still here", "client_id": "fine"})
    await sock.expect("ack", client_id="fine")
    events = await _events(cc, started["contact_id"])
    assert [e.data["text"] for e in events if e.type == "message.in"] == ["still here"]


async def test_html_is_stored_and_sent_as_plain_text(cc, aiohttp_client):
    await add_user(cc, "alice")
    agent = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    customer, _started = await chat(cc, name="<script>x</script>")
    offer = await agent.expect("offer")
    assert offer["contact"]["customer"]["name"] == "<script>x</script>"
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    payload = "<img src=x onerror=alert(1)>"
    await customer.send({"type": "message", "text": payload, "client_id": "x"})
    assert (await agent.expect("message"))["message"]["text"] == payload


async def test_leaving_the_queue_is_an_abandonment(cc):
    customer, started = await chat(cc)
    await customer.expect("status", state="queued")
    await customer.send({"type": "leave"})
    await customer.expect("status", state="closed", reason="abandoned")
    await customer.until_closed()
    await settle(cc)
    contact, events = await cc.server.app[HISTORY].get_contact(started["contact_id"])
    assert contact.state.value == "abandoned" and contact.closed_at is not None
    assert "contact.abandoned" in [e.type for e in events]


@pytest.mark.parametrize("cc_settings", [{"chat_abandon_s": 0.3}], indirect=True)
async def test_a_queued_customer_whose_socket_is_gone_abandons_after_the_grace(cc, cc_settings):
    customer, started = await chat(cc)
    await customer.expect("status", state="queued")
    await customer.close()
    await asyncio.sleep(cc_settings.chat_abandon_s + 0.3)
    await settle(cc)
    contact, _ = await cc.server.app[HISTORY].get_contact(started["contact_id"])
    assert contact.state.value == "abandoned"


@pytest.mark.parametrize("cc_settings", [{"chat_abandon_s": 1.0}], indirect=True)
async def test_a_customer_back_within_the_grace_keeps_their_place(cc, cc_settings):
    first, _one = await chat(cc, name="One")
    second, two = await chat(cc, name="Two")
    queued = await second.expect("status", state="queued")
    assert queued["position"] == 2 and "estimated_wait_s" not in queued  # nobody signed in: no estimate
    await second.close()
    back, _resumed = await chat(cc, token=two["token"])
    assert (await back.expect("status", state="queued"))["position"] == 2
    await asyncio.sleep(cc_settings.chat_abandon_s + 0.3)
    await settle(cc)
    contact, _ = await cc.server.app[HISTORY].get_contact(two["contact_id"])
    assert contact.state.value == "queued"
    # the first customer leaves: the second moves up
    await first.send({"type": "leave"})
    await first.until_closed()
    assert (await back.expect("status", state="queued"))["position"] == 1
    assert await cc.server.app[LIFECYCLE].is_waiting(two["contact_id"])


async def test_a_message_after_the_chat_closed_opens_a_new_one(cc, aiohttp_client):
    await add_user(cc, "alice")
    agent = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    customer, started = await chat(cc)
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    await agent.send({"type": "wrapup", "contact_id": started["contact_id"], "disposition": "done"})
    await customer.expect("status", state="closed")
    await customer.send({"type": "message", "text": "one more thing", "client_id": "late"})
    restarted = await customer.expect("started")
    assert restarted["contact_id"] != started["contact_id"] and restarted["token"] == started["token"]
    await customer.expect("ack", client_id="late")
    offer = await agent.expect("offer")
    assert offer["contact"]["id"] == restarted["contact_id"]
    assert offer["contact"]["customer"]["id"] == started["customer_id"]


async def test_a_queue_that_refuses_the_chat_closes_it_with_a_clear_error(cc):
    from contact_center.keys import ROUTER
    from routing import QueueConfig
    await cc.server.app[ROUTER].add_queue(QueueConfig(name="general", max_length=0))
    customer, started = await chat(cc)
    error = await customer.expect("error")
    assert error["code"] == "queue_full"
    contact, events = await cc.server.app[HISTORY].get_contact(started["contact_id"])
    assert contact.state.value == "closed" and [e.type for e in events] == ["queue.refused"]
    # the next message tries a new chat, which the full queue refuses again: still no crash
    await customer.send({"type": "message", "text": "anyone?", "client_id": "q"})
    await customer.expect("ack", client_id="q")
    assert (await customer.expect("error"))["code"] == "queue_full"


async def test_a_chat_that_waits_past_the_max_wait_with_nowhere_to_go_is_closed(cc):
    from contact_center.keys import ROUTER
    from routing import QueueConfig
    await cc.server.app[ROUTER].add_queue(QueueConfig(name="general", max_wait_s=0.2))
    customer, started = await chat(cc)
    closed = await customer.expect("status", state="closed")
    assert closed["reason"] == "overflowed"
    await settle(cc)
    contact, events = await cc.server.app[HISTORY].get_contact(started["contact_id"])
    assert contact.state.value == "closed"
    assert [e.type for e in events] == ["queue.joined", "queue.overflowed"]


async def test_a_queued_customer_is_told_the_estimated_wait_when_agents_can_serve(cc, aiohttp_client):
    from contact_center.queue_settings import DEFAULT_CAPACITY
    await add_user(cc, "alice")
    await agent_socket(await logged_in(aiohttp_client, cc, "alice"), state="away")
    customer, _ = await chat(cc)
    queued = await customer.expect("status", state="queued")
    assert queued["position"] == 1 and "estimated_wait_s" not in queued   # only an away agent: nobody serves
    await add_user(cc, "bob")
    bob = await agent_socket(await logged_in(aiohttp_client, cc, "bob"))     # takes Ada, then fills up
    await bob.send({"type": "accept", "offer_id": (await bob.expect("offer"))["offer_id"]})
    for i in range(DEFAULT_CAPACITY["chat"] - 1):
        await chat(cc, name=f"Busy {i}")
        await bob.send({"type": "accept", "offer_id": (await bob.expect("offer"))["offer_id"]})
    late, _ = await chat(cc, name="Late")
    queued = await late.expect("status", state="queued")
    assert queued["position"] == 1 and queued["estimated_wait_s"] > 0       # bob is busy: he can serve


async def test_a_flood_of_messages_is_rate_limited_and_nothing_else_suffers(cc):
    from channels.webchat.socket import RATE_BURST
    customer, started = await chat(cc)
    for i in range(RATE_BURST + 5):
        await customer.send({"type": "message", "text": f"spam {i}", "client_id": f"s{i}"})
    replies: list[dict] = []
    while len(replies) < RATE_BURST + 5:
        reply = await customer.next()
        if reply["type"] in ("ack", "error"):
            replies.append(reply)
    acks = [r for r in replies if r["type"] == "ack"]
    limited = [r for r in replies if r["type"] == "error" and r["code"] == "rate_limited"]
    assert len(acks) >= RATE_BURST and len(acks) + len(limited) == RATE_BURST + 5
    assert all(r["client_id"].startswith("s") for r in limited)
    # the limited messages were not recorded; the acked ones were, once each
    _, events = await cc.server.app[HISTORY].get_contact(started["contact_id"])
    assert sorted(e.client_id for e in events if e.type == "message.in") == sorted(a["client_id"] for a in acks)


async def test_a_start_with_another_customers_email_opens_a_new_chat_and_sees_nothing_of_theirs(cc):
    victim, theirs = await chat(cc, name="Victim", email="victim@example.com")
    await victim.send({"type": "message", "text": "my secret account number is 1234", "client_id": "v-1"})
    await victim.expect("ack", client_id="v-1")

    attacker, started = await chat(cc, name="Attacker", email="victim@example.com")
    assert started["resumed"] is False and started["contact_id"] != theirs["contact_id"]
    assert started["token"] != theirs["token"]
    await attacker.send({"type": "message", "text": "hello", "client_id": "a-1"})
    await attacker.expect("ack", client_id="a-1")
    assert not [m for m in attacker.seen if m.get("type") == "history"]
    assert "1234" not in repr(attacker.seen)
    # the victim's conversation holds only the victim's message; the attacker's went to the new contact
    assert [e.data["text"] for e in await _events(cc, theirs["contact_id"]) if e.type == "message.in"] == \
        ["my secret account number is 1234"]
    assert [e.data["text"] for e in await _events(cc, started["contact_id"]) if e.type == "message.in"] == \
        ["hello"]
    # the victim still resumes their own chat with their token
    _back, resumed = await chat(cc, token=theirs["token"])
    assert resumed["contact_id"] == theirs["contact_id"] and resumed["resumed"] is True


async def test_a_token_the_server_never_issued_is_refused(cc):
    sock = Socket(await cc.ws_connect("/ws/chat"))
    for forged in ("   ", "forged-token-xyz"):
        await sock.send({"type": "start", "name": "Eve", "token": forged})
        error = await sock.expect("error")
        assert error["code"] == "unknown_token", error
    # nothing was created and the socket can still start a fresh chat
    assert await cc.server.app[HISTORY].find_customer("chat", "forged-token-xyz") is None
    await sock.send({"type": "start", "name": "Eve"})
    started = await sock.expect("started")
    assert started["token"] != "forged-token-xyz" and started["resumed"] is False


async def test_a_bad_email_names_the_problem_once(cc):
    sock = Socket(await cc.ws_connect("/ws/chat"))
    await sock.send({"type": "start", "name": "Eve", "email": "not-an-email"})
    error = await sock.expect("error")
    assert error["code"] == "bad_email" and error["message"].count("not an email address") == 1


async def test_a_resent_message_is_counted_and_shown_to_the_agent_once(cc, aiohttp_client):
    from contact_center.keys import METRICS

    await add_user(cc, "alice")
    agent = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    customer, started = await chat(cc)
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    await customer.send({"type": "message", "text": "once", "client_id": "r-1"})
    first = await customer.expect("ack", client_id="r-1")
    await customer.send({"type": "message", "text": "once", "client_id": "r-1"})
    again = await customer.expect("ack", client_id="r-1")
    assert again["id"] == first["id"]
    await customer.send({"type": "message", "text": "next", "client_id": "r-2"})
    await customer.expect("ack", client_id="r-2")
    await agent.expect("message", contact_id=started["contact_id"])
    second = await agent.expect("message", contact_id=started["contact_id"])
    assert second["message"]["text"] == "next"   # the resend of "once" never reached the agent
    registry = cc.server.app[METRICS].registry
    assert registry.get_sample_value("cc_events_total", {"type": "message.in"}) == 2
    assert registry.get_sample_value("cc_messages_total", {"channel": "chat", "direction": "in"}) == 2
