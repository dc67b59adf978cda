"""SRGS XML form: parsing into the model, structure errors, external references."""
from __future__ import annotations

import pytest
from lxml import etree

from voicexml.grammar import GrammarError, parse_grammar

SRGS = 'xmlns="http://www.w3.org/2001/06/grammar" version="1.0"'


def xml(body: str, **attrs: str) -> str:
    extra = " ".join(f'{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f"<grammar {SRGS} {extra}>{body}</grammar>"


def test_root_mode_lang_and_tag_format_are_read() -> None:
    g = parse_grammar(xml('<rule id="a"><item>x</item></rule><rule id="b" scope="public">y</rule>',
                          root="b", mode="voice", tag_format="semantics/1.0") .replace(
        "<grammar ", '<grammar xml:lang="en-US" '))
    assert (g.root, g.mode, g.lang, g.tag_format) == ("b", "voice", "en-US", "semantics/1.0")
    assert g.rules["b"].scope == "public" and g.rules["a"].scope == "private"
    assert g.match("y") is not None and g.match("x") is None


def test_inline_vxml_element_without_srgs_namespace() -> None:
    doc = etree.fromstring(
        '<vxml xmlns="http://www.w3.org/2001/vxml"><form><field name="f">'
        '<grammar type="application/srgs+xml" root="CityName" version="1.0"><rule id="CityName" scope="public">'
        "<one-of><item>san francisco</item><item>chicago<tag>'alpha'</tag></item></one-of>"
        "</rule></grammar></field></form></vxml>")
    g = parse_grammar(doc.find(".//{http://www.w3.org/2001/vxml}grammar"))
    assert g.match("San Francisco").interpretation == "san francisco"
    assert g.match("chicago").interpretation == "alpha"


def test_no_root_attribute_uses_first_rule_and_root_override() -> None:
    text = xml('<rule id="a">apple</rule><rule id="b">banana</rule>')
    assert parse_grammar(text).match("apple") is not None
    assert parse_grammar(text, root="b").match("banana") is not None
    with pytest.raises(GrammarError) as e:
        parse_grammar(text, root="nope")
    assert e.value.code == "undefined_rule"


def test_quoted_and_token_elements_are_multiword_tokens() -> None:
    g = parse_grammar(xml('<rule id="r">"New York" <token>Los Angeles</token> city</rule>', root="r"))
    assert g.match("new york los angeles city") is not None
    assert g.match("new york city") is None


def test_comments_metadata_example_and_lexicon_are_ignored() -> None:
    g = parse_grammar(xml('<meta name="a" content="b"/><metadata><x/></metadata><lexicon uri="l.pls"/>'
                          '<rule id="r"><example>hi</example><!-- c -->hello</rule>', root="r"))
    assert g.match("hello").utterance == "hello"


@pytest.mark.parametrize("body, code", [
    ('<rule id="r"><foo/></rule>', "invalid"),
    ('<rule id="r"><one-of>x<item>y</item></one-of></rule>', "invalid"),
    ('<rule id="r"><one-of></one-of></rule>', "invalid"),
    ('<rule id="r"><item repeat="x">a</item></rule>', "invalid"),
    ('<rule id="r"><item repeat="5-2">a</item></rule>', "invalid"),
    ('<rule id="r"><one-of><item weight="-1">a</item></one-of></rule>', "invalid"),
    ('<rule id="r"><item repeat="0-1" repeat-prob="1.5">a</item></rule>', "invalid"),
    ('<rule id="r"><ruleref/></rule>', "invalid"),
    ('<rule id="r"><ruleref special="NOTHING"/></rule>', "invalid"),
    ('<rule id="r"><ruleref uri="#missing"/></rule>', "undefined_rule"),
    ('<rule id="r">a</rule><rule id="r">b</rule>', "invalid"),
    ('<rule>a</rule>', "invalid"),
    ('<rule id="r" scope="global">a</rule>', "invalid"),
    ('stray text<rule id="r">a</rule>', "invalid"),
    ('', "invalid"),
    ('<rule id="r"><ruleref uri="#r"/> a</rule>', "left_recursion"),
    ('<rule id="r"><item repeat="0-1">x</item><ruleref uri="#s"/></rule><rule id="s"><ruleref uri="#r"/></rule>',
     "left_recursion"),
])
def test_malformed_grammars_raise_grammar_error(body: str, code: str) -> None:
    with pytest.raises(GrammarError) as e:
        parse_grammar(xml(body, root="r"))
    assert e.value.code == code
    assert str(e.value)


def test_not_well_formed_and_wrong_document_element() -> None:
    with pytest.raises(GrammarError) as e:
        parse_grammar("<grammar><rule id='a'>x</grammar>")
    assert e.value.code == "syntax"
    with pytest.raises(GrammarError):
        parse_grammar("<vxml/>")
    with pytest.raises(GrammarError):
        parse_grammar("hello world")
    with pytest.raises(GrammarError):
        parse_grammar(xml('<rule id="r">a</rule>', mode="video"))


def test_dtmf_grammar_rejects_words() -> None:
    with pytest.raises(GrammarError):
        parse_grammar(xml('<rule id="r">hello</rule>', root="r", mode="dtmf"))


def test_external_rulerefs_are_fetched_relative_to_base_uri() -> None:
    files = {
        "http://x.test/g/cities.grxml": xml('<rule id="city" scope="public"><one-of><item>paris</item>'
                                            '<item>rome</item></one-of></rule>'
                                            '<rule id="hidden">x</rule>', root="city").encode(),
        "http://x.test/g/hello.grxml": xml('<rule id="hi" scope="public">hello</rule>', root="hi").encode(),
    }
    fetched: list[str] = []

    def fetch(uri: str) -> bytes:
        fetched.append(uri)
        return files[uri]

    g = parse_grammar(xml('<rule id="r"><ruleref uri="hello.grxml"/> <ruleref uri="cities.grxml#city"/>'
                          '</rule>', root="r"), base_uri="http://x.test/g/main.grxml", fetch=fetch)
    assert g.match("hello rome") is not None
    assert sorted(fetched) == sorted(files)
    with pytest.raises(GrammarError) as e:
        parse_grammar(xml('<rule id="r"><ruleref uri="cities.grxml#hidden"/></rule>', root="r"),
                      base_uri="http://x.test/g/main.grxml", fetch=fetch)
    assert e.value.code == "private_rule"


def test_fetch_failures_and_missing_fetch_are_fetch_errors() -> None:
    body = xml('<rule id="r"><ruleref uri="other.grxml#x"/></rule>', root="r")
    with pytest.raises(GrammarError) as e:
        parse_grammar(body, base_uri="file:///g/main.grxml")
    assert e.value.code == "fetch"

    def broken(uri: str) -> bytes:
        raise OSError("connection refused")

    with pytest.raises(GrammarError) as e:
        parse_grammar(body, base_uri="file:///g/main.grxml", fetch=broken)
    assert e.value.code == "fetch" and "other.grxml" in str(e.value)


def test_mutually_recursive_external_grammars_load_once() -> None:
    a = xml('<rule id="a" scope="public">x <item repeat="0-1"><ruleref uri="b.grxml#b"/></item></rule>', root="a")
    b = xml('<rule id="b" scope="public">y <ruleref uri="a.grxml#a"/></rule>', root="b")
    files = {"file:///g/a.grxml": a.encode(), "file:///g/b.grxml": b.encode()}
    calls: list[str] = []

    def fetch(uri: str) -> bytes:
        calls.append(uri)
        return files[uri]

    g = parse_grammar(a, base_uri="file:///g/a.grxml", fetch=fetch)
    assert g.match("x y x y x") is not None
    assert calls == ["file:///g/b.grxml"]


def test_deep_nesting_is_a_clear_error() -> None:
    deep = xml('<rule id="r">' + "<item>" * 5000 + "a" + "</item>" * 5000 + "</rule>", root="r")
    with pytest.raises(GrammarError):
        parse_grammar(deep)
    ok = xml('<rule id="r">' + '<item repeat="0-1">' * 200 + "a" + "</item>" * 200 + "</rule>", root="r")
    assert parse_grammar(ok).match("a") is not None


def test_encodings_of_bytes_and_of_decoded_text() -> None:
    body = '<grammar xmlns="http://www.w3.org/2001/06/grammar" root="r"><rule id="r">café</rule></grammar>'
    latin = ('<?xml version="1.0" encoding="ISO-8859-1"?>' + body).encode("iso-8859-1")
    assert parse_grammar(latin).match("Café") is not None
    assert parse_grammar(latin.decode("iso-8859-1")).match("café") is not None
