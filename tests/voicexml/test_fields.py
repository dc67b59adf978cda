"""Fields: builtin types, options, inline grammars, shadow variables, lastresult$, filled, mixed initiative."""
from __future__ import annotations

from tests.voicexml.talk import NOINPUT, NOMATCH, converse, dtmf, said, voice, write


def test_builtin_digits_and_boolean(tmp_path):
    body = """
    <form>
      <field name="pin" type="digits?length=4"><prompt>Your PIN?</prompt></field>
      <field name="ok" type="boolean"><prompt>Is <value expr="pin"/> right?</prompt></field>
      <block><exit namelist="pin ok"/></block>
    </form>
    """
    events, outcome, _ = converse(write(tmp_path, "f.vxml", body), dtmf("123"), dtmf("1234#"), voice("yes"))
    assert said(events) == ["Your PIN?", "Your PIN?", "Is 1234 right?"]  # 3 digits: nomatch, default reprompt
    assert outcome.namelist == {"pin": "1234", "ok": True}
    listens = [e for e in events if e["event"] == "listen"]
    assert listens[0]["modes"] == ["voice", "dtmf"] and listens[0]["timeout_ms"] == 5000


def test_options_shadow_variables_and_lastresult(tmp_path):
    body = """
    <form>
      <field name="drink">
        <prompt>Coffee or tea?</prompt>
        <option dtmf="1" value="c">coffee</option>
        <option dtmf="2" value="t">tea</option>
        <filled>
          <prompt><value expr="drink"/> <value expr="drink$.utterance"/> <value expr="drink$.inputmode"/>
            <value expr="application.lastresult$[0].utterance"/> <value expr="application.lastresult$.interpretation"/>
          </prompt>
        </filled>
      </field>
    </form>
    """
    events, outcome, _ = converse(write(tmp_path, "f.vxml", body), voice("tea"))
    assert said(events)[-1] == "t tea voice tea t"
    assert outcome.status == "exit"


def test_inline_grammar_with_semantics_fills_slots(tmp_path):
    body = """
    <form id="trip">
      <grammar root="r" xmlns="http://www.w3.org/2001/06/grammar" tag-format="semantics/1.0">
        <rule id="r" scope="public">from <ruleref uri="#city"/><tag>out.from = rules.city;</tag>
          to <ruleref uri="#city"/><tag>out.to = rules.latest();</tag></rule>
        <rule id="city"><one-of><item>paris</item><item>rome</item></one-of></rule>
      </grammar>
      <initial name="start"><prompt>Where to?</prompt></initial>
      <field name="from"><prompt>From where?</prompt></field>
      <field name="to"><prompt>To where?</prompt></field>
      <filled mode="all"><prompt>from <value expr="from"/> to <value expr="to"/></prompt></filled>
    </form>
    """
    events, _outcome, _ = converse(write(tmp_path, "f.vxml", body), voice("from paris to rome"))
    assert said(events) == ["Where to?", "from paris to rome"]


def test_filled_modes_and_namelist(tmp_path):
    body = """
    <form>
      <field name="a" type="digits"><prompt>a</prompt></field>
      <field name="b" type="digits"><prompt>b</prompt></field>
      <filled mode="any" namelist="a"><prompt>any a</prompt></filled>
      <filled><prompt>all <value expr="a + b"/></prompt></filled>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "f.vxml", body), dtmf("1"), dtmf("2"))
    assert said(events) == ["a", "any a", "b", "all 12"]


def test_prompt_counter_and_timeout(tmp_path):
    body = """
    <form>
      <field name="n" type="number">
        <prompt count="1" timeout="2s">first</prompt>
        <prompt count="2">second</prompt>
        <catch event="noinput"><reprompt/></catch>
      </field>
    </form>
    """
    events, _outcome, _ = converse(write(tmp_path, "f.vxml", body), NOINPUT, NOINPUT, voice("forty two"))
    assert said(events) == ["first", "second", "second"]
    assert [e["timeout_ms"] for e in events if e["event"] == "listen"] == [2000, 5000, 5000]


def test_properties_inputmodes_and_termchar(tmp_path):
    body = """
    <property name="inputmodes" value="dtmf"/>
    <form>
      <property name="termchar" value="*"/>
      <field name="n" type="digits"><prompt>n</prompt><filled><exit namelist="n"/></filled></field>
    </form>
    """
    events, outcome, _ = converse(write(tmp_path, "f.vxml", body), voice("five"), dtmf("55*"))
    assert events[1]["modes"] == ["dtmf"]
    assert outcome.namelist == {"n": "55"}


def test_external_grammar_with_rule_fragment_and_unsupported_format(tmp_path):
    (tmp_path / "g.grxml").write_text(
        '<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" root="a">'
        '<rule id="a"><item>alpha</item></rule>'
        '<rule id="b" scope="public"><one-of><item>red</item><item>green</item></one-of></rule></grammar>')
    body = """
    <form>
      <field name="color"><grammar src="g.grxml#b"/><prompt>color?</prompt></field>
      <field name="other"><grammar type="application/x-gsl" src="g.gsl"/><prompt>other?</prompt>
        <catch event="error.unsupported.format"><exit expr="color"/></catch></field>
    </form>
    """
    _events, outcome, _ = converse(write(tmp_path, "f.vxml", body), voice("green"))
    assert outcome.value == "green"


def test_a_document_scoped_form_grammar_takes_the_input_into_its_form(tmp_path):
    body = """
    <form id="main">
      <field name="x" type="boolean"><prompt>main question</prompt></field>
    </form>
    <form id="weather" scope="document">
      <grammar root="w" xmlns="http://www.w3.org/2001/06/grammar" tag-format="semantics/1.0">
        <rule id="w">weather in <one-of><item>paris</item><item>rome</item></one-of>
          <tag>out.city = meta.current().text.split(' ').pop();</tag></rule></grammar>
      <field name="city"><prompt>which city?</prompt></field>
      <filled><prompt>weather for <value expr="city"/></prompt><exit/></filled>
    </form>
    """
    events, _outcome, _ = converse(write(tmp_path, "d.vxml", body), voice("weather in rome"))
    assert said(events) == ["main question", "weather for rome"]


def test_recordutterance_keeps_the_utterance(tmp_path):
    body = """
    <property name="recordutterance" value="true"/>
    <form><field name="ok" type="boolean"><prompt>ok?</prompt>
      <filled><prompt><value expr="ok$.recording"/> <value expr="application.lastresult$.recordingsize"/></prompt>
      </filled></field></form>
    """
    events, _, _ = converse(write(tmp_path, "r.vxml", body), voice("yes please"))
    assert said(events)[-1] == "yes please 10"


def test_filled_inside_an_input_item_may_not_have_mode_or_namelist(tmp_path):
    # VoiceXML 2.0 2.4: in an input item, <filled mode> or <filled namelist> is error.badfetch.
    for attrs in ('mode="any"', 'namelist="f"'):
        write(tmp_path, "bad.vxml", f"""
        <form>
          <field name="f"><grammar mode="dtmf" root="r"><rule id="r">1</rule></grammar><prompt>key</prompt>
            <filled {attrs}><prompt>filled ran</prompt></filled>
          </field>
        </form>
        """)
        entry = write(tmp_path, "entry.vxml", """
        <form>
          <block><goto next="bad.vxml"/></block>
          <catch event="error.badfetch"><prompt>refused</prompt><exit/></catch>
        </form>
        """)
        events, _, _ = converse(entry, dtmf("1"))
        assert said(events) == ["refused"], attrs


def test_an_approximate_option_is_chosen_by_some_of_its_words(tmp_path):
    # VoiceXML 2.0 2.3.1.3: <option accept="approximate"> may be said in part; the default is the exact phrase.
    path = write(tmp_path, "f.vxml", """
    <form>
      <field name="acct">
        <prompt>Which account?</prompt>
        <option accept="approximate" value="chk">personal checking account</option>
        <option value="sav">savings account</option>
        <nomatch><prompt>no</prompt><exit/></nomatch>
        <filled><prompt><value expr="acct"/></prompt></filled>
      </field>
    </form>
    """)
    assert said(converse(path, voice("checking"))[0])[-1] == "chk"
    assert said(converse(path, voice("savings"))[0])[-1] == "no"


def test_hotword_bargein_ignores_input_that_matches_nothing(tmp_path):
    # VoiceXML 2.0 4.1.5.1: with bargeintype "hotword", input matching no grammar is ignored: never a nomatch.
    body = """
    <form>
      <property name="bargeintype" value="hotword"/>
      <field name="f">
        <prompt>say the word</prompt>
        <grammar root="r"><rule id="r">operator</rule></grammar>
        <nomatch><prompt>nomatch</prompt><exit/></nomatch>
        <filled><prompt>got <value expr="f"/></prompt></filled>
      </field>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "h.vxml", body), voice("what is this"), NOMATCH, voice("operator"))
    assert said(events) == ["say the word", "got operator"]
    assert [e["event"] for e in events].count("listen") == 3
    speech = write(tmp_path, "s.vxml", body.replace("hotword", "speech"))
    assert said(converse(speech, voice("what is this"))[0]) == ["say the word", "nomatch"]


def test_input_in_a_disabled_mode_is_not_heard(tmp_path):
    # VoiceXML 2.0 6.3.6: with inputmodes "dtmf" the voice modality is off, so speech is not recognised at all
    # (voice grammars stay active but cannot match): the caller was not heard, a noinput.
    body = """
    <property name="inputmodes" value="dtmf"/>
    <form>
      <field name="city">
        <grammar root="r"><rule id="r">chicago</rule></grammar>
        <grammar mode="dtmf" root="k"><rule id="k">1</rule></grammar>
        <prompt>city</prompt>
        <noinput><prompt>noinput <value expr="typeof _message"/></prompt><exit/></noinput>
        <nomatch><prompt>nomatch</prompt><exit/></nomatch>
      </field>
    </form>
    """
    assert said(converse(write(tmp_path, "f.vxml", body), voice("chicago"))[0]) == ["city", "noinput undefined"]
    keys = write(tmp_path, "k.vxml", body.replace('value="dtmf"', 'value="voice"'))
    assert said(converse(keys, dtmf("1"))[0]) == ["city", "noinput undefined"]


def test_a_hotword_prompt_makes_its_listen_ignore_unmatched_input(tmp_path):
    # 4.1.5.1: <prompt bargeintype="hotword">; as with timeout, the last prompt queued decides for the listen.
    body = """
    <form>
      <field name="f">
        <prompt bargeintype="hotword">say the word</prompt>
        <grammar root="r"><rule id="r">operator</rule></grammar>
        <nomatch><prompt>nomatch</prompt><reprompt/></nomatch>
        <filled><prompt>got <value expr="f"/></prompt></filled>
      </field>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "h.vxml", body), voice("what is this"), voice("operator"))
    assert said(events) == ["say the word", "got operator"]
    plain = write(tmp_path, "p.vxml", body.replace(' bargeintype="hotword"', ""))
    assert said(converse(plain, voice("what is this"), voice("operator"))[0]) == \
        ["say the word", "nomatch", "say the word", "got operator"]
