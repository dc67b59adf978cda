"""`Grammar`: a parsed SRGS grammar with the grammars it references, and `Grammar.match`."""
from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .analysis import Analysis
from .errors import GrammarError
from .matcher import BudgetExceeded, Chart, Derivation, Garbage
from .nodes import Node, Rule, RuleRef, Tag, children
from .semantics import Interpreter, ScriptLimits, tag_kind
from .tokens import dtmf_keys, voice_words

log = logging.getLogger(__name__)
_RECURSION_LIMIT = 20_000

Fetch = Callable[[str], bytes | str]
"""Fetches a grammar URI (absolute) and returns its bytes (or decoded text); raise to signal failure."""


class NoMatch(Exception):
    """Raised by a builtin grammar's reader: the words fit the shape but mean nothing ("february 30")."""


@dataclass(frozen=True)
class GrammarSettings:
    """Limits on compiling, matching and semantic interpretation."""

    # Compilation is near-linear, but a hostile document must not make one caller's first turn cost
    # seconds of CPU for every session in the process: a grammar library (the grammar and every grammar
    # it references) over these sizes is a GrammarError (code ``too_large``), an error.badfetch in a
    # session. 250,000 nodes is a name dialer of about 60,000 tagged entries.
    max_nodes: int = 250_000
    max_rules: int = 20_000
    max_tokens: int = 200          # longer input is a no-match: no caller speaks or keys that much
    max_steps: int = 200_000       # matcher work per input; beyond it the input is a no-match
    script: ScriptLimits = field(default_factory=ScriptLimits)


@dataclass(frozen=True)
class Match:
    """A successful match: the normalised utterance, its interpretation and a confidence in [0, 1]."""

    utterance: str
    interpretation: Any
    confidence: float = 1.0
    tokens: tuple[str, ...] = ()


class Grammar:
    """A grammar ready to match input. Build one with `parse_grammar` or `builtin_grammar`."""

    def __init__(self, *, rules: dict[str, Rule], root: str | None, mode: str = "voice",
                 lang: str | None = None, tag_format: str | None = None, key: str = "",
                 base_uri: str | None = None, settings: GrammarSettings | None = None,
                 root_declared: bool = True,
                 header_tags: tuple[str, ...] = ()) -> None:
        if mode not in ("voice", "dtmf"):
            raise GrammarError(f"mode must be 'voice' or 'dtmf', not {mode!r}")
        self.rules = rules
        self.root = root
        # A grammar without a declared root matches its first rule when used directly, but another
        # grammar may not reference it as a whole (SRGS).
        self.root_declared = root_declared
        self.header_tags = header_tags  # SISR header script: declarations every tag of the grammar sees
        self.mode = mode
        self.lang = lang
        self.tag_format = tag_format
        self.key = key
        self.base_uri = base_uri
        self.settings = settings or GrammarSettings()
        # Every grammar reachable through rulerefs, by key; this grammar shares it with them.
        self.library: dict[str, Grammar] = {key: self}
        self._semantics: Interpreter | None = None
        self._has_tags: bool | None = None
        self.analysis: Analysis | None = None  # set once the library is complete (check_library)

    def __repr__(self) -> str:
        return f"<Grammar root={self.root!r} mode={self.mode} rules={len(self.rules)}>"

    # -- structure -------------------------------------------------------------------------------------

    def lookup(self, grammar: str, rule_id: str) -> tuple[str, Rule]:
        """Resolve (grammar key, rule id or "" for its root) to the rule."""
        target = self.library[grammar]
        rid = rule_id or target.root
        if rid is None or rid not in target.rules:
            raise GrammarError(f"rule {rid!r} is not defined in grammar {grammar or '(inline)'}",
                               code="undefined_rule")
        return grammar, target.rules[rid]

    def root_rule(self) -> Rule:
        """The rule the grammar matches."""
        return self.lookup(self.key, "")[1]

    def iter_nodes(self) -> Iterator[Node]:
        """Every node of every rule of every grammar in the library."""
        for g in self.library.values():
            yield from g.iter_own_nodes()

    def iter_own_nodes(self) -> Iterator[Node]:
        """Every node of this grammar's own rules."""
        for rule in self.rules.values():
            yield from _walk(rule.body)

    @property
    def has_tags(self) -> bool:
        """Whether any reachable grammar carries semantic tags."""
        if self._has_tags is None:
            self._has_tags = any(isinstance(n, Tag) for n in self.iter_nodes()) or any(
                g.header_tags or hasattr(g, "read") for g in self.library.values())
        return self._has_tags

    # -- matching --------------------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[str] | None:
        """The input as tokens for this grammar's mode; None when it cannot be dtmf input."""
        return dtmf_keys(text) if self.mode == "dtmf" else voice_words(text)

    def match(self, text: str) -> Match | None:
        """Match the whole input against the root rule; None when it does not match.

        Raises GrammarError (code ``semantics``) when a tag fails to evaluate.
        """
        tokens = self.tokenize(text)
        if not tokens:
            return None
        if len(tokens) > self.settings.max_tokens:
            log.warning("grammar input of %d tokens exceeds max_tokens=%d: no match",
                        len(tokens), self.settings.max_tokens)
            return None
        if self.analysis is None:
            check_library(self)
        chart = Chart(self.lookup, tokens, self.settings.max_steps, self.analysis.nodes if self.analysis else None)
        root = self.root_rule()
        # The matcher recurses about ten Python frames per token of a right-recursive rule; Python 3.11
        # frames do not use the C stack, so a higher limit is safe. Only ever raised, never lowered, so
        # concurrent matches in other threads are unaffected.
        if sys.getrecursionlimit() < _RECURSION_LIMIT:
            sys.setrecursionlimit(_RECURSION_LIMIT)
        try:
            if len(tokens) not in chart.ends(root.body, 0):
                return None
            derivation = chart.derive_rule(self.key, root.id, 0, len(tokens))
        except (BudgetExceeded, RecursionError) as e:
            log.warning("grammar match abandoned (%s) for root %r: treated as no match", e or "too deep",
                        root.id)
            return None
        utterance = ("" if self.mode == "dtmf" else " ").join(tokens)
        garbage = _garbage_count(derivation)
        confidence = 1.0 - 0.5 * garbage / len(tokens)
        if not self.has_tags:
            value = utterance
        else:
            try:
                value = self._interpreter().interpret(derivation)
            except NoMatch:  # a builtin grammar it references refused its words
                return None
        return Match(utterance, value, confidence, tuple(tokens))

    def _interpreter(self) -> Interpreter:
        if self._semantics is None:
            formats = {k: g.tag_format for k, g in self.library.items()}
            headers = [t for g in self.library.values() for t in g.header_tags]
            # Builtin grammars referenced by rulerefs are worth what their readers say.
            readers = {k: g.read for k, g in self.library.items() if hasattr(g, "read")}
            self._semantics = Interpreter(formats, self.settings.script, headers, readers)
        return self._semantics


def _garbage_count(d: Derivation) -> int:
    count = 0
    for item in d.items:
        if isinstance(item, Garbage):
            count += len(item.words)
        elif isinstance(item, Derivation):
            count += _garbage_count(item)
    return count


# -- checks run once the library is complete -------------------------------------------------------------

def check_library(grammar: Grammar) -> None:
    """Every reference resolves to a rule it may use, the root exists, the library fits the size budget,
    and there is no left recursion."""
    grammar.root_rule()
    _check_size(grammar)
    for g in grammar.library.values():
        if g.tag_format and any(isinstance(n, Tag) for n in g.iter_own_nodes()):
            tag_kind("", g.tag_format)  # raises for a tag-format we cannot run
        for rule in g.rules.values():
            for node in _walk(rule.body):
                if isinstance(node, RuleRef):
                    target_key, target = grammar.lookup(node.grammar, node.rule)
                    if not node.rule and target_key != g.key and not grammar.library[target_key].root_declared:
                        raise GrammarError(f"grammar {target_key} is referenced as a whole but declares no root "
                                           f"rule", code="undefined_rule")
                    if target_key != g.key and target.scope != "public":
                        raise GrammarError(f"rule {target.id!r} of {target_key} is private and cannot be "
                                           f"referenced from another grammar", code="private_rule")
    rules = [(g.key, r) for g in grammar.library.values() for r in g.rules.values()]
    grammar.analysis = Analysis(rules, grammar.lookup)
    grammar.analysis.check_left_recursion()


def _check_size(grammar: Grammar) -> None:
    """Raise GrammarError (``too_large``) when the library exceeds GrammarSettings.max_rules/max_nodes."""
    limits = grammar.settings
    rules = sum(len(g.rules) for g in grammar.library.values())
    if rules > limits.max_rules:
        raise GrammarError(f"grammar has {rules} rules, more than the limit of {limits.max_rules}",
                           code="too_large")
    for count, _ in enumerate(grammar.iter_nodes(), 1):
        if count > limits.max_nodes:
            raise GrammarError(f"grammar has more than {limits.max_nodes} expansion nodes (the size limit)",
                               code="too_large")


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(children(n))
