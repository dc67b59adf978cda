"""The chat page shell and its static files, served by `channels.webchat.page.setup_page`."""
from __future__ import annotations

from aiohttp import web

from channels.webchat.page import setup_page
from contact_center.keys import SETTINGS
from contact_center.settings import Settings
from tests.static_assets import load_assets


def _app(settings: Settings | None = None) -> web.Application:
    app = web.Application()
    if settings is not None:
        app[SETTINGS] = settings
    setup_page(app)
    return app


async def test_chat_page_is_served_with_a_strict_policy(aiohttp_client):
    client = await aiohttp_client(_app())
    resp = await client.get("/chat")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors" not in csp  # embeddable in the customer's site
    html = await resp.text()
    assert 'id="prechat-form"' in html and 'aria-live="polite"' in html


async def test_chat_page_shows_the_configured_size_limit(aiohttp_client):
    client = await aiohttp_client(_app(Settings(max_message_chars=321)))
    html = await (await client.get("/chat")).text()
    assert 'data-max-chars="321"' in html
    assert "0 / 321" in html


async def test_every_asset_and_module_import_resolves(aiohttp_client):
    client = await aiohttp_client(_app())
    assert await load_assets(client, "/chat") == {"/static/chat/chat.css", "/static/chat/chat.js",
                                                  "/static/common/base.css", "/static/common/reconnect.js"}


async def test_versioned_assets_are_cached_for_good_and_imports_revalidated(aiohttp_client):
    client = await aiohttp_client(_app())
    versioned = await client.get("/static/chat/chat.js?v=0123456789")
    assert "immutable" in versioned.headers["Cache-Control"]
    imported = await client.get("/static/common/reconnect.js")
    assert imported.headers["Cache-Control"] == "no-cache"
    again = await client.get("/static/common/reconnect.js", headers={"If-Modified-Since":
                                                                  imported.headers["Last-Modified"]})
    assert again.status == 304
    page = await client.get("/chat")
    assert page.headers["Cache-Control"] == "no-cache"


async def test_static_folder_does_not_serve_outside_itself(aiohttp_client):
    client = await aiohttp_client(_app())
    resp = await client.get("/static/chat/../page.py")
    assert resp.status in (403, 404)
