"""fetchaudio (VoiceXML 2.0 6.1.1): audio the platform plays while a slow fetch is in progress, against a real
aiohttp server whose documents take as long as the test says."""
from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from tests.voicexml.talk import serve, vxml
from voicexml import FetchAudio, Fetcher, NullPlatform, Session
from voicexml.aio import run_session
from voicexml.text_runner import JsonlPlatform


class SlowOrigin:
    """Serves documents, each after its own delay (seconds)."""

    def __init__(self) -> None:
        self.docs: dict[str, tuple[str, float, int]] = {}

    def put(self, path: str, body: str, delay: float = 0.0, status: int = 200) -> None:
        self.docs[path] = (body, delay, status)

    async def handle(self, request: web.Request) -> web.Response:
        body, delay, status = self.docs.get(request.path, ("", 0.0, 404))
        await asyncio.sleep(delay)
        ctype = "application/xml" if request.path.endswith((".vxml", ".xml")) else "text/plain"
        return web.Response(text=body, status=status, content_type=ctype, headers={"Cache-Control": "max-age=60"})


@pytest.fixture
async def origin(aiohttp_server: Callable[..., Any]) -> tuple[SlowOrigin, str]:
    o = SlowOrigin()
    return o, await serve(aiohttp_server, o.handle)


async def run_text(uri: str, fetcher: Fetcher | None = None) -> list[dict[str, Any]]:
    out = io.StringIO()
    session = Session(JsonlPlatform(io.StringIO(), out, io.StringIO()), fetcher=fetcher)
    await asyncio.to_thread(session.run, uri)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["text"] if e["event"] == "prompt" else e["event"] for e in events]


async def test_a_slow_goto_plays_the_fetchaudio(origin):
    o, base = origin
    o.put("/a.vxml", vxml("""
    <property name="fetchaudiodelay" value="50ms"/>
    <property name="fetchaudiominimum" value="2s"/>
    <form><block><prompt>one moment</prompt><goto next="b.vxml" fetchaudio="audio/hold.wav"/></block></form>"""))
    o.put("/b.vxml", vxml("<form><block><prompt>here</prompt></block></form>"), delay=0.4)
    events = await run_text(base + "/a.vxml")
    assert kinds(events) == ["one moment", "fetchaudio", "here", "exit"]
    assert events[1] == {"event": "fetchaudio", "src": base + "/audio/hold.wav", "minimum_ms": 2000}


async def test_a_fast_fetch_or_a_cached_one_plays_nothing(origin):
    o, base = origin
    o.put("/a.vxml", vxml("""
    <property name="fetchaudio" value="hold.wav"/>
    <form>
      <block><goto next="b.vxml"/></block>
    </form>"""))
    o.put("/b.vxml", vxml("""
    <property name="fetchaudio" value="hold.wav"/>
    <property name="fetchaudiodelay" value="0s"/>
    <form><block><prompt>b</prompt><goto next="c.vxml"/></block></form>"""))
    o.put("/c.vxml", vxml("<form><block><prompt>c</prompt></block></form>"))
    fetcher = Fetcher()
    await asyncio.to_thread(fetcher.fetch, base + "/c.vxml")  # fresh in the cache (max-age=60) from now on
    events = await run_text(base + "/a.vxml", fetcher)
    # b: faster than the 1 s default delay; c: a 0 s delay, but fresh in the cache, so nothing is fetched.
    assert kinds(events) == ["b", "c", "exit"]


async def test_the_property_covers_data_and_subdialog_and_an_empty_attribute_turns_it_off(origin):
    o, base = origin
    o.put("/a.vxml", vxml("""
    <property name="fetchaudio" value="hold.wav"/>
    <property name="fetchaudiodelay" value="20ms"/>
    <form>
      <block><data name="d" src="slow.xml"/><prompt><value expr="d.documentElement.getAttribute('v')"/></prompt></block>
      <subdialog name="s" src="sub.vxml"><filled><prompt><value expr="s.r"/></prompt></filled></subdialog>
      <block><goto next="end.vxml" fetchaudio=""/></block>
    </form>"""))
    o.put("/slow.xml", '<r v="data"/>', delay=0.3)
    o.put("/sub.vxml", vxml("<form><var name='r' expr=\"'sub'\"/><block><return namelist='r'/></block></form>"),
          delay=0.3)
    o.put("/end.vxml", vxml("<form><block><prompt>end</prompt></block></form>"), delay=0.3)
    events = await run_text(base + "/a.vxml")
    assert kinds(events) == ["fetchaudio", "data", "fetchaudio", "sub", "end", "exit"]


async def test_a_slow_fetch_that_fails_stops_the_audio_and_throws_where_it_was_asked(origin):
    o, base = origin
    o.put("/a.vxml", vxml("""
    <form>
      <property name="fetchaudiodelay" value="20ms"/>
      <catch event="error.badfetch.http.503"><prompt>unavailable</prompt></catch>
      <block><goto next="down.vxml" fetchaudio="hold.wav"/></block>
    </form>"""))
    o.put("/down.vxml", "", delay=0.2, status=503)
    events = await run_text(base + "/a.vxml")
    assert kinds(events) == ["fetchaudio", "unavailable", "exit"]


class Player(NullPlatform):
    """A platform that notes what it is asked to do, and from which thread."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.threads: set[int] = set()

    def _note(self, *call: Any) -> None:
        self.threads.add(threading.get_ident())
        self.calls.append(call)

    def queue_prompt(self, prompt):
        self._note("prompt", prompt.text)

    def play_fetchaudio(self, audio):
        self._note("play", audio)

    def stop_fetchaudio(self):
        self._note("stop")


async def test_the_platform_starts_and_stops_it_from_the_interpreter_thread(origin):
    o, base = origin
    o.put("/a.vxml", vxml("""
    <form>
      <property name="fetchaudiodelay" value="30ms"/>
      <property name="fetchaudiominimum" value="750ms"/>
      <block><prompt>wait</prompt><submit next="b.vxml" fetchaudio="hold.wav"/></block>
    </form>"""))
    o.put("/b.vxml", vxml("<form><block><prompt>done</prompt></block></form>"), delay=0.3)
    player = Player()
    await asyncio.to_thread(Session(player).run, base + "/a.vxml")
    assert player.calls == [("prompt", "wait"), ("play", FetchAudio(base + "/hold.wav", 30, 750)), ("stop",),
                            ("prompt", "done")]
    assert len(player.threads) == 1 and threading.get_ident() not in player.threads


async def test_menu_choices_and_links_take_it_too(origin):
    o, base = origin
    o.put("/m.vxml", vxml("""
    <link next="slow.vxml#l" fetchaudio="link.wav"><grammar mode="dtmf" version="1.0" root="r"
      xmlns="http://www.w3.org/2001/06/grammar"><rule id="r">9</rule></grammar></link>
    <menu dtmf="true">
      <property name="fetchaudiodelay" value="10ms"/>
      <choice next="slow.vxml" fetchaudio="choice.wav">one</choice>
    </menu>"""))
    o.put("/slow.vxml", vxml("""
    <form><block><prompt>slow</prompt><goto next="m.vxml"/></block></form>
    <form id="l"><block><prompt>link</prompt></block></form>"""), delay=0.2)
    out = io.StringIO()
    session = Session(JsonlPlatform(io.StringIO('{"input": "dtmf", "digits": "1"}\n{"input": "dtmf", "digits": "9"}\n'),
                                    out, io.StringIO()))
    await asyncio.to_thread(session.run, base + "/m.vxml")
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    # The second fetch of slow.vxml is answered by the cache (max-age=60): the link plays nothing.
    assert [e.get("src", e.get("text")) for e in events if e["event"] in ("fetchaudio", "prompt")] == \
        [base + "/choice.wav", "slow", "link"]


class LoopCall:
    """An asyncio platform: fetch audio starts and stops on the event loop."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def queue_prompt(self, prompt: Any) -> None:
        self.calls.append(prompt.text)

    async def play_fetchaudio(self, audio: FetchAudio) -> None:
        asyncio.get_running_loop()
        self.calls.append("play " + audio.src.rsplit("/", 1)[1])

    async def stop_fetchaudio(self) -> None:
        await asyncio.sleep(0.01)  # e.g. waiting out fetchaudiominimum without blocking the loop
        self.calls.append("stop")

    async def ended(self, value: Any, namelist: dict[str, Any]) -> None:
        self.calls.append("ended")


async def test_an_asyncio_platform_plays_it_on_the_loop(origin):
    o, base = origin
    o.put("/a.vxml", vxml("""
    <property name="fetchaudiodelay" value="10ms"/>
    <form><block><goto next="b.vxml" fetchaudio="hold.wav"/></block></form>"""))
    o.put("/b.vxml", vxml("<form><block><prompt>b</prompt></block></form>"), delay=0.2)
    call = LoopCall()
    outcome = await run_session(call, base + "/a.vxml")  # type: ignore[arg-type]
    assert outcome.status == "exit"
    assert call.calls == ["play hold.wav", "stop", "b", "ended"]


async def test_fetchtimeout_ends_a_slow_fetch_with_badfetch_and_stops_the_audio(origin):
    o, base = origin
    o.put("/a.vxml", vxml("""
    <property name="fetchaudiodelay" value="10ms"/>
    <form>
      <catch event="error.badfetch"><prompt>too slow</prompt></catch>
      <block><goto next="b.vxml" fetchaudio="hold.wav" fetchtimeout="200ms"/></block>
    </form>"""))
    o.put("/b.vxml", vxml("<form><block><prompt>b</prompt></block></form>"), delay=2.0)
    player = Player()
    await asyncio.to_thread(Session(player).run, base + "/a.vxml")
    assert player.calls == [("play", FetchAudio(base + "/hold.wav", 10, 0)), ("stop",), ("prompt", "too slow")]
