"""Many decisions in flight at once on one Redis: a router process serves many agents and contacts concurrently
(the app's handlers call the Router from many coroutines), its scripts pipelined on one connection, its snapshots
and caches shared by those coroutines. The same safety as racing processes must hold: checked with atomic audits
taken while the coroutines run, the routers' event logs, and the matching invariant once they stop."""
from __future__ import annotations

import asyncio
import collections
import random
import uuid

import pytest
import redis.asyncio as aioredis

from routing import AgentConfig, QueueConfig, RedisStore, Router, RouterSettings, RoutingError, Task, can_take
from routing.model import RoutingEvent, parse_bucket
from routing.skills import parse_skill_expr
from tests.routing.redis_audit import audit

QUEUES = (QueueConfig("general"), QueueConfig("billing", skill_expr="billing >= 2"))
AGENTS = [AgentConfig(f"a{i}", skills={"billing": i % 4}, queues=("general", "billing") if i % 3 else ("general",),
                      capacity={"voice": 1, "chat": 2, "email": 2} if i % 2 else {"chat": 3, "email": 1})
          for i in range(10)]
CHANNELS = ("voice", "chat", "email")
# what losing a race to another coroutine (or router) looks like; anything else is a bug
RACE_ERRORS = {"offer_not_found", "offer_expired", "offer_closed", "not_your_offer", "task_not_active",
               "task_not_assigned", "task_not_in_wrapup"}
# (a customer leaving during an offer closes it with offer.revoked, reason "abandoned", before task.abandoned)
OFFER_CLOSERS = ("offer.accepted", "offer.rejected", "offer.timeout", "offer.revoked")
# no cool-down: a rejected contact may go straight back, so "nobody free next to a contact they could take"
# holds at every quiet moment without waiting for exclusion timers
SETTINGS = RouterSettings(offer_timeout_s={ch: 0.3 for ch in CHANNELS}, reject_cooldown_s=0.0)


class InOrder:
    """A router's events in the order it emitted them; with one router that is the order of Redis itself."""

    def __init__(self) -> None:
        self.events: list[RoutingEvent] = []
        self.open: dict[str, str] = {}   # task -> its open offer
        self.problems: list[str] = []
        self.states: dict[str, tuple[str, float]] = {}   # agent -> its last announced state, since

    def __call__(self, event: RoutingEvent) -> None:
        self.events.append(event)
        if event.type == "agent.state":   # each change starts from the one announced before, never goes back
            last = self.states.get(str(event.agent_id))
            if last is not None and (event.data["previous"] != last[0] or event.at < last[1]):
                self.problems.append(f"{event.agent_id} went {event.data['previous']} -> {event.data['state']} "
                                     f"at {event.at} after {last}")
            self.states[str(event.agent_id)] = (event.data["state"], event.at)
        if event.type == "offer.made":
            if event.task_id in self.open:
                self.problems.append(f"two offers of {event.task_id} at once")
            self.open[str(event.task_id)] = str(event.offer_id)
        elif (event.type in OFFER_CLOSERS and event.offer_id
              and self.open.pop(str(event.task_id), None) != event.offer_id):
            self.problems.append(f"{event.type} of {event.offer_id}, which was not open")


async def workers(routers: list[Router], count: int, rounds: int, seed: int) -> collections.Counter[str]:
    """`count` coroutines, each on one of the routers, doing what an app's handlers do, all at once."""
    errors: collections.Counter[str] = collections.Counter()
    tasks: list[str] = []

    async def attempt(call) -> None:
        try:
            await call
        except RoutingError as e:
            errors[e.code] += 1

    async def one(index: int) -> None:
        router, rng = routers[index % len(routers)], random.Random(seed * 1000 + index)
        for n in range(rounds):
            roll, agent_id = rng.random(), rng.choice(AGENTS).id
            if roll < 0.3:
                task_id = f"t{index}-{n}"
                await attempt(router.enqueue(Task(task_id, rng.choice(QUEUES).name, rng.choice(CHANNELS),
                                                  priority=rng.randint(0, 2))))
                tasks.append(task_id)
            elif roll < 0.55:
                for offer in await router.store.offers_of(agent_id):
                    await attempt((router.accept if rng.random() < 0.7 else router.reject)(offer.id, agent_id))
            elif roll < 0.8:
                agent = await router.store.get_agent(agent_id)
                for held in sorted(agent.tasks if agent else ()):
                    task = await router.store.get_task(held)
                    if task is not None and task.state == "assigned":
                        await attempt(router.complete(held))
                    elif task is not None and task.state == "wrapup":
                        await attempt(router.wrapup_done(held))
            elif roll < 0.85 and tasks:
                await attempt(router.abandon(rng.choice(tasks[-20:])))
            elif roll < 0.88:
                await attempt(router.set_agent_state(agent_id, rng.choice(("away", "offline"))))
            elif roll < 0.95:
                await attempt(router.set_agent_state(agent_id, "available"))
            else:
                await router.tick()
            if rng.random() < 0.2:
                await asyncio.sleep(0)   # vary the interleavings

    await asyncio.gather(*(one(i) for i in range(count)))
    return errors


async def auditor(store: RedisStore, running: asyncio.Event) -> tuple[int, list[str]]:
    """Atomic audits of the whole state while the workers run."""
    audits, problems = 0, []
    while running.is_set():
        problems += await audit(store)
        audits += 1
        await asyncio.sleep(0.005)
    return audits, problems


async def matching_problems(store: RedisStore, now: float) -> list[str]:
    """Queued contacts next to a free agent who could take them: a decision some coroutine failed to make."""
    agents = await store.list_agents()
    out = []
    for task in await store.active_tasks():
        if task.state != "queued":
            continue
        kind, owner, channel, requirement = parse_bucket(task.bucket)
        for agent in agents:
            if kind == "a" and agent.id != owner or task.excluded.get(agent.id, 0.0) > now:
                continue
            if kind == "q" and (task.queue not in agent.config.queues
                                or not parse_skill_expr(requirement).matches(agent.config.skills)):
                continue
            if can_take(agent, channel):
                out.append(f"{task.id} queued while {agent.id} could take it")
    return out


@pytest.fixture
async def stores(redis_url):
    """Three stores (connections) on one fresh prefix: two for routers, one for the checks."""
    prefix = f"conc-{uuid.uuid4().hex[:8]}:"
    made = [RedisStore(aioredis.Redis.from_url(redis_url), prefix) for _ in range(3)]
    yield made
    keys = [k async for k in made[2].redis.scan_iter(match=prefix + "*")]
    if keys:
        await made[2].redis.delete(*keys)
    for store in made:
        await store.close()


async def staffed(store: RedisStore, seed: int) -> Router:
    router = Router(store, settings=SETTINGS, seed=seed)
    for queue in QUEUES:
        await router.add_queue(queue)
    return router


@pytest.mark.parametrize("routers", [1, 2])
async def test_concurrent_decisions_keep_the_invariants(stores, routers):
    nodes = [await staffed(stores[i], seed=i) for i in range(routers)]
    logs = [InOrder() for _ in nodes]
    for node, log in zip(nodes, logs, strict=True):
        node.subscribe(log)
    for agent in AGENTS:
        await nodes[0].add_agent(agent)
        await nodes[0].set_agent_state(agent.id, "available")
    running = asyncio.Event()
    running.set()
    watch = asyncio.create_task(auditor(stores[2], running))
    try:
        errors = await workers(nodes, count=48, rounds=40, seed=routers)
    finally:
        running.clear()
        audits, problems = await watch
    for node in nodes:
        await node.store.flush()  # type: ignore[attr-defined]
    assert problems == [] and audits >= 3
    assert await audit(stores[2]) == []
    assert set(errors) <= RACE_ERRORS, errors
    now = nodes[0].clock()
    assert await matching_problems(stores[2], now) == []

    events = [e for log in logs for e in log.events]
    kinds = collections.Counter(e.type for e in events)
    # real concurrency happened: every outcome occurred
    assert kinds["offer.made"] >= 100 and kinds["offer.accepted"] and kinds["offer.rejected"], kinds
    assert kinds["task.wrapped_up"] and kinds["task.abandoned"] and kinds["offer.revoked"], kinds
    if routers == 1:   # one router emits in the order Redis ran its scripts: no offer overlaps another
        assert logs[0].problems == []
    made = {e.offer_id: e.task_id for e in events if e.type == "offer.made"}
    assert len(made) == kinds["offer.made"]   # offer ids are unique
    closed = [e.offer_id for e in events if e.type in OFFER_CLOSERS and e.offer_id]
    assert len(closed) == len(set(closed)) and set(closed) <= set(made)
    assigned = collections.Counter(e.task_id for e in events if e.type == "task.assigned")
    assert max(assigned.values()) == 1   # a contact is never won twice
    ended = collections.Counter(e.task_id for e in events if e.type in ("task.wrapped_up", "task.abandoned"))
    assert max(ended.values()) == 1      # nor ended twice
    # per contact, offers made minus offers closed is 1 exactly when it is offered now, else 0
    open_now = collections.Counter(made.values())
    open_now.subtract(e.task_id for e in events if e.type in OFFER_CLOSERS and e.offer_id)
    for task in await stores[2].active_tasks():
        assert open_now.pop(task.id, 0) == (1 if task.state == "offered" else 0), task
    assert set(open_now.values()) <= {0}
    for agent in await stores[2].list_agents():
        assert all(agent.load.get(ch, 0) <= cap for ch, cap in agent.config.capacity.items())
        assert len(agent.tasks) == sum(agent.load.values())


async def test_hundreds_of_calls_at_once_on_one_store(stores):
    """More calls in flight than a redis-py pool holds connections (100): queues whose rules read the store on
    every enqueue (nobody signed in refuses, a maximum length), and a node that meets its queues in the store."""
    first = await staffed(stores[0], seed=1)
    await first.add_queue(QueueConfig("capped", max_length=10_000, when_empty="refuse"))
    await first.add_agent(AgentConfig("x", queues=("capped",), capacity={"chat": 1}))
    await first.set_agent_state("x", "available")
    other = Router(stores[1], settings=SETTINGS)   # knows no queue yet: reads each from the store on first use
    await asyncio.gather(*(router.enqueue(Task(f"c{n}-{i}", "capped", "chat"))
                           for n, router in enumerate((first, other)) for i in range(150)))
    assert await stores[2].waiting_count("capped") == 299   # one of the 300 is offered to x
    assert await audit(stores[2]) == []
