"""An asyncio platform drives a session: the interpreter in a worker thread, the platform on the loop."""
from __future__ import annotations

import asyncio
from typing import Any

from tests.voicexml.talk import write
from voicexml.aio import run_session
from voicexml.platform import InputRequest, InputResult, Prompt


class CallOnTheLoop:
    """A fake call whose caller answers after an asyncio sleep, as a media stream would."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    def _check(self) -> None:
        asyncio.get_running_loop()  # raises unless called on the loop

    async def queue_prompt(self, prompt: Prompt) -> None:
        self._check()
        self.heard.append(prompt.text)

    async def collect(self, request: InputRequest) -> InputResult:
        self._check()
        await asyncio.sleep(0.01)
        return InputResult("dtmf", "2")

    async def log(self, text: str, label: str | None = None) -> None:
        self._check()

    async def ended(self, value: Any, namelist: dict[str, Any]) -> None:
        self._check()
        self.heard.append(f"ended {value}")

    async def failed(self, name: str, message: str) -> None:
        self.heard.append(f"failed {name}")


async def test_an_asyncio_platform_runs_a_session(tmp_path):
    path = write(tmp_path, "m.vxml", """
    <menu dtmf="true"><prompt>one or two</prompt><choice next="#a">one</choice><choice next="#b">two</choice></menu>
    <form id="a"><block><exit expr="'a'"/></block></form>
    <form id="b"><block><prompt>b chosen</prompt><exit expr="'b'"/></block></form>
    """)
    call = CallOnTheLoop()
    ticks = 0

    async def ticker() -> None:  # the loop stays free while the interpreter waits
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    t = asyncio.create_task(ticker())
    outcome = await run_session(call, str(path))  # type: ignore[arg-type]
    t.cancel()
    assert outcome.status == "exit" and outcome.value == "b"
    assert call.heard == ["one or two", "b chosen", "ended b"]
    assert ticks > 1
