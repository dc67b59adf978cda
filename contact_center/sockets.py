"""What the agent and chat websockets share: JSON frames in and out, and a pump from a hub subscription.

Two tasks write to one socket (the reader answering the client, the pump forwarding hub messages), so sends are
serialised by a lock; a frame that is not a JSON object gets an `error` and the socket stays open.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import WSMsgType, web

from contact_center.domain import DomainError
from contact_center.hub import Subscription
from contact_center.intake import IntakeError
from contact_center.keys import METRICS, SETTINGS, SOCKETS
from contact_center.lifecycle import LifecycleError
from routing import RoutingError

log = logging.getLogger(__name__)

HEARTBEAT_S = 20.0
CLOSE_TIMEOUT_S = 2.0


class BadFrame(Exception):
    """A client frame the server refuses; becomes an `error` message with this code."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


class JsonSocket:
    """A prepared websocket speaking JSON objects."""

    def __init__(self, ws: web.WebSocketResponse, max_frame_chars: int) -> None:
        self.ws = ws
        self.max_frame_chars = max_frame_chars
        self._lock = asyncio.Lock()
        self._pumps: list[asyncio.Task[None]] = []

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON object (silently dropped once the socket is closing)."""
        if self.ws.closed:
            return
        async with self._lock:
            try:
                await self.ws.send_json(message)
            except (ConnectionError, RuntimeError):
                pass  # the client went away; the reader loop sees the close

    async def error(self, code: str, message: str, **extra: Any) -> None:
        """Send an `error` message; the socket stays open."""
        await self.send({"type": "error", "code": code, "message": message, **extra})

    async def frames(self) -> AsyncIterator[dict[str, Any] | BadFrame]:
        """Each client frame as a dict, or a BadFrame for the caller to report; ends when the socket closes."""
        async for msg in self.ws:
            if msg.type == WSMsgType.TEXT:
                if len(msg.data) > self.max_frame_chars:
                    yield BadFrame("too_large", f"frame is {len(msg.data)} characters; the limit is "
                                                f"{self.max_frame_chars}")
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    yield BadFrame("bad_json", "a frame must be a JSON object")
                    continue
                if not isinstance(data, dict) or not isinstance(data.get("type"), str):
                    yield BadFrame("bad_message", "a frame must be a JSON object with a string 'type'")
                    continue
                yield data
            elif msg.type == WSMsgType.BINARY:
                yield BadFrame("bad_message", "binary frames are not accepted; send JSON text")
            elif msg.type == WSMsgType.ERROR:
                log.debug("websocket error: %s", self.ws.exception())
                return

    def pump(self, sub: Subscription) -> asyncio.Task[None]:
        """Forward a hub subscription to this socket until either ends."""
        async def run() -> None:
            async for message in sub:
                await self.send(message)
            if sub.overflowed and not self.ws.closed:
                await self.ws.close(code=1013, message=b"too slow; reconnect")
        return self.pump_task(run())

    def pump_task(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a forwarding coroutine for this socket; stop_pumps() cancels it."""
        task = asyncio.get_running_loop().create_task(coro)
        self._pumps.append(task)
        return task

    async def stop_pumps(self) -> None:
        """Cancel every pump of this socket."""
        for task in self._pumps:
            task.cancel()
        for task in self._pumps:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._pumps.clear()


# Errors whose code and message a client may see; anything else is logged and answered `internal_error`.
CLIENT_ERRORS = (IntakeError, LifecycleError, RoutingError, DomainError)


async def serve_frames(sock: JsonSocket, handle: Callable[[dict[str, Any]], Awaitable[None]],
                       echo: tuple[str, ...] = ()) -> None:
    """Run `handle` on each client frame until the socket closes; every failure becomes an `error` message
    (echoing the frame's `echo` fields, so the client knows which action failed) and the socket stays open."""
    async for frame in sock.frames():
        ids = {} if isinstance(frame, BadFrame) else {k: frame[k] for k in echo if isinstance(frame.get(k), str)}
        try:
            if isinstance(frame, BadFrame):
                raise frame
            await handle(frame)
        except BadFrame as e:
            await sock.error(e.code, e.message, **{**ids, **e.extra})
        except CLIENT_ERRORS as e:
            await sock.error(e.code, e.message, **ids)
        except Exception:
            log.exception("websocket frame %s failed", frame.get("type") if isinstance(frame, dict) else frame)
            await sock.error("internal_error", "the server failed; try again", **ids)


def field(data: dict[str, Any], name: str, *, optional: bool = False, max_len: int | None = None) -> Any:
    """A string field of a client frame, or BadFrame missing_field / bad_field."""
    value = data.get(name)
    if value is None:
        if optional:
            return None
        raise BadFrame("missing_field", f"{data.get('type')!s} needs a string field {name!r}")
    if not isinstance(value, str):
        raise BadFrame("bad_field", f"field {name!r} must be a string")
    if max_len is not None and len(value) > max_len:
        raise BadFrame("bad_field", f"field {name!r} is longer than {max_len} characters")
    return value


@contextlib.asynccontextmanager
async def open_socket(request: web.Request, kind: str) -> AsyncIterator[web.WebSocketResponse]:
    """Prepare a websocket, track it for shutdown and the gauge, and close it at the end."""
    # A frame well past the text limit is refused by aiohttp itself (close 1009) before it is buffered whole;
    # a client that does not answer our close frame is dropped after CLOSE_TIMEOUT_S.
    max_bytes = request.app[SETTINGS].max_message_chars * 24 + 16384
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, timeout=CLOSE_TIMEOUT_S, max_msg_size=max_bytes)
    await ws.prepare(request)
    app = request.app
    app[SOCKETS].add(ws)
    gauge = app[METRICS].sockets.labels(kind)
    gauge.inc()
    try:
        yield ws
    finally:
        gauge.dec()
        app[SOCKETS].discard(ws)
        if not ws.closed:
            await ws.close()
