"""A small in-process pub/sub hub: the lifecycle and the channels publish, agents' and customers' sockets listen.

Topics are plain tuples, `("agent", agent_id)` and `("contact", contact_id)`. Each listening socket gets its own
bounded queue, so one slow socket never blocks a publisher or another socket; a socket that falls too far behind
is told so (its queue is closed) and reconnects, and a resumed chat or agent socket re-reads what it missed from
the history.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Hashable
from types import MappingProxyType
from typing import Any

log = logging.getLogger(__name__)

Topic = Hashable
Message = dict[str, Any]


def agent_topic(agent_id: str) -> tuple[str, str]:
    """The topic an agent's sockets listen on."""
    return ("agent", agent_id)


def contact_topic(contact_id: str) -> tuple[str, str]:
    """The topic a customer's chat sockets listen on."""
    return ("contact", contact_id)


class Subscription:
    """One listener's queue of messages; iterate it, or `get()` one at a time."""

    _CLOSED: Message = MappingProxyType({"type": "__closed__"})  # type: ignore[assignment]  # identity sentinel

    def __init__(self, topic: Topic, max_pending: int) -> None:
        self.topic = topic
        self.queue: asyncio.Queue[Message] = asyncio.Queue(max_pending)
        self.overflowed = False

    async def get(self) -> Message | None:
        """The next message, or None once the hub closed this subscription."""
        message = await self.queue.get()
        return None if message is self._CLOSED else message

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while (message := await self.get()) is not None:
            yield message

    def _close(self) -> None:
        # Make room for the sentinel: the listener is gone or too slow, either way its backlog is moot.
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(self._CLOSED)


class Hub:
    """Pub/sub keyed by topic; publishing never waits."""

    def __init__(self, max_pending: int = 1000) -> None:
        self._max_pending = max_pending
        self._subs: dict[Topic, set[Subscription]] = {}

    @contextlib.contextmanager
    def subscribe(self, topic: Topic):
        """Listen on a topic for the duration of a `with` block."""
        sub = Subscription(topic, self._max_pending)
        self._subs.setdefault(topic, set()).add(sub)
        try:
            yield sub
        finally:
            subs = self._subs.get(topic)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[topic]

    def publish(self, topic: Topic, message: Message) -> int:
        """Deliver a message to every listener of a topic; returns how many got it."""
        delivered = 0
        for sub in list(self._subs.get(topic, ())):
            if sub.overflowed:
                continue
            try:
                sub.queue.put_nowait(message)
                delivered += 1
            except asyncio.QueueFull:
                log.warning("listener on %s fell behind; closing it so it reconnects", topic)
                sub.overflowed = True
                sub._close()
        return delivered

    def listeners(self, topic: Topic) -> int:
        """How many sockets listen on a topic (an agent is 'connected' when this is > 0)."""
        return len(self._subs.get(topic, ()))

    def close_all(self) -> None:
        """End every subscription (on shutdown, so sockets' writer loops finish)."""
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub._close()
