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


def count_event(counts: dict[str, int], name: str) -> None:
    """Count an event against its full name and every token prefix of it (5.2.2): `error.badfetch.http.404`
    counts for `error`, `error.badfetch`, ... and for the empty prefix, the counter of a catch-all."""
    tokens = name.split(".")
    for n in range(len(tokens) + 1):
        prefix = ".".join(tokens[:n])
        counts[prefix] = counts.get(prefix, 0) + 1


def select_catch(name: str, counts: dict[str, int], scopes: Iterable[etree._Element | None],
                 cond: Callable[[str], bool]) -> etree._Element | None:
    """The spec's algorithm (5.2.4): all catches innermost scope first and in document order, keep those whose
    name matches and whose cond holds and whose count is <= the counter of the event name it catches by, take
    the highest such count, first in that order."""
    eligible: list[tuple[int, etree._Element]] = []
    for scope in scopes:
        if scope is None:
            continue
        for el in scope:
            if el.tag not in CATCH_TAGS:
                continue
            # A catch listing several names keeps a counter for each (5.2.2): any that reached its count will do.
            counter = max((counts.get(n.strip().rstrip("."), 0)
                           for n in catch_events(el) if event_matches(n, name)), default=0)
            if not counter:
                continue
            c = el.get("cond")
            if c and not cond(c):
                continue
            try:
                n = int(el.get("count", "1"))
            except ValueError:
                n = 1
            if n <= counter:
                eligible.append((n, el))
    if not eligible:
        return None
    best = max(n for n, _ in eligible)
    return next(el for n, el in eligible if n == best)


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
