"""What the app-level tests share: a whole app on a temporary SQLite file, users, logged-in clients, and
websocket helpers that wait for one message type while keeping the others."""
from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from contact_center.app import create_app
from contact_center.keys import HISTORY, LIFECYCLE, ROUTER, SETTINGS
from contact_center.settings import Settings
from contact_center.staffing import register_agent

PASSWORD = "correct horse battery"
TIMEOUT_S = 5.0


@pytest.fixture
def cc_settings(request, tmp_path) -> Settings:
    """Settings of a test app: its own SQLite file, a known secret, a small message limit; a test changes more
    with `@pytest.mark.parametrize("cc_settings", [{"field": value}], indirect=True)`."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/cc.db", secret_key="test-secret",
                        offer_timeout_s=5.0, chat_abandon_s=10.0, agent_grace_s=10.0, max_message_chars=200)
    return settings.replace(**getattr(request, "param", {}))


@pytest.fixture
async def cc(aiohttp_client, cc_settings) -> TestClient:
    """A test client of the whole app (started: history migrated, routing running)."""
    return await aiohttp_client(create_app(cc_settings))


async def add_user(cc: TestClient, username: str, role: str = "agent", *, skills: dict[str, int] | None = None,
                   queues: list[str] | None = None) -> Any:
    """A user in the history, registered in routing as the app does at start."""
    app = cc.server.app
    user = await app[HISTORY].create_user(username, role, PASSWORD, skills or {}, queues or [])
    await register_agent(app[ROUTER], user, app[SETTINGS])
    return user


async def logged_in(aiohttp_client, cc: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """A second client of the same server with its own cookie jar, logged in as `username`."""
    client = await aiohttp_client(cc.server)
    resp = await client.post("/api/login", json={"username": username, "password": password})
    assert resp.status == 200, await resp.text()
    return client


async def settle(cc: TestClient) -> None:
    """Wait until the lifecycle has written and notified every routing event so far."""
    await cc.server.app[LIFECYCLE].drain()


class Socket:
    """A JSON websocket client that waits for a message type and keeps what it skipped."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def next(self, timeout: float = TIMEOUT_S) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=timeout)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"socket ended: {msg.type} {msg.data!r}")
        data = json.loads(msg.data)
        self.seen.append(data)
        return data

    async def expect(self, type_: str, timeout: float = TIMEOUT_S, **match: Any) -> dict[str, Any]:
        """The next message of `type_` (with the given field values), skipping others."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no {type_} {match} within {timeout} s; saw {self.seen[-10:]}")
            try:
                data = await self.next(left)
            except TimeoutError:
                raise AssertionError(f"no {type_} {match} within {timeout} s; saw {self.seen[-10:]}") from None
            if data.get("type") == type_ and all(data.get(k) == v for k, v in match.items()):
                return data

    async def quiet(self, timeout: float = 0.2) -> list[dict[str, Any]]:
        """Whatever arrives within `timeout` (expected: nothing unexpected)."""
        got = []
        while True:
            try:
                got.append(await self.next(timeout))
            except (TimeoutError, AssertionError):
                return got

    async def until_closed(self, timeout: float = TIMEOUT_S) -> list[dict[str, Any]]:
        """Read (answering the server's close frame) until the server closed the socket; returns what came."""
        got = []
        while True:
            msg = await self.ws.receive(timeout=timeout)
            if msg.type != aiohttp.WSMsgType.TEXT:
                return got
            got.append(json.loads(msg.data))

    async def close(self) -> None:
        await self.ws.close()


async def chat(cc: TestClient, name: str = "Ada", email: str | None = None,
               token: str | None = None) -> tuple[Socket, dict[str, Any]]:
    """A customer chat socket, started (or resumed); returns it with the `started` message."""
    sock = Socket(await cc.ws_connect("/ws/chat"))
    start: dict[str, Any] = {"type": "start", "name": name}
    if email:
        start["email"] = email
    if token:
        start["token"] = token
    await sock.send(start)
    return sock, await sock.expect("started")


async def handle_one_then_hold_another(cc: TestClient, agent: Socket) -> None:
    """The agent (an available desktop socket) serves one chat to the end and holds a second: routing then has
    figures of every kind for it and its queue (offered, accepted, handled, AHT, busy time)."""
    _customer, started = await chat(cc)
    await agent.send({"type": "accept", "offer_id": (await agent.expect("offer"))["offer_id"]})
    await agent.expect("assigned")
    await agent.send({"type": "wrapup", "contact_id": started["contact_id"], "disposition": "done"})
    await agent.expect("closed", contact_id=started["contact_id"])
    await chat(cc, name="Second")
    await agent.send({"type": "accept", "offer_id": (await agent.expect("offer"))["offer_id"]})
    await agent.expect("assigned")


async def agent_socket(client: TestClient, state: str | None = "available") -> Socket:
    """A logged-in agent's desktop socket, set to `state`."""
    sock = Socket(await client.ws_connect("/ws/agent"))
    await sock.expect("state")
    if state:
        await sock.send({"type": "state", "state": state})
        await sock.expect("state", state=state)
    return sock
