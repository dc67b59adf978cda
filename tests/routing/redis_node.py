"""A router node for the multi-process tests: `python -m tests.routing.redis_node --url redis://... MODE ...`.

It builds a real `Router` on a `RedisStore` and logs every routing event it emits as one JSON line (flushed at
once, so a SIGKILL loses at most the line being written).

* `race`: for `--seconds` (or, with `--until-file`, until that file exists), loop enqueue / tick / accept,
  reject or ignore offers / complete / wrap up / abandon / agents away and back, on the shared queue and agents,
  with other nodes doing the same on the same Redis.
* `fill`: set up agents with long offers, enqueue `--tasks` contacts of mixed priorities, then keep enqueueing
  until killed (the crash test SIGKILLs it mid-loop).
* `recover`: a node taking over after a crash: tick until no offer is left open, then print the queue.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time

from routing import AgentConfig, QueueConfig, RedisStore, Router, RouterSettings, RoutingError, Task
from routing.model import bucket_name

RACE_AGENTS = {f"a{i}": {"voice": 1, "chat": 2, "email": 3} if i % 2 else {"chat": 3, "email": 2}
               for i in range(8)}
CHANNELS = ("voice", "chat", "email")
ANSWERING = sorted(RACE_AGENTS)[:-1]   # the last agent never answers: its offers always time out


class EventLog:
    """Routing events of this node, one JSON line each, flushed as they happen."""

    def __init__(self, path: str, node: str) -> None:
        self.file = open(path, "a", buffering=1)   # noqa: SIM115 - lives as long as the process
        self.node = node

    def __call__(self, event) -> None:
        self.file.write(json.dumps({"node": self.node, "wall": time.time(), **event.to_json()}, default=str) + "\n")


async def setup(router: Router, agents: dict[str, dict[str, int]]) -> None:
    await router.add_queue(QueueConfig("general"))
    for agent_id, capacity in agents.items():
        await router.add_agent(AgentConfig(agent_id, capacity=capacity))
        await router.set_agent_state(agent_id, "available")


async def race(router: Router, args: argparse.Namespace, rng: random.Random) -> dict[str, int]:
    errors: dict[str, int] = {}
    deadline = time.monotonic() + args.seconds
    i = 0
    mine: list[str] = []

    async def attempt(coro) -> None:
        try:
            await coro
        except RoutingError as e:   # lost races are expected: another node got there first
            errors[e.code] = errors.get(e.code, 0) + 1

    def running() -> bool:   # the test ends a run when it has seen what it waits for (a loaded machine is slow)
        return not os.path.exists(args.until_file) if args.until_file else time.monotonic() < deadline

    while running() or i < args.min_rounds:
        i += 1
        task_id = f"{args.node}-{i}"
        mine.append(task_id)
        await attempt(router.enqueue(Task(task_id, "general", rng.choice(CHANNELS), priority=rng.randint(0, 2))))
        await router.tick()
        agent_id = rng.choice(ANSWERING)
        for offer in await router.store.offers_of(agent_id):
            roll = rng.random()
            if roll < 0.6:
                await attempt(router.accept(offer.id, agent_id))
            elif roll < 0.8:
                await attempt(router.reject(offer.id, agent_id))
        agent = await router.store.get_agent(agent_id)
        for held in sorted(agent.tasks if agent else ()):
            task = await router.store.get_task(held)
            if task is not None and task.state == "assigned" and rng.random() < 0.7:
                await attempt(router.complete(held))
            elif task is not None and task.state == "wrapup":
                await attempt(router.wrapup_done(held))
        if rng.random() < 0.1:   # the newest contact is the likeliest to be still waiting or offered
            await attempt(router.abandon(mine[-1]))
        if rng.random() < 0.03:
            await attempt(router.set_agent_state(rng.choice(list(RACE_AGENTS)), "away", "break"))
        if rng.random() < 0.08:
            await attempt(router.set_agent_state(rng.choice(list(RACE_AGENTS)), "available"))
    return errors


async def fill(router: Router, args: argparse.Namespace, rng: random.Random) -> None:
    await setup(router, {f"f{i}": {"chat": 1} for i in range(3)})
    i = 0
    while True:   # runs until the test kills it
        i += 1
        await router.enqueue(Task(f"t{i:05d}", "general", "chat", priority=rng.randint(0, 2)))
        if i == args.tasks:
            print("filled", flush=True)
        await asyncio.sleep(0.002 if i >= args.tasks else 0)


async def recover(router: Router, args: argparse.Namespace) -> dict:
    await router.add_queue(QueueConfig("general"))
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        await router.tick()
        if not [t for t in await router.store.active_tasks() if t.state == "offered"]:
            break
        await asyncio.sleep(0.05)
    queued = await router.store.waiting(bucket_name("general", "chat", ""), 1_000_000)
    return {"queued": [[t.id, t.enqueued_at, t.key] for t in queued],
            "states": {t.id: t.state for t in await router.store.active_tasks()}}


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("race", "fill", "recover"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--prefix", default="cc:")
    parser.add_argument("--node", default="n0")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--min-rounds", type=int, default=100)
    parser.add_argument("--until-file", help="race until this file exists (instead of --seconds)")
    parser.add_argument("--offer-timeout", type=float, default=0.3)
    parser.add_argument("--log", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    timeouts = {ch: args.offer_timeout for ch in CHANNELS}
    # max_missed_offers=1 in recovery: an agent that let an offer expire goes away, so the task stays queued
    # timer_lease_s=1: timers a killed node had leased come back to the survivors within the test's 3 s
    settings = RouterSettings(offer_timeout_s=timeouts, reject_cooldown_s=0.2, timer_lease_s=1.0,
                              max_missed_offers=1 if args.mode == "recover" else 3)
    store = RedisStore.from_url(args.url, prefix=args.prefix)
    router = Router(store, settings=settings, seed=args.seed)
    router.subscribe(EventLog(args.log, args.node))
    rng = random.Random(args.seed)
    try:
        if args.mode == "race":
            await setup(router, RACE_AGENTS)
            print(json.dumps({"errors": await race(router, args, rng)}), flush=True)
        elif args.mode == "fill":
            await fill(router, args, rng)
        else:
            print(json.dumps(await recover(router, args)), flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
