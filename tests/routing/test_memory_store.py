"""The store contract on MemoryStore; several routers share one MemoryStore instance as nodes share Redis."""
from __future__ import annotations

import pytest

from routing import MemoryStore
from tests.routing.store_contract import *  # noqa: F401,F403


@pytest.fixture
async def store_factory():
    store = MemoryStore()

    async def make() -> MemoryStore:
        return store
    return make
