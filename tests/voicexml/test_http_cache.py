"""The fetcher's HTTP cache against a real aiohttp server that counts requests: freshness, maxage/maxstale
(VoiceXML 2.0 6.1.2) and revalidation of stale entries with If-None-Match / If-Modified-Since."""
from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from tests.voicexml.talk import said, serve, vxml
from voicexml import Fetcher, Session, VXMLEvent
from voicexml.text_runner import JsonlPlatform

LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"


class Origin:
    """A web server whose resources have a body, an ETag and caching headers the test sets."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.version = 1

    def put(self, path: str, body: str, **headers: str) -> None:
        self.bodies[path] = body.encode()
        self.headers[path] = headers

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.headers)))
        if request.path not in self.bodies:
            raise web.HTTPNotFound()
        headers = {"ETag": f'"v{self.version}"', "Last-Modified": LAST_MODIFIED, **self.headers[request.path]}
        etag_matches = request.headers.get("If-None-Match") == headers["ETag"]
        date_matches = "If-None-Match" not in request.headers and \
            request.headers.get("If-Modified-Since") == headers.get("Last-Modified")
        if etag_matches or date_matches:
            return web.Response(status=304, headers=headers)
        return web.Response(body=self.bodies[request.path], headers=headers, content_type="text/plain")

    def count(self, path: str, conditional: bool | None = None) -> int:
        return sum(p == path and (conditional is None or ("If-None-Match" in h or "If-Modified-Since" in h)
                                  == conditional) for p, h in self.requests)


@pytest.fixture
async def origin(aiohttp_server: Callable[..., Any]) -> tuple[Origin, str]:
    o = Origin()
    return o, await serve(aiohttp_server, o.handle)


async def fetch(fetcher: Fetcher, uri: str, **kw: Any) -> bytes:
    return (await asyncio.to_thread(fetcher.fetch, uri, **kw)).content


async def test_fresh_entries_are_served_from_the_cache(origin):
    o, base = origin
    o.put("/a.js", "var a = 1;", **{"Cache-Control": "max-age=60"})
    f = Fetcher()
    assert await fetch(f, base + "/a.js") == b"var a = 1;"
    assert await fetch(f, base + "/a.js") == b"var a = 1;"
    assert o.count("/a.js") == 1


async def test_stale_entry_is_revalidated_and_a_304_reuses_the_body(origin):
    o, base = origin
    o.put("/a.js", "var a = 1;", **{"Cache-Control": "max-age=0"})
    f = Fetcher()
    assert await fetch(f, base + "/a.js") == b"var a = 1;"
    o.bodies["/a.js"] = b"the server would send this only with a 200"
    assert await fetch(f, base + "/a.js") == b"var a = 1;"
    assert o.count("/a.js") == 2 and o.count("/a.js", conditional=True) == 1
    sent = o.requests[-1][1]
    assert sent["If-None-Match"] == '"v1"' and sent["If-Modified-Since"] == LAST_MODIFIED


async def test_a_changed_resource_replaces_the_entry(origin):
    o, base = origin
    o.put("/a.js", "old", **{"Cache-Control": "no-cache"})
    f = Fetcher()
    assert await fetch(f, base + "/a.js") == b"old"
    o.version, o.bodies["/a.js"] = 2, b"new"
    assert await fetch(f, base + "/a.js") == b"new"
    assert await fetch(f, base + "/a.js") == b"new"  # revalidated against "v2" this time
    assert o.count("/a.js", conditional=True) == 2
    assert o.requests[-1][1]["If-None-Match"] == '"v2"'


async def test_last_modified_alone_is_a_validator(origin):
    o, base = origin
    o.put("/g.grxml", "<grammar/>", **{"Cache-Control": "max-age=0"})
    o.headers["/g.grxml"]["ETag"] = ""
    f = Fetcher()
    await fetch(f, base + "/g.grxml")
    assert await fetch(f, base + "/g.grxml") == b"<grammar/>"
    assert o.requests[-1][1].get("If-Modified-Since") == LAST_MODIFIED


async def test_a_304_refreshes_freshness(origin):
    o, base = origin
    o.put("/a.js", "var a;", **{"Cache-Control": "max-age=0"})
    f = Fetcher()
    await fetch(f, base + "/a.js")
    o.headers["/a.js"] = {"Cache-Control": "max-age=60"}
    await fetch(f, base + "/a.js")  # 304 with max-age=60
    await fetch(f, base + "/a.js")  # fresh now: no request
    assert o.count("/a.js") == 2


async def test_maxage_and_maxstale(origin):
    o, base = origin
    o.put("/a.js", "var a;", **{"Cache-Control": "max-age=60"})
    f = Fetcher()
    await fetch(f, base + "/a.js")
    await asyncio.sleep(0.05)
    await fetch(f, base + "/a.js", maxage=0)  # older than the document accepts: revalidate
    assert o.count("/a.js", conditional=True) == 1
    assert o.requests[-1][1]["Cache-Control"] == "max-age=0"
    o.put("/b.js", "var b;", **{"Cache-Control": "max-age=0"})
    await fetch(f, base + "/b.js")
    await fetch(f, base + "/b.js", maxstale=30)  # stale, but the document accepts 30 s of staleness
    assert o.count("/b.js") == 1
    o.put("/c.js", "var c;", **{"Cache-Control": "max-age=0, must-revalidate"})
    await fetch(f, base + "/c.js")
    await fetch(f, base + "/c.js", maxstale=30)  # the server forbids using it stale
    assert o.count("/c.js") == 2


async def test_no_store_is_never_cached_and_expires_is_honoured(origin):
    o, base = origin
    o.put("/n.js", "n", **{"Cache-Control": "no-store"})
    o.put("/e.js", "e", Date="Wed, 21 Oct 2015 07:28:00 GMT", Expires="Wed, 21 Oct 2015 07:29:00 GMT")
    f = Fetcher()
    for _ in range(2):
        await fetch(f, base + "/n.js")
        await fetch(f, base + "/e.js")
    assert o.count("/n.js", conditional=False) == 2
    assert o.count("/e.js") == 1  # fresh for the 60 s between Date and Expires


async def test_a_404_on_revalidation_is_badfetch(origin):
    o, base = origin
    o.put("/a.js", "var a;", **{"Cache-Control": "no-cache"})
    f = Fetcher()
    await fetch(f, base + "/a.js")
    del o.bodies["/a.js"]
    with pytest.raises(VXMLEvent) as e:
        await fetch(f, base + "/a.js")
    assert e.value.name == "error.badfetch.http.404"


async def test_documents_use_the_scriptmaxstale_property(origin):
    o, base = origin
    o.put("/lib.js", "var who = 'cached';", **{"Cache-Control": "max-age=0"})
    o.put("/a.vxml", vxml("""
    <property name="scriptmaxstale" value="600"/>
    <form>
      <block><script src="lib.js"/><prompt><value expr="who"/></prompt></block>
      <block><script src="lib.js"/><prompt><value expr="who"/></prompt><goto next="b.vxml"/></block>
    </form>"""),
          **{"Cache-Control": "max-age=60"})
    o.put("/b.vxml", vxml("""
    <form><block><script src="lib.js" maxstale="0"/><prompt><value expr="who"/></prompt></block></form>"""),
          **{"Cache-Control": "max-age=60"})
    f = Fetcher()
    out = io.StringIO()
    await asyncio.to_thread(Session(JsonlPlatform(io.StringIO(), out, io.StringIO()), fetcher=f).run, base + "/a.vxml")
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert said(events) == ["cached", "cached", "cached"]
    # a.vxml's second script used the stale copy (scriptmaxstale); b.vxml's maxstale="0" revalidated it.
    assert o.count("/lib.js") == 2 and o.count("/lib.js", conditional=True) == 1
