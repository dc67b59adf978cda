"""The console page shells and static files, served by `agent_console.pages.setup_pages`."""
from __future__ import annotations

import re

import pytest
from aiohttp import web

from agent_console.pages import setup_pages
from tests.static_assets import load_assets


@pytest.fixture
async def client(aiohttp_client):
    app = web.Application()
    setup_pages(app)
    return await aiohttp_client(app)


@pytest.mark.parametrize("path, script", [("/", "desktop.js"), ("/login", "login.js"),
                                          ("/supervisor", "supervisor.js")])
async def test_pages_are_served_with_their_module_and_a_strict_policy(client, path, script):
    resp = await client.get(path)
    assert resp.status == 200
    assert resp.content_type == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    html = await resp.text()
    assert re.search(rf'src="/static/console/{script}\?v=[0-9a-f]{{10}}"', html)
    assert 'href="/static/console/console.css?v=' in html


@pytest.mark.parametrize("page, module", [("/", "desktop.js"), ("/login", "login.js"),
                                          ("/supervisor", "supervisor.js")])
async def test_every_asset_and_module_import_resolves(client, page, module):
    loaded = await load_assets(client, page)
    assert {f"/static/console/{module}", "/static/console/common.js", "/static/console/console.css",
            "/static/common/base.css"} <= loaded
    if page == "/":
        assert {"/static/console/conversation.js", "/static/common/reconnect.js"} <= loaded


async def test_both_page_sets_on_one_app_share_the_common_scripts(aiohttp_client):
    from channels.webchat.page import setup_page

    app = web.Application()
    setup_pages(app)
    setup_page(app)  # the second call of setup_common must not register /static/common/ again
    client = await aiohttp_client(app)
    assert (await client.get("/static/common/reconnect.js")).status == 200
    assert (await client.get("/chat")).status == 200


async def test_desktop_has_labelled_controls(client):
    html = await (await client.get("/")).text()
    for state in ("available", "away", "offline"):
        assert f'<label for="state-{state}">' in html
    assert 'role="tablist"' in html and 'aria-live="assertive"' in html


async def test_login_page_shows_demo_logins_only_on_a_demo_server(aiohttp_client):
    from contact_center.keys import DEMO_CREDENTIALS, SETTINGS
    from contact_center.settings import Settings

    for demo in (True, False):
        app = web.Application()
        app[SETTINGS] = Settings(demo=demo)
        app[DEMO_CREDENTIALS] = [("agent", "demo-agent", "pw<&>")]
        setup_pages(app)
        client = await aiohttp_client(app)
        html = await (await client.get("/login")).text()
        assert ("<code>pw&lt;&amp;&gt;</code>" in html) is demo  # escaped, and only in demo mode
        assert "demo-agent" not in html or demo
