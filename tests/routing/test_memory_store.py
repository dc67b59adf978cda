"""The store contract on MemoryStore; several routers share one MemoryStore instance as nodes share Redis."""
from __future__ import annotations

import pytest

from routing import MemoryStore
from tests.routing.store_contract import *


@pytest.fixture
async def store_factory():
    store = MemoryStore()

    async def make() -> MemoryStore:
        return store
    return make


async def test_ended_tasks_are_forgotten_beyond_the_retention():
    from routing import QueueConfig, Router, Task
    from tests.routing.conftest import Clock

    router = Router(MemoryStore(keep_ended=3), clock=Clock())
    await router.add_queue(QueueConfig("general"))
    for i in range(6):
        await router.enqueue(Task(f"t{i}", "general", "chat"))
    await router.enqueue(Task("waiting", "general", "chat"))
    for i in range(6):
        await router.abandon(f"t{i}")
    assert [await router.store.get_task(f"t{i}") is None for i in range(6)] == [True] * 3 + [False] * 3
    assert (await router.get_task("waiting")).state == "queued"


async def test_oldest_waiting_index_stays_bounded_without_readers():
    from routing import QueueConfig, Router, Task
    from tests.routing.conftest import Clock

    clock = Clock()
    store = MemoryStore()
    router = Router(store, clock=clock)
    await router.add_queue(QueueConfig("general"))
    await router.enqueue(Task("keep", "general", "chat"))
    for i in range(5000):
        clock.advance(1)
        await router.enqueue(Task(f"t{i}", "general", "chat"))
        await router.abandon(f"t{i}")
    assert len(store._oldest["general"]) <= 4 * 1 + 1025
    assert (await store.oldest_waiting("general")).id == "keep"
