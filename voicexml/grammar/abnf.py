"""The SRGS 1.0 ABNF form (application/srgs) into the grammar model."""
from __future__ import annotations

from .errors import GrammarError
from .grammar import Grammar, GrammarSettings


def parse_abnf(text: str, *, key: str = "", base_uri: str | None = None, settings: GrammarSettings | None = None,
               mode: str | None = None, root: str | None = None) -> Grammar:
    """Parse an ABNF grammar; raises GrammarError."""
    raise GrammarError("the ABNF form is not supported yet", code="unsupported")
