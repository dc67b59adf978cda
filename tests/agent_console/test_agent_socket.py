"""`/ws/agent`: offers, accept/reject/timeout, re-offers, bad frames, and agents kept to their own contacts."""
from __future__ import annotations

import asyncio

import pytest

from contact_center.keys import HISTORY
from tests.harness import Socket, add_user, agent_socket, chat, logged_in, settle


@pytest.fixture
def cc_settings(request, cc_settings):
    return cc_settings.replace(offer_timeout_s=1.0, **getattr(request, "param", {}))


async def _agents(cc, aiohttp_client, *names):
    socks = []
    for name in names:
        await add_user(cc, name)
        socks.append(await agent_socket(await logged_in(aiohttp_client, cc, name)))
    return socks


async def test_a_rejected_offer_goes_to_another_agent(cc, aiohttp_client):
    alice, bob = await _agents(cc, aiohttp_client, "alice", "bob")
    _customer, started = await chat(cc)
    # the longest-idle agent (alice, available first) gets it
    offer = await alice.expect("offer")
    await alice.send({"type": "reject", "offer_id": offer["offer_id"]})
    cancelled = await alice.expect("offer_cancelled")
    assert cancelled["offer_id"] == offer["offer_id"] and cancelled["reason"] == "rejected"
    second = await bob.expect("offer")
    assert second["contact"]["id"] == started["contact_id"] and second["offer_id"] != offer["offer_id"]
    await bob.send({"type": "accept", "offer_id": second["offer_id"]})
    await bob.expect("assigned")
    await settle(cc)
    _, events = await cc.server.app[HISTORY].get_contact(started["contact_id"])
    types = [e.type for e in events]
    assert types.count("offer.made") == 2 and "offer.rejected" in types and "contact.assigned" in types


async def test_an_unanswered_offer_times_out_and_is_offered_again(cc, aiohttp_client):
    alice, bob = await _agents(cc, aiohttp_client, "alice", "bob")
    _customer, started = await chat(cc)
    offer = await alice.expect("offer")
    assert offer["expires_in_s"] <= 1.0
    cancelled = await alice.expect("offer_cancelled", timeout=3)
    assert cancelled["reason"] == "timeout"
    again = await bob.expect("offer", timeout=3)
    assert again["contact"]["id"] == started["contact_id"]
    # accepting the timed-out offer is a stale accept: an error, and bob's offer is untouched
    await alice.send({"type": "accept", "offer_id": offer["offer_id"]})
    error = await alice.expect("error")
    assert error["code"] in ("offer_expired", "offer_closed", "offer_not_found")
    assert error["offer_id"] == offer["offer_id"]
    await bob.send({"type": "accept", "offer_id": again["offer_id"]})
    assert (await bob.expect("assigned"))["contact"]["id"] == started["contact_id"]
    await settle(cc)
    _, events = await cc.server.app[HISTORY].get_contact(started["contact_id"])
    assert "offer.timeout" in [e.type for e in events]


async def test_bad_agent_frames_get_errors_and_the_socket_stays_open(cc, aiohttp_client):
    (alice,) = await _agents(cc, aiohttp_client, "alice")
    await alice.ws.send_str("{nope")
    assert (await alice.expect("error"))["code"] == "bad_json"
    await alice.send({"type": "teleport"})
    assert (await alice.expect("error"))["code"] == "unknown_type"
    await alice.send({"type": "accept"})
    assert (await alice.expect("error"))["code"] == "missing_field"
    await alice.send({"type": "state", "state": "asleep"})
    assert (await alice.expect("error"))["code"] == "bad_field"
    await alice.send({"type": "accept", "offer_id": "no-such-offer"})
    assert (await alice.expect("error", offer_id="no-such-offer"))["code"] == "offer_not_found"
    await alice.send({"type": "reply", "contact_id": "1", "text": "hi"})
    assert (await alice.expect("error", contact_id="1"))["code"] == "not_your_contact"
    await alice.send({"type": "ping"})
    await alice.expect("pong")
    # and it still works
    customer, started = await chat(cc)
    offer = await alice.expect("offer")
    await alice.send({"type": "accept", "offer_id": offer["offer_id"]})
    await alice.expect("assigned")
    await alice.send({"type": "reply", "contact_id": started["contact_id"], "text": "y" * 201})
    assert (await alice.expect("error"))["code"] == "too_large"
    await alice.send({"type": "reply", "contact_id": started["contact_id"], "text": "hello"})
    assert (await customer.expect("message"))["text"] == "hello"


async def test_an_agent_sees_only_their_own_contacts(cc, aiohttp_client):
    await add_user(cc, "alice")
    await add_user(cc, "bob")
    alice_http = await logged_in(aiohttp_client, cc, "alice")
    bob_http = await logged_in(aiohttp_client, cc, "bob")
    alice = await agent_socket(alice_http)
    bob = await agent_socket(bob_http, state="away")
    customer, started = await chat(cc)
    cid = started["contact_id"]
    offer = await alice.expect("offer")
    # offered to alice: she may look, bob may not
    assert (await alice_http.get(f"/api/contacts/{cid}")).status == 200
    resp = await bob_http.get(f"/api/contacts/{cid}")
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "not_your_contact"
    # bob cannot take alice's offer, reply, end or wrap up her contact
    await bob.send({"type": "accept", "offer_id": offer["offer_id"]})
    assert (await bob.expect("error"))["code"] == "not_your_offer"
    await alice.send({"type": "accept", "offer_id": offer["offer_id"]})
    await alice.expect("assigned")
    for frame in ({"type": "reply", "contact_id": cid, "text": "mine now"},
                  {"type": "end", "contact_id": cid},
                  {"type": "wrapup", "contact_id": cid, "disposition": "x"}):
        await bob.send(frame)
        assert (await bob.expect("error"))["code"] == "not_your_contact"
    assert (await bob_http.get(f"/api/contacts/{cid}")).status == 403
    assert all(m["type"] != "message" for m in await customer.quiet())
    resp = await bob_http.get("/api/contacts/999999")
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"


async def test_a_reloaded_desktop_gets_its_offers_and_conversations_again(cc, aiohttp_client):
    await add_user(cc, "alice")
    http = await logged_in(aiohttp_client, cc, "alice")
    alice = await agent_socket(http)
    _one, first = await chat(cc, name="One")
    offer = await alice.expect("offer")
    await alice.send({"type": "accept", "offer_id": offer["offer_id"]})
    await alice.expect("assigned")
    _two, _second = await chat(cc, name="Two")
    pending = await alice.expect("offer")
    await alice.close()

    again = Socket(await http.ws_connect("/ws/agent"))
    state = await again.expect("state")
    assert state["state"] == "available"
    assert (await again.expect("offer"))["offer_id"] == pending["offer_id"]
    assigned = await again.expect("assigned")
    assert assigned["contact"]["id"] == first["contact_id"]


@pytest.mark.parametrize("cc_settings", [{"agent_grace_s": 0.3}], indirect=True)
async def test_an_agent_whose_desktop_is_gone_goes_offline_after_the_grace(cc, aiohttp_client, cc_settings):
    await add_user(cc, "alice")
    http = await logged_in(aiohttp_client, cc, "alice")
    alice = await agent_socket(http)
    await alice.close()
    await asyncio.sleep(cc_settings.agent_grace_s + 0.3)
    assert (await (await http.get("/api/me")).json())["state"] == "offline"


async def test_end_then_wrapup_moves_through_wrapup_to_closed(cc, aiohttp_client):
    (alice,) = await _agents(cc, aiohttp_client, "alice")
    customer, started = await chat(cc)
    cid = started["contact_id"]
    await alice.send({"type": "accept", "offer_id": (await alice.expect("offer"))["offer_id"]})
    await alice.expect("assigned")
    await alice.send({"type": "end", "contact_id": cid})
    await alice.expect("ended", contact_id=cid)
    await customer.expect("status", state="closed")
    await settle(cc)
    contact, _ = await cc.server.app[HISTORY].get_contact(cid)
    assert contact.state.value == "wrapup"
    await alice.send({"type": "reply", "contact_id": cid, "text": "too late"})
    assert (await alice.expect("error"))["code"] == "contact_ended"
    await alice.send({"type": "wrapup", "contact_id": cid, "disposition": "sale"})
    await alice.expect("closed", contact_id=cid)
    await settle(cc)
    contact, _ = await cc.server.app[HISTORY].get_contact(cid)
    assert contact.state.value == "closed" and contact.disposition == "sale"
    # after wrap-up too, a reply is told the conversation ended (not that the contact is someone else's)
    await alice.send({"type": "reply", "contact_id": cid, "text": "later still"})
    error = await alice.expect("error")
    assert error["code"] == "contact_ended", error


async def test_a_customer_leaving_an_assigned_chat_tells_the_agent(cc, aiohttp_client):
    (alice,) = await _agents(cc, aiohttp_client, "alice")
    customer, started = await chat(cc)
    await alice.send({"type": "accept", "offer_id": (await alice.expect("offer"))["offer_id"]})
    await alice.expect("assigned")
    await customer.send({"type": "leave"})
    assert {"type": "status", "state": "closed", "contact_id": started["contact_id"]} in await customer.until_closed()
    await alice.expect("customer_left", contact_id=started["contact_id"])


async def test_an_offer_is_withdrawn_when_the_customer_leaves(cc, aiohttp_client, cc_settings):
    (alice,) = await _agents(cc, aiohttp_client, "alice")
    customer, _started = await chat(cc)
    offer = await alice.expect("offer")
    await customer.send({"type": "leave"})
    await customer.until_closed()
    cancelled = await alice.expect("offer_cancelled")
    assert cancelled["offer_id"] == offer["offer_id"] and cancelled["reason"] == "abandoned"


@pytest.mark.parametrize("cc_settings", [{"wrapup_timeout_s": 0.3}], indirect=True)
async def test_wrapup_ends_by_itself_after_the_configured_time(cc, aiohttp_client):
    (alice,) = await _agents(cc, aiohttp_client, "alice")
    _, started = await chat(cc)
    await alice.send({"type": "accept", "offer_id": (await alice.expect("offer"))["offer_id"]})
    await alice.expect("assigned")
    await alice.send({"type": "end", "contact_id": started["contact_id"]})
    await alice.expect("ended", contact_id=started["contact_id"])
    await alice.expect("closed", contact_id=started["contact_id"], timeout=3)
    await settle(cc)
    contact, _ = await cc.server.app[HISTORY].get_contact(started["contact_id"])
    assert contact.state.value == "closed"


async def test_a_wrapup_note_is_a_note_event_and_a_promise_is_promotional(cc, aiohttp_client):
    (alice,) = await _agents(cc, aiohttp_client, "alice")
    contacts = []
    for name in ("Plain", "Promised"):
        _, started = await chat(cc, name=name)
        await alice.send({"type": "accept", "offer_id": (await alice.expect("offer"))["offer_id"]})
        await alice.expect("assigned")
        contacts.append(started["contact_id"])
    plain, promised = contacts
    await alice.send({"type": "wrapup", "contact_id": promised, "promise": True})
    assert (await alice.expect("error"))["code"] == "missing_field"
    await alice.send({"type": "wrapup", "contact_id": promised, "note": "x", "promise": "yes"})
    assert (await alice.expect("error"))["code"] == "bad_field"
    await alice.send({"type": "wrapup", "contact_id": plain, "disposition": "solved", "note": "asked about fees"})
    await alice.expect("closed", contact_id=plain)
    await alice.send({"type": "wrapup", "contact_id": promised, "disposition": "callback",
                      "note": "promised a callback tomorrow", "promise": True})
    await alice.expect("closed", contact_id=promised)
    await settle(cc)
    notes = {}
    for cid in contacts:
        _, events = await cc.server.app[HISTORY].get_contact(cid)
        notes[cid] = [(e.category.value, e.data, e.agent_id) for e in events if e.type == "note"]
    agent_id = (await cc.server.app[HISTORY].get_user_by_username("alice")).id
    assert notes[plain] == [("transactional", {"text": "asked about fees", "disposition": "solved"}, agent_id)]
    assert notes[promised] == [("promotional", {"text": "promised a callback tomorrow", "disposition": "callback",
                                                "promise": True}, agent_id)]
