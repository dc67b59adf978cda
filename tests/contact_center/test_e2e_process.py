"""End to end through public surfaces only: users made with the CLI against the server's database, then the real
server process driven over HTTP and websockets (a customer chat, an agent, a supervisor, a crash and restart)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.contact_center.test_serve import ROOT, database_url, server

PASSWORD = "correct horse battery"
TIMEOUT_S = 10.0


def cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m contact_center ...` against the database, as an operator runs it."""
    env = {**os.environ, "CC_DATABASE_URL": database_url(db)}
    env.pop("CC_REDIS_URL", None)
    return subprocess.run([sys.executable, "-m", "contact_center", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


async def expect(ws: aiohttp.ClientWebSocketResponse, type_: str, **match) -> dict:
    """The next message of `type_` with these field values, skipping others."""
    seen = []
    while True:
        msg = await ws.receive_json(timeout=TIMEOUT_S)
        if msg.get("type") == type_ and all(msg.get(k) == v for k, v in match.items()):
            return msg
        seen.append(msg)
        assert len(seen) < 50, seen


async def login(url: str, username: str) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    resp = await http.post(f"{url}/api/login", json={"username": username, "password": PASSWORD})
    assert resp.status == 200, await resp.text()
    return http


async def available_agent(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    """The logged-in agent's desktop socket, once the server confirms the agent is available."""
    agent = await http.ws_connect(f"{url}/ws/agent")
    await expect(agent, "state")
    await agent.send_json({"type": "state", "state": "available"})
    await expect(agent, "state", state="available")
    return agent


async def test_a_chat_from_cli_made_users_to_the_history_and_through_a_crash(tmp_path):
    db = tmp_path / "e2e.db"
    assert cli(db, "db", "upgrade").returncode == 0
    made = cli(db, "user", "add", "alice", "--role", "agent", "--password", PASSWORD)
    assert made.returncode == 0, made.stderr
    assert cli(db, "user", "add", "alice", "--role", "agent", "--password", PASSWORD).returncode == 1

    with server(db) as (url, _, proc):
        # a supervisor added while the server runs can log in at once
        made = cli(db, "user", "add", "sam", "--role", "supervisor", "--password", PASSWORD)
        assert made.returncode == 0, made.stderr
        alice, sam = await login(url, "alice"), await login(url, "sam")
        customers = aiohttp.ClientSession()
        try:
            agent = await available_agent(alice, url)

            customer = await customers.ws_connect(f"{url}/ws/chat")
            await customer.send_json({"type": "start", "name": "Ada", "email": "ada@example.com"})
            started = await expect(customer, "started")
            cid = started["contact_id"]
            await customer.send_json({"type": "message", "text": "my invoice is wrong", "client_id": "c1"})
            await expect(customer, "ack", client_id="c1")

            offer = await expect(agent, "offer")
            assert offer["contact"]["id"] == cid
            # offered to alice: now she may look the customer up
            resp = await alice.get(f"{url}/api/customers/{started['customer_id']}")
            assert resp.status == 200
            await agent.send_json({"type": "accept", "offer_id": offer["offer_id"]})
            assigned = await expect(agent, "assigned")
            assert [m["text"] for m in assigned["messages"]] == ["my invoice is wrong"]
            await agent.send_json({"type": "reply", "contact_id": cid, "text": "Let me fix that."})
            reply = await expect(customer, "message")
            assert reply["text"] == "Let me fix that." and reply["agent_name"] == "alice"

            # someone else giving Ada's email gets a new chat and nothing of hers
            other = await customers.ws_connect(f"{url}/ws/chat")
            await other.send_json({"type": "start", "name": "Mallory", "email": "ada@example.com"})
            theirs = await expect(other, "started")
            assert theirs["contact_id"] != cid and theirs["resumed"] is False
            seen_by_other = [await expect(other, "status", state="queued")]
            await other.send_json({"type": "leave"})   # abandoned: its offer to alice is withdrawn
            seen_by_other.append(await expect(other, "status", state="closed"))
            assert "invoice" not in repr(seen_by_other)
            await expect(agent, "offer_cancelled", contact_id=theirs["contact_id"])

            await agent.send_json({"type": "wrapup", "contact_id": cid, "disposition": "resolved",
                                   "note": "promised a credit note", "promise": True})
            await expect(agent, "closed", contact_id=cid)
            await expect(customer, "status", state="closed")

            timeline = (await (await sam.get(f"{url}/api/customers/{started['customer_id']}")).json())["timeline"]
            types = [e["type"] for e in timeline if e["contact_id"] == cid]
            for step in ("queue.joined", "offer.accepted", "message.in", "message.out", "note",
                         "contact.wrapped_up"):
                assert step in types, (step, types)
            note = next(e for e in timeline if e["type"] == "note")
            assert note["category"] == "promotional"
            # the contact is over and no longer alice's: its customer is hidden from her again
            resp = await alice.get(f"{url}/api/customers/{started['customer_id']}")
            assert resp.status == 403 and (await resp.json())["error"]["code"] == "not_your_customer"
            metrics = await (await sam.get(f"{url}/metrics")).text()
            assert 'cc_queue_asa_seconds{queue="general"}' in metrics

            # a second chat waits in the queue (alice is away) when the server is killed
            await agent.send_json({"type": "state", "state": "away"})
            await expect(agent, "state", state="away")
            waiting = await customers.ws_connect(f"{url}/ws/chat")
            await waiting.send_json({"type": "start", "name": "Bea"})
            queued = await expect(waiting, "started")
            await expect(waiting, "status", state="queued")
        finally:
            await customers.close()
            await alice.close()
            await sam.close()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    with server(db) as (url, _, proc):
        # recovered at start: waiting again without the customer coming back, and offered once alice is back
        sam = await login(url, "sam")
        alice = await login(url, "alice")
        try:
            general = next(q for q in (await (await sam.get(f"{url}/api/queues")).json())["items"]
                           if q["name"] == "general")
            assert general["waiting"] == 1
            contact = (await (await sam.get(f"{url}/api/contacts/{queued['contact_id']}")).json())["contact"]
            assert contact["state"] == "queued"
            agent = await available_agent(alice, url)
            offer = await expect(agent, "offer")
            assert offer["contact"]["id"] == queued["contact_id"]
        finally:
            await alice.close()
            await sam.close()
