"""Static facts about a grammar's expansions: which can match nothing, which words can start them, and
whether any rule is left-recursive.

The matcher uses the first words to skip an expansion at once when the next input word cannot start
it, which keeps menus with many alternatives fast and hostile grammars cheaper.

Compilation is near-linear in the grammar's size: rules are solved in reverse topological order of
their references (strongly connected components first found by Tarjan's algorithm), so a chain of
rules needs one pass, and only a recursive component iterates, with a worklist, to its fixpoint. Word
sets are unioned once per node, and a node with one contributing set shares it rather than copying.
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
RuleKey = tuple[str, str]

_EMPTY: frozenset[str] = frozenset()


def _union(parts: list[frozenset[str] | None]) -> frozenset[str] | None:
    """The union of word sets, ANY if any is ANY; one non-empty part is returned as is (no copy)."""
    nonempty = []
    for p in parts:
        if p is ANY:
            return ANY
        if p:
            nonempty.append(p)
    if not nonempty:
        return _EMPTY
    if len(nonempty) == 1:
        return nonempty[0]
    return frozenset().union(*nonempty)


class Analysis:
    """Nullable and first-word facts for every node of a set of rules, computed to a fixpoint."""

    def __init__(self, rules: Iterable[tuple[str, Rule]], lookup: Lookup) -> None:
        self.lookup = lookup
        self.rules = list(rules)
        bodies = {(k, r.id): r.body for k, r in self.rules}
        refs = {key: self._refs(body) for key, body in bodies.items()}
        self.rule_facts: dict[RuleKey, Facts] = {}
        self.nodes: dict[Node, Facts] = {}
        for component in _components(list(bodies), refs):
            if len(component) == 1 and component[0] not in refs[component[0]]:
                key = component[0]  # not recursive: everything it references is already solved
                self.rule_facts[key] = self._facts(bodies[key], self.nodes)
                continue
            self._solve_recursive(component, bodies, refs)
            for key in component:  # the fixpoint is reached: now memoise every node once
                self._facts(bodies[key], self.nodes)

    def _solve_recursive(self, component: list[RuleKey], bodies: dict[RuleKey, Node],
                         refs: dict[RuleKey, set[RuleKey]]) -> None:
        """Grow the facts of mutually recursive rules from (False, {}) until nothing changes."""
        members = set(component)
        users: dict[RuleKey, list[RuleKey]] = {key: [] for key in component}
        for key in component:
            for target in refs[key] & members:
                users[target].append(key)
        for key in component:
            self.rule_facts[key] = (False, _EMPTY)
        work, queued = list(component), set(component)
        while work:
            key = work.pop()
            queued.discard(key)
            facts = self._facts(bodies[key], {})
            if facts != self.rule_facts[key]:
                self.rule_facts[key] = facts
                for user in users[key]:
                    if user not in queued:
                        queued.add(user)
                        work.append(user)

    def _refs(self, body: Node) -> set[RuleKey]:
        """The rules a body references anywhere."""
        out: set[RuleKey] = set()
        stack = [body]
        while stack:
            n = stack.pop()
            if isinstance(n, RuleRef):
                key, rule = self.lookup(n.grammar, n.rule)
                out.add((key, rule.id))
            else:
                stack.extend(children(n))
        return out

    def _facts(self, node: Node, memo: dict[Node, Facts]) -> Facts:
        found = memo.get(node)
        if found is not None:
            return found
        facts: Facts
        if isinstance(node, Token):
            facts = (False, frozenset(node.words[:1]))
        elif isinstance(node, Tag):
            facts = (True, _EMPTY)
        elif isinstance(node, Special):
            facts = {"NULL": (True, _EMPTY), "VOID": (False, _EMPTY)}.get(node.kind, (True, ANY))
        elif isinstance(node, RuleRef):
            key, rule = self.lookup(node.grammar, node.rule)
            facts = self.rule_facts[(key, rule.id)]
        elif isinstance(node, Sequence):
            parts: list[frozenset[str] | None] = []
            nullable = True
            for item in node.items:
                item_nullable, item_first = self._facts(item, memo)
                if nullable:  # only the items up to the first one that cannot be empty start a match
                    parts.append(item_first)
                    nullable = item_nullable
            facts = (nullable, _union(parts))
        elif isinstance(node, OneOf):
            parts, nullable = [], False
            for item in node.items:
                item_nullable, item_first = self._facts(item, memo)
                parts.append(item_first)
                nullable = nullable or item_nullable
            facts = (nullable, _union(parts))
        elif isinstance(node, Repeat):
            item_nullable, item_first = self._facts(node.item, memo)
            if node.max == 0:
                facts = (True, _EMPTY)
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


def _components(keys: list[RuleKey], refs: dict[RuleKey, set[RuleKey]]) -> list[list[RuleKey]]:
    """Strongly connected components of the reference graph, each after every component it references
    (Tarjan's algorithm, iterative so that a deep chain of rules cannot overflow the stack)."""
    index: dict[RuleKey, int] = {}
    low: dict[RuleKey, int] = {}
    on_stack: set[RuleKey] = set()
    stack: list[RuleKey] = []
    out: list[list[RuleKey]] = []
    for start in keys:
        if start in index:
            continue
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(sorted(refs[start])))]
        while work:
            here, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(refs[nxt]))))
                elif nxt in on_stack:
                    low[here] = min(low[here], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[here])
            if low[here] == index[here]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == here:
                        break
                out.append(component)
    return out
