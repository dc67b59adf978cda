"""Choosing the catch handler for an event (VoiceXML 2.0 section 5.2.4) and the interpreter's defaults."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from lxml import etree

from .events import event_matches

CATCH_TAGS = {"catch": None, "error": "error", "help": "help", "noinput": "noinput", "nomatch": "nomatch"}


def catch_events(el: etree._Element) -> list[str]:
    """The event names a catch element (or its shorthand) listens for; [''] catches everything."""
    implied = CATCH_TAGS[el.tag]
    if implied is not None:
        return [implied]
    names = (el.get("event") or "").split()
    return names or [""]


def select_catch(name: str, count: int, scopes: Iterable[etree._Element | None],
                 cond: Callable[[str], bool]) -> etree._Element | None:
    """The spec's algorithm: all catches innermost scope first and in document order, keep those whose name
    matches and whose cond holds, take the highest count <= the event's counter, first in that order."""
    candidates: list[tuple[int, etree._Element]] = []
    for scope in scopes:
        if scope is None:
            continue
        for el in scope:
            if el.tag not in CATCH_TAGS:
                continue
            if not any(event_matches(n, name) for n in catch_events(el)):
                continue
            c = el.get("cond")
            if c and not cond(c):
                continue
            try:
                n = int(el.get("count", "1"))
            except ValueError:
                n = 1
            candidates.append((n, el))
    eligible = [n for n, _ in candidates if n <= count]
    if not eligible:
        return None
    best = max(eligible)
    return next(el for n, el in candidates if n == best)


# What the interpreter does with an event no catch takes (section 5.2.5): "reprompt" keeps the dialog going,
# "continue" likewise but without prompts, "exit" ends the session normally and "fail" ends it with an error.
def default_action(name: str) -> str:
    """The default handler's action for the event `name`."""
    if name in ("noinput", "nomatch", "help", "maxspeechtimeout") or name.startswith(("noinput.", "nomatch.", "help.")):
        return "reprompt"
    if event_matches("cancel", name):
        return "continue"
    if event_matches("connection.disconnect", name) or event_matches("exit", name) \
            or event_matches("telephone.disconnect", name):
        return "exit"
    return "fail"
