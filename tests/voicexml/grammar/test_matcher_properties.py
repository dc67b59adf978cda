"""The matcher against a brute-force model: random grammars, every input up to a few words."""
from __future__ import annotations

from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from voicexml.grammar.grammar import Grammar, check_library
from voicexml.grammar.matcher import Chart, Derivation, Garbage
from voicexml.grammar.nodes import (
    GARBAGE,
    NULL,
    VOID,
    Node,
    Repeat,
    Rule,
    RuleRef,
    Sequence,
    Tag,
    Token,
    make_one_of,
)

WORDS = ("a", "b")
MAX_LEN = 4


def leaves() -> st.SearchStrategy[Node]:
    return st.one_of(
        st.sampled_from(WORDS).map(lambda w: Token((w,))),
        st.just(Token(("a", "b"))),
        st.just(NULL), st.just(VOID), st.just(Tag("x")), st.just(GARBAGE),
        st.just(RuleRef("", "helper")),
    )


def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    seqs = st.lists(children, min_size=2, max_size=3).map(lambda xs: Sequence(tuple(xs)))
    alts = st.lists(st.tuples(children, st.sampled_from([1.0, 2.0])), min_size=2, max_size=3).map(
        lambda xs: make_one_of([x for x, _ in xs], [w for _, w in xs]))
    reps = st.tuples(children, st.integers(0, 2), st.one_of(st.none(), st.integers(0, 3))).filter(
        lambda t: t[2] is None or t[2] >= t[1]).map(lambda t: Repeat(t[0], t[1], t[2]))
    return st.one_of(seqs, alts, reps)


nodes = st.recursive(leaves(), extend, max_leaves=8)
# "helper" is right-recursive: b | a helper  (the language a* b)
HELPER = Rule("helper", make_one_of([Token(("b",)), Sequence((Token(("a",)), RuleRef("", "helper")))], [1.0, 1.0]))


def language(node: Node) -> set[tuple[str, ...]]:
    """Every word sequence of at most MAX_LEN words the node matches, by brute force."""
    if isinstance(node, Token):
        return {node.words}
    if isinstance(node, Tag) or node is NULL:
        return {()}
    if node is VOID:
        return set()
    if node is GARBAGE:
        return {w for n in range(MAX_LEN + 1) for w in product(WORDS, repeat=n)}
    if isinstance(node, RuleRef):
        return {("a",) * k + ("b",) for k in range(MAX_LEN)}
    if isinstance(node, Sequence):
        out = {()}
        for child in node.items:
            out = {x + y for x in out for y in language(child) if len(x + y) <= MAX_LEN}
        return out
    if isinstance(node, Repeat):
        one = language(node.item)
        out, layer = set(), {()}
        for count in range((node.max if node.max is not None else MAX_LEN + node.min) + 1):
            if count >= node.min:
                out |= layer
            layer = {x + y for x in layer for y in one if len(x + y) <= MAX_LEN}
        return out
    return set().union(*(language(c) for c in node.items))  # OneOf


@settings(max_examples=150, deadline=None)
@given(nodes)
def test_matcher_agrees_with_brute_force(body: Node) -> None:
    grammar = Grammar(rules={"r": Rule("r", body), "helper": HELPER}, root="r")
    check_library(grammar)  # the first-word facts the matcher uses to skip work
    assert grammar.analysis is not None
    expected = language(body)
    for n, facts in product(range(MAX_LEN + 1), (None, grammar.analysis.nodes)):
        for words in product(WORDS, repeat=n):
            chart = Chart(grammar.lookup, list(words), 100_000, facts)
            matched = n in chart.ends(body, 0)
            assert matched == (words in expected), (words, body)
            if matched:  # a derivation exists for what was recognised and spells out exactly the input
                assert leaves_of(chart.derive_rule("", "r", 0, n)) == list(words)


def leaves_of(d: Derivation) -> list[str]:
    out: list[str] = []
    for item in d.items:
        if isinstance(item, str):
            out += item.split()
        elif isinstance(item, Derivation):
            out += leaves_of(item)
        elif isinstance(item, Garbage):
            out += item.words
    return out
