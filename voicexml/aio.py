"""Running a session for an asyncio platform (the IVR on a call): the interpreter in a worker thread, the
platform's coroutines on the event loop. The interpreter stays synchronous and reads like Appendix C."""
from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

from .interpreter import Outcome, Session
from .platform import (
    FetchAudio,
    InputRequest,
    InputResult,
    Prompt,
    RecordRequest,
    RecordResult,
    TransferRequest,
    TransferResult,
)

T = TypeVar("T")


class AsyncPlatform(Protocol):
    """`voicexml.platform.Platform` with coroutine methods, implemented on an event loop."""

    async def queue_prompt(self, prompt: Prompt) -> None:
        """Queue a prompt."""

    async def collect(self, request: InputRequest) -> InputResult:
        """Play queued prompts, then wait for one input."""

    async def record(self, request: RecordRequest) -> RecordResult:
        """Play queued prompts, then record."""

    async def transfer(self, request: TransferRequest) -> TransferResult:
        """Play queued prompts, then transfer."""

    async def disconnect(self, namelist: dict[str, Any] | None = None) -> None:
        """Hang up (`namelist`: what `<disconnect namelist>` returns)."""

    async def play_fetchaudio(self, audio: FetchAudio) -> None:
        """Play queued prompts, then start the fetch audio; return at once."""

    async def stop_fetchaudio(self) -> None:
        """Stop the fetch audio once it has played `audio.minimum_ms`."""

    async def log(self, text: str, label: str | None = None) -> None:
        """A `<log>`."""

    async def submitted(self, uri: str, method: str, params: dict[str, Any]) -> None:
        """A `<submit>` is about to fetch."""

    async def ended(self, value: Any, namelist: dict[str, Any]) -> None:
        """The session ended normally."""

    async def failed(self, name: str, message: str) -> None:
        """An unhandled event ended the session."""


class BlockingBridge:
    """A synchronous Platform for the interpreter thread that awaits the async platform on `loop`."""

    def __init__(self, platform: AsyncPlatform, loop: asyncio.AbstractEventLoop) -> None:
        self.platform = platform
        self.loop = loop

    def _wait(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def queue_prompt(self, prompt: Prompt) -> None:
        """Queue on the loop."""
        self._wait(self.platform.queue_prompt(prompt))

    def collect(self, request: InputRequest) -> InputResult:
        """Wait on the loop for input."""
        return self._wait(self.platform.collect(request))

    def record(self, request: RecordRequest) -> RecordResult:
        """Wait on the loop for a recording."""
        return self._wait(self.platform.record(request))

    def transfer(self, request: TransferRequest) -> TransferResult:
        """Wait on the loop for the transfer's outcome."""
        return self._wait(self.platform.transfer(request))

    def disconnect(self, namelist: dict[str, Any] | None = None) -> None:
        """Hang up on the loop."""
        self._wait(self.platform.disconnect(namelist))

    def play_fetchaudio(self, audio: FetchAudio) -> None:
        """Start the fetch audio on the loop."""
        self._wait(self.platform.play_fetchaudio(audio))

    def stop_fetchaudio(self) -> None:
        """Stop the fetch audio on the loop (after its minimum)."""
        self._wait(self.platform.stop_fetchaudio())

    def log(self, text: str, label: str | None = None) -> None:
        """Log on the loop."""
        self._wait(self.platform.log(text, label))

    def submitted(self, uri: str, method: str, params: dict[str, Any]) -> None:
        """Report a submit on the loop."""
        self._wait(self.platform.submitted(uri, method, params))

    def ended(self, value: Any, namelist: dict[str, Any]) -> None:
        """Report the end on the loop."""
        self._wait(self.platform.ended(value, namelist))

    def failed(self, name: str, message: str) -> None:
        """Report the failure on the loop."""
        self._wait(self.platform.failed(name, message))


async def run_session(platform: AsyncPlatform, uri: str, **session_kwargs: Any) -> Outcome:
    """Run the application at `uri` for an asyncio platform; `session_kwargs` go to `Session`."""
    loop = asyncio.get_running_loop()

    def run() -> Outcome:  # the session, and its quickjs context, live in the worker thread
        return Session(BlockingBridge(platform, loop), **session_kwargs).run(uri)

    return await asyncio.to_thread(run)
