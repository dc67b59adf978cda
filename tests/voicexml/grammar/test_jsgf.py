"""SRGS to JSGF, checked against a real pocketsphinx 5 decoder (and flite speech)."""
from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import pytest
from pocketsphinx import Decoder

from voicexml.grammar import GrammarError, builtin_grammar, parse_grammar, srgs_to_jsgf, srgs_words

MENU = """#ABNF 1.0; root $main; tag-format <semantics/1.0>;
public $main = [I want | give me] ($dept {out = rules.dept} | operator {out = "op"}) [please];
$dept = /2/ billing | sales | technical support | $GARBAGE billing;
$unused = never spoken;
"""


@pytest.fixture(scope="module")
def decoder() -> Decoder:
    return Decoder(logfn="/dev/null")


def load(decoder: Decoder, name: str, jsgf: str) -> None:
    decoder.add_jsgf_string(name, jsgf)  # raises ValueError when pocketsphinx rejects the grammar
    decoder.activate_search(name)


def test_structure_of_the_jsgf() -> None:
    jsgf = srgs_to_jsgf(parse_grammar(MENU))
    assert jsgf.startswith("#JSGF V1.0;")
    assert "public <main> = [ ( i want | give me ) ]" in jsgf
    assert "/2/ billing" in jsgf
    assert "out" not in jsgf and "GARBAGE" not in jsgf
    assert "<unused>" not in jsgf  # only rules reachable from the root


@pytest.mark.parametrize("repeat, expected", [
    ("<0-1>", "[ a ]"),
    ("<3>", "( a ) ( a ) ( a )"),
    ("<2-4>", "( a ) ( a ) [ a [ a ] ]"),
    ("<0->", "( a )*"),
    ("<1->", "( a )+"),
    ("<3->", "( a ) ( a ) ( a )+"),
    ("<0-100>", "( a )*"),
    ("<100000>", "( a )+"),
])
def test_repeats_expand_to_copies_optionals_and_kleene(repeat: str, expected: str) -> None:
    jsgf = srgs_to_jsgf(parse_grammar(f"#ABNF 1.0; $r = start a {repeat} end;"), max_copies=16)
    assert f"<r> = start {expected} end;" in jsgf


def test_rule_names_are_made_safe_and_unique(decoder: Decoder) -> None:
    xml = ('<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" root="main-rule">'
           '<rule id="main-rule"><ruleref uri="#a-b"/> <ruleref uri="#a_b"/> <ruleref uri="other.grxml#a-b"/></rule>'
           '<rule id="a-b">hello</rule><rule id="a_b">world</rule></grammar>')
    other = (b'<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" root="a-b">'
             b'<rule id="a-b" scope="public">goodbye</rule></grammar>')
    g = parse_grammar(xml, base_uri="file:///g/main.grxml", fetch=lambda uri: other)
    jsgf = srgs_to_jsgf(g)
    assert "public <main_rule> = <a_b> <a_b_2> <g1_a_b>;" in jsgf
    load(decoder, "names", jsgf)


@pytest.mark.parametrize("source", [
    MENU,
    "#ABNF 1.0; $r = $NULL yes | $VOID no | (one | two) <1-3> [three];",
    "#ABNF 1.0; $r = hello $r2; $r2 = world [$r2];",  # right recursion
])
def test_pocketsphinx_accepts_the_jsgf(decoder: Decoder, source: str) -> None:
    load(decoder, f"g{abs(hash(source))}", srgs_to_jsgf(parse_grammar(source)))


@pytest.mark.parametrize("spec", ["boolean", "digits", "number", "currency", "date", "time", "phone"])
def test_pocketsphinx_accepts_every_builtin(decoder: Decoder, spec: str) -> None:
    g = builtin_grammar(spec, "voice")
    assert all(decoder.lookup_word(w) for w in srgs_words(g)), "builtin vocabulary not in the dictionary"
    load(decoder, f"builtin_{spec}", srgs_to_jsgf(g))


def test_words_outside_the_dictionary_are_what_pocketsphinx_rejects(decoder: Decoder) -> None:
    g = parse_grammar("#ABNF 1.0; $r = zzqxv | hello;")
    assert "zzqxv" in srgs_words(g) and decoder.lookup_word("zzqxv") is None
    with pytest.raises(ValueError):
        load(decoder, "unknown", srgs_to_jsgf(g))


def test_dtmf_grammars_have_no_jsgf() -> None:
    with pytest.raises(GrammarError):
        srgs_to_jsgf(builtin_grammar("digits", "dtmf"))


def test_pocketsphinx_recognises_flite_speech_with_the_grammar(decoder: Decoder, tmp_path: Path) -> None:
    assert shutil.which("flite"), "flite is needed to speak test utterances (scripts/test installs it)"
    grammar = parse_grammar(MENU)
    load(decoder, "menu", srgs_to_jsgf(grammar))
    for said, expected in (("billing", "billing"), ("technical support please", "technical support")):
        wav = tmp_path / "said.wav"
        subprocess.run(["flite", "-voice", "slt", "-t", said, "-o", str(wav)], check=True, timeout=30)
        with wave.open(str(wav)) as w:
            assert w.getframerate() == 16000
            audio = w.readframes(w.getnframes())
        decoder.start_utt()
        decoder.process_raw(audio, full_utt=True)
        decoder.end_utt()
        heard = decoder.hyp().hypstr
        assert heard == said
        assert grammar.match(heard).interpretation == expected


def test_nested_repeats_stay_small(decoder: Decoder) -> None:
    g = parse_grammar("#ABNF 1.0; $r = ((((hello <0-16>) <2-16>) <0-16>) <1-16>) <0-16>;")
    jsgf = srgs_to_jsgf(g)
    assert len(jsgf) < 20_000
    load(decoder, "nested", jsgf)


def test_words_with_jsgf_syntax_characters_are_quoted() -> None:
    jsgf = srgs_to_jsgf(parse_grammar('#ABNF 1.0; $r = "a/b" "x|y" don\'t "back\\\\slash";'))
    assert 'public <r> = "a/b" "x|y" don\'t "back\\\\slash";' in jsgf
