"""Small spec details an independent review found: the last prompt's timeout, undefined `_message`, and
`name$.termchar` of a recording not ended by a key."""
from __future__ import annotations

from tests.voicexml.talk import converse, write

NOINPUT = {"input": "noinput"}


def logs(events):
    return [e["text"] for e in events if e["event"] == "log"]


def test_a_prompt_without_timeout_does_not_inherit_an_earlier_prompts(tmp_path):
    # VoiceXML 2.0 section 4.1.7: each prompt has its own timeout; the last one queued is used
    body = """
    <form><field name="f" type="digits">
      <prompt timeout="2s">one</prompt><prompt>two</prompt>
      <noinput><exit/></noinput>
    </field></form>"""
    events, _, _ = converse(write(tmp_path, "t.vxml", body), NOINPUT)
    assert [e["timeout_ms"] for e in events if e["event"] == "listen"] == [5000]


def test_event_message_is_undefined_without_a_message(tmp_path):
    # section 5.2.2: _message is ECMAScript undefined when the event carries no message
    body = """
    <form><block><throw event="a"/></block>
      <catch event="a"><log>a <value expr="typeof _message"/></log>
        <throw event="b" message="why"/></catch>
      <catch event="b"><log>b <value expr="_message"/></log></catch>
    </form>"""
    events, _, _ = converse(write(tmp_path, "m.vxml", body))
    assert logs(events) == ["a undefined", "b why"]


def test_record_termchar_is_undefined_unless_a_key_ended_it(tmp_path):
    # section 2.3.6: termchar is the key that ended the recording, otherwise undefined
    body = """
    <form><record name="r" dtmfterm="true">
      <filled><log><value expr="typeof r$.termchar"/></log></filled>
    </record></form>"""
    events, _, _ = converse(write(tmp_path, "r.vxml", body), {"input": "voice", "utterance": "hello"})
    assert logs(events) == ["undefined"]


def test_recognizer_properties_reach_the_platform(tmp_path):
    """6.3.2: completetimeout, incompletetimeout, maxspeechtimeout, sensitivity and speedvsaccuracy are the
    recognizer's settings, from the innermost scope that sets them; the listen event carries changed ones."""
    path = write(tmp_path, "p.vxml", """
    <property name="sensitivity" value="0.8"/>
    <form>
      <field name="f" type="digits">
        <property name="completetimeout" value="300ms"/><property name="incompletetimeout" value="2s"/>
        <property name="speedvsaccuracy" value="0.2"/><property name="maxspeechtimeout" value="10s"/>
      </field>
      <field name="g" type="digits"/>
    </form>""")
    events, _, _ = converse(path, {"input": "dtmf", "digits": "1"}, {"input": "dtmf", "digits": "2"})
    listens = [e for e in events if e["event"] == "listen"]
    assert listens[0] == {"event": "listen", "modes": ["voice", "dtmf"], "grammars": 2, "timeout_ms": 5000,
                          "maxspeechtimeout_ms": 10000, "completetimeout_ms": 300, "incompletetimeout_ms": 2000,
                          "sensitivity": 0.8, "speedvsaccuracy": 0.2}
    assert listens[1] == {"event": "listen", "modes": ["voice", "dtmf"], "grammars": 2, "timeout_ms": 5000,
                          "sensitivity": 0.8}
