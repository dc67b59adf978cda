"""Semantic interpretation: SISR 1.0 scripts, literal tags, the older tag style, limits."""
from __future__ import annotations

import time

import pytest

from voicexml.grammar import GrammarError, GrammarSettings, ScriptLimits, parse_grammar

SRGS = 'xmlns="http://www.w3.org/2001/06/grammar" version="1.0"'


def g(rules: str, tag_format: str | None = "semantics/1.0", root: str = "r", **kw):  # type: ignore[no-untyped-def]
    fmt = f' tag-format="{tag_format}"' if tag_format else ""
    return parse_grammar(f'<grammar {SRGS} root="{root}"{fmt}>{rules}</grammar>', **kw)


def test_no_tags_means_the_utterance() -> None:
    assert g('<rule id="r">Hello World</rule>').match("hello, world!").interpretation == "hello world"
    dtmf = parse_grammar(f'<grammar {SRGS} root="r" mode="dtmf"><rule id="r">1 2 #</rule></grammar>')
    assert dtmf.match("1 2 #").interpretation == "12#"


def test_sisr_out_rules_and_meta() -> None:
    gr = g('<rule id="r">from <ruleref uri="#city"/><tag>out.from = rules.city; out.said = meta.city.text;</tag>'
           ' to <ruleref uri="#city"/><tag>out.to = rules.latest(); out.all = meta.current().text;'
           ' out.last = meta.latest().text</tag></rule>'
           '<rule id="city"><one-of><item>boston<tag>out = "BOS"</tag></item>'
           '<item>new york<tag>out = "JFK"</tag></item></one-of></rule>')
    assert gr.match("from new york to boston").interpretation == {
        "from": "JFK", "said": "new york", "to": "BOS", "all": "from new york to boston", "last": "boston"}


def test_json_types_come_back_as_python_values() -> None:
    gr = g('<rule id="r">go<tag>out = {n: 3, f: 2.5, b: true, z: null, l: [1, "two"], s: "x"}</tag></rule>')
    assert gr.match("go").interpretation == {"n": 3, "f": 2.5, "b": True, "z": None, "l": [1, "two"], "s": "x"}


def test_rule_without_tags_takes_its_last_references_value_or_its_text() -> None:
    gr = g('<rule id="r"><ruleref uri="#wrap"/></rule><rule id="wrap">please <ruleref uri="#v"/></rule>'
           '<rule id="v">go<tag>out = {go: 1}</tag></rule>')
    assert gr.match("please go").interpretation == {"go": 1}
    plain = g('<rule id="r"><ruleref uri="#a"/><tag>out.a = rules.a</tag></rule><rule id="a">x y</rule>')
    assert plain.match("x y").interpretation == {"a": "x y"}


def test_vars_are_local_to_the_rule_but_shared_by_its_tags() -> None:
    gr = g('<rule id="r"><tag>var n = 1</tag>a<ruleref uri="#b"/><tag>out = n + rules.b</tag></rule>'
           '<rule id="b"><tag>var n = 10</tag>b<tag>out = n</tag></rule>')
    assert gr.match("a b").interpretation == 11


def test_repeats_accumulate_in_tags() -> None:
    gr = g('<rule id="r"><tag>out = ""</tag><item repeat="1-"><ruleref uri="#d"/><tag>out += rules.d</tag></item>'
           '</rule><rule id="d"><one-of><item>one<tag>out="1"</tag></item><item>two<tag>out="2"</tag></item>'
           '</one-of></rule>')
    assert gr.match("one two two one").interpretation == "1221"


def test_literal_tag_format() -> None:
    gr = g('<rule id="r"><one-of><item>yes<tag>true</tag></item><item>no<tag> false answer </tag></item>'
           '</one-of></rule>', tag_format="semantics/1.0-literals")
    assert gr.match("yes").interpretation == "true"
    assert gr.match("no").interpretation == "false answer"


def test_tags_without_tag_format_script_or_literal() -> None:
    gr = g('<rule id="r"><one-of><item>chicago<tag>\'alpha\'</tag></item><item>tokyo<tag>var a=\'valA\'; '
           'var b=new Object(); b.c=\'x\'; </tag></item><item>london<tag>LHR</tag></item>'
           '<item>paris<tag>city = "paris"; state = "idf"</tag></item><item>rome<tag>42</tag></item>'
           '<item>oslo<tag>out.x = 1</tag></item></one-of></rule>', tag_format=None)
    assert gr.match("chicago").interpretation == "alpha"
    assert gr.match("tokyo").interpretation == {"a": "valA", "b": {"c": "x"}}
    assert gr.match("london").interpretation == "LHR"
    assert gr.match("paris").interpretation == {"city": "paris", "state": "idf"}
    assert gr.match("rome").interpretation == 42
    assert gr.match("oslo").interpretation == {"x": 1}


def test_each_grammar_keeps_its_own_tag_format() -> None:
    other = (f'<grammar {SRGS} root="c" tag-format="semantics/1.0-literals"><rule id="c" scope="public">'
             "paris<tag>CDG</tag></rule></grammar>").encode()
    gr = g('<rule id="r"><ruleref uri="o.grxml#c"/><tag>out = {code: rules.c}</tag></rule>',
           base_uri="file:///x/main.grxml", fetch=lambda uri: other)
    assert gr.match("paris").interpretation == {"code": "CDG"}


def test_failing_tag_raises_semantics_error_and_grammar_stays_usable() -> None:
    gr = g('<rule id="r"><one-of><item>bad<tag>out = undefinedThing.x</tag></item>'
           '<item>worse<tag>out = (</tag></item><item>good<tag>out = 1</tag></item></one-of></rule>')
    for word in ("bad", "worse"):
        with pytest.raises(GrammarError) as e:
            gr.match(word)
        assert e.value.code == "semantics"
    assert gr.match("good").interpretation == 1


def test_infinite_loop_is_interrupted() -> None:
    gr = g('<rule id="r"><one-of><item>spin<tag>while (true) {}</tag></item><item>ok<tag>out = 2</tag></item>'
           '</one-of></rule>', settings=GrammarSettings(script=ScriptLimits(time_s=0.1)))
    start = time.perf_counter()
    with pytest.raises(GrammarError) as e:
        gr.match("spin")
    assert time.perf_counter() - start < 3.0
    assert e.value.code == "semantics" and "limit" in str(e.value)
    assert gr.match("ok").interpretation == 2


def test_memory_bomb_is_stopped() -> None:
    gr = g('<rule id="r"><one-of><item>bomb<tag>var a = []; while (true) a.push("xxxxxxxxxxxxxxxx" + a.length)'
           '</tag></item><item>ok<tag>out = 3</tag></item></one-of></rule>',
           settings=GrammarSettings(script=ScriptLimits(time_s=5.0, memory_bytes=4 * 1024 * 1024)))
    with pytest.raises(GrammarError):
        gr.match("bomb")
    assert gr.match("ok").interpretation == 3


def test_deep_recursion_in_a_tag_is_stopped() -> None:
    gr = g('<rule id="r">deep<tag>function f(n) { return f(n + 1) + 1 } out = f(0)</tag></rule>')
    with pytest.raises(GrammarError):
        gr.match("deep")


def test_tags_cannot_reach_python_or_the_outside() -> None:
    gr = g('<rule id="r">look<tag>out = [typeof require, typeof process, typeof fetch, typeof XMLHttpRequest]'
           '</tag></rule>')
    assert gr.match("look").interpretation == ["undefined"] * 4


def test_unknown_tag_format_is_an_error_when_the_grammar_has_tags() -> None:
    with pytest.raises(GrammarError) as e:
        g('<rule id="r">x<tag>1</tag></rule>', tag_format="application/x-nuance")
    assert e.value.code == "unsupported"
    assert g('<rule id="r">x</rule>', tag_format="application/x-nuance").match("x").interpretation == "x"


def test_header_tags_declare_what_every_rule_sees() -> None:
    abnf = parse_grammar("#ABNF 1.0; tag-format <semantics/1.0>;"
                         "{var codes = {paris: 'CDG', rome: 'FCO'}; function up(s) { return s.toUpperCase(); }};"
                         "$r = (paris | rome) {out = [codes[meta.current().text], up(meta.current().text)]};")
    assert abnf.match("rome").interpretation == ["FCO", "ROME"]
    xml = g('<tag>var k = 5;</tag><rule id="r">x<tag>out = k</tag></rule>')
    assert xml.match("x").interpretation == 5
    with pytest.raises(GrammarError):
        g('<rule id="r">x</rule><tag>var late = 1;</tag>')


def test_builtin_grammars_referenced_by_rulerefs_give_their_values() -> None:
    voice = g('<rule id="r">call me <ruleref uri="builtin:grammar/time"/><tag>out.when = rules.time</tag></rule>')
    assert voice.match("call me at three thirty p m").interpretation == {"when": "0330p"}
    assert voice.match("call me at three sixty") is None  # the shape fits, the builtin refuses it
    dtmf = parse_grammar(f'<grammar {SRGS} root="r" mode="dtmf"><rule id="r">'
                         '<ruleref uri="builtin:dtmf/digits?maxlength=4"/> #</rule></grammar>')
    assert dtmf.match("123#").interpretation == "123"
    assert dtmf.match("12345#") is None


def test_syntax_errors_name_the_tag() -> None:
    gr = g('<rule id="r"><one-of><item>a<tag>out = 1</tag></item><item>b<tag>out = (</tag></item></one-of></rule>')
    with pytest.raises(GrammarError) as e:
        gr.match("b")
    assert "out = (" in str(e.value) and "SyntaxError" in str(e.value)


def test_long_right_recursive_input_with_tags() -> None:
    gr = parse_grammar("#ABNF 1.0; tag-format <semantics/1.0>; $r = $d [$r] {out = rules.d + (rules.r || '')};"
                       "$d = one {out = '1'} | two {out = '2'};")
    m = gr.match(" ".join(["one", "two"] * 100))
    assert m is not None and m.interpretation == "12" * 100


def test_old_dollar_notation_in_tags_without_tag_format() -> None:
    gr = g('<rule id="r">a <ruleref uri="#drink"/><tag>$.drink = $drink; $.last = $$; $.price = "$5"</tag></rule>'
           '<rule id="drink">coke<tag>$ = "COKE"</tag></rule>', tag_format=None)
    assert gr.match("a coke").interpretation == {"drink": "COKE", "last": "COKE", "price": "$5"}
