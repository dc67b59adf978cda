"""`Grammar`: a parsed SRGS grammar with the grammars it references, and `Grammar.match`."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import GrammarError
from .matcher import BudgetExceeded, Chart, Derivation, Garbage
from .nodes import Node, OneOf, Repeat, Rule, RuleRef, Sequence, Special, Tag, Token, children
from .semantics import Interpreter, ScriptLimits, tag_kind
from .tokens import dtmf_keys, voice_words

log = logging.getLogger(__name__)

Fetch = Callable[[str], bytes]
"""Fetches a grammar URI (absolute) and returns its bytes; raise to signal failure."""


class NoMatch(Exception):
    """Raised by a builtin grammar's interpreter function: the words fit the shape but mean nothing."""


@dataclass(frozen=True)
class GrammarSettings:
    """Limits on matching and on semantic interpretation."""

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
                 interpreter: Callable[[list[str]], Any] | None = None, root_declared: bool = True) -> None:
        if mode not in ("voice", "dtmf"):
            raise GrammarError(f"mode must be 'voice' or 'dtmf', not {mode!r}")
        self.rules = rules
        self.root = root
        # A grammar without a declared root matches its first rule when used directly, but another
        # grammar may not reference it as a whole (SRGS).
        self.root_declared = root_declared
        self.mode = mode
        self.lang = lang
        self.tag_format = tag_format
        self.key = key
        self.base_uri = base_uri
        self.settings = settings or GrammarSettings()
        # Every grammar reachable through rulerefs, by key; this grammar shares it with them.
        self.library: dict[str, Grammar] = {key: self}
        self._python_interpreter = interpreter
        self._semantics: Interpreter | None = None
        self._has_tags: bool | None = None

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
            for rule in g.rules.values():
                stack = [rule.body]
                while stack:
                    node = stack.pop()
                    yield node
                    stack.extend(children(node))

    def iter_own_nodes(self) -> Iterator[Node]:
        """Every node of this grammar's own rules."""
        for rule in self.rules.values():
            yield from _walk(rule.body)

    @property
    def has_tags(self) -> bool:
        """Whether any reachable grammar carries semantic tags."""
        if self._has_tags is None:
            self._has_tags = any(isinstance(n, Tag) for n in self.iter_nodes())
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
        chart = Chart(self.lookup, tokens, self.settings.max_steps)
        root = self.root_rule()
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
        if self._python_interpreter is not None:
            try:
                value = self._python_interpreter(tokens)
            except NoMatch:
                return None
        elif not self.has_tags:
            value = utterance
        else:
            value = self._interpreter().interpret(derivation)
        return Match(utterance, value, confidence, tuple(tokens))

    def _interpreter(self) -> Interpreter:
        if self._semantics is None:
            formats = {k: g.tag_format for k, g in self.library.items()}
            self._semantics = Interpreter(formats, self.settings.script)
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
    """Every reference resolves to a rule it may use, the root exists, and there is no left recursion."""
    grammar.root_rule()
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
    _check_left_recursion(grammar)


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(children(n))


def _check_left_recursion(grammar: Grammar) -> None:
    all_rules = [(g.key, r) for g in grammar.library.values() for r in g.rules.values()]
    nullable_rules: set[tuple[str, str]] = set()

    def nullable(node: Node) -> bool:
        if isinstance(node, Token):
            return False
        if isinstance(node, Tag):
            return True
        if isinstance(node, Special):
            return node.kind != "VOID"
        if isinstance(node, RuleRef):
            key, rule = grammar.lookup(node.grammar, node.rule)
            return (key, rule.id) in nullable_rules
        if isinstance(node, Sequence):
            return all(nullable(c) for c in node.items)
        if isinstance(node, OneOf):
            return any(nullable(c) for c in node.items)
        if isinstance(node, Repeat):
            return node.min == 0 or nullable(node.item)
        return False

    changed = True
    while changed:  # fixpoint: a rule is nullable once its body is, given the rules known nullable so far
        changed = False
        for key, rule in all_rules:
            if (key, rule.id) not in nullable_rules and nullable(rule.body):
                nullable_rules.add((key, rule.id))
                changed = True

    def left_refs(node: Node) -> list[tuple[str, str]]:
        if isinstance(node, RuleRef):
            key, rule = grammar.lookup(node.grammar, node.rule)
            return [(key, rule.id)]
        if isinstance(node, Sequence):
            found = []
            for c in node.items:
                found += left_refs(c)
                if not nullable(c):
                    break
            return found
        if isinstance(node, OneOf):
            return [r for c in node.items for r in left_refs(c)]
        if isinstance(node, Repeat):
            return left_refs(node.item)
        return []

    edges = {(key, rule.id): left_refs(rule.body) for key, rule in all_rules}
    state: dict[tuple[str, str], int] = {}  # 1 visiting, 2 done

    def visit(start: tuple[str, str]) -> None:
        stack = [(start, iter(edges[start]))]
        state[start] = 1
        while stack:
            here, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[here] = 2
                stack.pop()
                continue
            if state.get(nxt) == 1:
                raise GrammarError(f"rule {nxt[1]!r} is left-recursive (it can reach itself without "
                                   f"consuming a token); rewrite it with right recursion or a repeat",
                                   code="left_recursion")
            if nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(edges[nxt])))

    for node in edges:
        if node not in state:
            visit(node)
