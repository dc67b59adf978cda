"""The real test servers start and answer."""
import asyncpg
import redis.asyncio as aioredis


async def test_postgres_answers(postgres_url):
    conn = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        assert await conn.fetchval("select 40 + 2") == 42
    finally:
        await conn.close()


async def test_redis_answers(redis_url):
    r = aioredis.from_url(redis_url)
    try:
        await r.set("cc:test", "1")
        assert await r.get("cc:test") == b"1"
    finally:
        await r.aclose()
