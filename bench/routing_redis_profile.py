"""Where Redis spends its time per routing decision: commands per decision and the store's functions' own time.

    python3 bench/routing_redis_profile.py [--url redis://...] [--rounds 640] [--inflight 32] [--side agent]

Builds the scenario of bench/routing_redis.py (1,000 agents, 20 skills, 10,000 waiting) on a redis-server it
starts, runs the in-flight phases of each side in this process, and prints from Redis itself (INFO commandstats
and SLOWLOG with every command logged, reset before the timed phases): the commands the functions ran per decision
with their time, each function's median time, and Redis's CPU per decision (INFO used_cpu_*, network included).
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis.asyncio as aioredis

from bench.routing import build
from bench.routing_redis import _store, agent_side_inflight, contact_side_inflight, node
from routing.redis_scripts import SCRIPTS, function_name
from tests.servers import redis_server


def _function_names() -> dict[str, str]:
    return {function_name(name): name for name in SCRIPTS}


async def profile(url: str, side: str, rounds: int, inflight: int) -> None:
    """Build one side's state, run its timed phases, print what Redis did per decision."""
    prefix = f"profile-{side}:"
    router, _, _ = await build(functools.partial(_store, url, prefix), 1000, 10_000, chat_first=side == "contact")
    await router.store.close()  # type: ignore[attr-defined]
    admin = aioredis.Redis.from_url(url, decode_responses=True)
    await admin.config_set("slowlog-log-slower-than", 0)
    await admin.config_set("slowlog-max-len", 100_000)
    await admin.slowlog_reset()
    await admin.config_resetstat()
    cpu0 = await admin.info("cpu")
    worker, offers = node(url, prefix)
    run = agent_side_inflight if side == "agent" else contact_side_inflight
    result = await run(worker, offers, rounds, 0, 1, inflight)
    await worker.store.close()  # type: ignore[attr-defined]
    cpu1 = await admin.info("cpu")
    stats = await admin.info("commandstats")
    log = await admin.slowlog_get(100_000)
    await admin.config_set("slowlog-log-slower-than", 10_000)
    await admin.aclose()
    decided = result["n"]
    names = _function_names()
    per_script: dict[str, list[int]] = defaultdict(list)
    for entry in log:
        command = entry["command"]
        args = (command.decode(errors="replace") if isinstance(command, bytes) else command).split()
        if args and args[0].upper() == "FCALL":
            per_script[names.get(args[1], args[1])].append(entry["duration"])
    print(f"== {side}-side, {decided} decisions ({inflight} in flight), whole run (timed phases and the work "
          f"between them)")
    print(f"  Redis cpu per decision (INFO, whole run): "
          f"{sum(cpu1[k] - cpu0[k] for k in ('used_cpu_sys', 'used_cpu_user')) / decided * 1e6:.0f} us; "
          f"timed phases only: {result['redis_cpu_us']:.0f} us; {result['per_s']:,.0f} decisions/s")
    print("  functions: calls per decision, median us, total us per decision")
    for name, durations in sorted(per_script.items(), key=lambda kv: -sum(kv[1])):
        print(f"    {name:<16} {len(durations) / decided:5.2f}  {statistics.median(durations):6.1f}  "
              f"{sum(durations) / decided:6.1f}")
    print("  commands (inside functions too): calls per decision, us each, us per decision")
    rows = [(k.removeprefix("cmdstat_"), v) for k, v in stats.items()]
    for name, v in sorted(rows, key=lambda kv: -kv[1]["usec"]):
        print(f"    {name:<16} {v['calls'] / decided:6.2f}  {v['usec_per_call']:6.2f}  {v['usec'] / decided:6.1f}")


async def main(args: argparse.Namespace) -> None:
    if args.url:
        for side in args.side:
            await profile(args.url, side, args.rounds, args.inflight)
        return
    with redis_server() as url:
        for side in args.side:
            await profile(url, side, args.rounds, args.inflight)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an existing Redis, empty of these keys (default: start a redis-server)")
    parser.add_argument("--rounds", type=int, default=640)
    parser.add_argument("--inflight", type=int, default=32)
    parser.add_argument("--side", nargs="+", default=["agent", "contact"], choices=("agent", "contact"))
    asyncio.run(main(parser.parse_args()))
