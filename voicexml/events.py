"""VoiceXML events as Python exceptions carrying their spec names, and the interpreter's control transfers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class VXMLEvent(Exception):
    """A VoiceXML event (`error.badfetch`, `noinput`, `connection.disconnect.hangup`, a user `<throw>`)."""

    def __init__(self, name: str, message: str = "") -> None:
        super().__init__(f"{name}: {message}" if message else name)
        self.name = name
        self.message = message

    def matches(self, prefix: str) -> bool:
        """True when `prefix` names this event by the spec's token-prefix rule (empty/`.` match everything)."""
        return event_matches(prefix, self.name)


def event_matches(prefix: str, name: str) -> bool:
    """The spec's prefix match: `error` matches `error.badfetch` but not `errorx`; '' and '.' match all."""
    prefix = prefix.strip().rstrip(".")
    if not prefix:
        return True
    return name == prefix or name.startswith(prefix + ".")


def badfetch(message: str, status: int | None = None) -> VXMLEvent:
    """`error.badfetch`, or `error.badfetch.http.NNN` when an HTTP status is known."""
    return VXMLEvent(f"error.badfetch.http.{status}" if status else "error.badfetch", message)


def semantic(message: str) -> VXMLEvent:
    """`error.semantic`: a run-time error in the document (bad expression, undeclared variable, ...)."""
    return VXMLEvent("error.semantic", message)


def unsupported(what: str, message: str = "") -> VXMLEvent:
    """`error.unsupported.<what>`."""
    return VXMLEvent(f"error.unsupported.{what}", message or f"{what} is not supported")


HANGUP = "connection.disconnect.hangup"


class ControlTransfer(Exception):
    """Base of the non-event ways executable content leaves the current flow."""


@dataclass
class GotoItem(ControlTransfer):
    """`<goto nextitem>`: continue the FIA at the named form item."""

    item: str


@dataclass
class GotoDialog(ControlTransfer):
    """`<goto next>`, a `<choice>`/`<link>` transition or a fetched `<submit>`: a new dialog or document."""

    uri: str
    method: str = "get"
    params: dict[str, Any] = field(default_factory=dict)
    enctype: str = "application/x-www-form-urlencoded"
    hints: dict[str, float] = field(default_factory=dict)  # fetchtimeout (s), maxage, maxstale from the element
    audio: Any = field(default=None, compare=False)  # a platform.FetchAudio to play while the target is fetched
    local: bool = False  # a fragment-only target: same document, no re-initialisation
    submit: bool = False  # a `<submit>`: always fetched, so even the application root is initialised afresh
    document: Any = field(default=None, compare=False, repr=False)  # the target, once fetched
    hit: Any = field(default=None, compare=False, repr=False)  # input a document-scoped grammar took along


@dataclass
class ExitSession(ControlTransfer):
    """`<exit>`: end the session with an optional value and namelist."""

    value: Any = None
    namelist: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReturnFromSubdialog(ControlTransfer):
    """`<return>`: leave a subdialog with a namelist or an event."""

    namelist: dict[str, Any] = field(default_factory=dict)
    event: str | None = None
    message: str = ""


class Disconnect(ControlTransfer):
    """`<disconnect>`: the platform hangs up; the session then sees connection.disconnect.hangup."""
