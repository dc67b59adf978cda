"""VoiceXML builtin grammars (Appendix P): boolean, digits, number, currency, date, time, phone."""
from __future__ import annotations

from .errors import GrammarError
from .grammar import Grammar


def builtin_grammar(spec: str, mode: str = "voice") -> Grammar:
    """The builtin grammar for `spec` ("digits?minlength=3", "builtin:dtmf/boolean") in `mode`."""
    raise GrammarError(f"builtin grammar {spec!r} is not supported yet", code="unsupported")
