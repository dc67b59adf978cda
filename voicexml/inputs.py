"""Grammars in a dialog: building them from `<grammar>`, field types, `<option>` and menu `<choice>`, and
matching the caller's input against the active set in priority order."""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree

from .events import VXMLEvent, badfetch

_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Hit:
    """A successful match: the interpretation, utterance, mode, confidence and which grammar matched."""

    utterance: str
    interpretation: Any
    inputmode: str
    confidence: float
    grammar: ActiveGrammar
    nbest: tuple[Hit, ...] = ()  # the other results (application.lastresult$[1:]), best first


@dataclass(frozen=True)
class ActiveGrammar:
    """A grammar in the active set with what a match means: which element owns it and, for a choice, which."""

    grammar: Any  # an object with .mode and .match(text) (voicexml.grammar.Grammar or PhraseGrammar)
    owner: etree._Element  # the field, form, menu, link or choice element that owns the grammar
    level: str  # "item" | "dialog" | "document" | "application"
    choice: etree._Element | None = None
    event: str | None = None  # a universal grammar throws this event when it matches

    @property
    def mode(self) -> str:
        """`voice` or `dtmf`."""
        return str(getattr(self.grammar, "mode", "voice"))


@dataclass(frozen=True)
class PhraseMatch:
    """What a PhraseGrammar returns, shaped like voicexml.grammar's Match."""

    utterance: str
    interpretation: Any
    confidence: float = 1.0


class PhraseGrammar:
    """The grammar of one phrase (a menu `<choice>`, a field `<option>`, a link's `dtmf`), standing for `value`.

    It is a real SRGS grammar (`.srgs`, so a recogniser can compile it with `srgs_to_jsgf`), generated from the
    phrase: its words in order, each optional when `approximate` (the spec's accept="approximate"), or its DTMF
    keys.
    """

    def __init__(self, mode: str, phrase: str, value: Any, approximate: bool = False) -> None:
        self.mode = mode
        self.value = value
        self.srgs = _phrase_srgs(mode, phrase, approximate)

    def match(self, text: str) -> PhraseMatch | None:
        """The phrase's value when `text` says the phrase."""
        m = self.srgs.match(text)
        return None if m is None else PhraseMatch(m.utterance, self.value, getattr(m, "confidence", 1.0))


def _phrase_srgs(mode: str, phrase: str, approximate: bool) -> Any:
    ns = "{http://www.w3.org/2001/06/grammar}"
    g = etree.Element(ns + "grammar", nsmap={None: ns[1:-1]}, version="1.0", root="phrase", mode=mode)
    rule = etree.SubElement(g, ns + "rule", id="phrase", scope="public")
    tokens = [k for k in phrase.strip()] if mode == "dtmf" else _words(phrase)
    for t in tokens:
        item = etree.SubElement(rule, ns + "item")
        item.text = t
        if approximate:
            item.set("repeat", "0-1")
    return parse(g, base_uri=None, fetch=None)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


_grammar_lock = threading.Lock()


def grammar_module() -> Any:
    """`voicexml.grammar`, or error.unsupported.grammar when it is not installed."""
    try:
        from . import grammar
    except ImportError as e:  # pragma: no cover - only without the grammar package
        raise VXMLEvent("error.unsupported.grammar", f"SRGS grammars are not available: {e}") from e
    return grammar


def builtin(type_spec: str, mode: str) -> Any:
    """A builtin grammar (`digits?minlength=3`, `boolean`, ...) for `mode`, or error.unsupported.builtin."""
    g = grammar_module()
    try:
        return g.builtin_grammar(type_spec, mode)
    except Exception as e:
        raise VXMLEvent("error.unsupported.builtin", f"builtin type {type_spec!r}: {e}") from e


def parse(source: Any, *, base_uri: str | None, fetch: Callable[[str], Any] | None,
          media_type: str | None = None, root: str | None = None) -> Any:
    """An SRGS grammar from an element or text; `error.badfetch` when it does not parse."""
    g = grammar_module()
    try:
        return g.parse_grammar(source, base_uri=base_uri, fetch=fetch, media_type=media_type, root=root)
    except VXMLEvent:
        raise
    except Exception as e:
        raise badfetch(f"bad grammar: {e}") from e


def match_input(kind: str, value: str, confidence: float, grammars: Iterable[ActiveGrammar],
                confidencelevel: float) -> Hit | None:
    """The first grammar (in priority order) that accepts the input, or None for a nomatch."""
    if kind == "voice" and confidence < confidencelevel:
        return None
    for ag in grammars:
        if ag.mode != kind:
            continue
        try:
            m = ag.grammar.match(value)
        except Exception:  # noqa: BLE001 - a hostile or broken grammar is a nomatch for this input, not a crash
            m = None
        if m is not None:
            interp = getattr(m, "interpretation", None)
            utt = getattr(m, "utterance", value) or value
            if interp is None:
                interp = utt
            conf = getattr(m, "confidence", None)
            return Hit(utt, interp, kind, confidence if conf is None or kind == "voice" else float(conf), ag)
    return None


def match_nbest(kind: str, hypotheses: Sequence[tuple[str, float]], grammars: Sequence[ActiveGrammar],
                confidencelevel: float, maxnbest: int) -> Hit | None:
    """The best of up to `maxnbest` results (VoiceXML 2.0 5.1.5): every hypothesis that some grammar accepts,
    by confidence (ties in the recognizer's order); the others ride along in `Hit.nbest`. None: a nomatch."""
    if len(hypotheses) == 1:  # DTMF, or a recognizer with one guess: the common case, kept quick
        return match_input(kind, hypotheses[0][0], hypotheses[0][1], grammars, confidencelevel)
    ranked = sorted(hypotheses, key=lambda h: -h[1])  # sorted() is stable: ties keep the recognizer's order
    hits: list[Hit] = []
    for value, confidence in ranked:
        hit = match_input(kind, value, confidence, grammars, confidencelevel)
        if hit is not None:
            hits.append(hit)
            if len(hits) >= max(1, maxnbest):
                break
    if not hits:
        return None
    return replace(hits[0], nbest=tuple(hits[1:])) if len(hits) > 1 else hits[0]
