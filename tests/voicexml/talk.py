"""Helpers for driving the interpreter in tests: a conversation over the JSON-lines platform, in process."""
from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path
from typing import Any

from aiohttp import web

from voicexml import Outcome, Session, SessionSettings
from voicexml.text_runner import JsonlPlatform

VXML_HEAD = '<?xml version="1.0"?>\n<vxml version="2.1" xmlns="http://www.w3.org/2001/vxml"{attrs}>\n'


def vxml(body: str, **attrs: str) -> str:
    """A VoiceXML 2.1 document around `body`."""
    a = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return VXML_HEAD.format(attrs=a) + textwrap.dedent(body) + "\n</vxml>\n"


def write(folder: Path, name: str, body: str, **attrs: str) -> Path:
    """Write a document into `folder` and return its path."""
    p = folder / name
    p.write_text(vxml(body, **attrs))
    return p


def converse(path: Path | str, *inputs: dict[str, Any], settings: SessionSettings | None = None
             ) -> tuple[list[dict[str, Any]], Outcome, str]:
    """Run a document with the caller's `inputs` queued; return the runner's events, the outcome, stderr."""
    settings = settings or SessionSettings()
    stdin = io.StringIO("".join(json.dumps(i) + "\n" for i in inputs))
    stdout, stderr = io.StringIO(), io.StringIO()
    outcome = Session(JsonlPlatform(stdin, stdout, stderr), settings).run(str(path))
    events = [json.loads(line) for line in stdout.getvalue().splitlines()]
    return events, outcome, stderr.getvalue()


def said(events: list[dict[str, Any]]) -> list[str]:
    """The prompt texts, in order."""
    return [e["text"] for e in events if e["event"] == "prompt"]


def dtmf(digits: str) -> dict[str, Any]:
    """A DTMF input."""
    return {"input": "dtmf", "digits": digits}


def voice(utterance: str, confidence: float = 0.9) -> dict[str, Any]:
    """A voice input."""
    return {"input": "voice", "utterance": utterance, "confidence": confidence}


NOINPUT = {"input": "noinput"}
NOMATCH = {"input": "nomatch"}
HANGUP = {"input": "hangup"}


async def serve(aiohttp_server: Any, handler: Any) -> str:
    """Answer every GET with `handler` on a real aiohttp server on loopback; return its base URL."""
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")
