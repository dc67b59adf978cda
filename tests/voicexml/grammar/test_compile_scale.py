"""Compiling large and deep grammars: near-linear work, and a size budget that ends in GrammarError."""
from __future__ import annotations

import pytest

from tests.voicexml.talk import converse, write
from voicexml.grammar import GrammarError, GrammarSettings, parse_grammar
from voicexml.grammar import analysis as analysis_module


def _chain_abnf(depth: int) -> str:
    rules = " ".join(f"$r{i} = $r{i + 1} w{i};" for i in range(depth))
    return f"#ABNF 1.0; root $r0; {rules} $r{depth} = end;"


def test_a_deep_ruleref_chain_is_analysed_in_linear_work(monkeypatch):
    # Before the fix the fixpoint walked every rule once per chain level: depth**2 node visits.
    calls = 0
    real = analysis_module.Analysis._facts

    def counting(self, node, memo):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return real(self, node, memo)

    monkeypatch.setattr(analysis_module.Analysis, "_facts", counting)
    depth = 600
    g = parse_grammar(_chain_abnf(depth), settings=GrammarSettings(max_tokens=1000))
    nodes = sum(1 for _ in g.iter_nodes())
    assert calls <= 3 * nodes
    words = " ".join(["end"] + [f"w{i}" for i in reversed(range(depth))])
    assert g.match(words) is not None
    assert g.match("end w0") is None
    assert g.analysis.rule_facts[("", "r0")] == (False, frozenset({"end"}))  # type: ignore[union-attr]


def test_a_recursive_component_still_reaches_its_fixpoint():
    # $a and $b are mutually recursive; $b's first words come from $c, solved before them.
    g = parse_grammar("#ABNF 1.0; root $a; $a = x | y $b; $b = $c $a | [z] $a w; $c = q | r;")
    for text, ok in [("x", True), ("y q x", True), ("y z x w", True), ("y x w", True), ("y r y q x", True),
                     ("y", False), ("q x", False)]:
        assert (g.match(text) is not None) is ok, text
    facts = g.analysis.rule_facts  # type: ignore[union-attr]
    assert facts[("", "b")] == (False, frozenset({"q", "r", "z", "x", "y"}))


def test_a_20000_entry_name_dialer_compiles_and_matches():
    items = "".join(f"<item>name{i} surname{i}<tag>out='{i}'</tag></item>" for i in range(20_000))
    g = parse_grammar('<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" root="r" '
                      f'tag-format="semantics/1.0"><rule id="r"><one-of>{items}</one-of></rule></grammar>')
    assert g.match("name19999 surname19999").interpretation == "19999"
    assert g.match("name7 surname8") is None


@pytest.mark.parametrize("settings, code_text", [
    (GrammarSettings(max_nodes=50), "expansion nodes"),
    (GrammarSettings(max_rules=10), "rules"),
])
def test_a_grammar_over_the_size_budget_is_a_grammar_error(settings, code_text):
    with pytest.raises(GrammarError) as e:
        parse_grammar(_chain_abnf(30), settings=settings)
    assert e.value.code == "too_large"
    assert code_text in e.value.message
    assert parse_grammar(_chain_abnf(5), settings=settings).match("end w4 w3 w2 w1 w0") is not None


def test_an_oversized_grammar_in_a_session_is_error_badfetch(tmp_path):
    rules = " ".join(f"$r{i} = a;" for i in range(GrammarSettings().max_rules + 1))
    doc = write(tmp_path, "big.vxml", f"""
    <form>
      <catch event="error.badfetch"><log>badfetch</log><exit/></catch>
      <field name="f"><prompt>say</prompt>
        <grammar type="application/srgs" mode="voice">#ABNF 1.0; root $r0; {rules}</grammar>
      </field>
    </form>
    """)
    events, outcome, _ = converse(doc, {"input": "voice", "utterance": "a"})
    assert {"event": "log", "text": "badfetch"} in events
    assert outcome.status == "exit"
