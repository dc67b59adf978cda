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
    pending = ["desktop.js", "login.js", "supervisor.js", "console.css"]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        resp = await client.get(f"/static/console/{name}")
        assert resp.status == 200, name
        if name.endswith(".js"):
            assert "javascript" in resp.content_type
            pending += re.findall(r'from "\./([\w.-]+)"', await resp.text())
    assert {"common.js", "reconnect.js", "conversation.js"} <= seen


async def test_desktop_has_labelled_controls(client):
    html = await (await client.get("/")).text()
    for state in ("available", "away", "offline"):
        assert f'<label for="state-{state}">' in html
    assert 'role="tablist"' in html and 'aria-live="assertive"' in html
