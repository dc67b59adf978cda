"""Router processes sharing one real Redis: three nodes racing (one SIGKILLed half way), and a node SIGKILLed and
taken over after Redis itself was SIGKILLed and restarted from its AOF. Each node is `python -m
tests.routing.redis_node` (see there); the checks read the final Redis state, atomic audits taken while the nodes
ran, and the nodes' event logs."""
from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import sys
import uuid
from pathlib import Path

import redis.asyncio as aioredis

from routing import RedisStore
from tests.routing.redis_audit import audit
from tests.servers import redis_server

ROOT = Path(__file__).resolve().parents[2]
RACE_ERRORS = {"offer_not_found", "offer_expired", "offer_closed", "task_not_active", "task_not_assigned",
               "task_not_in_wrapup"}
# an abandonment during an offer emits offer.revoked (then task.abandoned): each closed offer once
OFFER_CLOSERS = ("offer.accepted", "offer.rejected", "offer.timeout", "offer.revoked")


async def node(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.routing.redis_node", *args,
                                                cwd=ROOT, stdout=asyncio.subprocess.PIPE)


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def offers_made(log: Path) -> list[str]:
    """The offers the node of this log has made (and logged)."""
    return [e["offer_id"] for e in read_log(log) if e["type"] == "offer.made"] if log.exists() else []


async def n2_holds_offers(store: RedisStore, log: Path) -> bool:
    """Whether the node of this log has made 20 offers and holds at least 2 open ones right now."""
    made = offers_made(log)
    if len(made) < 20:
        return False
    mine = made[0].rsplit("-", 1)[0]
    open_offers = [o.id for a in await store.list_agents() for o in await store.offers_of(a.id)]
    return sum(1 for o in open_offers if o.rsplit("-", 1)[0] == mine) >= 2


async def test_three_racing_router_processes_one_killed(redis_url, tmp_path):
    """n0, n1, n2 race; n2 is SIGKILLed while it holds open offers: n0 and n1 go on until they have had ample
    time (many offer timeouts) to close them. No fixed run length: on a loaded machine n2 may need long to get
    there, so the survivors race until the test tells them to stop (a file), and only then are the checks made."""
    prefix = f"race-{uuid.uuid4().hex[:8]}:"
    store = RedisStore(aioredis.Redis.from_url(redis_url), prefix=prefix)
    logs = [tmp_path / f"n{i}.jsonl" for i in range(3)]
    stop = tmp_path / "stop"
    procs = [await node("race", "--url", redis_url, "--prefix", prefix, "--node", f"n{i}", "--until-file",
                        str(stop) if i < 2 else str(tmp_path / "never"), "--seed", str(i), "--log", str(logs[i]))
             for i in range(3)]
    loop = asyncio.get_running_loop()
    start = loop.time()
    give_up, stop_at = start + 120.0, None
    audits, problems = 0, []
    try:
        while any(p.returncode is None for p in procs[:2]):   # audit the shared state while the nodes race
            problems += await audit(store)
            audits += 1
            if procs[2].returncode is None and len(offers_made(logs[2])) >= 20:
                # frozen while we look: the offers seen open stay open until the kill (but for the one command
                # it may have on the wire, which can close one of them: hence "at least 2")
                procs[2].send_signal(signal.SIGSTOP)
                if await n2_holds_offers(store, logs[2]):
                    procs[2].kill()   # mid-run, while it has offers open
                    await procs[2].wait()
                    # 10 offer timeouts (0.3 s) for the survivors to expire n2's offers; 4 s of racing at least
                    stop_at = max(loop.time() + 3.0, start + 4.0)
                else:
                    procs[2].send_signal(signal.SIGCONT)
            if stop_at is not None and loop.time() >= stop_at:
                stop.touch()
            assert loop.time() < give_up, "n2 never held open offers, or the survivors never stopped"
            await asyncio.sleep(0.02)
        outputs = [json.loads((await p.stdout.read()).decode()) for p in procs[:2]]
        assert [p.returncode for p in procs] == [0, 0, -signal.SIGKILL]
        problems += await audit(store)
        assert problems == [] and audits >= 10

        events = [e for log in logs for e in read_log(log)]
        kinds = collections.Counter(e["type"] for e in events)
        # real racing happened: every outcome occurred, every node made offers, nodes closed each other's offers
        assert kinds["offer.made"] >= 100 and kinds["offer.accepted"] and kinds["offer.rejected"]
        assert kinds["offer.timeout"] and kinds["task.wrapped_up"] and kinds["task.abandoned"], kinds
        makers = {e["offer_id"]: e["node"] for e in events if e["type"] == "offer.made"}
        assert len(makers) == kinds["offer.made"] and set(makers.values()) == {"n0", "n1", "n2"}
        closers = [e for e in events if e["type"] in OFFER_CLOSERS and e["offer_id"]]
        assert any(makers.get(e["offer_id"], e["node"]) != e["node"] for e in closers)
        assert all(set(o["errors"]) <= RACE_ERRORS for o in outputs)   # what a lost race looks like, nothing else

        made = {e["offer_id"]: e["task_id"] for e in events if e["type"] == "offer.made"}
        n2 = {offer.rsplit("-", 1)[0] for offer, node in makers.items() if node == "n2"}
        for e in closers:   # n2 may have died between making an offer and logging it
            if e["offer_id"] not in made and e["offer_id"].rsplit("-", 1)[0] in n2:
                made[e["offer_id"]] = e["task_id"]
        closed = [e["offer_id"] for e in closers]
        assert len(closed) == len(set(closed)) and set(closed) <= set(made)
        # the survivors closed offers n2 had left open (expired through their ticks, or answered), and none of
        # n2's offers is open any more (one n2 closed but died before logging is simply gone)
        closed_by = {e["offer_id"]: e["node"] for e in closers}
        assert {o for o, node in makers.items() if node == "n2" and closed_by.get(o) in ("n0", "n1")}
        assert not [o for a in await store.list_agents() for o in await store.offers_of(a.id)
                    if o.id.rsplit("-", 1)[0] in n2]
        assigned = collections.Counter(e["task_id"] for e in events if e["type"] == "task.assigned")
        assert assigned and max(assigned.values()) == 1   # a contact is never won by two agents
        # per contact, offers made minus offers closed is 1 exactly when it is offered now, else 0
        open_now = collections.Counter(made.values())
        open_now.subtract(e["task_id"] for e in closers)
        for task in await store.active_tasks():
            assert open_now.pop(task.id, 0) == (1 if task.state == "offered" else 0), task
        # n2 was frozen with (at most) one command on the wire: Redis ran it, and it may have closed one offer
        # (a reject, an accept, a timeout's release) that n2 never lived to log
        unlogged = [task_id for task_id, n in open_now.items() if n]
        assert len(unlogged) <= 1 and set(open_now.values()) <= {0, 1}, unlogged
        for agent in await store.list_agents():
            assert all(agent.load.get(ch, 0) <= cap for ch, cap in agent.config.capacity.items())
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
        keys = [k async for k in store.redis.scan_iter(match=prefix + "*")]
        if keys:
            await store.redis.delete(*keys)
        await store.close()


async def test_sigkilled_router_is_taken_over_after_a_redis_restart(tmp_path):
    data = tmp_path / "redis"
    data.mkdir()
    log = tmp_path / "fill.jsonl"
    with redis_server(appendonly=True, directory=str(data)) as url:
        filler = await node("fill", "--url", url, "--tasks", "300", "--offer-timeout", "1.5", "--log", str(log))
        try:
            assert (await asyncio.wait_for(filler.stdout.readline(), 120)).strip() == b"filled"
            await asyncio.sleep(0.1)   # mid-loop: it keeps enqueueing when it dies
        finally:
            os.kill(filler.pid, signal.SIGKILL)
            await filler.wait()
        store = RedisStore(aioredis.Redis.from_url(url))
        assert await audit(store) == []
        before = await store.active_tasks()
        redis_pid = (await store.redis.info("server"))["process_id"]
        await store.close()
        os.kill(redis_pid, signal.SIGKILL)   # Redis itself crashes too: only its AOF (appendfsync always) is left
    offered = {t.id for t in before if t.state == "offered"}
    assert len(offered) == 3 and len(before) > 300

    with redis_server(appendonly=True, directory=str(data)) as url:   # Redis restarted from its AOF
        taker = await node("recover", "--url", url, "--seconds", "90", "--log", str(tmp_path / "recover.jsonl"))
        out, _ = await asyncio.wait_for(taker.communicate(), 180)   # generous: a loaded 2-core machine
        assert taker.returncode == 0
        store = RedisStore(aioredis.Redis.from_url(url))
        assert await audit(store) == []
        await store.close()
    after = json.loads(out)

    # every contact is still there, queued in its original order with its original enqueue time; the offers
    # open at the crash expired on the new node and their contacts went back to their places
    expected = sorted(before, key=lambda t: (t.key, t.enqueued_at, t.id))
    assert after["queued"] == [[t.id, t.enqueued_at, t.key] for t in expected]
    assert set(after["states"].values()) == {"queued"}
    timeouts = {e["task_id"] for e in read_log(tmp_path / "recover.jsonl") if e["type"] == "offer.timeout"}
    assert timeouts == offered
    logged = {e["task_id"]: e["at"] for e in read_log(log) if e["type"] == "task.queued"}
    assert len(logged) >= len(before) - 1   # the kill may cut the last line
    assert all(t.enqueued_at == logged[t.id] for t in before if t.id in logged)
