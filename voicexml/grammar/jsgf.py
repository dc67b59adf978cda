"""SRGS to JSGF, for grammar-based speech recognisers such as pocketsphinx.

The JSGF accepts the same word sequences as the SRGS grammar, with these approximations, all of which
only make it accept more (the recogniser's result is matched against the SRGS grammar afterwards, so
nothing wrong gets through): tags are dropped; GARBAGE becomes <NULL> (JSGF has no filler model);
repeats are written out as copies and nested optionals up to `max_copies`, beyond which the tail
becomes `*`; a repeat of something that itself repeats becomes `*` or `+` at once. Rules are renamed to JSGF-safe names, unique across the grammars the SRGS grammar
references, and only rules reachable from the root are written.
"""
from __future__ import annotations

import re

from .errors import GrammarError
from .grammar import Grammar
from .nodes import Node, OneOf, Repeat, RuleRef, Sequence, Special, Tag, Token

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_PLAIN_WORD = re.compile(r"^[\w'.-]+$")


def _jsgf_word(word: str) -> str:
    """A word as a JSGF token: quoted when it holds characters JSGF gives a meaning to ("a/b", "x|y")."""
    if _PLAIN_WORD.match(word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'



_MAX_REPEAT_CHARS = 4000  # a written-out repeat longer than this becomes * / + (nested repeats multiply)


class _Writer:
    def __init__(self, grammar: Grammar, max_copies: int) -> None:
        self.grammar = grammar
        self.max_copies = max_copies
        self.names: dict[tuple[str, str], str] = {}
        self.pending: list[tuple[str, str]] = []

    def rule_name(self, gkey: str, rule_id: str) -> str:
        key = (gkey, rule_id)
        if key not in self.names:
            base = _UNSAFE.sub("_", rule_id) or "rule"
            if gkey != self.grammar.key:
                base = f"g{len({k for k, _ in self.names if k != self.grammar.key}) + 1}_{base}"
            name, n = base, 1
            while name in self.names.values() or name in ("NULL", "VOID"):
                n += 1
                name = f"{base}_{n}"
            self.names[key] = name
            self.pending.append(key)
        return self.names[key]

    def expansion(self, node: Node) -> str:
        """The JSGF text of a node; the result is safe to follow with a unary operator when grouped."""
        if isinstance(node, Token):
            return " ".join(_jsgf_word(w) for w in node.words)
        if isinstance(node, Tag):
            return "<NULL>"
        if isinstance(node, Special):
            return "<VOID>" if node.kind == "VOID" else "<NULL>"
        if isinstance(node, RuleRef):
            gkey, rule = self.grammar.lookup(node.grammar, node.rule)
            return f"<{self.rule_name(gkey, rule.id)}>"
        if isinstance(node, Sequence):
            parts = [self.expansion(c) for c in node.items if not isinstance(c, Tag)]
            parts = [p for p in parts if p != "<NULL>"] or ["<NULL>"]
            return " ".join(parts)
        if isinstance(node, OneOf):
            uniform = len(set(node.weights)) == 1
            alts = [(self.expansion(c) if uniform else f"/{w:g}/ {self.expansion(c)}")
                    for c, w in zip(node.items, node.weights)]
            return "( " + " | ".join(alts) + " )" if len(alts) > 1 else alts[0]
        if isinstance(node, Repeat):
            return self.repeat(node)
        raise TypeError(f"not a grammar node: {node!r}")

    def repeat(self, node: Repeat) -> str:
        body = self.expansion(node.item)
        if node.max == 0 or body == "<NULL>":
            return "<NULL>"
        single_group = isinstance(node.item, OneOf) and len(node.item.items) > 1
        group = body if single_group else f"( {body} )"
        required = min(node.min, self.max_copies)
        parts = [group] * required
        nested = any(c in body for c in "[*+")
        if len(group) * (node.max or node.min) > _MAX_REPEAT_CHARS or (nested and (node.max or 2) > 1):
            # Copies of copies multiply (and pocketsphinx's FSG conversion with them): keep "at least one".
            parts = [group] if node.min else []
            node = Repeat(node.item, min(node.min, 1), None)
        if node.max is None or node.min > self.max_copies or node.max - required > self.max_copies:
            if required:
                parts[-1] = f"{group}+"
            else:
                parts.append(f"{group}*")
            return " ".join(parts)
        optional = node.max - required
        tail = ""
        for _ in range(optional):  # x [x [x]] for up to three more
            tail = f"[ {body}{' ' + tail if tail else ''} ]"
        return " ".join(parts + ([tail] if tail else [])) or "<NULL>"


def srgs_to_jsgf(grammar: Grammar, *, name: str | None = None, max_copies: int = 16) -> str:
    """A JSGF grammar accepting (at least) the word sequences of the voice grammar `grammar`.

    Raises GrammarError (code ``unsupported``) for a DTMF grammar, which has no words to recognise.
    """
    if grammar.mode != "voice":
        raise GrammarError("a DTMF grammar has no JSGF form: DTMF is not speech", code="unsupported")
    writer = _Writer(grammar, max_copies)
    root = grammar.root_rule()
    root_name = writer.rule_name(grammar.key, root.id)
    lines = ["#JSGF V1.0;", "", f"grammar {_UNSAFE.sub('_', name or grammar.root or 'main')};", ""]
    done: set[tuple[str, str]] = set()
    while writer.pending:
        key = writer.pending.pop(0)
        if key in done:
            continue
        done.add(key)
        _, rule = grammar.lookup(*key)
        body = writer.expansion(rule.body)
        public = "public " if writer.names[key] == root_name else ""
        lines.append(f"{public}<{writer.names[key]}> = {body};")
    return "\n".join(lines) + "\n"


def srgs_words(grammar: Grammar) -> set[str]:
    """Every word the grammar (and what it references) can match: what a recogniser's dictionary needs."""
    return {w for node in grammar.iter_nodes() if isinstance(node, Token) for w in node.words}
