"""The customer chat page: `GET /chat` and its static files under `/static/chat/`.

A server-rendered shell plus ES modules that talk to the server only through the public `/ws/chat` websocket of
docs/api.md. No build step, nothing loaded from another origin.
"""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from contact_center.web_pages import PageRenderer, app_settings, setup_common

HERE = Path(__file__).parent

# No frame-ancestors: the page is meant to be embedded in an iframe on the customer's own site.
_RENDERER = web.AppKey("webchat_page_renderer", PageRenderer)


async def chat_page(request: web.Request) -> web.Response:
    """Serve the chat widget page."""
    settings = app_settings(request.app)
    return request.app[_RENDERER].render("chat.html", max_chars=settings.max_message_chars)


def setup_page(app: web.Application) -> None:
    """Register `GET /chat` and the static files under `/static/chat/`."""
    app[_RENDERER] = PageRenderer(HERE / "templates", HERE / "static")
    app.router.add_get("/chat", chat_page, name="chat_page")
    setup_common(app)
    app.router.add_static("/static/chat/", HERE / "static", name="chat_static")
