"""A returning customer's new contact waits a little for their preferred agent (who handled most of their contacts,
or their last agent), and a `most_related` queue offers it to the most related free agent."""
from __future__ import annotations

import asyncio
import time

import pytest

from contact_center.app import create_app
from contact_center.keys import ROUTER
from contact_center.queue_settings import parse_queues
from tests.contact_center.test_redis_restart import app_redis  # noqa: F401  (a fixture: Redis db of its own)
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


@pytest.mark.parametrize("cc_settings", [{"preferred_agent_s": 0.0}, {"preferred_agent": "none"}], indirect=True)
async def test_no_preference_when_the_limit_is_zero_or_none_is_preferred(cc, aiohttp_client):
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


async def _serve(cc, agent, token: str | None = None) -> str:
    """One chat of the customer (`token`; a new one when None) that `agent`, the only one available, handles."""
    customer, started = await chat(cc, name="Returning", token=token)
    await agent.send({"type": "accept", "offer_id": (await agent.expect("offer"))["offer_id"]})
    await agent.expect("assigned")
    await agent.send({"type": "wrapup", "contact_id": started["contact_id"], "disposition": "done"})
    await agent.expect("closed", contact_id=started["contact_id"])
    await customer.close()
    await settle(cc)
    return started["token"]


async def _set(sock, state: str) -> None:
    await sock.send({"type": "state", "state": state})
    await sock.expect("state", state=state)


async def _alice_twice_then_bob(cc, aiohttp_client):
    """alice handles two chats of a customer, then bob one (the last); both end available, bob idle the
    longest, so plain longest-idle routing would choose bob. Returns the users, sockets and the token."""
    alice_user, bob_user = await add_user(cc, "alice"), await add_user(cc, "bob")
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    bob = await agent_socket(await logged_in(aiohttp_client, cc, "bob"), state="away")
    token = await _serve(cc, alice)
    await _serve(cc, alice, token)
    await _set(alice, "away")
    await _set(bob, "available")
    await _serve(cc, bob, token)
    await _set(alice, "available")
    return alice_user, bob_user, alice, bob, token


@pytest.fixture(params=["memory", "redis"])
def routing_store(request) -> str:
    """CC_REDIS_URL of the app: in-memory routing, or Redis (the related agents travel in the task's hash)."""
    return request.getfixturevalue("app_redis") if request.param == "redis" else ""


@pytest.mark.parametrize("cc_settings", [{"preferred_agent_s": 0.0, "queues": parse_queues(
    {"general": {"strategy": "most_related"}})}], indirect=True)
async def test_a_most_related_queue_offers_the_agent_who_served_the_customer_most(aiohttp_client, cc_settings,
                                                                                 routing_store):
    cc = await aiohttp_client(create_app(cc_settings.replace(redis_url=routing_store)))
    alice_user, bob_user, alice, bob, token = await _alice_twice_then_bob(cc, aiohttp_client)
    back, again = await chat(cc, token=token)
    await back.expect("status", state="queued")
    task = await cc.server.app[ROUTER].get_task(again["contact_id"])
    assert task.preferred_agent is None
    assert task.attributes["related_agents"] == [str(alice_user.id), str(bob_user.id)]
    offer = await alice.expect("offer")   # not bob, although bob has been idle longer
    assert offer["contact"]["id"] == again["contact_id"]
    assert not [m for m in await bob.quiet() if m["type"] == "offer"]


@pytest.mark.parametrize("cc_settings", [{"preferred_agent": "last", "preferred_agent_s": 1.0}], indirect=True)
async def test_the_last_agent_is_preferred_over_the_most_related_one(cc, aiohttp_client):
    _alice_user, bob_user, alice, bob, token = await _alice_twice_then_bob(cc, aiohttp_client)
    # bob is now the longest idle: make alice the one longest idle routing would choose
    await _set(bob, "away")
    await _set(bob, "available")
    back, again = await chat(cc, token=token)
    await back.expect("status", state="queued")
    task = await cc.server.app[ROUTER].get_task(again["contact_id"])
    assert task.preferred_agent == str(bob_user.id)
    offer = await bob.expect("offer")
    assert offer["contact"]["id"] == again["contact_id"]
    assert not [m for m in await alice.quiet() if m["type"] == "offer"]
