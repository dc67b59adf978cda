"""Skill expressions: `billing >= 3 and spanish or not french` parsed once into a small AST, evaluated per agent.

Grammar (precedence low to high):  expr := or ;  or := and ("or" and)* ;  and := not ("and" not)* ;
not := "not" not | atom ;  atom := "(" expr ")" | SKILL [OP LEVEL] | "true" ;  OP := >= > <= < == !=
A bare skill means "the agent has it" (any level). The empty expression matches every agent.
"""
from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from routing.errors import RoutingError

SKILL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_TOKEN = re.compile(r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<op>>=|<=|==|!=|>|<)|(?P<paren>[()])"
                    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.\-]*))")
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq, "!=": operator.ne}
_KEYWORDS = {"and", "or", "not", "true"}


@dataclass(frozen=True, slots=True)
class Has:
    """`skill` or `skill OP level`."""
    skill: str
    op: str | None = None
    level: float = 0.0

    def matches(self, skills: Mapping[str, float]) -> bool:
        if self.skill not in skills:
            return False
        return True if self.op is None else _OPS[self.op](skills[self.skill], self.level)


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr

    def matches(self, skills: Mapping[str, float]) -> bool:
        return not self.operand.matches(skills)


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]

    def matches(self, skills: Mapping[str, float]) -> bool:
        return all(o.matches(skills) for o in self.operands)


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]

    def matches(self, skills: Mapping[str, float]) -> bool:
        return any(o.matches(skills) for o in self.operands)


@dataclass(frozen=True, slots=True)
class Always:
    def matches(self, skills: Mapping[str, float]) -> bool:
        return True


Expr = Has | Not | And | Or | Always


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise RoutingError("bad_skill_expression", f"unexpected {text[pos:].strip()[:20]!r} at {pos} in {text!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def error(self, what: str) -> RoutingError:
        return RoutingError("bad_skill_expression", f"{what} in skill expression {self.text!r}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise self.error("unexpected end")
        self.i += 1
        return tok

    def parse(self) -> Expr:
        if not self.tokens:
            return Always()
        expr = self.parse_or()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return expr

    def _word(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == "word" and tok[1].lower() == word:
            self.i += 1
            return True
        return False

    def parse_or(self) -> Expr:
        operands = [self.parse_and()]
        while self._word("or"):
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Expr:
        operands = [self.parse_not()]
        while self._word("and"):
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_not(self) -> Expr:
        if self._word("not"):
            return Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> Expr:
        kind, value = self.take()
        if kind == "paren" and value == "(":
            expr = self.parse_or()
            if self.take() != ("paren", ")"):
                raise self.error("missing ')'")
            return expr
        if kind != "word" or value.lower() in _KEYWORDS - {"true"}:
            raise self.error(f"expected a skill, got {value!r}")
        if value.lower() == "true":
            return Always()
        tok = self.peek()
        if tok is not None and tok[0] == "op":
            self.i += 1
            num_kind, num = self.take()
            if num_kind != "num":
                raise self.error(f"expected a level after {tok[1]!r}, got {num!r}")
            return Has(value, tok[1], float(num))
        return Has(value)


@lru_cache(maxsize=4096)
def parse_skill_expr(text: str) -> Expr:
    """Parse a skill expression; raises RoutingError(`bad_skill_expression`). Results are cached (immutable)."""
    if not isinstance(text, str):
        raise RoutingError("bad_skill_expression", f"skill expression must be a string, not {type(text).__name__}")
    return _Parser(text).parse()


def skills_in(expr: Expr) -> set[str]:
    """Every skill name an expression mentions (to check them against the known skills)."""
    if isinstance(expr, Has):
        return {expr.skill}
    if isinstance(expr, Not):
        return skills_in(expr.operand)
    if isinstance(expr, (And, Or)):
        return set().union(*(skills_in(o) for o in expr.operands))
    return set()


def validate_skills(skills: Mapping[str, float]) -> dict[str, float]:
    """Check an agent's skill map (names, numeric levels >= 0); returns a plain dict copy."""
    if not isinstance(skills, Mapping):
        raise RoutingError("bad_skills", "skills must be a mapping of name to level")
    out: dict[str, float] = {}
    for name, level in skills.items():
        if not isinstance(name, str) or not SKILL_NAME.match(name) or name.lower() in _KEYWORDS:
            raise RoutingError("bad_skills", f"bad skill name {name!r}")
        if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 <= level < math.inf:
            raise RoutingError("bad_skills", f"skill {name!r}: level must be a finite number >= 0, got {level!r}")
        out[name] = level
    return out
