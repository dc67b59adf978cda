"""SRGS to JSGF, for grammar-based speech recognisers such as pocketsphinx."""
from __future__ import annotations

from .grammar import Grammar


def srgs_to_jsgf(grammar: Grammar) -> str:
    """A JSGF grammar accepting the same word sequences as `grammar` (tags dropped)."""
    raise NotImplementedError
