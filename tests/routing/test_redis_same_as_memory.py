"""Same semantics, two homes: one random sequence of operations on a Router over MemoryStore and on a Router over
RedisStore (same virtual clock, same seed) gives the same events, the same errors and the same final state."""
from __future__ import annotations

import random
import uuid

import pytest
import redis.asyncio as aioredis

from routing import (
    AgentConfig,
    EscalationStep,
    MemoryStore,
    QueueConfig,
    RedisStore,
    Router,
    RouterSettings,
    RoutingError,
    Task,
)
from tests.routing.conftest import Clock

# targets first; every queue rule, both kinds of escalation step and four strategies are met
QUEUES = (QueueConfig("backup", when_empty="refuse", strategy="round_robin"),
          QueueConfig("sales", skill_expr="sales", wrapup_s=5.0, max_length=3, overflow="backup", strategy="random"),
          QueueConfig("support", skill_expr="support >= 2", max_wait_s=150.0, overflow="sales", ageing_per_s=0.05,
                      strategy="least_occupied",
                      escalation=(EscalationStep(after_s=7.0, skill_expr="support"),
                                  EscalationStep(after_s=25.0, queue="backup", priority_boost=1))))
AGENTS = (AgentConfig("ann", skills={"sales": 3, "support": 1}, queues=("sales", "support", "backup"),
                      capacity={"voice": 1, "chat": 2}),
          AgentConfig("bob", skills={"support": 4}, queues=("support",), capacity={"chat": 3, "email": 2},
                      blocking=()),
          AgentConfig("cyd", skills={"sales": 1, "support": 2}, queues=("sales", "support", "backup"),
                      capacity={"voice": 1, "chat": 1, "email": 1}),
          AgentConfig("dee", skills={"sales": 5}, queues=("sales", "backup"), capacity={"chat": 2}))
# configs an agent is changed to while working (another queue, other skills, a capacity lowered or raised)
CHANGED = {"ann": AgentConfig("ann", skills={"sales": 1}, queues=("backup", "sales"), capacity={"chat": 1}),
           "dee": AgentConfig("dee", skills={"sales": 5, "support": 3}, queues=("support", "sales", "backup"),
                              capacity={"chat": 3, "voice": 1})}
SETTINGS = RouterSettings(offer_timeout_s={"voice": 15.0, "chat": 20.0, "email": 60.0}, reject_cooldown_s=8.0,
                          max_missed_offers=2, preferred_for_s=10.0)


class Twin:
    """A router and what it did: events with offer ids numbered by first appearance, errors by code."""

    def __init__(self, store, clock: Clock) -> None:
        self.router = Router(store, clock=clock, settings=SETTINGS, seed=3)
        self.events: list[tuple] = []
        self.offer_of_task: dict[str, str] = {}
        self._numbers: dict[str, int] = {}
        self.router.subscribe(self._record)

    def _record(self, event) -> None:
        offer = None
        if event.offer_id is not None:
            offer = self._numbers.setdefault(event.offer_id, len(self._numbers))
        if event.type == "offer.made":
            self.offer_of_task[event.task_id] = event.offer_id
        data = {k: v for k, v in event.data.items()}
        self.events.append((event.type, event.task_id, event.queue, event.agent_id, offer, event.at,
                            sorted(data.items())))

    async def do(self, op: str, *args) -> str:
        try:
            if op in ("accept", "reject"):   # the offer of a task, as this router knows it
                args = (self.offer_of_task.get(args[0], "none"), args[1])
            await getattr(self.router, op)(*args)
            return "ok"
        except RoutingError as e:
            return e.code

    async def state(self) -> list:
        store = self.router.store
        tasks = [(t.id, t.state, t.queue, t.agent_id, t.bucket, t.key, t.enqueued_at, t.queued_at, t.step,
                  t.priority, sorted(t.excluded.items())) for t in await store.active_tasks()]
        agents = [(a.id, a.presence, a.state, a.state_since, a.idle_since,
                   sorted((k, v) for k, v in a.load.items() if v), a.wrapping, a.offers, a.missed, sorted(a.tasks))
                  for a in await store.list_agents()]
        # exactly: both stores add counters as whole millionths
        stats = [sorted(s.items()) for s in await self.router.queue_stats()]
        figures = [sorted(a.items()) for a in await self.router.agent_stats()]
        return [tasks, agents, stats, figures]


@pytest.mark.parametrize("seed", range(1, 17))
async def test_memory_and_redis_routers_agree(redis_url, seed):
    rng = random.Random(seed)
    clock = Clock()
    client = aioredis.Redis.from_url(redis_url)
    prefix = f"twin-{uuid.uuid4().hex[:8]}:"
    memory, redis = Twin(MemoryStore(), clock), Twin(RedisStore(client, prefix=prefix), clock)
    twins = (memory, redis)
    try:
        for twin in twins:
            for queue in QUEUES:
                await twin.router.add_queue(queue)
            for agent in AGENTS:
                await twin.router.add_agent(agent)
        tasks: list[str] = []
        for step in range(200):
            # sometimes no jitter: calls at one instant meet ties (idle times, offers made together)
            clock.advance(rng.choice([0.0, 0.0, 0.25, 1.5, 4.0, 9.0, 31.0])
                          + (rng.random() / 100 if rng.random() < 0.7 else 0.0))
            roll = rng.random()
            agent = rng.choice(AGENTS).id
            if roll < 0.3:
                task_id = f"t{step}"
                tasks.append(task_id)
                call = ("enqueue", Task(task_id, rng.choice(["sales", "support", "backup"]),
                                        rng.choice(["voice", "chat", "chat", "email"]), priority=rng.randint(0, 2),
                                        attributes={"step": step, "related_agents": [rng.choice(AGENTS).id]},
                                        preferred_agent=agent if rng.random() < 0.2 else None,
                                        preferred_for_s=rng.choice([None, 5.0, 12.0])))
            elif roll < 0.42:
                call = ("set_agent_state", agent, rng.choice(["available", "available", "away", "offline"]))
            elif roll < 0.45:
                same = next(a for a in AGENTS if a.id == agent)
                call = ("add_agent", CHANGED[agent] if agent in CHANGED and rng.random() < 0.5 else same)
            elif not tasks:
                call = ("tick",)
            elif roll < 0.62:   # mostly a contact offered right now, sometimes any (errors must agree too)
                active = await memory.router.store.active_tasks()
                offered = [t for t in active if t.state == "offered"]
                task_id = rng.choice(offered).id if offered and rng.random() < 0.85 else rng.choice(tasks)
                owner = next((e[3] for e in reversed(memory.events) if e[0] == "offer.made" and e[1] == task_id),
                             agent)
                call = ("accept" if rng.random() < 0.75 else "reject", task_id, owner)
            elif roll < 0.8:
                active = await memory.router.store.active_tasks()
                held = [t.id for t in active if t.state in ("assigned", "wrapup")] or tasks
                call = (rng.choice(["complete", "wrapup_done"]), rng.choice(held))
            elif roll < 0.85:
                call = ("abandon", rng.choice(tasks))
            else:
                call = ("tick",)
            outcomes = [await twin.do(*call) for twin in twins]
            assert outcomes[0] == outcomes[1], (step, call)
            assert memory.events == redis.events, (step, call)
        assert len({e[0] for e in memory.events}) >= 9   # the sequence reached most of the engine
        assert await memory.state() == await redis.state()
    finally:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
