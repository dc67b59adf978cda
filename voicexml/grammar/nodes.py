"""The grammar model: rule expansions as small immutable nodes, shared by both SRGS forms."""
from __future__ import annotations

from dataclasses import dataclass

# Nodes compare and hash by identity (eq=False): the matcher memoises on them, and two equal-looking
# expansions in different places are different places.


@dataclass(frozen=True, eq=False)
class Token:
    """A token; `words` are its normalised words (a quoted "San Francisco" is one token of two words)."""

    words: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Tag:
    """A semantic interpretation tag, kept verbatim."""

    text: str


@dataclass(frozen=True, eq=False)
class Special:
    """One of the special rules NULL (matches nothing), VOID (never matches), GARBAGE (any tokens)."""

    kind: str


@dataclass(frozen=True, eq=False)
class RuleRef:
    """A reference to rule `rule` of the grammar registered under `grammar` in the grammar's library."""

    grammar: str
    rule: str


@dataclass(frozen=True, eq=False)
class Sequence:
    """Expansions one after the other."""

    items: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class OneOf:
    """Alternatives; `items` are in preference order (higher weight first, then document order)."""

    items: tuple[Node, ...]
    weights: tuple[float, ...]


@dataclass(frozen=True, eq=False)
class Repeat:
    """`item` repeated between `min` and `max` times (`max` None: unbounded)."""

    item: Node
    min: int
    max: int | None
    prob: float | None = None


Node = Token | Tag | Special | RuleRef | Sequence | OneOf | Repeat

NULL = Special("NULL")
VOID = Special("VOID")
GARBAGE = Special("GARBAGE")
SPECIALS = {"NULL": NULL, "VOID": VOID, "GARBAGE": GARBAGE}


@dataclass(frozen=True, eq=False)
class Rule:
    """A rule definition: `scope` is "public" or "private"."""

    id: str
    body: Node
    scope: str = "private"


def make_one_of(items: list[Node], weights: list[float]) -> OneOf:
    """Build a OneOf ordered by preference: higher weight first, ties in document order."""
    order = sorted(range(len(items)), key=lambda k: -weights[k])
    return OneOf(tuple(items[k] for k in order), tuple(weights[k] for k in order))


def make_sequence(items: list[Node]) -> Node:
    """A Sequence, or the single item itself, or NULL when empty."""
    if not items:
        return NULL
    if len(items) == 1:
        return items[0]
    return Sequence(tuple(items))


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expansions of a node."""
    if isinstance(node, Sequence | OneOf):
        return node.items
    if isinstance(node, Repeat):
        return (node.item,)
    return ()
