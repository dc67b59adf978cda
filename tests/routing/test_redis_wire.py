"""The store's lean Redis connection (`routing.redis_wire`): replies in order, set-up (AUTH, SELECT), a lost
connection reopened, a silent server timed out, cancelled calls that keep the stream in step, and clients it
cannot mirror left to redis-py."""
from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from routing import AgentConfig, QueueConfig, RedisStore, Router, RoutingError
from routing.redis_wire import Wire
from tests.routing.conftest import Clock


async def test_pipelined_calls_get_their_own_replies_and_errors(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    wire = Wire.for_client(client)
    assert wire is not None
    try:
        replies = await asyncio.gather(*(wire.call("ECHO", f"m{i}") for i in range(50)))
        assert replies == [f"m{i}".encode() for i in range(50)]
        with pytest.raises(ResponseError):
            await wire.call("NO-SUCH-COMMAND")
        assert await wire.call("ECHO", "é") == "é".encode()   # the error did not put the stream out of step
    finally:
        wire.close()
        await client.aclose()


async def test_calls_made_while_others_are_in_flight_go_out_together_in_order(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    wire = Wire.for_client(client)
    assert wire is not None
    try:
        await wire.call("PING")
        protocol = wire._protocol
        assert protocol is not None and protocol.transport is not None
        writes = []
        write = protocol.transport.write
        protocol.transport.write = lambda data: (writes.append(data), write(data))[1]  # type: ignore[method-assign]
        first = asyncio.ensure_future(wire.call("ECHO", "first"))   # alone: written at once
        await asyncio.sleep(0)
        later = [asyncio.ensure_future(wire.call("ECHO", f"m{i}")) for i in range(20)]   # buffered behind it
        assert await asyncio.gather(first, *later) == [b"first", *(f"m{i}".encode() for i in range(20))]
        assert len(writes) <= 3   # first, then the twenty in one send (two if first was answered meanwhile)
        # buffered calls on a connection that goes away fail as a lost connection, never hang
        await wire.call("PING")
        first = asyncio.ensure_future(wire.call("ECHO", "x"))
        await asyncio.sleep(0)
        buffered = asyncio.ensure_future(wire.call("ECHO", "y"))
        await asyncio.sleep(0)
        wire.close()
        for call in (first, buffered):
            with pytest.raises(RedisConnectionError):
                await call
        assert await wire.call("ECHO", "again") == b"again"   # and the next call reconnects
    finally:
        wire.close()
        await client.aclose()


async def test_a_cancelled_call_does_not_shift_the_replies(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    wire = Wire.for_client(client)
    assert wire is not None
    try:
        await wire.call("PING")
        slow = asyncio.ensure_future(wire.call("ECHO", "dropped"))
        await asyncio.sleep(0)   # written, not answered yet
        slow.cancel()
        assert await wire.call("ECHO", "mine") == b"mine"
    finally:
        wire.close()
        await client.aclose()


async def test_a_connection_killed_by_the_server_is_reopened(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    prefix = f"wire-{uuid.uuid4().hex[:8]}:"
    store = RedisStore(client, prefix)
    assert store._wire is not None
    router = Router(store, clock=Clock())
    await router.add_queue(QueueConfig("general"))
    await router.add_agent(AgentConfig("a1", queues=("general",)))
    wire_id = await store._wire.call("CLIENT", "ID")
    assert await client.client_kill_filter(_id=wire_id) == 1
    await asyncio.sleep(0.2)   # the loop sees the connection closed
    await router.set_agent_state("a1", "available")   # a script: runs on a new connection
    assert (await store.get_agent("a1")).presence == "available"
    assert await store._wire.call("CLIENT", "ID") != wire_id
    keys = [k async for k in client.scan_iter(match=prefix + "*")]
    await client.delete(*keys)
    await store.close()


async def test_auth_and_database_are_those_of_the_client(redis_url):
    admin = aioredis.Redis.from_url(redis_url)
    user, password = f"wire-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    await admin.acl_setuser(user, enabled=True, passwords=["+" + password], keys=["*"], channels=["*"],
                            commands=["+@all"])
    base = redis_url.rsplit("/", 1)[0].replace("redis://", f"redis://{user}:{password}@")
    store = RedisStore.from_url(base + "/3", "wire:")
    try:
        await store.put_agent(AgentConfig("a1", queues=("general",)), 1.0)   # a script, on the wire
        on_3 = aioredis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/3")
        assert await on_3.exists("wire:agent:a1") == 1
        assert await admin.exists("wire:agent:a1") == 0   # db 0 untouched
        await on_3.flushdb()
        await on_3.aclose()
        bad = RedisStore.from_url(redis_url.rsplit("/", 1)[0].replace("redis://", f"redis://{user}:wrong@") + "/0")
        with pytest.raises(RoutingError) as err:
            await bad.get_agent("a1")
        assert err.value.code == "store_unavailable"
        await bad.redis.aclose()
    finally:
        await store.close()
        await admin.acl_deluser(user)
        await admin.aclose()


async def test_a_silent_server_times_out_as_store_unavailable():
    async def accept_and_say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await asyncio.sleep(30)

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = RedisStore(aioredis.Redis(host="127.0.0.1", port=port, socket_timeout=0.3))
    try:
        with pytest.raises(RoutingError) as err:
            await store.get_agent("a1")
        assert err.value.code == "store_unavailable"
        assert isinstance(err.value.__cause__, RedisTimeoutError)
    finally:
        store._wire.close()   # type: ignore[union-attr]
        await store.redis.aclose()
        server.close()


async def test_an_unreachable_server_is_a_connection_error():
    from tests.servers import free_port
    client = aioredis.Redis(host="127.0.0.1", port=free_port())
    wire = Wire.for_client(client)
    assert wire is not None
    with pytest.raises(RedisConnectionError):
        await wire.call("PING")
    await client.aclose()


def test_clients_it_cannot_mirror_stay_on_redis_py():
    assert Wire.for_client(aioredis.Redis(ssl=True)) is None
    assert Wire.for_client(object()) is None
    assert Wire.for_client(aioredis.Redis(unix_socket_path="/tmp/redis.sock")) is not None


def test_a_store_moved_to_a_new_event_loop_reconnects_there(redis_url):
    store = RedisStore(aioredis.Redis.from_url(redis_url), f"loops-{uuid.uuid4().hex[:8]}:")

    async def use() -> str:
        await store.put_agent(AgentConfig("a1", queues=("general",)), 1.0)
        await store.incr("queue:general", {"queued": 1})
        agent = await store.get_agent("a1")
        assert agent is not None
        return agent.id

    assert asyncio.run(use()) == "a1"
    assert asyncio.run(use()) == "a1"   # the first loop is closed: its connection cannot be used nor closed

    async def finish() -> dict[str, float]:
        await store.flush()
        counters = await store.counters("queue:general")
        keys = [k async for k in store.redis.scan_iter(match=store.keys.prefix + "*")]
        await store.redis.delete(*keys)
        await store.close()
        return counters

    assert asyncio.run(finish()) == {"queued": 2.0}
