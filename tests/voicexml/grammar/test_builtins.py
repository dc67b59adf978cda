"""Builtin grammars (VoiceXML 2.0 Appendix P) in both modes."""
from __future__ import annotations

import pytest

from voicexml.grammar import GrammarError, builtin_grammar, parse_grammar


def value(spec: str, mode: str, text: str) -> object:
    m = builtin_grammar(spec, mode).match(text)
    return None if m is None else m.interpretation


@pytest.mark.parametrize("spec, mode, text, expected", [
    ("boolean", "voice", "Yes.", True),
    ("boolean", "voice", "yeah sure", None),
    ("boolean", "voice", "okay", True),
    ("boolean", "voice", "no thank you", False),
    ("boolean", "voice", "maybe", None),
    ("boolean", "dtmf", "1", True),
    ("boolean", "dtmf", "2", False),
    ("boolean", "dtmf", "3", None),
    ("boolean?y=7;n=9", "dtmf", "7", True),
    ("boolean?y=7;n=9", "dtmf", "9", False),
    ("boolean?y=7;n=9", "dtmf", "1", None),
    ("digits", "voice", "four oh one", "401"),
    ("digits", "voice", "double seven three", "773"),
    ("digits", "voice", "1 2 3", "123"),
    ("digits", "voice", "four hundred", None),
    ("digits", "dtmf", "0123", "0123"),
    ("digits", "dtmf", "12#", None),
    ("digits?minlength=3;maxlength=5", "dtmf", "12", None),
    ("digits?minlength=3;maxlength=5", "dtmf", "123", "123"),
    ("digits?minlength=3;maxlength=5", "dtmf", "123456", None),
    ("digits?length=4", "voice", "one two three four", "1234"),
    ("digits?length=4", "voice", "one two three", None),
    ("number", "voice", "twenty five", "25"),
    ("number", "voice", "twenty-five", "25"),
    ("number", "voice", "one hundred and three", "103"),
    ("number", "voice", "a thousand", "1000"),
    ("number", "voice", "nineteen hundred", "1900"),
    ("number", "voice", "two million forty thousand and six", "2040006"),
    ("number", "voice", "minus four", "-4"),
    ("number", "voice", "three point five", "3.5"),
    ("number", "voice", "point two five", "0.25"),
    ("number", "voice", "zero", "0"),
    ("number", "voice", "42", "42"),
    ("number", "voice", "-3.5", "-3.5"),
    ("number", "voice", "twenty twenty", None),
    ("number", "voice", "five point", None),
    ("number", "dtmf", "123", "123"),
    ("number", "dtmf", "12*5", "12.5"),
    ("number", "dtmf", "1*2*3", None),
    ("currency", "voice", "twelve dollars and thirty cents", "USD12.30"),
    ("currency", "voice", "twelve dollars thirty", "USD12.30"),
    ("currency", "voice", "five dollars", "USD5.00"),
    ("currency", "voice", "a buck fifty", "USD1.50"),
    ("currency", "voice", "nine ninety nine", "9.99"),
    ("currency", "voice", "thirty cents", "0.30"),
    ("currency", "voice", "ten euros", "EUR10.00"),
    ("currency", "voice", "$12.30", "USD12.30"),
    ("currency", "voice", "twelve dollars and a hundred cents", None),
    ("currency", "dtmf", "12*30", "12.30"),
    ("currency", "dtmf", "12*3", "12.30"),
    ("currency", "dtmf", "12", "12.00"),
    ("date", "voice", "march third", "????0303"),
    ("date", "voice", "on March 3rd", "????0303"),
    ("date", "voice", "march third two thousand four", "20040303"),
    ("date", "voice", "the twenty first of june nineteen ninety nine", "19990621"),
    ("date", "voice", "the third", "??????03"),
    ("date", "voice", "december twenty oh five", "200512??"),
    ("date", "voice", "february twenty ninth", "????0229"),
    ("date", "voice", "february twenty ninth two thousand three", None),
    ("date", "voice", "february thirtieth", None),
    ("date", "voice", "someday", None),
    ("date", "dtmf", "20040303", "20040303"),
    ("date", "dtmf", "20041303", None),
    ("date", "dtmf", "2004033", None),
    ("time", "voice", "three thirty pm", "0330p"),
    ("time", "voice", "three thirty p.m.", "0330p"),
    ("time", "voice", "three thirty", "0330?"),
    ("time", "voice", "three o'clock", "0300?"),
    ("time", "voice", "three oh five a m", "0305a"),
    ("time", "voice", "fifteen hundred", "1500h"),
    ("time", "voice", "fifteen thirty", "1530h"),
    ("time", "voice", "noon", "1200p"),
    ("time", "voice", "midnight", "1200a"),
    ("time", "voice", "quarter to four", "0345?"),
    ("time", "voice", "half past seven in the evening", "0730p"),
    ("time", "voice", "10:45", "1045?"),
    ("time", "voice", "three sixty", None),
    ("time", "voice", "fifteen thirty pm", None),
    ("time", "dtmf", "1530", "1530h"),
    ("time", "dtmf", "0930", "0930?"),
    ("time", "dtmf", "2460", None),
    ("phone", "voice", "eight oh oh five five five one two one two", "8005551212"),
    ("phone", "voice", "eight oh oh five five five one two one two extension four two", "8005551212x42"),
    ("phone", "voice", "hello", None),
    ("phone", "dtmf", "8005551212", "8005551212"),
    ("phone", "dtmf", "8005551212*42", "8005551212x42"),
    ("phone", "dtmf", "12#", None),
])
def test_builtin_values(spec: str, mode: str, text: str, expected: object) -> None:
    assert value(spec, mode, text) == expected


def test_builtin_uris_name_their_mode() -> None:
    g = builtin_grammar("builtin:dtmf/digits?minlength=2", "voice")
    assert g.mode == "dtmf" and g.match("12").interpretation == "12"
    v = builtin_grammar("builtin:grammar/boolean", "dtmf")
    assert v.mode == "voice" and v.match("yes").interpretation is True


def test_dtmf_utterance_has_no_spaces() -> None:
    m = builtin_grammar("digits", "dtmf").match("1 2 3")
    assert m.utterance == "123" and m.interpretation == "123"


@pytest.mark.parametrize("spec", ["colour", "builtin:fax/digits", "digits?minlength=x", "digits?minlength",
                                  "boolean?y=hello"])
def test_bad_builtin_specs(spec: str) -> None:
    with pytest.raises(GrammarError):
        builtin_grammar(spec, "dtmf")


def test_a_grammar_can_reference_a_builtin() -> None:
    g = parse_grammar('<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" root="r" mode="dtmf">'
                      '<rule id="r"><ruleref uri="builtin:dtmf/digits"/> #</rule></grammar>')
    assert g.match("123#").utterance == "123#"
