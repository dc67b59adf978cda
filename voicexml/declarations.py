"""The names a `<script>` declares in the scope it runs in (VoiceXML 2.0 5.3.12): its `var`s wherever they stand
outside nested functions (ECMAScript hoists them out of blocks and `for` heads) and its function declarations.

The script is parsed with tree-sitter's ECMAScript grammar, so text in strings, comments, regular expressions and
the locals of nested functions never count. The parser is C, linear in the script's length and tolerant of
errors (a script that does not parse is quickjs's to reject); the tree is walked without recursion, so deeply
nested hostile scripts cannot exhaust Python's stack.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser

_PARSER = Parser(Language(tree_sitter_javascript.language()))
_FUNCTIONS = frozenset(("function_declaration", "generator_function_declaration"))
# What declares nothing in the script's scope: nested functions and classes (their bodies are scopes of their
# own) and `let`/`const` (block-scoped).
_NOT_THE_SCRIPTS = frozenset(("function_expression", "function", "generator_function", "arrow_function",
                        "method_definition", "class", "class_declaration", "lexical_declaration"))


@dataclass(frozen=True)
class Declarations:
    """A script's top-level `var` names and function declaration names, in source order."""

    variables: tuple[str, ...]
    functions: tuple[str, ...]


@lru_cache(maxsize=256)
def declarations(source: str) -> Declarations:
    """The `var`s and functions `source` declares at its top level (`let`, `const` and `class` are block-scoped)."""
    variables: list[str] = []
    functions: list[str] = []
    stack = [_PARSER.parse(source.encode()).root_node]
    while stack:
        node = stack.pop()
        kind = node.type
        if kind in _FUNCTIONS:
            name = node.child_by_field_name("name")
            if name is not None:
                functions.append(_text(name))
            continue
        if kind in _NOT_THE_SCRIPTS:
            continue
        if kind == "variable_declaration":  # `var` (let and const are lexical_declaration)
            for declarator in node.named_children:
                if declarator.type == "variable_declarator":
                    _bindings(declarator.child_by_field_name("name"), variables)
            continue  # initialisers are expressions: any declarations in them belong to nested functions
        if kind == "for_in_statement" and _is_var(node.child_by_field_name("kind")):
            _bindings(node.child_by_field_name("left"), variables)
        stack.extend(reversed(node.children))
    return Declarations(tuple(dict.fromkeys(variables)), tuple(dict.fromkeys(functions)))


def _bindings(pattern: Node | None, out: list[str]) -> None:
    """The identifiers a binding (a name or a destructuring pattern) declares, defaults and keys left out."""
    stack = [pattern] if pattern is not None else []
    while stack:
        node = stack.pop()
        kind = node.type
        if kind in ("identifier", "shorthand_property_identifier_pattern"):
            out.append(_text(node))
        elif kind == "pair_pattern":
            stack.extend(n for n in (node.child_by_field_name("value"),) if n is not None)
        elif kind in ("assignment_pattern", "object_assignment_pattern"):
            stack.extend(n for n in (node.child_by_field_name("left"),) if n is not None)
        elif kind in ("object_pattern", "array_pattern", "rest_pattern"):
            stack.extend(reversed(node.named_children))


def _is_var(kind: Node | None) -> bool:
    return kind is not None and kind.type == "var"


def _text(node: Node) -> str:
    return (node.text or b"").decode()
