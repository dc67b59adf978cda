"""Routing on Redis: decisions per second and enqueue->offer latency with 1 and 3 router processes.

    python3 bench/routing.py                  # memory figures, then these (on a redis-server it starts)
    python3 bench/routing_redis.py [--url redis://...] [--quick] [--inflight 32]    # these alone

The scenario of bench/routing.py (1,000 agents, 20 skills, 10,000 waiting), built once per side on one Redis:
  * agent-side: an agent ends wrap-up (`wrapup_done`) and is offered the best waiting contact (the decision);
  * contact-side: a voice contact arrives while agents have voice free; `enqueue` returns with it offered.
With 3 processes, each router process (`--worker`) serves a third of the agents (agent-side) or enqueues its own
contacts (contact-side) on the same Redis state at the same time, so they race for the same bucket heads and
free agents. Times are wall-clock: on Redis a decision waits for round trips. Three figures per side:
  * latency: one decision at a time per process; "decisions/s" is 1 / mean latency (client CPU + round trip +
    script time, one after another), with p50/p99;
  * THROUGHPUT: `--inflight` decisions in flight per process, sustained: in each timed phase a process has
    SUSTAINED calls to make (320 agents end wrap-up, or 160 contacts arrive) and runs them `--inflight` at a
    time, starting the next as soon as one returns, as an app's handlers keep a busy router; timed from the
    first call until all returned and their write-behind reached Redis. The work between decisions (ending the
    previous contacts, accepting offers, new arrivals) runs between the timed phases. Per process: its
    decisions / its timed time; total: with several processes every phase starts together and the next begins
    when all have ended (barriers in Redis: no process's work between phases runs in another's timed phase),
    and the total is all decisions / the sum of each phase's longest wall time. This is the figure the target
    (>= 3,000 decisions/s per router process) is read against.
  * bursts: the same with phases of only `--inflight` calls, all started at once (3 processes): how throughput
    was measured before sustained phases. Each burst ends with Redis idle while the last process decodes its
    replies and the others wait at the barrier, so it understates what a router sustains, by more the more
    processes share Redis.
Each line also gives the client CPU per decision and the share of a core the process used while timed, and
(throughput) Redis's own CPU per decision and the share of the time it was busy, read (INFO) by the last process
to reach each barrier while the others wait: exactly the phases' work of all processes. On a shared 2-core
machine three routers and Redis compete for the cores, so read per-process figures with those. The baseline is
raw round trips (PING, GET) from redis-py asyncio in the same processes, measured just before, so that
"decisions/s / PING/s" reads as the cost of a decision in round trips on whatever machine runs it; and a PING on
the store's own connection (`routing.redis_wire`, what its scripts travel on), the floor of one round trip's
client CPU.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_PER_S = 3_000   # issue 3: decisions/s per router process on Redis
SUSTAINED = {"agent": 320, "contact": 160}   # calls per timed phase and process (see Phases): 320 of a process's
                                             # ~333 agents (3 processes); 3 x 160 arrivals leave most agents free
sys.path.insert(0, str(ROOT))

import redis.asyncio as aioredis

from bench.routing import SKILLS, Clock, build, percentiles
from routing import RedisStore, Router, RouterSettings, Task
from routing.redis_wire import Wire
from tests.servers import redis_server


async def round_trips(url: str, seconds: float) -> dict[str, float]:
    """Sequential PING and GET round trips per second on one redis-py asyncio client, and the CPU of one; and
    PING on the store's own connection (`routing.redis_wire`, what its scripts travel on)."""
    client = aioredis.Redis.from_url(url)
    wire = Wire.for_client(client)
    assert wire is not None
    out = {}
    try:
        await client.set("bench:key", "x" * 64)
        for name, call in (("ping", client.ping), ("get", lambda: client.get("bench:key")),
                           ("wire_ping", lambda: wire.call("PING"))):
            n, end = 0, time.perf_counter() + seconds
            start, cpu = time.perf_counter(), time.thread_time()
            while time.perf_counter() < end:
                await call()
                n += 1
            out[name] = n / (time.perf_counter() - start)
            out[name + "_cpu_us"] = (time.thread_time() - cpu) / n * 1e6
    finally:
        wire.close()
        await client.aclose()
    return out


def summary(samples_ns: list[int], cpu_ns: int, trips: int, elapsed_s: float) -> dict[str, float]:
    p50, p99 = percentiles(samples_ns)
    return {"n": len(samples_ns), "per_s": len(samples_ns) / (sum(samples_ns) / 1e9), "p50_us": p50,
            "p99_us": p99, "mean_us": statistics.fmean(samples_ns) / 1e3, "elapsed_s": elapsed_s,
            "core_share": cpu_ns / sum(samples_ns),
            "cpu_us": cpu_ns / len(samples_ns) / 1e3, "round_trips": trips / len(samples_ns)}


class Timer:
    """Wall samples, this thread's CPU and the store's round trips, over the timed calls only."""

    def __init__(self, store: RedisStore) -> None:
        self.store, self.samples, self.cpu, self.trips = store, [], 0, 0

    def __enter__(self) -> None:
        self._start = (time.perf_counter_ns(), time.thread_time_ns(), self.store.round_trips)

    def __exit__(self, *exc: object) -> None:
        self.samples.append(time.perf_counter_ns() - self._start[0])
        self.cpu += time.thread_time_ns() - self._start[1]
        self.trips += self.store.round_trips - self._start[2]


async def agent_side(router: Router, offers: list, rounds: int, index: int, of: int) -> dict[str, float]:
    """Free agents of this worker one by one; time the decision (`wrapup_done` -> best contact offered)."""
    rng = random.Random(index)
    busy = [t.id for t in await router.store.active_tasks()
            if t.state == "assigned" and int((t.agent_id or "agent0")[5:]) % of == index]
    timer = Timer(router.store)  # type: ignore[arg-type]
    start = time.perf_counter()
    for n in range(rounds):
        if not busy:
            break
        task_id = busy.pop(rng.randrange(len(busy)))
        await router.complete(task_id)
        router.clock.now += 0.01  # type: ignore[attr-defined]
        offers.clear()
        with timer:
            await router.wrapup_done(task_id)
        for offer in offers:
            await router.accept(offer.offer_id, offer.agent_id)
            busy.append(offer.task_id)
        await router.enqueue(Task(f"x{index}-{n}-{uuid.uuid4().hex[:12]}", f"q{rng.randrange(SKILLS)}", "voice",
                                  priority=rng.randrange(3)))   # waiting stays at 10,000
    return summary(timer.samples, timer.cpu, timer.trips, time.perf_counter() - start)


class Phases:
    """Timed phases: wall time from the first call to the last return, this thread's CPU, the store's round trips,
    Redis's own CPU, and the latency of each call. A phase runs its calls `inflight` at a time: a call starts as
    soon as one returns (sustained load, as an app's handlers keep a router busy), or all at once when there are
    no more of them than that (a burst).
    With several processes every phase starts together and the next begins when all have ended (barriers in
    Redis), so that their phases overlap and their sum is a total rate, and no process's work between phases
    runs inside another's timed phase. Redis's CPU (INFO) is read by the last process to reach each barrier,
    before it releases the others: all of them are then held, so a phase's reading is that phase's work of all
    processes together and nothing else (`marks`, combined over the processes by `redis_cpu_s`; `redis_cpu`
    sums the phases this process read both ends of: all of them with one process)."""

    def __init__(self, router: Router, offers: list, index: int, of: int, run: str = "") -> None:
        self.router, self.offers, self.store = router, offers, router.store
        self.run_id = run   # the same for the processes of one run, another for the next run on this state
        self.wall = self.cpu = self.trips = self.decided = 0
        self.redis_cpu = 0.0
        self.lat: list[int] = []
        self.phases: list[tuple[int, int]] = []   # (wall ns, decisions) of each phase
        self.marks: list[tuple[float | None, float | None]] = []   # Redis CPU s at each phase's start and end
        self.of = of

    async def _together(self, at: str) -> float | None:
        """Wait for every process; the last to arrive reads Redis's CPU seconds, then releases the others."""
        client = self.store.redis  # type: ignore[attr-defined]
        key = f"{self.store.keys.prefix}bench-barrier:{self.run_id}:{at}:{len(self.phases)}"  # type: ignore[attr-defined]
        if self.of < 2 or await client.incr(key) == self.of:
            info = await client.info("cpu")
            if self.of > 1:
                await client.rpush(key + ":go", *[1] * (self.of - 1))
            return float(info["used_cpu_sys"] + info["used_cpu_user"])
        # the others wait in BLPOP: polling would load the Redis being measured (and the cores)
        for _ in range(60):   # 1 s at a time: within any client socket timeout
            if await client.blpop([key + ":go"], timeout=1):
                return None
        raise RuntimeError("a router process did not reach the barrier within 60 s")

    async def _timed(self, call: Any) -> None:
        start = time.perf_counter_ns()
        await call
        self.lat.append(time.perf_counter_ns() - start)

    async def _lane(self, calls: Iterator[Any]) -> None:
        for call in calls:   # shared by the lanes: each takes the next call when its own returned
            await self._timed(call)

    async def run(self, calls: list[Any], inflight: int) -> list[Any]:
        """Run the calls, `inflight` at a time, timed; the offers they made."""
        await self.store.flush()  # type: ignore[attr-defined]
        self.offers.clear()
        begun = await self._together("start")
        t0, c0, r0 = time.perf_counter_ns(), time.thread_time_ns(), self.store.round_trips  # type: ignore[attr-defined]
        shared = iter(calls)
        await asyncio.gather(*(self._lane(shared) for _ in range(min(inflight, len(calls)))))
        await self.store.flush()  # type: ignore[attr-defined]   # their write-behind counters are their work too
        wall = time.perf_counter_ns() - t0
        self.wall += wall
        self.phases.append((wall, len(self.offers)))
        self.cpu += time.thread_time_ns() - c0
        self.trips += self.store.round_trips - r0  # type: ignore[attr-defined]
        self.decided += len(self.offers)
        ended = await self._together("end")   # no process's untimed work (accepts, arrivals) runs in another's phase
        self.marks.append((begun, ended))
        if begun is not None and ended is not None:
            self.redis_cpu += ended - begun
        return list(self.offers)

    def summary(self, elapsed_s: float) -> dict[str, Any]:
        p50, p99 = percentiles(self.lat)
        return {"n": self.decided, "per_s": self.decided / (self.wall / 1e9), "p50_us": p50, "p99_us": p99,
                "elapsed_s": elapsed_s, "cpu_us": self.cpu / self.decided / 1e3, "core_share": self.cpu / self.wall,
                "round_trips": self.trips / self.decided, "redis_cpu_us": self.redis_cpu / self.decided * 1e6,
                "phases": self.phases, "marks": self.marks}


async def agent_side_inflight(router: Router, offers: list, rounds: int, index: int, of: int,
                              inflight: int, run: str = "", phase: int | None = None) -> dict[str, Any]:
    """Throughput with `inflight` decisions at once: `phase` agents of this worker (default `inflight`: a burst)
    are in wrap-up, and their `wrapup_done` calls run `inflight` at a time; only that phase is timed. Ending
    their previous contacts, accepting the offers and enqueueing new contacts (waiting stays at 10,000) happen
    between the timed phases."""
    rng = random.Random(index)
    busy = [t.id for t in await router.store.active_tasks()
            if t.state == "assigned" and int((t.agent_id or "agent0")[5:]) % of == index]
    size = min(phase or inflight, len(busy))
    phases = Phases(router, offers, index, of, run)
    start = time.perf_counter()
    for n in range(max(1, rounds // size)):
        batch = [busy.pop(rng.randrange(len(busy))) for _ in range(min(size, len(busy)))]
        await asyncio.gather(*(router.complete(task_id) for task_id in batch))
        router.clock.now += 0.01  # type: ignore[attr-defined]
        made = await phases.run([router.wrapup_done(task_id) for task_id in batch], inflight)
        await asyncio.gather(*(router.accept(o.offer_id, o.agent_id) for o in made))
        busy.extend(o.task_id for o in made)
        await asyncio.gather(*(router.enqueue(Task(f"y{index}-{n}-{k}-{uuid.uuid4().hex[:12]}",
                                                   f"q{rng.randrange(SKILLS)}", "voice", priority=rng.randrange(3)))
                               for k in range(len(made))))
    return phases.summary(time.perf_counter() - start)


async def contact_side_inflight(router: Router, offers: list, rounds: int, index: int, of: int,
                                inflight: int, run: str = "", phase: int | None = None) -> dict[str, Any]:
    """Throughput with `inflight` voice contacts arriving at once while agents have voice free: `phase` arrivals
    (default `inflight`) run `inflight` at a time; only that phase is timed. Accepting, completing and wrapping
    up happen between phases."""
    rng = random.Random(index)
    size = phase or inflight
    phases = Phases(router, offers, index, of, run)
    start = time.perf_counter()
    for n in range(max(1, rounds // size)):
        router.clock.now += 0.01  # type: ignore[attr-defined]
        made = await phases.run([router.enqueue(Task(f"w{index}-{n}-{k}-{uuid.uuid4().hex[:12]}",
                                                     f"q{rng.randrange(SKILLS)}", "voice")) for k in range(size)],
                                inflight)
        await asyncio.gather(*(router.accept(o.offer_id, o.agent_id) for o in made))
        await asyncio.gather(*(router.complete(o.task_id) for o in made))
        await asyncio.gather(*(router.wrapup_done(o.task_id) for o in made))
    return phases.summary(time.perf_counter() - start)


async def contact_side(router: Router, offers: list, rounds: int, index: int) -> dict[str, float]:
    """Voice contacts arrive while agents have voice free; time `enqueue` (enqueue -> offer)."""
    rng = random.Random(index)
    timer = Timer(router.store)  # type: ignore[arg-type]
    start = time.perf_counter()
    for n in range(rounds):
        router.clock.now += 0.01  # type: ignore[attr-defined]
        offers.clear()
        with timer:
            await router.enqueue(Task(f"v{index}-{n}-{uuid.uuid4().hex[:12]}", f"q{rng.randrange(SKILLS)}",
                                      "voice"))
        for offer in offers:
            await router.accept(offer.offer_id, offer.agent_id)
            await router.complete(offer.task_id)
            await router.wrapup_done(offer.task_id)
    return summary(timer.samples, timer.cpu, timer.trips, time.perf_counter() - start)


def node(url: str, prefix: str) -> tuple[Router, list]:
    """A router process's Router on the shared state, with its own offer log."""
    clock = Clock()
    clock.now += 100_000   # after everything the build did
    router = Router(RedisStore.from_url(url, prefix), clock=clock, settings=RouterSettings(max_missed_offers=0))
    offers: list = []
    router.subscribe(lambda e: offers.append(e) if e.type == "offer.made" else None)
    return router, offers


async def worker(args: argparse.Namespace) -> None:
    """One of the racing router processes: baseline, wait for the common start, run, print JSON."""
    router, offers = node(args.url, args.prefix)
    baseline = await round_trips(args.url, 0.5)
    await asyncio.sleep(max(0.0, args.start_at - time.time()))
    if args.side == "agent" and args.inflight > 1:
        result = await agent_side_inflight(router, offers, args.rounds, args.index, args.of, args.inflight,
                                           repr(args.start_at), args.phase)
    elif args.inflight > 1:
        result = await contact_side_inflight(router, offers, args.rounds, args.index, args.of, args.inflight,
                                             repr(args.start_at), args.phase)
    elif args.side == "agent":
        result = await agent_side(router, offers, args.rounds, args.index, args.of)
    else:
        result = await contact_side(router, offers, args.rounds, args.index)
    await router.store.close()  # type: ignore[attr-defined]
    print(json.dumps({"baseline": baseline, **result}), flush=True)


async def processes(url: str, prefix: str, side: str, count: int, rounds: int,
                    inflight: int = 1, phase: int | None = None) -> list[dict[str, Any]]:
    """Run `count` worker processes at once on the same state; their results."""
    start_at = time.time() + 2.0 + 0.5 * count   # past their start-up and baseline
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).resolve()), "--worker", "--url", url, "--prefix", prefix, "--side", side,
        "--rounds", str(rounds), "--inflight", str(inflight), *(("--phase", str(phase)) if phase else ()),
        "--index", str(i), "--of", str(count), "--start-at", str(start_at),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE) for i in range(count)]
    outs = [(await p.communicate())[0] for p in procs]
    if any(p.returncode for p in procs):
        raise RuntimeError(f"a router process failed: {[p.returncode for p in procs]}")
    return [json.loads(out) for out in outs]


def redis_cpu_s(results: list[dict[str, Any]]) -> float:
    """Redis's CPU seconds over the timed phases of all processes: per phase, the readings of whichever process
    reached its start barrier last and its end barrier last (see Phases)."""
    total = 0.0
    for marks in zip(*(r["marks"] for r in results), strict=True):
        total += next(e for _, e in marks if e is not None) - next(b for b, _ in marks if b is not None)
    return total


def line(label: str, results: list[dict[str, Any]], throughput: bool, target: bool = True) -> str:
    per_s = [r["per_s"] for r in results]
    ping = [r["baseline"]["ping"] for r in results]
    p50 = statistics.median(r["p50_us"] for r in results)
    p99 = max(r["p99_us"] for r in results)
    trips = statistics.fmean(r["round_trips"] for r in results)
    cpu = statistics.fmean(r["cpu_us"] for r in results)
    share = statistics.fmean(r["core_share"] for r in results)
    ping_cpu = statistics.fmean(r["baseline"]["ping_cpu_us"] for r in results)
    wire_cpu = statistics.fmean(r["baseline"]["wire_ping_cpu_us"] for r in results)
    total = sum(per_s)
    redis_cpu = bound = verdict = ""
    if throughput:   # phases started together: all decisions of phase k / the longest wall of phase k
        rounds = list(zip(*(r["phases"] for r in results), strict=True))
        decided = sum(d for phase in rounds for _, d in phase)
        wall_s = sum(max(w for w, _ in phase) for phase in rounds) / 1e9
        total = decided / wall_s
        busy_s = redis_cpu_s(results)
        redis_us = busy_s / decided * 1e6
        redis_cpu = f"; Redis {redis_us:.0f} us cpu, busy {busy_s / wall_s:.2f} of the time"
        bound = (f"\n    {'':<40} one Redis at that cpu per decision allows at most {1e6 / redis_us:,.0f}/s in all"
                 + (f"; with a core each for the router and Redis, their cpu alone would allow "
                    f"{1e6 / max(cpu, redis_us):,.0f}/s" if len(results) == 1 else "") + " (bounds, not measurements)")
    what = "throughput" if throughput else "sum of 1 / mean latency"
    if throughput and target:   # read against each process's share of the total, the stricter per-process figure
        each = min(statistics.fmean(per_s), total / len(results))
        verdict = (f"\n    {'':<40} target >= {TARGET_PER_S:,}/s per router process ({each:,.0f}/s): "
                   f"{'met' if each >= TARGET_PER_S else 'NOT MET'}")
    return (f"    {label:<40} {statistics.fmean(per_s):>6,.0f}/s per process ({total:,.0f}/s total; {what})  "
            f"latency p50 {p50 / 1e3:5.2f} ms  p99 {p99 / 1e3:6.2f} ms\n"
            f"    {'':<40} per decision: {trips:.1f} round trips, {cpu:4.0f} us client cpu{redis_cpu} "
            f"(= {1e6 / cpu:,.0f} decisions per cpu-second; the process used {share:.2f} of a core while timed)\n"
            f"    {'':<40} baseline in the same process: redis-py PING {statistics.fmean(ping):,.0f}/s, "
            f"{ping_cpu:.0f} us cpu each; store-connection PING {wire_cpu:.0f} us cpu each{bound}{verdict}")


async def bench_redis(url: str | None, quick: bool, inflight: int = 32) -> None:
    """Print the Redis figures (1 and 3 router processes), on `url` or on a redis-server started here."""
    if url is None:
        with redis_server() as own:
            await bench_redis(own, quick, inflight)
        return
    rounds = 300 if quick else 2_000
    agents, waiting = 1000, 10_000
    base = await round_trips(url, 1.0)
    print(f"== redis store: {agents} agents, {SKILLS} skills, {waiting} waiting; {url}")
    print(f"  baseline: raw round trips from this process  PING {base['ping']:,.0f}/s ({base['ping_cpu_us']:.0f} us cpu"
          f" each)  GET {base['get']:,.0f}/s  PING on the store's connection {base['wire_ping']:,.0f}/s "
          f"({base['wire_ping_cpu_us']:.0f} us cpu each)")
    print("  latency: one decision at a time per process (decisions/s = 1 / mean latency);\n"
          f"  THROUGHPUT: {inflight} decisions in flight per process, sustained: each timed phase's calls "
          f"({SUSTAINED['agent']} agent-side, {SUSTAINED['contact']} arrivals per process) run {inflight} at a time, "
          "the next as soon as one returns\n"
          "  (decisions/s = decisions / wall time of the phases): the figure the target "
          f"(>= {TARGET_PER_S:,}/s per router process) is read against;\n"
          f"  bursts: {inflight} at once, then none until every process has ended its burst (the earlier method: "
          "Redis idles at each burst's end)")
    for side, label in (("agent", "agent-side decisions"), ("contact", "enqueue->offer")):
        prefix = f"bench-{uuid.uuid4().hex[:8]}:"
        t0 = time.perf_counter()
        router, _, _ = await build(functools.partial(_store, url, prefix), agents, waiting,
                                   chat_first=side == "contact")
        print(f"  {label} (state built in {time.perf_counter() - t0:.0f} s; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores):")
        await router.store.close()  # type: ignore[attr-defined]
        # (label, in flight, calls per phase, processes, judged against the target)
        runs = [("latency", 1, None, count, True) for count in (1, 3)]
        runs += [(f"THROUGHPUT, {inflight} in flight", inflight, SUSTAINED[side], count, True) for count in (1, 3)]
        runs.append((f"bursts of {inflight}", inflight, None, 3, False))
        for kind, n, phase, count, judged in runs:
            results = await processes(url, prefix, side, count, rounds if n == 1 else rounds * 4, n, phase)
            print(line(f"{kind}, {count} router process{'es' if count > 1 else ''}", results, n > 1, judged)
                  + f"\n    {'':<40} (load average {os.getloadavg()[0]:.1f} at the end of this run)")
        await _drop(url, prefix)


async def _store(url: str, prefix: str) -> RedisStore:
    return RedisStore.from_url(url, prefix)


async def _drop(url: str, prefix: str) -> None:
    client = aioredis.Redis.from_url(url)
    with contextlib.suppress(Exception):
        keys = [k async for k in client.scan_iter(match=prefix + "*", count=10_000)]
        for i in range(0, len(keys), 10_000):
            await client.delete(*keys[i:i + 10_000])
    await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an existing Redis (default: start a redis-server)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--side", choices=("agent", "contact"), help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--inflight", type=int, default=32,
                        help="decisions in flight at once per process for the throughput figure (default 32)")
    parser.add_argument("--phase", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--of", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(worker(args) if args.worker else bench_redis(args.url, args.quick, args.inflight))


if __name__ == "__main__":
    main()
