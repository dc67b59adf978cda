"""The implementation platform the interpreter talks to: prompts out, input in, telephony.

The interpreter is synchronous and calls these methods in its own thread. A platform that lives on an asyncio
loop (the IVR on a phone call) runs the interpreter with `asyncio.to_thread` and implements the blocking
methods with `asyncio.run_coroutine_threadsafe(...).result()`; the text runner implements them with stdin and
stdout. Prompts are queued with `queue_prompt` and played (flushed) by the platform before it waits for input,
records, transfers or ends the session, as the VoiceXML prompt queue requires, and before it plays fetch audio.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

InputKind = Literal["dtmf", "voice", "noinput", "nomatch", "hangup", "maxspeechtimeout"]


@dataclass(frozen=True)
class Prompt:
    """One queued prompt: SSML rendered to text, the audio it would play, and whether it can be barged in."""

    text: str
    audio: tuple[str, ...] = ()
    bargein: bool = True
    bargeintype: str = "speech"
    timeout_ms: int | None = None
    ssml: str = ""


@dataclass(frozen=True)
class InputRequest:
    """What the interpreter listens for: active grammars (objects with `.mode` and `.match`), modes, timeouts."""

    grammars: Sequence[Any]
    modes: tuple[str, ...] = ("voice", "dtmf")
    timeout_ms: int = 5000
    interdigittimeout_ms: int = 5000
    termtimeout_ms: int = 0
    termchar: str = "#"
    confidencelevel: float = 0.5
    maxspeechtimeout_ms: int = 60000
    completetimeout_ms: int = 1000  # silence that ends an utterance some grammar already accepts
    incompletetimeout_ms: int = 1000  # silence that ends an utterance no grammar accepts yet
    sensitivity: float = 0.5  # 0.0 (least sensitive to quiet input) to 1.0
    speedvsaccuracy: float = 0.5  # 0.0 (fastest recognition) to 1.0 (best accuracy)
    bargein: bool = True
    recordutterance: bool = False  # 2.1: keep the caller's utterance as audio in InputResult.recording
    maxnbest: int = 1  # how many recognition hypotheses the interpreter can use (the maxnbest property)


@dataclass(frozen=True)
class Hypothesis:
    """One more thing the recognizer thinks the caller may have said (an n-best alternative)."""

    value: str
    confidence: float


@dataclass(frozen=True)
class InputResult:
    """What the caller did: DTMF digits, an utterance with its confidence, silence, garbage or a hangup."""

    kind: InputKind
    value: str = ""
    confidence: float = 1.0
    recording: bytes | str | None = None  # the utterance's audio when the request asked for it
    recording_ms: int = 0
    # Voice only: the recognizer's other hypotheses, any order; the interpreter keeps those that match a
    # grammar, best confidence first, up to `InputRequest.maxnbest` (with `value` among them).
    alternatives: tuple[Hypothesis, ...] = ()
    # 2.1 <mark>: the last mark the prompts played before the caller barged in (or playback ended), and the
    # milliseconds from it to then; None: the platform does not know (the last mark queued stands, time 0).
    markname: str | None = None
    marktime_ms: int | None = None


@dataclass(frozen=True)
class RecordRequest:
    """A `<record>`: name, limits and whether DTMF ends it."""

    name: str
    maxtime_ms: int = 60000
    finalsilence_ms: int = 5000
    dtmfterm: bool = True
    beep: bool = False
    type: str = "audio/x-wav"
    timeout_ms: int = 5000


@dataclass(frozen=True)
class RecordResult:
    """A recording (bytes, or a text transcript in text mode) with the shadow variables' facts."""

    kind: InputKind = "voice"
    audio: bytes | str = b""
    duration_ms: int = 0
    termchar: str | None = None
    maxtime: bool = False
    utterance: str = ""
    markname: str | None = None  # as in InputResult
    marktime_ms: int | None = None


@dataclass(frozen=True)
class FetchAudio:
    """Audio to play while a slow fetch is in progress (VoiceXML 2.0 6.1.1): started once the fetch has taken
    `delay_ms`, then played at least `minimum_ms` even if the fetch ends sooner."""

    src: str  # absolute URI of the clip
    delay_ms: int = 1000
    minimum_ms: int = 0


@dataclass(frozen=True)
class TransferRequest:
    """A `<transfer>`: destination, type (blind | bridge | consultation), limits and application data."""

    dest: str
    type: str = "blind"
    connecttimeout_ms: int = 30000
    maxtime_ms: int = 0
    aai: str | None = None
    grammars: Sequence[Any] = ()
    transferaudio: str | None = None  # absolute URI of what the caller hears while the far end is called


@dataclass(frozen=True)
class TransferResult:
    """Outcome of a transfer: `far_end_disconnect`, `busy`, `noanswer`, ... (the spec's values), duration."""

    result: str = "unknown"
    duration_ms: int = 0
    utterance: str | None = None  # the input that ended the transfer (speech, or DTMF keys), if any
    inputmode: str | None = None  # "voice" or "dtmf" for that input (voice when only the utterance is given)


@runtime_checkable
class Platform(Protocol):
    """Everything the interpreter asks of the outside world. All methods are called from the interpreter thread."""

    def queue_prompt(self, prompt: Prompt) -> None:
        """Queue a prompt; it plays before the next wait for input (or at once when the platform likes)."""

    def collect(self, request: InputRequest) -> InputResult:
        """Flush prompts, then wait for one input against `request.grammars`."""

    def record(self, request: RecordRequest) -> RecordResult:
        """Flush prompts, then record the caller."""

    def transfer(self, request: TransferRequest) -> TransferResult:
        """Flush prompts, then transfer the call."""

    def disconnect(self, namelist: dict[str, Any] | None = None) -> None:
        """Flush prompts and hang up; `namelist`: the values a 2.1 `<disconnect namelist>` returns."""

    def play_fetchaudio(self, audio: FetchAudio) -> None:
        """A fetch is taking longer than `audio.delay_ms`: play the queued prompts to completion, then start
        `audio.src` (looped as the platform likes); return at once, the fetch goes on."""

    def stop_fetchaudio(self) -> None:
        """The fetch is over: stop the fetch audio once it has played `minimum_ms`; return when it has stopped."""

    def log(self, text: str, label: str | None = None) -> None:
        """A `<log>` message."""

    def submitted(self, uri: str, method: str, params: dict[str, Any]) -> None:
        """A `<submit>` is about to fetch `uri` (for tracing; the interpreter does the fetch)."""

    def ended(self, value: Any, namelist: dict[str, Any]) -> None:
        """The session ended normally (`<exit>` or the end of the dialogs); flush prompts."""

    def failed(self, name: str, message: str) -> None:
        """An event no handler took ended the session."""


class NullPlatform:
    """A platform that says nothing and hears silence: a base class for platforms that override a few methods."""

    def queue_prompt(self, prompt: Prompt) -> None:
        """Drop the prompt."""

    def collect(self, request: InputRequest) -> InputResult:
        """Silence: every wait times out."""
        return InputResult("noinput")

    def record(self, request: RecordRequest) -> RecordResult:
        """Silence: nothing recorded."""
        return RecordResult(kind="noinput")

    def transfer(self, request: TransferRequest) -> TransferResult:
        """Nobody answers."""
        return TransferResult("noanswer")

    def disconnect(self, namelist: dict[str, Any] | None = None) -> None:
        """Nothing to hang up."""

    def play_fetchaudio(self, audio: FetchAudio) -> None:
        """Nothing to play."""

    def stop_fetchaudio(self) -> None:
        """Nothing to stop."""

    def log(self, text: str, label: str | None = None) -> None:
        """Drop the message."""

    def submitted(self, uri: str, method: str, params: dict[str, Any]) -> None:
        """Nothing to trace."""

    def ended(self, value: Any, namelist: dict[str, Any]) -> None:
        """Nothing to flush."""

    def failed(self, name: str, message: str) -> None:
        """Nothing to report."""
