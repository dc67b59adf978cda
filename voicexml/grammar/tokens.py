"""Turning utterances, digit strings and grammar text into comparable tokens."""
from __future__ import annotations

import re
import string

DTMF_KEYS = frozenset("0123456789*#ABCD")
# Spoken names some grammars use for keys; a DTMF grammar token "star" means the key "*".
_DTMF_ALIASES = {"star": "*", "pound": "#", "hash": "#", "octothorpe": "#"}
# Punctuation a recogniser or a person may put around words; apostrophes inside words stay ("don't").
_EDGE_PUNCT = string.punctuation + "“”‘’«»¿¡…"
_QUOTED = re.compile(r'"([^"]*)"|(\S+)')


def voice_words(text: str) -> list[str]:
    """Split an utterance into case-folded words, dropping punctuation around them."""
    words = []
    for raw in text.split():
        word = raw.strip(_EDGE_PUNCT).casefold()
        if word:
            words.append(word)
    return words


def dtmf_keys(text: str) -> list[str] | None:
    """Split a digit string ("12#" or "1 2 #") into keys; None when it holds anything but keys."""
    keys = []
    for word in text.split():
        alias = _DTMF_ALIASES.get(word.casefold())
        if alias:
            keys.append(alias)
            continue
        for ch in word.upper():
            if ch not in DTMF_KEYS:
                return None
            keys.append(ch)
    return keys


def token_words(text: str, mode: str) -> list[str] | None:
    """The words one grammar token stands for in `mode`; None for a DTMF token that is not keys."""
    return dtmf_keys(text) if mode == "dtmf" else voice_words(text)


def split_tokens(text: str) -> list[str]:
    """Split grammar text into tokens: whitespace separates, double quotes group ("New York")."""
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in _QUOTED.finditer(text)]
