"""SRGS 1.0 grammars (XML and ABNF forms): parsing, matching, semantic interpretation, builtins, JSGF."""
from .builtins import builtin_grammar
from .errors import GrammarError
from .grammar import Grammar, GrammarSettings, Match
from .jsgf import srgs_to_jsgf, srgs_words
from .loader import parse_grammar
from .semantics import ScriptLimits

__all__ = [
    "Grammar",
    "GrammarError",
    "GrammarSettings",
    "Match",
    "ScriptLimits",
    "builtin_grammar",
    "parse_grammar",
    "srgs_to_jsgf",
    "srgs_words",
]
