"""SRGS ABNF form."""
from __future__ import annotations

import pytest
from lxml import etree

from voicexml.grammar import GrammarError, parse_grammar

HEADER = "#ABNF 1.0 UTF-8;\n"


def test_declarations_and_rules() -> None:
    g = parse_grammar(HEADER + """
        language en-US;   // a comment
        mode voice;
        root $order;
        tag-format <semantics/1.0>;
        meta "author" is "someone";
        /* a block
           comment */
        public $order = [I would like] $count $drink [please] {out.n = rules.count; out.drink = rules.drink};
        private $count = one {out = 1} | two {out = 2} | a {out = 1};
        $drink = coffee | tea | "hot chocolate";
    """)
    assert (g.root, g.mode, g.lang, g.tag_format) == ("order", "voice", "en-US", "semantics/1.0")
    assert g.rules["order"].scope == "public" and g.rules["drink"].scope == "private"
    assert g.match("I would like two hot chocolate please").interpretation == {"n": 2, "drink": "hot chocolate"}
    assert g.match("a tea").interpretation == {"n": 1, "drink": "tea"}
    assert g.match("three tea") is None


def test_weights_repeats_and_optional() -> None:
    g = parse_grammar(HEADER + "root $r; tag-format <semantics/1.0-literals>;"
                      "$r = /1/ new york {state} | /3/ new york {city} | ding <2-3> | dong <2-> | [maybe] yes;")
    assert g.match("new york").interpretation == "city"
    assert g.match("ding ding") is not None and g.match("ding ding ding ding") is None
    assert g.match("dong dong dong dong dong") is not None and g.match("dong") is None
    assert g.match("yes") is not None and g.match("maybe yes") is not None


def test_repeat_with_probability_and_groups() -> None:
    g = parse_grammar(HEADER + "$r = (a | b) <1-3 /0.8/> c;")
    assert g.match("a b a c") is not None
    assert g.match("a b a b c") is None


def test_specials_and_external_references() -> None:
    other = (HEADER + "public $city = paris | rome; public $hi = hello;").encode()

    def fetch(uri: str) -> bytes:
        assert uri == "http://h.test/other.gram"
        return other

    g = parse_grammar(HEADER + "$r = $<other.gram#hi> $NULL $GARBAGE $<other.gram#city>; $v = $VOID;",
                      base_uri="http://h.test/main.gram", fetch=fetch)
    assert g.match("hello uh rome") is not None
    with pytest.raises(GrammarError):
        parse_grammar(HEADER + "$r = $<other.gram>;", base_uri="http://h.test/main.gram", fetch=fetch)


def test_tags_with_braces_and_the_bang_brace_form() -> None:
    g = parse_grammar(HEADER + "tag-format <semantics/1.0>;"
                      "$r = a {out = {x: '}'}} | b {!{ out = {y: 1} }!};")
    assert g.match("a").interpretation == {"x": "}"}
    assert g.match("b").interpretation == {"y": 1}


def test_dtmf_mode() -> None:
    g = parse_grammar(HEADER + "mode dtmf; root $pin; $pin = (1 | 2 | 3) <4> #;")
    assert g.match("1231#") is not None and g.match("123#") is None


def test_language_attachments_are_accepted() -> None:
    g = parse_grammar(HEADER + "$r = bonjour!fr-CA (yes | no)!en-US;")
    assert g.match("bonjour yes") is not None


def test_inline_abnf_in_a_vxml_grammar_element() -> None:
    el = etree.fromstring('<grammar xmlns="http://www.w3.org/2001/vxml" type="application/srgs" mode="dtmf"'
                          ' root="x">#ABNF 1.0; $x = 1 | 2;</grammar>')
    g = parse_grammar(el)
    assert g.mode == "dtmf" and g.match("2") is not None


def test_media_type_selects_the_form() -> None:
    assert parse_grammar(HEADER + "$r = hi;", media_type="application/srgs").match("hi")
    with pytest.raises(GrammarError):
        parse_grammar(HEADER + "$r = hi;", media_type="application/srgs+xml")


@pytest.mark.parametrize("text", [
    "$r = a;",                             # no header
    HEADER + "$r = a",                     # no ';'
    HEADER + "$r = (a | b;",               # unclosed group
    HEADER + "$r = [a;",                   # unclosed optional
    HEADER + "$r = a | ;",                 # empty alternative
    HEADER + "$r = a <3-1>;",              # bad repeat
    HEADER + "$r = a <x>;",                # bad repeat
    HEADER + "$r = {out=1;",               # unterminated tag
    HEADER + "$r = a; $r = b;",            # duplicate
    HEADER + "$r = a; mode voice;",        # declaration after rules
    HEADER + "mode video; $r = a;",        # bad mode
    HEADER + "colour red; $r = a;",        # unknown declaration
    HEADER + "$r = $missing;",             # undefined rule
    HEADER + "root $nope; $r = a;",        # undefined root
    HEADER + "/* never closed $r = a;",    # unterminated comment
    HEADER + "mode dtmf; $r = hello;",     # words in a dtmf grammar
    HEADER + "$r = $r a;",                 # left recursion
    HEADER,                                # no rules
])
def test_malformed_abnf_raises_grammar_error(text: str) -> None:
    with pytest.raises(GrammarError) as e:
        parse_grammar(text)
    assert str(e.value)


def test_syntax_errors_say_where() -> None:
    with pytest.raises(GrammarError) as e:
        parse_grammar(HEADER + "$r = a\n  | (b;")
    assert e.value.code == "syntax" and "line 3" in str(e.value)


def test_deep_nesting_is_a_clear_error() -> None:
    with pytest.raises(GrammarError) as e:
        parse_grammar(HEADER + "$r = " + "(" * 5000 + "a" + ")" * 5000 + ";")
    assert "nested" in str(e.value)
    assert parse_grammar(HEADER + "$r = " + "(" * 150 + "a" + ")" * 150 + ";").match("a")


def test_quoted_tokens_may_escape_quotes_and_backslashes() -> None:
    g = parse_grammar(HEADER + r'$r = "the \"best\" one" "a\\b";')
    assert g.match('the "best" one a\\b') is not None
