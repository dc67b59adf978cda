"""A returning customer's new contact waits a little for the agent who handled most of their contacts."""
from __future__ import annotations

import asyncio
import time

import pytest

from contact_center.keys import ROUTER
from tests.harness import add_user, agent_socket, chat, logged_in, settle


async def _served_by_alice(cc, aiohttp_client):
    """alice handles the customer's first chat; bob is signed in but away; returns sockets and the token."""
    alice_user = await add_user(cc, "alice")
    await add_user(cc, "bob")
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    bob = await agent_socket(await logged_in(aiohttp_client, cc, "bob"), state="away")
    customer, started = await chat(cc, name="Returning")
    await alice.send({"type": "accept", "offer_id": (await alice.expect("offer"))["offer_id"]})
    await alice.expect("assigned")
    await alice.send({"type": "wrapup", "contact_id": started["contact_id"], "disposition": "done"})
    await alice.expect("closed", contact_id=started["contact_id"])
    await customer.close()
    await settle(cc)
    return alice_user, alice, bob, started["token"]


@pytest.mark.parametrize("cc_settings", [{"preferred_agent_s": 0.8}], indirect=True)
async def test_the_related_agent_is_preferred_for_the_time_limit_then_anyone(cc, aiohttp_client, cc_settings):
    alice_user, alice, bob, token = await _served_by_alice(cc, aiohttp_client)
    await alice.send({"type": "state", "state": "away"})
    await alice.expect("state", state="away")
    await bob.send({"type": "state", "state": "available"})
    await bob.expect("state", state="available")

    began = time.monotonic()
    back, again = await chat(cc, token=token)
    await back.expect("status", state="queued")
    task = await cc.server.app[ROUTER].get_task(again["contact_id"])
    assert task.preferred_agent == str(alice_user.id)
    # bob is free, but the contact waits for alice until the limit has passed
    offer = await bob.expect("offer", timeout=5)
    assert offer["contact"]["id"] == again["contact_id"]
    assert time.monotonic() - began >= cc_settings.preferred_agent_s - 0.05


@pytest.mark.parametrize("cc_settings", [{"preferred_agent_s": 0.0}], indirect=True)
async def test_no_preference_when_the_limit_is_zero(cc, aiohttp_client):
    _alice_user, alice, bob, token = await _served_by_alice(cc, aiohttp_client)
    await alice.send({"type": "state", "state": "away"})
    await alice.expect("state", state="away")
    await bob.send({"type": "state", "state": "available"})
    await bob.expect("state", state="available")
    back, again = await chat(cc, token=token)
    await back.expect("status", state="queued")
    assert (await cc.server.app[ROUTER].get_task(again["contact_id"])).preferred_agent is None
    offer = await asyncio.wait_for(bob.expect("offer"), 2)
    assert offer["contact"]["id"] == again["contact_id"]
