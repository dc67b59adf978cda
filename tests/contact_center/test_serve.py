"""The real server as a subprocess: `contact-center serve` with --demo, and durability across a SIGKILL."""
from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from tests.contact_center.conftest import pg_admin
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0


def database_url(db: Path | str) -> str:
    """The CC_DATABASE_URL of a SQLite file or of a database URL."""
    return db if isinstance(db, str) else f"sqlite+aiosqlite:///{db}"


def _die_with_parent() -> None:
    """In the child before exec: the server gets SIGTERM if this process dies (no orphan servers)."""
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def server(db: Path | str, *args: str, **env_vars: str) -> Iterator[tuple[str, list[str], subprocess.Popen]]:
    """Run `python -m contact_center serve` on a SQLite file (a Path) or a database URL until it prints its URL;
    yields (base URL, stdout lines, process)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CC_REDIS_URL"}   # in-memory routing unless given
    env.update({"CC_DATABASE_URL": database_url(db), "CC_SECRET_KEY": "durable", "CC_LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1", **env_vars})
    proc = subprocess.Popen([sys.executable, "-m", "contact_center", "serve", "--port", str(port), *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_die_with_parent)  # noqa: PLW1509  (only a prctl call)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"server exited with {proc.wait()}: {''.join(lines)}")
            lines.append(line)
            if "running at" in line:
                break
        else:
            raise AssertionError(f"server did not start: {''.join(lines)}")
        yield f"http://127.0.0.1:{port}", lines, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()


async def test_serve_demo_prints_credentials_that_log_in(tmp_path):
    with server(tmp_path / "demo.db", "--demo") as (url, lines, proc):
        printed = "".join(lines)
        match = re.search(r"demo agent: username '([^']+)' password '([^']+)'", printed)
        assert match, printed
        assert "running at http://127.0.0.1:" in printed
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            resp = await http.post(f"{url}/api/login", json={"username": match[1], "password": match[2]})
            assert resp.status == 200
            assert (await resp.json())["user"]["role"] == "agent"
            assert (await (await http.get(f"{url}/healthz")).json())["status"] == "ok"
            # the demo's second queue shows queue configuration: a skill expression and an overflow
            queues = {q["name"]: q for q in (await (await http.get(f"{url}/api/queues")).json())["items"]}
            assert queues["billing"]["config"]["skills"] == "billing >= 3"
            assert queues["billing"]["config"]["overflow"] == "general" and "general" in queues
            assert (await http.get(f"{url}/chat")).status == 200
            # an agent added from the command line while the server runs is routable from their login
            subprocess.run([sys.executable, "-m", "contact_center", "user", "add", "bob", "--role", "agent",  # noqa: ASYNC221
                            "--password", "bob-password"], cwd=ROOT, check=True, capture_output=True,
                           env={**os.environ, "CC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"})
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as bob, \
                aiohttp.ClientSession() as customer:
            assert (await bob.post(f"{url}/api/login", json={"username": "bob", "password": "bob-password"})).ok
            desk = await bob.ws_connect(f"{url}/ws/agent")
            await desk.send_json({"type": "state", "state": "available"})
            chat = await customer.ws_connect(f"{url}/ws/chat")
            await chat.send_json({"type": "start", "name": "Visitor"})
            while (offer := await desk.receive_json(timeout=10))["type"] != "offer":
                pass
            assert offer["contact"]["customer"]["name"] == "Visitor"
            # a graceful stop tells open sockets the server is going away (1001), then exits 0
            proc.send_signal(signal.SIGTERM)
            for ws in (chat, desk):
                while (msg := await ws.receive(timeout=10)).type == aiohttp.WSMsgType.TEXT:
                    pass
                assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == aiohttp.WSCloseCode.GOING_AWAY
        assert proc.wait(15) == 0


_databases = itertools.count()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path) -> Iterator[Path | str]:
    """A fresh, empty database for one server: a SQLite file, or a new database on the test PostgreSQL."""
    if request.param == "sqlite":
        yield tmp_path / "durable.db"
        return
    url = request.getfixturevalue("postgres_url")
    name = f"cc_serve_{os.getpid()}_{next(_databases)}"
    pg_admin(url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    yield make_url(url).set(database=name).render_as_string(hide_password=False)
    pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_an_acknowledged_message_survives_sigkill(database):
    db = database
    with server(db) as (url, _, proc):
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{url}/ws/chat")
            await ws.send_json({"type": "start", "name": "Grace"})
            started = await ws.receive_json(timeout=10)
            assert started["type"] == "started"
            await ws.send_json({"type": "message", "text": "please keep this", "client_id": "k1"})
            while (msg := await ws.receive_json(timeout=10))["type"] != "ack":
                pass
            proc.send_signal(signal.SIGKILL)  # right after the ack: no chance to flush anything more
            proc.wait(10)
    with server(db) as (url, _, proc):
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{url}/ws/chat")
            await ws.send_json({"type": "start", "token": started["token"]})
            resumed = await ws.receive_json(timeout=10)
            assert resumed["type"] == "started" and resumed["contact_id"] == started["contact_id"], (resumed, started)
            history = await ws.receive_json(timeout=10)
            assert history["type"] == "history"
            assert [(m["id"], m["text"]) for m in history["messages"]] == [(msg["id"], "please keep this")]
            # the chat, unknown to the restarted (in-memory) routing, is queued again
            status = await ws.receive_json(timeout=10)
            assert status["type"] == "status" and status["state"] == "queued"
            await ws.close()
