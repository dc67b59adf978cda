"""Speed of voicexml.grammar: parse, match (with and without SISR tags), builtins, hostile input.

Run from the project root: python3 bench/grammar.py
Targets (per core): a menu-sized grammar matches >= 5,000 utterances/s without tags and >= 1,000/s with
SISR tags; a 100-word hostile input finishes (match or give-up) in < 0.5 s; a 20,000-entry tagged
name-dialer grammar parses and compiles in < 1 s, and so does a 3,000-rule ruleref chain.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voicexml.grammar import GrammarSettings, builtin_grammar, parse_grammar

MENU_XML = """<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" root="main" xml:lang="en-US"
  tag-format="semantics/1.0">
  <rule id="main" scope="public">
    <item repeat="0-1"><one-of><item>I want</item><item>I would like</item><item>give me</item>
      <item>connect me to</item></one-of></item>
    <item repeat="0-1">the</item>
    <ruleref uri="#dept"/><tag>out.dept = rules.dept;</tag>
    <item repeat="0-1"><one-of><item>department</item><item>team</item></one-of></item>
    <item repeat="0-1">please</item>
  </rule>
  <rule id="dept">
    <one-of>
      <item>billing<tag>out = "billing"</tag></item>
      <item>sales<tag>out = "sales"</tag></item>
      <item>technical support<tag>out = "support"</tag></item>
      <item>support<tag>out = "support"</tag></item>
      <item>an operator<tag>out = "operator"</tag></item>
      <item>operator<tag>out = "operator"</tag></item>
      <item>accounts<tag>out = "billing"</tag></item>
      <item>returns<tag>out = "returns"</tag></item>
    </one-of>
  </rule>
</grammar>"""
UTTERANCES = ["billing", "I want the billing department please", "connect me to technical support",
              "give me an operator", "sales team", "returns please", "I would like accounts", "pizza"]


def rate(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def name_dialer(n: int) -> str:
    """An SRGS XML grammar of n "first last" entries, each tagged with its id."""
    items = "".join(f"<item>name{i} surname{i}<tag>out='{i}'</tag></item>" for i in range(n))
    return ('<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" root="r" '
            f'tag-format="semantics/1.0"><rule id="r"><one-of>{items}</one-of></rule></grammar>')


def ruleref_chain(depth: int) -> str:
    """An ABNF grammar whose rule i starts with a reference to rule i + 1."""
    rules = " ".join(f"$r{i} = $r{i + 1} w{i};" for i in range(depth))
    return f"#ABNF 1.0; root $r0; {rules} $r{depth} = end;"


def main() -> None:
    tagged = parse_grammar(MENU_XML)
    plain = parse_grammar(MENU_XML.replace('tag-format="semantics/1.0"', "").replace("<tag>", "<!--").replace(
        "</tag>", "-->"))
    assert tagged.match("I want the billing department please").interpretation == {"dept": "billing"}
    assert not plain.has_tags
    parse_rate = rate(lambda i: parse_grammar(MENU_XML), 300)
    plain_rate = rate(lambda i: plain.match(UTTERANCES[i % len(UTTERANCES)]), 5000)
    tagged_rate = rate(lambda i: tagged.match(UTTERANCES[i % len(UTTERANCES)]), 2000)
    digits = builtin_grammar("digits?minlength=4", "dtmf")
    number = builtin_grammar("number", "voice")
    digits_rate = rate(lambda i: digits.match("12345678#"[: 4 + i % 5]), 5000)
    number_rate = rate(lambda i: number.match("two million forty thousand and six"), 5000)
    hostile = parse_grammar(
        "#ABNF 1.0; $r = ((a | a a | $r2) <0->) b; $r2 = (a | a a) <1->;", settings=GrammarSettings())
    start = time.perf_counter()
    hostile.match(" ".join(["a"] * 100) + " c")
    hostile_s = time.perf_counter() - start

    dialer_s = timed(lambda: parse_grammar(name_dialer(20_000)))
    big_s = timed(lambda: parse_grammar(name_dialer(50_000)))
    chain_s = timed(lambda: parse_grammar(ruleref_chain(3_000)))

    print(f"parse menu grammar (XML, 8 alternatives):      {parse_rate:9.0f} /s")
    print(f"match menu, no tags:                          {plain_rate:9.0f} utterances/s  (target >= 5000)")
    print(f"match menu, SISR tags:                        {tagged_rate:9.0f} utterances/s  (target >= 1000)")
    print(f"builtin digits (dtmf):                        {digits_rate:9.0f} /s")
    print(f"builtin number (voice, 6 words):              {number_rate:9.0f} /s")
    print(f"hostile grammar, 101 tokens:                  {hostile_s * 1000:9.1f} ms  (target < 500)")
    print(f"compile name dialer, 20,000 tagged entries:   {dialer_s * 1000:9.1f} ms  (target < 1000)")
    print(f"compile one-of, 50,000 tagged entries:        {big_s * 1000:9.1f} ms")
    print(f"compile ruleref chain, 3,000 rules:           {chain_s * 1000:9.1f} ms  (target < 1000)")
    ok = plain_rate >= 5000 and tagged_rate >= 1000 and hostile_s < 0.5 and dialer_s < 1 and chain_s < 1
    print("targets met" if ok else "TARGETS MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
