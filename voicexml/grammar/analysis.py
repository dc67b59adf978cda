"""Static facts about a grammar's expansions: which can match nothing, which words can start them, and
whether any rule is left-recursive.

The matcher uses the first words to skip an expansion at once when the next input word cannot start
it, which keeps menus with many alternatives fast and hostile grammars cheaper.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from .errors import GrammarError
from .nodes import Node, OneOf, Repeat, Rule, RuleRef, Sequence, Special, Tag, Token, children

ANY = None
"""In place of a word set: any word can start the expansion (GARBAGE)."""

Facts = tuple[bool, frozenset[str] | None]
"""(can match no words, the words a match can start with or ANY)."""

Lookup = Callable[[str, str], tuple[str, Rule]]


def _union(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    return ANY if a is ANY or b is ANY else a | b


class Analysis:
    """Nullable and first-word facts for every node of a set of rules, computed to a fixpoint."""

    def __init__(self, rules: Iterable[tuple[str, Rule]], lookup: Lookup) -> None:
        self.lookup = lookup
        self.rules = list(rules)
        self.rule_facts: dict[tuple[str, str], Facts] = {(k, r.id): (False, frozenset()) for k, r in self.rules}
        changed = True
        while changed:  # rules refer to rules: grow the facts until nothing changes
            changed = False
            for key, rule in self.rules:
                facts = self._facts(rule.body, {})
                if facts != self.rule_facts[(key, rule.id)]:
                    self.rule_facts[(key, rule.id)] = facts
                    changed = True
        self.nodes: dict[Node, Facts] = {}
        for _, rule in self.rules:
            self._facts(rule.body, self.nodes)

    def _facts(self, node: Node, memo: dict[Node, Facts]) -> Facts:
        found = memo.get(node)
        if found is not None:
            return found
        facts: Facts
        if isinstance(node, Token):
            facts = (False, frozenset(node.words[:1]))
        elif isinstance(node, Tag):
            facts = (True, frozenset())
        elif isinstance(node, Special):
            facts = {"NULL": (True, frozenset()), "VOID": (False, frozenset())}.get(node.kind, (True, ANY))
        elif isinstance(node, RuleRef):
            key, rule = self.lookup(node.grammar, node.rule)
            facts = self.rule_facts[(key, rule.id)]
        elif isinstance(node, Sequence):
            first: frozenset[str] | None = frozenset()
            nullable = True
            for item in node.items:
                item_nullable, item_first = self._facts(item, memo)
                first = _union(first, item_first)
                if not item_nullable:
                    nullable = False
                    break
            for item in node.items:  # every item's facts are wanted in the memo, not just the prefix's
                self._facts(item, memo)
            facts = (nullable, first)
        elif isinstance(node, OneOf):
            first, nullable = frozenset(), False
            for item in node.items:
                item_nullable, item_first = self._facts(item, memo)
                first, nullable = _union(first, item_first), nullable or item_nullable
            facts = (nullable, first)
        elif isinstance(node, Repeat):
            item_nullable, item_first = self._facts(node.item, memo)
            if node.max == 0:
                facts = (True, frozenset())
            else:
                facts = (node.min == 0 or item_nullable, item_first)
        else:
            raise TypeError(f"not a grammar node: {node!r}")
        memo[node] = facts
        return facts

    def nullable(self, node: Node) -> bool:
        """Whether the node can match no words."""
        return self.nodes[node][0]

    def check_left_recursion(self) -> None:
        """Raise GrammarError when a rule can reach itself without consuming a word."""
        edges = {(key, rule.id): self._left_refs(rule.body) for key, rule in self.rules}
        state: dict[tuple[str, str], int] = {}  # 1 on the path, 2 done
        for start, refs in edges.items():
            if start in state:
                continue
            stack = [(start, iter(refs))]
            state[start] = 1
            while stack:
                here, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[here] = 2
                    stack.pop()
                elif state.get(nxt) == 1:
                    raise GrammarError(f"rule {nxt[1]!r} is left-recursive (it can reach itself without "
                                       f"consuming a word); rewrite it with right recursion or a repeat",
                                       code="left_recursion")
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(edges[nxt])))

    def _left_refs(self, node: Node) -> list[tuple[str, str]]:
        """The rules a match of `node` may enter before consuming any word."""
        out: list[tuple[str, str]] = []
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, RuleRef):
                key, rule = self.lookup(n.grammar, n.rule)
                out.append((key, rule.id))
            elif isinstance(n, Sequence):
                for item in n.items:
                    stack.append(item)
                    if not self.nullable(item):
                        break
            elif isinstance(n, OneOf | Repeat):
                stack.extend(children(n))
        return out
