"""VoiceXML properties: defaults, lookup through the element scopes, and time values ("5s", "250ms")."""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from lxml import etree

from .events import badfetch

DEFAULTS: dict[str, str] = {
    "timeout": "5s",
    "interdigittimeout": "3s",
    "termtimeout": "0s",
    "termchar": "#",
    "inputmodes": "dtmf voice",
    "bargein": "true",
    "bargeintype": "speech",
    "confidencelevel": "0.5",
    "sensitivity": "0.5",
    "speedvsaccuracy": "0.5",
    "completetimeout": "1s",
    "incompletetimeout": "1s",
    "maxspeechtimeout": "60s",
    "maxnbest": "1",
    "fetchtimeout": "10s",
    "fetchaudio": "",
    "fetchaudiodelay": "1s",
    "fetchaudiominimum": "0s",
    "universals": "none",
    "recordutterance": "false",
    "recordutterancetype": "audio/x-wav",
}

_TIME = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s)\s*$")


def time_ms(value: str | None, default_ms: int = 0) -> int:
    """A CSS2 time designation in milliseconds; `default_ms` when absent, error.badfetch when malformed."""
    if value is None or value == "":
        return default_ms
    return _parse_time(value)


@lru_cache(maxsize=256)
def _parse_time(value: str) -> int:
    m = _TIME.match(value)
    if not m:
        raise badfetch(f"{value!r} is not a time value like '5s' or '250ms'")
    n = float(m.group(1))
    return int(n * 1000 if m.group(2) == "s" else n)


def lookup(name: str, scopes: Iterable[etree._Element | None]) -> str:
    """The value of property `name` from the innermost scope (item, dialog, document, root) that sets it."""
    for el in scopes:
        if el is None:
            continue
        for child in el:
            if child.tag == "property" and child.get("name") == name:
                return child.get("value", "")
    return DEFAULTS.get(name, "")


def boolean(value: str) -> bool:
    """A VoiceXML boolean attribute or property value."""
    return value.strip().lower() == "true"
