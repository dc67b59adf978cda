"""`Wire`: one lean pipelined Redis connection (asyncio Protocol + hiredis) for the store's function calls.

Why: on a busy or virtualised machine a redis-py asyncio command costs ~75 us of client CPU (connection pool,
retry wrapper, a Task per write for `socket_timeout`, response callbacks) against ~12 us for the same PING
written to a transport and parsed by `hiredis.Reader` (the C parser redis-py itself uses). A routing decision is
2-3 round trips, so that difference is most of its cost. The wire does only what the store needs: send
a command (or a few together), get its raw RESP2 reply (bulk strings as bytes, arrays as lists), in order;
concurrent callers are pipelined (Redis answers in order), so any number of calls in flight share one
connection (a redis-py pool refuses calls beyond its `max_connections`, 100 by default). What the store does not
send on it (`scan_iter`, clients it cannot mirror) stays on the redis-py client.

Connection parameters come from the redis-py client's pool (TCP or unix socket; AUTH and SELECT on connect);
a client it cannot mirror (TLS, Sentinel, a credential provider) gets no wire (`Wire.for_client` returns None)
and the store keeps using redis-py. Errors are redis-py's (`ConnectionError`, `TimeoutError`, `ResponseError`) so
callers handle one set. A lost connection fails the calls in flight and is reopened by the
next call; a reply slower than `timeout_s` (redis-py's `socket_timeout`) closes the connection.
"""
from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import hiredis
from redis.asyncio.connection import Connection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError


class _Protocol(asyncio.Protocol):
    """Replies resolve the waiting futures in the order the commands were written."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout_s: float | None) -> None:
        self.loop = loop   # kept: asyncio.get_running_loop() costs a getpid() system call on Python 3.11
        self.reader = hiredis.Reader()
        self.waiters: collections.deque[tuple[asyncio.Future[Any], float]] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.lost: Exception | None = None
        self.timeout_s = timeout_s
        self._watchdog: asyncio.TimerHandle | None = None
        self._out: list[bytes] = []   # commands written while others are in flight, sent together (see send)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        waiters = self.waiters
        while True:
            try:
                reply = self.reader.gets()
            except hiredis.ProtocolError as e:
                self.abort(RedisConnectionError(f"Redis protocol error: {e}"))
                return
            if reply is False:
                return
            if not waiters:   # a reply nobody asked for: the stream is out of step, never guess
                self.abort(RedisConnectionError("unexpected reply from Redis"))
                return
            future = waiters.popleft()[0]
            if future.done():   # its caller was cancelled; the reply is dropped, the order is kept
                continue
            if isinstance(reply, hiredis.ReplyError):
                future.set_exception(ResponseError(str(reply)))
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(RedisConnectionError(f"connection to Redis lost: {exc or 'closed by the server'}"))

    def fail(self, error: Exception) -> None:
        """Fail every call in flight with `error` (the connection is unusable from now on)."""
        if self.lost is None:
            self.lost = error
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self.waiters:
            future = self.waiters.popleft()[0]
            if not future.done():
                future.set_exception(error)

    def abort(self, error: Exception) -> None:
        self.fail(error)
        if self.transport is not None:
            self.transport.abort()

    def send(self, packed: bytes) -> asyncio.Future[Any]:
        assert self.transport is not None
        future = self.loop.create_future()
        # Alone on the wire, a command goes at once. With others in flight (many decisions at once), the commands
        # written during one turn of the event loop go out in one system call at the end of that turn: a send()
        # costs ~10-40 us of CPU on a virtualised machine, most of a decision's client time when each pays one.
        if not self.waiters:
            self.transport.write(packed)
        else:
            if not self._out:
                self.loop.call_soon(self._write)
            self._out.append(packed)
        self.waiters.append((future, time.monotonic()))
        if self.timeout_s is not None and self._watchdog is None:
            self._arm(self.timeout_s)
        return future

    def _write(self) -> None:
        out, self._out = self._out, []
        if self.lost is None and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(out))

    def _arm(self, delay: float) -> None:
        self._watchdog = self.loop.call_later(delay, self._check)

    def _check(self) -> None:
        """One timer per connection (not one per command): the oldest call waits at most `timeout_s`."""
        self._watchdog = None
        if not self.waiters or self.timeout_s is None:
            return
        late = time.monotonic() - self.waiters[0][1]
        if late >= self.timeout_s:
            self.abort(RedisTimeoutError(f"no reply from Redis within {self.timeout_s} s"))
        else:
            self._arm(self.timeout_s - late)


class Wire:
    """A lazily (re)opened connection; `call(*args)` returns the raw reply."""

    def __init__(self, connect: dict[str, Any], setup: list[tuple[Any, ...]], timeout_s: float | None,
                 connect_timeout_s: float | None) -> None:
        self._connect = connect
        self._setup = setup
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._protocol: _Protocol | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Future[_Protocol] | None = None

    @classmethod
    def for_client(cls, client: Any) -> Wire | None:
        """A wire to the server of a redis-py asyncio client, or None when its connection cannot be mirrored."""
        pool = getattr(client, "connection_pool", None)
        kw = dict(getattr(pool, "connection_kwargs", None) or {})
        kind = getattr(pool, "connection_class", None)
        if kw.get("credential_provider") is not None or kw.get("protocol") not in (None, 2, "2", 3, "3"):
            return None
        if kind is Connection:
            connect: dict[str, Any] = {"host": kw.get("host", "localhost"), "port": int(kw.get("port", 6379))}
        elif kind is UnixDomainSocketConnection:
            connect = {"path": kw.get("path", "")}
        else:   # TLS, Sentinel, cluster, custom classes: redis-py knows how
            return None
        setup: list[tuple[Any, ...]] = []
        if kw.get("password") is not None:
            setup.append(("AUTH", kw["username"], kw["password"]) if kw.get("username") else ("AUTH", kw["password"]))
        if int(kw.get("db") or 0):
            setup.append(("SELECT", int(kw["db"])))
        timeout = kw.get("socket_timeout", 5.0)
        return cls(connect, setup, timeout, kw.get("socket_connect_timeout", timeout))

    async def call(self, *args: Any) -> Any:
        """Send one command; its reply (bulk strings as bytes, errors raised as redis-py exceptions)."""
        protocol = await self._ready()
        return await protocol.send(hiredis.pack_command(args))

    async def call_all(self, *commands: tuple[Any, ...]) -> list[Any]:
        """Send commands together, run by Redis in this order; their replies, an error reply (or a lost
        connection) as its exception in its place."""
        protocol = await self._ready()
        sent = [protocol.send(hiredis.pack_command(command)) for command in commands]
        return await asyncio.gather(*sent, return_exceptions=True)

    async def _ready(self) -> _Protocol:
        protocol = self._protocol
        # a loop that is not running is not ours: the store moved to another loop (tests), reconnect there
        if protocol is None or protocol.lost is not None or not protocol.loop.is_running():
            protocol = await self._open()
        return protocol

    async def _open(self) -> _Protocol:
        """Open (or reopen) the connection; callers arriving meanwhile wait for the same one."""
        loop = asyncio.get_running_loop()
        if self._opening is not None and self._loop is loop:
            return await asyncio.shield(self._opening)
        self.close()
        self._loop = loop
        opening = self._opening = loop.create_future()
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                if "path" in self._connect:
                    _, protocol = await loop.create_unix_connection(lambda: _Protocol(loop, self._timeout_s),
                                                                    self._connect["path"])
                else:
                    _, protocol = await loop.create_connection(lambda: _Protocol(loop, self._timeout_s),
                                                               self._connect["host"], self._connect["port"])
                for command in self._setup:
                    await protocol.send(hiredis.pack_command(command))
        except (OSError, TimeoutError) as e:
            self._opening = None
            error: Exception = (RedisTimeoutError if isinstance(e, TimeoutError) else RedisConnectionError)(
                f"cannot connect to Redis at {self._connect}: {e}")
            opening.set_exception(error)
            opening.exception()   # retrieved: nobody else may be waiting
            raise error from e
        except BaseException as e:
            self._opening = None
            opening.cancel()
            if isinstance(e, ResponseError):   # AUTH or SELECT refused
                raise RedisConnectionError(f"Redis refused the connection set-up: {e}") from e
            raise
        self._protocol = protocol
        self._opening = None
        opening.set_result(protocol)
        return protocol

    def close(self) -> None:
        """Close the connection (calls in flight fail); the next call opens a new one."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.fail(RedisConnectionError("the routing store closed its Redis connection"))
            if not protocol.loop.is_closed():   # a closed loop's transport cannot close; its socket goes with it
                protocol.transport.close()
