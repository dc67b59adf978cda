"""What each piece of the routing Lua costs inside Redis, one piece at a time, on the bench's state.

    python3 bench/routing_lua_pieces.py [--url redis://...] [--loops 2000] [--repeats 3]

Builds the scenario of bench/routing_redis.py (1,000 agents, 20 skills, 10,000 waiting) on a redis-server it
starts, then runs each piece (the library's own helpers: reading an agent, the choice `best_for`, a bucket head, a
reply's JSON, ...) `--loops` times in one EVAL and reads Redis's own time for it (INFO commandstats); an empty loop
is subtracted, and the best of `--repeats` runs is printed. Pieces that write are left out: they change the state.

Why: a decision's function (`close_and_claim`, ~70-90 us of Redis CPU on the development VM) has no single hot
step, and the bench's figures move by a few percent from run to run on a shared machine, more than most single
changes to the Lua are worth. A piece in a hot loop is timed to a few hundredths of a microsecond, so this tool
shows where the time goes. Its figure is a lower bound: in a real decision the keys, tables and strings it
touches are cold in the CPU's caches, and its garbage is collected later. So judge a change in the bench's own
scenario, in paired segments (`bench/routing_redis_ab.py`): a leaner `best_for` that was 28 % faster here gained
nothing there (docs/routing.md, "Issue 3: the 3-process target").
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis.asyncio as aioredis

from bench.routing import build
from bench.routing_redis import _store
from routing.redis_scripts import CHOICE, HELPERS
from tests.servers import redis_server

# name -> Lua run in the loop; AID, TID, B, NOW, A (an agent's table, made free for a voice contact), CFG (its
# config) and T (a queued task's table) are set up once before it
PIECES: dict[str, str] = {
    "read an agent (load_agent: HGETALL, config)": "local ak, a, cfg = load_agent(AID)",
    "read a task (task_map: HGETALL)": "local t = task_map(TID)",
    "sum of an agent's loads (held_of)": "local h = held_of(A)",
    "which channels an agent fits (fits)": "local f = fits(A, CFG)",
    "derived agent state (derived)": "local d = derived(A)",
    "the choice for a free agent (best_for)": "local b = best_for(A, CFG, NOW)",
    "  its bucket lists (SUNION of the agent's queues)":
        "local l = {} for i, q in ipairs(CFG.queues) do l[i] = key('buckets', q) end "
        "local u = redis.call('SUNION', unpack(l))",
    "  one bucket's head (head_for)": "local id = head_for(B, AID, NOW)",
    "  the heads' queues' ageing (HMGET)": "local v = redis.call('HMGET', key('ageing'), unpack(CFG.queues))",
    "a key name (key)": "local k = key('task', TID)",
    "a reply's agent view as JSON (cjson.encode)": "local s = cjson.encode({v = {a = {h = A, t = {TID}}}})",
    "a task as JSON (cjson.encode)": "local s = cjson.encode(T)",
    "a redis.call of EXISTS": "redis.call('EXISTS', 'none')",
}


def script(body: str, loops: int) -> str:
    """One EVAL: the library's helpers, the set-up, `body` `loops` times."""
    return HELPERS + CHOICE + """
local AID, TID, B, NOW = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local ak, A, CFG = load_agent(AID)
for f, _ in pairs(A) do if string.sub(f, 1, 2) == 'l:' then A[f] = '0' end end
A.presence = 'available'
local T = task_map(TID)
""" + f"for i = 1, {loops} do {body} end\nreturn 1"


async def pieces(url: str, loops: int, repeats: int) -> None:
    prefix = "pieces:"
    router, _, _ = await build(functools.partial(_store, url, prefix), 1000, 10_000)
    task = next(t for t in await router.store.active_tasks() if t.state == "queued")
    # an agent of the task's queue: its choice reads that queue's buckets
    agent = next(a for a in await router.store.list_agents() if task.queue in a.config.queues)
    await router.store.close()  # type: ignore[attr-defined]
    admin = aioredis.Redis.from_url(url, decode_responses=True)
    args = (prefix, agent.id, task.id, task.bucket, repr(router.clock()))

    async def timed(body: str) -> float:
        best = float("inf")
        for _ in range(repeats):
            await admin.config_resetstat()
            await admin.eval(script(body, loops), 0, *args)
            best = min(best, (await admin.info("commandstats"))["cmdstat_eval"]["usec"] / loops)
        return best

    empty = await timed("")
    print(f"routing Lua pieces inside Redis: {loops:,} loops each, best of {repeats}, an empty loop "
          f"({empty:.2f} us) subtracted; agent {agent.id} ({', '.join(agent.config.queues)}), task {task.id}")
    for name, body in PIECES.items():
        print(f"    {name:<52} {await timed(body) - empty:6.2f} us")
    await admin.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a Redis to use (default: start one)")
    parser.add_argument("--loops", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.url:
        asyncio.run(pieces(args.url, args.loops, args.repeats))
    else:
        with redis_server() as url:
            asyncio.run(pieces(url, args.loops, args.repeats))


if __name__ == "__main__":
    main()
