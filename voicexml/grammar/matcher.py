"""Matching tokens against a grammar: memoised end-position sets, then one preferred derivation.

`ends(node, i)` is the set of positions j such that `node` matches tokens[i:j]. Every (node, position)
pair is computed once, so the work is polynomial in the input length whatever the grammar (left
recursion, the one shape that would loop, is rejected when the grammar is built). A step budget bounds
the work on hostile grammars: exceeding it raises `BudgetExceeded`, which callers treat as no match.
From the sets a derivation is read off top-down, choosing deterministically: alternatives in
preference order (weight, then document order), the longest piece first in sequences and repeats,
the shortest GARBAGE.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .nodes import Node, OneOf, Repeat, Rule, RuleRef, Sequence, Special, Tag, Token

Lookup = Callable[[str, str], tuple[str, Rule]]
"""(grammar key, rule id or "" for the root) -> (grammar key, Rule)."""


class BudgetExceeded(Exception):
    """The match took more steps than allowed."""


@dataclass
class Garbage:
    """Input words swallowed by GARBAGE."""

    words: tuple[str, ...]


@dataclass
class Derivation:
    """One matched rule: its grammar, id, the matched text and what it matched, in order."""

    grammar: str
    rule: str
    text: str
    items: list[str | Tag | Garbage | Derivation] = field(default_factory=list)


Item = str | Tag | Garbage | Derivation
_EMPTY: frozenset[int] = frozenset()


class Chart:
    """The memo tables for one input; build one per match."""

    def __init__(self, lookup: Lookup, tokens: list[str], max_steps: int,
                 facts: dict[Node, tuple[bool, frozenset[str] | None]] | None = None) -> None:
        self.lookup = lookup
        self.facts = facts or {}
        self.tokens = tuple(tokens)
        self.n = len(tokens)
        self.max_steps = max_steps
        self.steps = 0
        self._memo: dict[tuple[object, ...], frozenset[int]] = {}

    # -- recognition -----------------------------------------------------------------------------------

    def _tick(self, work: int = 1) -> None:
        # Work is charged by the sizes of the sets made, so the budget bounds memory as well as time.
        self.steps += work
        if self.steps > self.max_steps:
            raise BudgetExceeded(f"more than {self.max_steps} steps")

    def ends(self, node: Node, i: int) -> frozenset[int]:
        """Positions where a match of `node` starting at `i` can end."""
        key = (node, i)
        found = self._memo.get(key)
        if found is None:
            facts = self.facts.get(node)
            if facts is not None and facts[1] is not None and (i == self.n or self.tokens[i] not in facts[1]):
                # The next word cannot start this expansion: it matches nothing here, or nothing at all.
                found = frozenset((i,)) if facts[0] else _EMPTY
            else:
                self._tick()
                found = self._compute(node, i)
            self._memo[key] = found
        return found

    def _compute(self, node: Node, i: int) -> frozenset[int]:
        if isinstance(node, Token):
            k = len(node.words)
            return frozenset((i + k,)) if self.tokens[i:i + k] == node.words else _EMPTY
        if isinstance(node, Tag):
            return frozenset((i,))
        if isinstance(node, Special):
            if node.kind == "NULL":
                return frozenset((i,))
            if node.kind == "GARBAGE":
                self._tick((self.n - i) // 4)
                return frozenset(range(i, self.n + 1))
            return _EMPTY
        if isinstance(node, RuleRef):
            _, rule = self.lookup(node.grammar, node.rule)
            return self.ends(rule.body, i)
        if isinstance(node, Sequence):
            return self._seq_ends(node, 0, i)
        if isinstance(node, OneOf):
            result: set[int] = set()
            for alt in node.items:
                result |= self.ends(alt, i)
            self._tick(len(node.items) + len(result) // 4)
            return frozenset(result)
        if isinstance(node, Repeat):
            return self._rep_ends(node, 0, i)
        raise TypeError(f"not a grammar node: {node!r}")

    def _seq_ends(self, seq: Sequence, idx: int, i: int) -> frozenset[int]:
        if idx == len(seq.items):
            return frozenset((i,))
        key = (seq, idx, i)
        found = self._memo.get(key)
        if found is None:
            self._tick()
            result: set[int] = set()
            child = self.ends(seq.items[idx], i)
            for k in child:
                result |= self._seq_ends(seq, idx + 1, k)
            self._tick(len(child) + len(result) // 4)
            found = frozenset(result)
            self._memo[key] = found
        return found

    @staticmethod
    def _count(rep: Repeat, c: int) -> int:
        # With no upper bound every count past the minimum is the same state.
        return min(c, rep.min) if rep.max is None else c

    def _rep_ends(self, rep: Repeat, c: int, i: int) -> frozenset[int]:
        """Ends after `c` repetitions already matched and the match now at `i`."""
        key = (rep, c, i)
        found = self._memo.get(key)
        if found is not None:
            return found
        self._tick()
        result: set[int] = set()
        if c >= rep.min:
            result.add(i)
        if rep.max is None or c < rep.max:
            child = self.ends(rep.item, i)
            if c < rep.min and i in child:
                # The item can match nothing here, so the remaining required repetitions can too.
                result |= self._rep_ends(rep, rep.min, i)
            for k in child:
                if k > i:  # only repetitions that consume input move on; empty ones change nothing
                    result |= self._rep_ends(rep, self._count(rep, c + 1), k)
            self._tick(len(child) + len(result) // 4)
        found = frozenset(result)
        self._memo[key] = found
        return found

    # -- derivation ------------------------------------------------------------------------------------

    def derive_rule(self, grammar: str, rule_id: str, i: int, j: int) -> Derivation:
        """The preferred derivation of a rule over tokens[i:j] (which must be a match)."""
        gkey, rule = self.lookup(grammar, rule_id)
        return Derivation(gkey, rule.id, " ".join(self.tokens[i:j]), self._derive(rule.body, i, j))

    def _derive(self, node: Node, i: int, j: int) -> list[Item]:
        self._tick()
        if isinstance(node, Token):
            return [" ".join(node.words)]
        if isinstance(node, Tag):
            return [node]
        if isinstance(node, Special):
            return [Garbage(self.tokens[i:j])] if node.kind == "GARBAGE" and j > i else []
        if isinstance(node, RuleRef):
            return [self.derive_rule(node.grammar, node.rule, i, j)]
        if isinstance(node, OneOf):
            for alt in node.items:
                if j in self.ends(alt, i):
                    return self._derive(alt, i, j)
        elif isinstance(node, Sequence):
            return self._derive_seq(node, i, j)
        elif isinstance(node, Repeat):
            return self._derive_rep(node, 0, i, j)
        raise AssertionError(f"no derivation of {node!r} over [{i}:{j}]")

    def _derive_seq(self, seq: Sequence, i: int, j: int) -> list[Item]:
        items: list[Item] = []
        for idx, child in enumerate(seq.items):
            fits = [k for k in self.ends(child, i) if k <= j and j in self._seq_ends(seq, idx + 1, k)]
            # Longest first, except GARBAGE which should swallow as little as it can.
            k = min(fits) if child.__class__ is Special else max(fits)
            items += self._derive(child, i, k)
            i = k
        return items

    def _derive_rep(self, rep: Repeat, c: int, i: int, j: int) -> list[Item]:
        items: list[Item] = []
        while True:
            if rep.max is None or c < rep.max:
                child = self.ends(rep.item, i)
                nxt = self._count(rep, c + 1)
                fits = [k for k in child if i < k <= j and j in self._rep_ends(rep, nxt, k)]
                if fits:
                    k = max(fits)
                    items += self._derive(rep.item, i, k)
                    c, i = nxt, k
                    continue
                if c < rep.min and i in child and j in self._rep_ends(rep, rep.min, i):
                    items += self._derive(rep.item, i, i)  # the empty repetitions, their tags once
                    c = rep.min
                    continue
            if c >= rep.min and i == j:
                return items
            raise AssertionError(f"no derivation of {rep!r} over [{i}:{j}]")
