"""With Redis routing the tasks outlive the server: a server SIGKILLed and restarted on the same Redis and history
takes up the surviving assignment and offer, so the agent carries on instead of getting `not_your_contact`."""
from __future__ import annotations

import signal

import aiohttp
import pytest
import redis.asyncio as aioredis

from tests.contact_center.test_e2e_process import PASSWORD, available_agent, cli, expect, login
from tests.contact_center.test_serve import server

DB_INDEX = 11   # a Redis database of its own: the app's key prefix is fixed ("cc:")


@pytest.fixture
async def app_redis(redis_url):
    url = redis_url.rsplit("/", 1)[0] + f"/{DB_INDEX}"
    client = aioredis.Redis.from_url(url)

    async def clear() -> None:
        keys = [k async for k in client.scan_iter(match="cc:*")]
        if keys:
            await client.delete(*keys)
    await clear()
    yield url
    await clear()
    await client.aclose()


async def test_a_restarted_server_serves_the_assignments_and_offers_redis_kept(tmp_path, app_redis):
    db = tmp_path / "redis-restart.db"
    assert cli(db, "db", "upgrade").returncode == 0
    for name, role in (("alice", "agent"), ("sam", "supervisor")):
        made = cli(db, "user", "add", name, "--role", role, "--password", PASSWORD)
        assert made.returncode == 0, made.stderr
    env = {"CC_REDIS_URL": app_redis, "CC_OFFER_TIMEOUT_S": "120", "CC_CHAT_ABANDON_S": "120"}

    with server(db, **env) as (url, _, proc):
        alice = await login(url, "alice")
        customers = aiohttp.ClientSession()
        try:
            agent = await available_agent(alice, url)
            talking = await customers.ws_connect(f"{url}/ws/chat")
            await talking.send_json({"type": "start", "name": "Ada"})
            ada = await expect(talking, "started")
            offer = await expect(agent, "offer")
            await agent.send_json({"type": "accept", "offer_id": offer["offer_id"]})
            await expect(agent, "assigned")
            await agent.send_json({"type": "reply", "contact_id": ada["contact_id"], "text": "Hello Ada"})
            await expect(talking, "message")
            waiting = await customers.ws_connect(f"{url}/ws/chat")
            await waiting.send_json({"type": "start", "name": "Bea"})
            bea = await expect(waiting, "started")
            open_offer = await expect(agent, "offer")   # alice has room for more chats; she does not answer
            assert open_offer["contact"]["id"] == bea["contact_id"]
        finally:
            await customers.close()
            await alice.close()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    with server(db, **env) as (url, _, proc):
        alice, sam = await login(url, "alice"), await login(url, "sam")
        customers = aiohttp.ClientSession()
        try:
            agent = await alice.ws_connect(f"{url}/ws/agent")
            await expect(agent, "state", state="available")   # routing kept her state too
            # the desktop gets back what routing kept: the open offer and the conversation
            offer = await expect(agent, "offer")
            assert (offer["offer_id"], offer["contact"]["id"]) == (open_offer["offer_id"], bea["contact_id"])
            assigned = await expect(agent, "assigned")
            assert assigned["contact"]["id"] == ada["contact_id"]
            assert [m["text"] for m in assigned["messages"]] == ["Hello Ada"]

            back = await customers.ws_connect(f"{url}/ws/chat")
            await back.send_json({"type": "start", "token": ada["token"]})
            assert (await expect(back, "started"))["contact_id"] == ada["contact_id"]
            await agent.send_json({"type": "reply", "contact_id": ada["contact_id"], "text": "Still here"})
            assert (await expect(back, "message"))["text"] == "Still here"

            await agent.send_json({"type": "accept", "offer_id": offer["offer_id"]})
            assert (await expect(agent, "assigned"))["contact"]["id"] == bea["contact_id"]
            await agent.send_json({"type": "wrapup", "contact_id": ada["contact_id"], "disposition": "resolved"})
            await expect(agent, "closed", contact_id=ada["contact_id"])

            for cid, state in ((ada["contact_id"], "closed"), (bea["contact_id"], "assigned")):
                body = await (await sam.get(f"{url}/api/contacts/{cid}")).json()
                assert body["contact"]["state"] == state, body
            board = (await (await sam.get(f"{url}/api/agents")).json())["items"]
            assert [(a["username"], a["contacts"], a["offers"]) for a in board] == \
                [("alice", [bea["contact_id"]], [])]
        finally:
            await customers.close()
            await alice.close()
            await sam.close()


async def test_refusal_and_overflow_counts_survive_a_restart_with_redis(tmp_path, app_redis):
    config = tmp_path / "cc.toml"
    config.write_text('[queues.full]\nmax_length = 0\n[queues.vip]\nmax_length = 0\noverflow = "general"\n')
    db = tmp_path / "counts.db"
    env = {"CC_REDIS_URL": app_redis}
    lines = ('cc_queue_refused_total{queue="full",reason="queue_full"} 2.0',
             'cc_queue_overflowed_total{queue="vip",to="general"} 1.0')
    with server(db, "--config", str(config), **env) as (url, _, _proc):
        async with aiohttp.ClientSession() as customers:
            for queue, name in (("full", "Ada"), ("full", "Bea"), ("vip", "Cy")):
                ws = await customers.ws_connect(f"{url}/ws/chat")
                await ws.send_json({"type": "start", "name": name, "queue": queue})
                if queue == "full":
                    assert (await expect(ws, "error"))["code"] == "queue_full"
                else:   # queued in general, where vip sends everyone
                    await expect(ws, "status", state="queued")
            metrics = await (await customers.get(f"{url}/metrics")).text()
    assert all(line in metrics for line in lines), metrics
    with server(db, "--config", str(config), **env) as (url, _, _proc):   # stopped and started again
        async with aiohttp.ClientSession() as client:
            metrics = await (await client.get(f"{url}/metrics")).text()
    assert all(line in metrics for line in lines), metrics
