"""Matching: tokens, repeats, recursion, special rules, preferences, hostile grammars."""
from __future__ import annotations

import logging
import time

import pytest

from voicexml.grammar import GrammarSettings, parse_grammar

SRGS = 'xmlns="http://www.w3.org/2001/06/grammar" version="1.0"'


def g(rules: str, root: str = "r", mode: str = "voice", **kw):  # type: ignore[no-untyped-def]
    return parse_grammar(f'<grammar {SRGS} root="{root}" mode="{mode}">{rules}</grammar>', **kw)


def test_voice_is_case_insensitive_and_punctuation_tolerant() -> None:
    gr = g('<rule id="r">new york</rule>')
    assert gr.match("  New   YORK?! ").utterance == "new york"
    assert gr.match("new york city") is None
    assert gr.match("new") is None
    assert gr.match("") is None and gr.match("   ") is None


def test_dtmf_accepts_packed_and_spaced_keys() -> None:
    gr = g('<rule id="r"><item repeat="1-">'
           '<one-of><item>1</item><item>2</item><item>#</item><item>*</item></one-of></item></rule>', mode="dtmf")
    assert gr.match("12#").utterance == "12#"
    assert gr.match("1 2 #").interpretation == "12#"
    assert gr.match("1*2").utterance == "1*2"
    assert gr.match("13") is None
    assert gr.match("hello") is None


@pytest.mark.parametrize("repeat, ok, bad", [
    ("3", ["a a a"], ["a a", "a a a a"]),
    ("2-4", ["a a", "a a a", "a a a a"], ["a", "a a a a a"]),
    ("2-", ["a a", "a a a a a a a a"], ["a"]),
    ("0-1", ["", "a"], ["a a"]),
    ("0-", ["", "a a a"], []),
    ("0", [""], ["a"]),
])
def test_repeat_ranges(repeat: str, ok: list[str], bad: list[str]) -> None:
    gr = g(f'<rule id="r">start <item repeat="{repeat}">a</item> end</rule>')
    for words in ok:
        assert gr.match(f"start {words} end") is not None, words
    for words in bad:
        assert gr.match(f"start {words} end") is None, words


def test_repeat_of_a_sequence_and_nested_repeats() -> None:
    gr = g('<rule id="r"><item repeat="1-2"><item repeat="0-1">please</item> one two</item></rule>')
    assert gr.match("one two please one two") is not None
    assert gr.match("please one two please") is None


def test_right_recursion_and_nesting() -> None:
    gr = g('<rule id="r"><ruleref uri="#digits"/></rule>'
           '<rule id="digits"><ruleref uri="#d"/><item repeat="0-1"><ruleref uri="#digits"/></item></rule>'
           '<rule id="d"><one-of><item>one</item><item>two</item></one-of></rule>')
    assert gr.match("one two two one two one") is not None
    assert gr.match("one three") is None


def test_center_embedded_recursion() -> None:
    gr = g('<rule id="r"><one-of><item>x</item><item>open <ruleref uri="#r"/> close</item></one-of></rule>')
    assert gr.match("open open x close close") is not None
    assert gr.match("open open x close") is None


def test_null_void_and_garbage() -> None:
    gr = g('<rule id="r">call <ruleref special="NULL"/> <ruleref special="GARBAGE"/> billing</rule>')
    assert gr.match("call billing") is not None
    assert gr.match("call uh the uh billing") is not None
    assert gr.match("call uh billing").confidence < 1.0
    assert gr.match("call billing").confidence == 1.0
    assert g('<rule id="r">a <ruleref special="VOID"/></rule>').match("a") is None


def test_weights_decide_between_ambiguous_parses() -> None:
    rules = ('<rule id="r"><one-of><item weight="{w1}">new york<tag>out="state"</tag></item>'
             '<item weight="{w2}">new york<tag>out="city"</tag></item></one-of></rule>')
    light = parse_grammar(f'<grammar {SRGS} root="r" tag-format="semantics/1.0">'
                          + rules.format(w1=1, w2=2) + "</grammar>")
    assert light.match("new york").interpretation == "city"
    even = parse_grammar(f'<grammar {SRGS} root="r" tag-format="semantics/1.0">'
                         + rules.format(w1=1, w2=1) + "</grammar>")
    assert even.match("new york").interpretation == "state"  # equal weights: document order


def test_ambiguity_is_resolved_deterministically_for_repeats() -> None:
    gr = parse_grammar(f'<grammar {SRGS} root="r" tag-format="semantics/1.0"><rule id="r">'
                       '<item repeat="0-"><ruleref uri="#w"/><tag>out.n = (out.n || 0) + 1</tag></item>'
                       '<item repeat="0-1">a a<tag>out.tail = true</tag></item></rule>'
                       '<rule id="w"><one-of><item>a</item><item>a a</item></one-of></rule></grammar>')
    first = gr.match("a a a a").interpretation
    assert first == gr.match("a a a a").interpretation
    assert first == {"n": 2}  # longest pieces first: two "a a" repetitions, no tail


def test_hostile_grammar_is_bounded_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    # Exponentially ambiguous: every split of the input is a parse.
    gr = g('<rule id="r"><item repeat="0-"><one-of><item>a</item><item>a a</item><item><ruleref uri="#r2"/>'
           '</item></one-of></item> b</rule>'
           '<rule id="r2"><item repeat="1-"><one-of><item>a</item><item>a a</item></one-of></item></rule>',
           settings=GrammarSettings(max_steps=2_000))
    start = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="voicexml.grammar"):
        assert gr.match(" ".join(["a"] * 150) + " c") is None
    assert time.perf_counter() - start < 2.0
    assert any("abandoned" in r.message for r in caplog.records)


def test_huge_repeat_counts_do_not_explode() -> None:
    gr = g('<rule id="r"><item repeat="100000000">a</item></rule>')
    assert gr.match("a a a") is None
    nullable = g('<rule id="r"><item repeat="100000000-200000000"><item repeat="0-1">a</item></item> b</rule>')
    assert nullable.match("a a b") is not None
    assert nullable.match("b") is not None


def test_long_input_is_no_match(caplog: pytest.LogCaptureFixture) -> None:
    gr = g('<rule id="r"><item repeat="0-">a</item></rule>', settings=GrammarSettings(max_tokens=10))
    assert gr.match("a " * 10) is not None
    with caplog.at_level(logging.WARNING, logger="voicexml.grammar"):
        assert gr.match("a " * 11) is None
    assert caplog.records


def test_ambiguous_long_input_stays_fast() -> None:
    gr = g('<rule id="r"><item repeat="0-"><one-of><item>a</item><item>a a</item><item>a a a</item>'
           '</one-of></item></rule>')
    start = time.perf_counter()
    assert gr.match(" ".join(["a"] * 120)) is not None
    assert time.perf_counter() - start < 2.0


def test_long_right_recursion_matches() -> None:
    gr = parse_grammar("#ABNF 1.0; $r = $d [$r]; $d = one | two;")
    assert gr.match(" ".join(["one", "two"] * 100)) is not None


def test_garbage_heavy_grammar_stays_bounded() -> None:
    gr = parse_grammar("#ABNF 1.0; $r = (($GARBAGE $GARBAGE | $GARBAGE a) <0->) ($GARBAGE | b) <0-> c;")
    start = time.perf_counter()
    gr.match(" ".join(["a", "b"] * 99) + " d")
    gr.match(" ".join(["a", "b"] * 99) + " c")
    assert time.perf_counter() - start < 3.0
