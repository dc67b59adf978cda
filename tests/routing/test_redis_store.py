"""The store contract on RedisStore: each test gets its own key prefix on the session's real redis-server, and
every `store_factory()` call is a new client (a new router node) on the same state."""
from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis

from routing import RedisStore
from tests.routing.store_contract import *


@pytest.fixture
async def store_factory(redis_url):
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    clients: list[aioredis.Redis] = []

    async def make() -> RedisStore:
        client = aioredis.Redis.from_url(redis_url)
        clients.append(client)
        return RedisStore(client, prefix=prefix)
    yield make
    if clients:
        keys = [k async for k in clients[0].scan_iter(match=prefix + "*")]
        if keys:
            await clients[0].delete(*keys)
    for client in clients:
        await client.aclose()
