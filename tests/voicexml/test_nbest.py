"""N-best recognition results: the maxnbest property and application.lastresult$ as an array (VoiceXML 2.0 5.1.5)."""
from __future__ import annotations

from tests.voicexml.talk import converse, said, voice, write
from voicexml import Hypothesis, InputResult, NullPlatform, Session
from voicexml.platform import InputRequest

CITIES = """
<grammar version="1.0" root="city" xmlns="http://www.w3.org/2001/06/grammar" xml:lang="en-US">
  <rule id="city"><one-of>
    <item>austin<tag>out = "AUS"</tag></item>
    <item>boston<tag>out = "BOS"</tag></item>
    <item>houston<tag>out = "HOU"</tag></item>
  </one-of></rule>
</grammar>"""

REPORT = """
<filled>
  <prompt>n=<value expr="application.lastresult$.length"/></prompt>
  <foreach item="r" array="application.lastresult$">
    <prompt><value expr="r.utterance"/>/<value expr="r.interpretation"/>/<value expr="r.confidence"/>/<value expr="r.inputmode"/></prompt>
  </foreach>
  <prompt>first=<value expr="lastresult$.utterance"/> city=<value expr="city"/> shadow=<value expr="city$.confidence"/></prompt>
</filled>"""


def nbest(utterance: str, confidence: float, *others: tuple[str, float]) -> dict:
    """A voice input with n-best alternatives."""
    return {**voice(utterance, confidence), "nbest": [{"utterance": u, "confidence": c} for u, c in others]}


def test_results_ordered_by_confidence_up_to_maxnbest(tmp_path):
    path = write(tmp_path, "a.vxml", f"""
    <property name="maxnbest" value="2"/>
    <form><field name="city">{CITIES}{REPORT}</field></form>""")
    events, outcome, _ = converse(path, nbest("austin", 0.6, ("boston", 0.8), ("houston", 0.7)))
    assert outcome.status == "exit"
    listen = next(e for e in events if e["event"] == "listen")
    assert listen["maxnbest"] == 2
    assert said(events) == ["n=2", "boston/BOS/0.8/voice", "houston/HOU/0.7/voice",
                            "first=boston city=BOS shadow=0.8"]


def test_alternatives_outside_every_grammar_or_below_confidencelevel_are_dropped(tmp_path):
    path = write(tmp_path, "a.vxml", f"""
    <property name="maxnbest" value="5"/>
    <property name="confidencelevel" value="0.3"/>
    <form><field name="city">{CITIES}{REPORT}</field></form>""")
    events, _, _ = converse(path, nbest("austen", 0.9, ("austin", 0.5), ("purple", 0.45), ("houston", 0.2)))
    assert said(events) == ["n=1", "austin/AUS/0.5/voice", "first=austin city=AUS shadow=0.5"]


def test_default_maxnbest_keeps_one_result(tmp_path):
    path = write(tmp_path, "a.vxml", f"<form><field name='city'>{CITIES}{REPORT}</field></form>")
    events, _, _ = converse(path, nbest("houston", 0.7, ("boston", 0.9)))
    assert "maxnbest" not in next(e for e in events if e["event"] == "listen")
    assert said(events) == ["n=1", "boston/BOS/0.9/voice", "first=boston city=BOS shadow=0.9"]


def test_nomatch_keeps_the_heard_utterance(tmp_path):
    path = write(tmp_path, "a.vxml", f"""
    <property name="maxnbest" value="3"/>
    <form><field name="city">{CITIES}
      <nomatch><prompt>heard <value expr="application.lastresult$[0].utterance"/></prompt><exit/></nomatch>
    </field></form>""")
    events, _, _ = converse(path, nbest("purple", 0.9, ("orange", 0.8)))
    assert said(events) == ["heard purple"]


def test_bad_nbest_input_is_a_nomatch_with_a_message(tmp_path):
    path = write(tmp_path, "a.vxml", f"""
    <property name="maxnbest" value="3"/>
    <form><field name="city">{CITIES}<nomatch><prompt>nomatch</prompt><exit/></nomatch></field></form>""")
    for bad in ({**voice("austin"), "nbest": "boston"}, {**voice("austin"), "nbest": [{"utterance": "boston",
                                                                                      "confidence": 7}]},
                {**voice("austin"), "nbest": [42]}):
        events, outcome, err = converse(path, bad)
        assert said(events) == ["nomatch"] and outcome.status == "exit"
        assert "treated as nomatch" in err


def test_malformed_maxnbest_is_badfetch(tmp_path):
    path = write(tmp_path, "a.vxml", f"""
    <property name="maxnbest" value="two"/>
    <catch event="error.badfetch"><prompt><value expr="_message"/></prompt><exit/></catch>
    <form><field name="city">{CITIES}</field></form>""")
    events, _, _ = converse(path)
    assert said(events) == ["the maxnbest property is 'two', not a positive integer"]


def test_platform_alternatives_reach_the_document(tmp_path):
    class Recognizer(NullPlatform):
        def __init__(self) -> None:
            self.prompts: list[str] = []
            self.asked: InputRequest | None = None

        def queue_prompt(self, prompt):
            self.prompts.append(prompt.text)

        def collect(self, request):
            self.asked = request
            return InputResult("voice", "boston", 0.55, alternatives=(Hypothesis("austin", 0.85),
                                                                      Hypothesis("houston", 0.6)))

    path = write(tmp_path, "a.vxml", f"""
    <form><property name="maxnbest" value="3"/><field name="city">{CITIES}{REPORT}</field></form>""")
    platform = Recognizer()
    Session(platform).run(str(path))
    assert platform.asked is not None and platform.asked.maxnbest == 3
    assert platform.prompts == ["n=3", "austin/AUS/0.85/voice", "houston/HOU/0.6/voice", "boston/BOS/0.55/voice",
                                "first=austin city=AUS shadow=0.85"]
