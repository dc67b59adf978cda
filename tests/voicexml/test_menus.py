"""Menus: choices by voice and DTMF, implicit DTMF keys, enumerate, approximate matching, noinput/nomatch."""
from __future__ import annotations

from tests.voicexml.talk import NOINPUT, NOMATCH, converse, dtmf, said, voice, write

MENU = """
<menu id="main" dtmf="true">
  <prompt>Main menu. <enumerate/></prompt>
  <choice next="#billing">billing questions</choice>
  <choice next="#sales">sales</choice>
  <choice event="app.operator" message="wants a person">operator</choice>
  <noinput>Please choose. <reprompt/></noinput>
  <nomatch count="2">Still no match.<exit/></nomatch>
</menu>
<form id="billing"><block>billing form<exit expr="'billing'"/></block></form>
<form id="sales"><block>sales form<exit expr="'sales'"/></block></form>
<catch event="app.operator"><prompt>operator: <value expr="_message"/></prompt><exit/></catch>
"""


def test_implicit_dtmf_keys_and_enumerate(tmp_path):
    events, outcome, _ = converse(write(tmp_path, "m.vxml", MENU), dtmf("2"))
    assert said(events)[0] == "Main menu. For billing questions, press 1. For sales, press 2. For operator, press 3."
    assert said(events)[-1] == "sales form"
    assert outcome.status == "exit" and outcome.value == "sales"


def test_voice_choice_and_event_choice(tmp_path):
    path = write(tmp_path, "m.vxml", MENU)
    events, outcome, _ = converse(path, voice("Billing Questions"))
    assert outcome.value == "billing"
    events, _, _ = converse(path, voice("operator"))
    assert said(events)[-1] == "operator: wants a person"


def test_noinput_reprompts_and_nomatch_counts(tmp_path):
    events, outcome, _ = converse(write(tmp_path, "m.vxml", MENU), NOINPUT, NOMATCH, voice("nothing like it"))
    texts = said(events)
    assert texts[1] == "Please choose." and texts[2].startswith("Main menu.")
    # the first nomatch has no count-1 handler here: the default handler reprompts; the second exits
    assert texts[-1] == "Still no match."
    assert outcome.status == "exit"


def test_approximate_accept_and_enumerate_template(tmp_path):
    body = """
    <menu accept="approximate">
      <prompt><enumerate>Say <value expr="_prompt"/>.</enumerate></prompt>
      <choice next="#a">checking account balance</choice>
      <choice next="#b" dtmf="9">savings</choice>
    </menu>
    <form id="a"><block><exit expr="'a'"/></block></form>
    <form id="b"><block><exit expr="'b'"/></block></form>
    """
    path = write(tmp_path, "m.vxml", body)
    events, outcome, _ = converse(path, voice("account balance"))
    assert said(events)[0] == "Say checking account balance. Say savings."
    assert outcome.value == "a"
    assert converse(path, dtmf("9"))[1].value == "b"


def test_every_voice_grammar_a_menu_listens_with_compiles_to_jsgf(tmp_path):
    from voicexml import InputResult, NullPlatform, Session
    from voicexml.grammar import srgs_to_jsgf

    seen = []

    class Recogniser(NullPlatform):
        def collect(self, request):  # type: ignore[no-untyped-def]
            seen.extend(request.grammars)
            return InputResult("voice", "sales", 0.9)

    outcome = Session(Recogniser()).run(str(write(tmp_path, "m.vxml", MENU)))
    assert outcome.value == "sales"
    voice = [ag.grammar for ag in seen if ag.mode == "voice"]
    assert len(voice) == 3
    assert "billing questions" in srgs_to_jsgf(voice[0].srgs)


def test_bare_text_in_a_menu_is_its_prompt(tmp_path):
    body = """
    <menu dtmf="true">Choose: <enumerate/> now.
      <choice next="#a">apples</choice>
    </menu>
    <form id="a"><block><exit expr="'a'"/></block></form>
    """
    events, outcome, _ = converse(write(tmp_path, "m.vxml", body), dtmf("1"))
    assert said(events) == ["Choose:", "For apples, press 1.", "now."]
    assert outcome.value == "a"


def test_implicit_dtmf_with_a_choice_claiming_its_own_digit_is_badfetch(tmp_path):
    # VoiceXML 2.0 2.2.1: with dtmf="true", a choice's own dtmf other than "*", "#" or "0" is error.badfetch.
    write(tmp_path, "menu.vxml", """
    <menu dtmf="true">
      <prompt><enumerate/></prompt>
      <choice next="#a">alpha</choice>
      <choice next="#a" dtmf="5">beta</choice>
    </menu>
    <form id="a"><block>wrongly entered<exit/></block></form>
    """)
    entry = write(tmp_path, "entry.vxml", """
    <form>
      <block><goto next="menu.vxml"/></block>
      <catch event="error.badfetch"><prompt>refused</prompt><exit/></catch>
    </form>
    """)
    events, outcome, _ = converse(entry, dtmf("1"))
    assert said(events) == ["refused"]
    assert outcome.status == "exit"


def test_implicit_dtmf_keeps_star_pound_and_zero_choices(tmp_path):
    path = write(tmp_path, "menu.vxml", """
    <menu dtmf="true">
      <prompt><enumerate/></prompt>
      <choice next="#a">alpha</choice>
      <choice next="#z" dtmf="0">operator</choice>
      <choice next="#b">beta</choice>
    </menu>
    <form id="a"><block><exit expr="'a'"/></block></form>
    <form id="b"><block><exit expr="'b'"/></block></form>
    <form id="z"><block><exit expr="'z'"/></block></form>
    """)
    events, outcome, _ = converse(path, dtmf("2"))
    assert said(events) == ["For alpha, press 1. For operator, press 0. For beta, press 2."]
    assert outcome.value == "b"
    assert converse(path, dtmf("0"))[1].value == "z"


def test_a_choice_on_the_termchar_key_can_be_chosen(tmp_path):
    # 2.2.1 lets a choice claim "#" (the default termchar): the key alone selects it; alone and unclaimed it is
    # still a noinput, and after other keys it still just ends the input.
    path = write(tmp_path, "menu.vxml", """
    <menu dtmf="true">
      <prompt>menu</prompt>
      <choice next="#a">alpha</choice>
      <choice next="#back" dtmf="#">back</choice>
      <noinput><prompt>silence</prompt><reprompt/></noinput>
    </menu>
    <form id="a"><block><exit expr="'a'"/></block></form>
    <form id="back"><block><exit expr="'back'"/></block></form>
    """)
    assert converse(path, dtmf("#"))[1].value == "back"
    assert converse(path, dtmf("1#"))[1].value == "a"
    field = write(tmp_path, "field.vxml", """
    <form><field name="n" type="digits"><prompt>n</prompt>
      <noinput><prompt>silence</prompt><exit/></noinput></field></form>
    """)
    assert said(converse(field, dtmf("#"))[0]) == ["n", "silence"]
