"""The console page shells and static files, served by `agent_console.pages.setup_pages`."""
from __future__ import annotations

import re

import pytest
from aiohttp import web

from agent_console.pages import setup_pages


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


async def test_every_module_import_resolves(client):
    pending = ["/static/console/desktop.js", "/static/console/login.js", "/static/console/supervisor.js",
               "/static/console/console.css"]
    seen: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        resp = await client.get(path)
        assert resp.status == 200, path
        if path.endswith(".js"):
            assert "javascript" in resp.content_type
            folder = path.rsplit("/", 1)[0]
            for target in re.findall(r'from "([\w./-]+)"', await resp.text()):
                pending.append(target if target.startswith("/") else f"{folder}/{target[2:]}")
    assert {"/static/console/common.js", "/static/common/reconnect.js", "/static/console/conversation.js"} <= seen


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
