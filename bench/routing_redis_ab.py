"""Is a change to the routing store cheaper for Redis? Paired segments of two checkouts, run alternately.

    git worktree add /tmp/before main            # or any ref to compare against
    python3 bench/routing_redis_ab.py /tmp/before .  [--pairs 20] [--segment 640]

Each checkout (A, B) gets a worker process and its own copy of the scenario of bench/routing_redis.py (1,000 agents,
20 skills, 10,000 waiting; one router process, 32 agent-side decisions in flight), built once, both on one
redis-server under two key prefixes: the two function libraries share its keyspace and its Lua heap, so neither
gets a quieter server. Then segments of `--segment` decisions run A, B, B, A, A, B, ...: each pair close in time,
its order alternating.
The figure is Redis's own CPU per decision within the timed phases (INFO, as the bench reads it), per segment;
the summary gives the median ratio B/A of the pairs and in how many pairs B was cheaper.

Why: the 3-process line of the bench moves by ~10 % from run to run on a shared 2-core machine, more than most
changes to the Lua are worth, and a hot loop (bench/routing_lua_pieces.py) misses what a real decision pays for
its garbage and cold memory. Paired segments see a few percent: the same checkout as A and B gave a median
ratio of 1.010 (pairs 0.886-1.080, means 77.1 and 76.5 us, 12 pairs) on the development VM. A change that does not
move the median ratio by more than that, in most pairs, gained nothing measurable. One server for both matters:
with a redis-server each, the same checkout gave 0.911, a bias of the servers and not of the code.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, TextIO


async def worker(checkout: Path, url: str, prefix: str) -> None:
    """Build the state under `prefix` with `checkout`'s code; then one segment per line read."""
    sys.path.insert(0, str(checkout))
    import bench.routing_redis as rr
    from bench.routing import build

    router, _, _ = await build(functools.partial(rr._store, url, prefix), 1000, 10_000)
    await router.store.close()  # type: ignore[attr-defined]
    node, offers = rr.node(url, prefix)
    await rr.agent_side_inflight(node, offers, 320, 0, 1, 32)   # warm: the library loaded, caches filled
    print("ready", flush=True)
    for line in sys.stdin:
        r = await rr.agent_side_inflight(node, offers, int(line), 0, 1, 32)
        print(json.dumps({"redis_us": r["redis_cpu_us"], "client_us": r["cpu_us"], "per_s": r["per_s"]}),
              flush=True)
    await node.store.close()  # type: ignore[attr-defined]


class Side:
    def __init__(self, name: str, checkout: Path, url: str) -> None:
        self.name, self.results = name, []
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", str(checkout), url,
                                      f"ab-{name}:"], cwd=checkout, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def _io(self) -> tuple[TextIO, TextIO]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        return self.proc.stdin, self.proc.stdout

    def ready(self) -> None:
        if self._io()[1].readline().strip() != "ready":
            raise RuntimeError(f"worker {self.name} failed to build its state")

    def segment(self, decisions: int) -> dict[str, Any]:
        stdin, stdout = self._io()
        stdin.write(f"{decisions}\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.name} died")
        self.results.append(json.loads(line))
        return self.results[-1]

    def close(self) -> None:
        self._io()[0].close()
        self.proc.wait(timeout=60)


def compare(a: Path, b: Path, pairs: int, decisions: int, url: str) -> None:
    sides = Side("A", a, url), Side("B", b, url)
    try:
        for side in sides:
            side.ready()
        print(f"A = {a}\nB = {b}\n{decisions} agent-side decisions per segment, 32 in flight, 1 router process "
              f"per side, both on {url}; load average {os.getloadavg()[0]:.1f}")
        for i in range(pairs):
            for side in (sides if i % 2 == 0 else sides[::-1]):
                side.segment(decisions)
            ra, rb = sides[0].results[-1], sides[1].results[-1]
            print(f"  pair {i + 1:>2}: Redis cpu per decision A {ra['redis_us']:6.1f} us  B {rb['redis_us']:6.1f} us"
                  f"  (B/A {rb['redis_us'] / ra['redis_us']:.3f}); decisions/s A {ra['per_s']:,.0f}  "
                  f"B {rb['per_s']:,.0f}")
    finally:
        for side in sides:
            side.close()
    ra, rb = sides[0].results, sides[1].results
    ratios = [y["redis_us"] / x["redis_us"] for x, y in zip(ra, rb)]
    mean = {s.name: statistics.fmean(r["redis_us"] for r in s.results) for s in sides}
    print(f"Redis cpu per decision: A {mean['A']:.1f} us, B {mean['B']:.1f} us; B/A median "
          f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f}); B cheaper in "
          f"{sum(r < 1 for r in ratios)} of {len(ratios)} pairs")
    print(f"client cpu per decision: A {statistics.fmean(r['client_us'] for r in ra):.1f} us, "
          f"B {statistics.fmean(r['client_us'] for r in rb):.1f} us; decisions/s (1 process): "
          f"A {statistics.fmean(r['per_s'] for r in ra):,.0f}, B {statistics.fmean(r['per_s'] for r in rb):,.0f}")


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:   # a side's process: --worker CHECKOUT URL PREFIX
        asyncio.run(worker(Path(sys.argv[2]).resolve(), sys.argv[3], sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="checkout A (the reference)")
    parser.add_argument("b", type=Path, help="checkout B (the change)")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--segment", type=int, default=640, help="decisions per segment (default 640)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.servers import redis_server
    with redis_server() as url:
        compare(args.a.resolve(), args.b.resolve(), args.pairs, args.segment, url)


if __name__ == "__main__":
    main()
