"""Web chat channel: the customer chat websocket `/ws/chat` and its adapter; the widget page is `page.py`'s."""
from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from channels.webchat.adapter import CHANNEL, WebchatAdapter
from channels.webchat.socket import chat_socket
from contact_center.keys import CHANNELS, HUB, LIFECYCLE, SETTINGS

__all__ = ["CHANNEL", "WebchatAdapter", "setup"]


async def _adapter_ctx(app: web.Application) -> AsyncIterator[None]:
    adapter = WebchatAdapter(app[HUB], app[LIFECYCLE], app[SETTINGS].chat_abandon_s)
    app[CHANNELS][CHANNEL] = adapter
    yield
    await adapter.close()
    app[CHANNELS].pop(CHANNEL, None)


def setup(app: web.Application) -> None:
    """Add the chat websocket route and the adapter's set-up/teardown (after the core's cleanup contexts)."""
    app.router.add_get("/ws/chat", chat_socket, name="chat_socket")
    app.cleanup_ctx.append(_adapter_ctx)
