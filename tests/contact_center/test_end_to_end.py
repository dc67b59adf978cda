"""A web chat goes all the way through the public API: customer socket -> queue -> offer on the agent socket ->
accept -> messages both ways -> wrap-up -> the customer's record shows the contact and every event."""
from __future__ import annotations

import pytest

from tests.harness import add_user, agent_socket, chat, logged_in


@pytest.fixture
def cc_settings(cc_settings, database_url):
    """The whole flow on both databases: SQLite and the real PostgreSQL (history's `database_url` fixture)."""
    return cc_settings.replace(database_url=database_url)


async def test_chat_flows_from_customer_to_agent_and_into_the_history(cc, aiohttp_client):
    await add_user(cc, "alice")
    await add_user(cc, "sam", role="supervisor")
    agent_http = await logged_in(aiohttp_client, cc, "alice")
    agent = await agent_socket(agent_http)

    customer, started = await chat(cc, name="Ada Lovelace", email="Ada@Example.org")
    contact_id, customer_id = started["contact_id"], started["customer_id"]
    assert started["token"] and started["resumed"] is False
    await customer.send({"type": "message", "text": "Hello, my invoice is wrong", "client_id": "c1"})
    ack = await customer.expect("ack", client_id="c1")

    offer = await agent.expect("offer")
    assert offer["contact"]["id"] == contact_id and offer["contact"]["channel"] == "chat"
    assert offer["contact"]["customer"]["name"] == "Ada Lovelace"
    assert offer["contact"]["customer"]["emails"] == ["ada@example.org"]
    assert 0 < offer["expires_in_s"] <= 5

    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    assigned = await agent.expect("assigned")
    assert assigned["contact"]["id"] == contact_id and assigned["contact"]["state"] == "assigned"
    assert [m["text"] for m in assigned["messages"]] == ["Hello, my invoice is wrong"]
    assert assigned["messages"][0]["id"] == ack["id"]
    status = await customer.expect("status", state="assigned")
    assert status["agent_name"] == "alice"

    await agent.send({"type": "reply", "contact_id": contact_id, "text": "Let me look <b>now</b>"})
    echoed = await agent.expect("message", contact_id=contact_id)
    assert echoed["message"]["direction"] == "out" and echoed["message"]["text"] == "Let me look <b>now</b>"
    pushed = await customer.expect("message")
    assert pushed["from"] == "agent" and pushed["text"] == "Let me look <b>now</b>"
    assert pushed["agent_name"] == "alice" and pushed["id"] == echoed["message"]["id"]

    await customer.send({"type": "message", "text": "Thanks!", "client_id": "c2"})
    await customer.expect("ack", client_id="c2")
    incoming = await agent.expect("message", contact_id=contact_id)
    assert incoming["message"]["direction"] == "in" and incoming["message"]["text"] == "Thanks!"

    await agent.send({"type": "wrapup", "contact_id": contact_id, "disposition": "resolved",
                      "note": "credited the invoice"})
    await agent.expect("closed", contact_id=contact_id)
    await customer.expect("status", state="closed")

    supervisor = await logged_in(aiohttp_client, cc, "sam")
    resp = await supervisor.get(f"/api/customers/{customer_id}")
    assert resp.status == 200
    body = await resp.json()
    assert body["customer"]["name"] == "Ada Lovelace"
    # the email given at start is a customer-level (descriptive) event; the rest belong to the contact
    assert [e["type"] for e in body["timeline"] if e["contact_id"] is None] == ["identity.linked"]
    contact_events = [e for e in body["timeline"] if e["contact_id"] is not None]
    types = [e["type"] for e in contact_events]
    timeline_order = ["queue.joined", "offer.made", "message.in", "offer.accepted", "contact.assigned",
                      "message.out", "message.in", "note", "contact.ended", "contact.wrapped_up"]
    # newest first, and every step is there exactly once
    assert sorted(types) == sorted(timeline_order)
    assert types[0] == "contact.wrapped_up" and types[-1] in ("queue.joined", "offer.made", "message.in")
    ats = [e["at"] for e in body["timeline"]]
    assert ats == sorted(ats, reverse=True)
    assert {e["contact_id"] for e in contact_events} == {contact_id}
    wrapped = contact_events[0]
    assert wrapped["data"]["disposition"] == "resolved" and wrapped["data"]["note"] == "credited the invoice"

    resp = await agent_http.get(f"/api/contacts/{contact_id}")
    assert resp.status == 200
    detail = await resp.json()
    assert detail["contact"]["state"] == "closed" and detail["contact"]["disposition"] == "resolved"
    assert detail["contact"]["agent"] == assigned["contact"]["agent"]
    assert detail["contact"]["closed_at"]
    assert [e["type"] for e in detail["events"]] == list(reversed(types))
