"""Skill expressions: parsing into the AST, evaluation, clear errors."""
from __future__ import annotations

import pytest

from routing import RoutingError, parse_skill_expr
from routing.skills import And, Has, Not, Or, skills_in


def test_precedence_or_below_and_below_not():
    expr = parse_skill_expr("billing >= 3 and spanish or not french")
    assert expr == Or((And((Has("billing", ">=", 3.0), Has("spanish"))), Not(Has("french"))))
    assert skills_in(expr) == {"billing", "spanish", "french"}


@pytest.mark.parametrize("skills, expected", [
    ({"billing": 3, "spanish": 1, "french": 1}, True),
    ({"billing": 2, "spanish": 1, "french": 1}, False),
    ({"billing": 2}, True),
    ({}, True),
    ({"french": 0}, False)])
def test_evaluation(skills, expected):
    assert parse_skill_expr("billing >= 3 and spanish or not french").matches(skills) is expected


def test_parentheses_comparisons_and_empty():
    expr = parse_skill_expr("(sales or support) and level != 2 and vip < 1.5")
    assert expr.matches({"sales": 1, "level": 3, "vip": 1})
    assert not expr.matches({"sales": 1, "level": 2, "vip": 1})
    assert parse_skill_expr("").matches({})
    assert parse_skill_expr("   ").matches({})


@pytest.mark.parametrize("text", ["billing >=", "and spanish", "billing >= x", "(billing", "billing)",
                                  "billing spanish", "billing & spanish", "not", "billing >= 3 or"])
def test_bad_expressions_raise_with_code(text):
    with pytest.raises(RoutingError) as err:
        parse_skill_expr(text)
    assert err.value.code == "bad_skill_expression"
    assert repr(text) in err.value.message
