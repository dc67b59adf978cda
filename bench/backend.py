"""Benchmark of the server path a customer feels: chat messages acknowledged (durably recorded) per second and the
ack latency, and whole chats (start -> offer -> accept -> messages both ways -> wrap-up) per second.

    python3 bench/backend.py [--chats 50] [--messages 20] [--agents 10] [--flows 100] [--database-url URL]

It runs the real server (`python -m contact_center serve`) as a subprocess on a temporary SQLite file (or
`--database-url`) and drives it over its public websockets, as browsers would.

1. Acks: `--chats` customers at once each send `--messages` messages one after another, each waiting for its
   `ack`. Targets: >= 300 acked messages/s and ack p99 <= 100 ms on SQLite (2 shared cores). Keep
   `--messages` <= 20: a chat socket allows a burst of 20 messages, then 5 a second.
2. Flows: `--agents` agents (capacity 3 chats each) work `--flows` chats end to end. Target >= 10 chats/s.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import free_port

PASSWORD = "bench-password"


def _die_with_parent() -> None:
    """In the child before exec: the server gets SIGTERM if this process dies (no orphan servers)."""
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_server(database_url: str, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "CC_DATABASE_URL": database_url, "CC_LOG_LEVEL": "WARNING", "CC_SECRET_KEY": "bench",
           "PYTHONUNBUFFERED": "1", "CC_MAX_MESSAGE_CHARS": "4000"}
    # The server's output goes to a file: a pipe nobody reads would block it once full.
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "contact_center", "serve", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)  # noqa: PLW1509  (only a prctl call)
    deadline = time.monotonic() + 30
    while "running at" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"server did not start:\n{log.read_text()}")
        time.sleep(0.05)
    return proc


def add_agents(database_url: str, count: int) -> list[str]:
    names = [f"bench-agent-{i}" for i in range(count)]
    env = {**os.environ, "CC_DATABASE_URL": database_url}
    for name in names:
        subprocess.run([sys.executable, "-m", "contact_center", "user", "add", name, "--role", "agent",
                        "--password", PASSWORD], cwd=ROOT, env=env, check=True, capture_output=True)
    return names


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def next_of(ws: aiohttp.ClientWebSocketResponse, type_: str) -> dict:
    while True:
        frame = await ws.receive(timeout=30)
        if frame.type != aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"socket closed while waiting for {type_}: {frame.type} {frame.data} {frame.extra}")
        msg = json.loads(frame.data)
        if msg["type"] == type_:
            return msg


async def customer(http: aiohttp.ClientSession, url: str, messages: int, latencies: list[float]) -> None:
    ws = await http.ws_connect(f"{url}/ws/chat")
    await ws.send_json({"type": "start", "name": "Bench"})
    await next_of(ws, "started")
    for i in range(messages):
        t0 = time.perf_counter()
        await ws.send_json({"type": "message", "text": f"message {i} " + "x" * 80, "client_id": str(i)})
        await next_of(ws, "ack")
        latencies.append(time.perf_counter() - t0)
    await ws.send_json({"type": "leave"})
    await ws.close()


async def acks(url: str, chats: int, messages: int) -> dict:
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(customer(http, url, messages, latencies) for _ in range(chats)))
        elapsed = time.perf_counter() - t0
    return {"acked_per_s": round(len(latencies) / elapsed, 1), "ack_p50_ms": round(pct(latencies, .5) * 1e3, 1),
            "ack_p99_ms": round(pct(latencies, .99) * 1e3, 1), "messages": len(latencies)}


async def agent(url: str, name: str, stop: asyncio.Event, handled: list[int]) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        resp = await http.post(f"{url}/api/login", json={"username": name, "password": PASSWORD})
        assert resp.status == 200, await resp.text()
        ws = await http.ws_connect(f"{url}/ws/agent")
        await ws.send_json({"type": "state", "state": "available"})
        while not stop.is_set():
            try:
                frame = await ws.receive(timeout=0.5)
            except TimeoutError:
                continue
            if frame.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"agent socket closed: {frame.type} {frame.data} {frame.extra}")
            msg = json.loads(frame.data)
            if msg["type"] == "offer":
                await ws.send_json({"type": "accept", "offer_id": msg["offer_id"]})
            elif msg["type"] == "assigned":  # the customer's first message is in it (or comes next; no matter)
                cid = msg["contact"]["id"]
                await ws.send_json({"type": "reply", "contact_id": cid, "text": "hello from the agent"})
                await ws.send_json({"type": "wrapup", "contact_id": cid, "disposition": "bench"})
            elif msg["type"] == "closed":
                handled.append(1)
        await ws.close()


async def flow(http: aiohttp.ClientSession, url: str) -> None:
    ws = await http.ws_connect(f"{url}/ws/chat")
    await ws.send_json({"type": "start", "name": "Flow"})
    await next_of(ws, "started")
    await ws.send_json({"type": "message", "text": "I need help", "client_id": "1"})
    await next_of(ws, "ack")
    await next_of(ws, "message")      # the agent's reply
    while (await next_of(ws, "status"))["state"] != "closed":
        pass
    await ws.close()


async def flows(url: str, names: list[str], count: int) -> dict:
    stop, handled = asyncio.Event(), []
    agents = [asyncio.create_task(agent(url, n, stop, handled)) for n in names]
    await asyncio.sleep(1.0)  # logins (argon2) and state changes
    async with aiohttp.ClientSession() as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(flow(http, url) for _ in range(count)))
        elapsed = time.perf_counter() - t0
    stop.set()
    await asyncio.gather(*agents)
    return {"chats_per_s": round(count / elapsed, 1), "chats": count, "seconds": round(elapsed, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--flows", type=int, default=100)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url_db = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        subprocess.run([sys.executable, "-m", "contact_center", "db", "upgrade"], cwd=ROOT, check=True,
                       env={**os.environ, "CC_DATABASE_URL": url_db}, capture_output=True)
        names = add_agents(url_db, args.agents)
        port = free_port()
        log = Path(tmp) / "server.log"
        proc = start_server(url_db, port, log)
        try:
            url = f"http://127.0.0.1:{port}"
            result = {"database": url_db.split(":")[0], "acks": asyncio.run(acks(url, args.chats, args.messages)),
                      "flows": asyncio.run(flows(url, names, args.flows))}
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(20)
            errors = [line for line in log.read_text().splitlines() if "ERROR" in line]
            if errors:
                print(f"server logged {len(errors)} error(s), first: {errors[0]}", file=sys.stderr)
    print(json.dumps(result, indent=2))
    a, f = result["acks"], result["flows"]
    print(f"targets: acked/s >= 300: {'met' if a['acked_per_s'] >= 300 else 'MISSED'}; "
          f"ack p99 <= 100 ms: {'met' if a['ack_p99_ms'] <= 100 else 'MISSED'}; "
          f"chats/s >= 10: {'met' if f['chats_per_s'] >= 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
