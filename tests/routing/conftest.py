"""Routing test helpers: a virtual clock, a fresh store of each kind and a router that records its events."""
from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis

from routing import AgentConfig, MemoryStore, QueueConfig, RedisStore, Router, RouterSettings


class Clock:
    """A virtual clock the tests move by hand."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "redis"])
async def store(request):
    """A fresh, empty store, once of each kind: the engine's semantics are the same in both homes."""
    if request.param == "memory":
        yield MemoryStore()
        return
    client = aioredis.Redis.from_url(request.getfixturevalue("redis_url"))
    prefix = f"sem-{uuid.uuid4().hex[:12]}:"
    store = RedisStore(client, prefix=prefix)
    try:
        yield store
    finally:
        await store.close()
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def make_router(clock: Clock, store=None, settings: RouterSettings | None = None,
                      targets: tuple[QueueConfig, ...] = (), **queue_kw) -> Router:
    """A router with queue `general` (`queue_kw`), after the `targets` it overflows or escalates to."""
    router = Router(store if store is not None else MemoryStore(), clock=clock, settings=settings, seed=7)
    router.events = []  # type: ignore[attr-defined]
    router.subscribe(router.events.append)  # type: ignore[attr-defined]
    for target in targets:
        await router.add_queue(target)
    await router.add_queue(QueueConfig("general", **queue_kw))
    return router


async def add_agents(router: Router, *ids: str, available: bool = True, **kw) -> None:
    for agent_id in ids:
        await router.add_agent(AgentConfig(agent_id, **kw))
        if available:
            await router.set_agent_state(agent_id, "available")


def types(router: Router, *wanted: str) -> list[tuple[str, str | None, str | None]]:
    """(type, task_id, agent_id) of the recorded events, optionally only some types."""
    return [(e.type, e.task_id, e.agent_id) for e in router.events  # type: ignore[attr-defined]
            if not wanted or e.type in wanted]
