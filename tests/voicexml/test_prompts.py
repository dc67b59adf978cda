"""Prompts: SSML rendered to text, audio with fallback, bargein, conditional prompts, 2.1 foreach and data."""
from __future__ import annotations

from tests.voicexml.talk import converse, said, write


def test_ssml_rendering(tmp_path):
    body = """
    <form><block>
      <prompt bargein="false">Code <say-as interpret-as="characters">AB12</say-as>.<break time="1s"/>Dial
        <sub alias="World Wide Web Consortium">W3C</sub> <emphasis>now</emphasis>
        <prosody rate="slow"><s>slowly</s></prosody><mark name="m1"/><voice gender="female">bye</voice></prompt>
      <prompt><audio src="hello.wav">Hello <value expr="'caller'"/></audio> <audio expr="undefined">ignored, fallback and all</audio> <audio expr="null">fallback only</audio></prompt>
      <prompt cond="false">never</prompt>
      bare text is a prompt too
    </block></form>
    """
    events, _, _ = converse(write(tmp_path, "p.vxml", body))
    prompts = [e for e in events if e["event"] == "prompt"]
    assert prompts[0]["text"] == "Code A B 1 2. Dial World Wide Web Consortium now slowly bye"
    assert prompts[0]["bargein"] is False
    assert prompts[1]["text"] == "Hello caller fallback only"
    assert prompts[1]["audio"] == [(tmp_path / "hello.wav").as_uri()]
    assert prompts[2]["text"] == "bare text is a prompt too"


def test_foreach_and_data(tmp_path):
    (tmp_path / "accounts.xml").write_text(
        "<accounts><account id='a1' kind='checking'>120</account><account id='a2' kind='savings'>7</account></accounts>")
    body = """
    <form><block>
      <data name="doc" src="accounts.xml"/>
      <var name="list" expr="doc.documentElement.getElementsByTagName('account')"/>
      <var name="kinds" expr="[]"/>
      <foreach item="acct" array="Array.prototype.slice.call(list)">
        <script>kinds.push(acct.getAttribute('kind') + '=' + acct.firstChild.data);</script>
      </foreach>
      <prompt><foreach item="k" array="kinds"><value expr="k"/>, </foreach></prompt>
    </block></form>
    """
    events, _outcome, _ = converse(write(tmp_path, "d.vxml", body))
    assert said(events) == ["checking=120, savings=7,"]


def test_log_and_exit_values(tmp_path):
    body = """
    <form><block><log label="trace">x is <value expr="1 + 2"/></log>
      <var name="a" expr="{b: [1, 'two']}"/><exit namelist="a"/></block></form>
    """
    events, _, _ = converse(write(tmp_path, "l.vxml", body))
    assert events[0] == {"event": "log", "text": "x is 3", "label": "trace"}
    assert events[-1] == {"event": "exit", "expr": None, "namelist": {"a": {"b": [1, "two"]}}}


def test_prompts_carry_well_formed_ssml_for_a_tts_engine(tmp_path):
    from lxml import etree

    from voicexml import NullPlatform, Session

    got = []

    class Tts(NullPlatform):
        def queue_prompt(self, prompt):  # type: ignore[no-untyped-def]
            got.append(prompt)

    body = """
    <form><block><prompt xml:lang="en-GB">Pay <say-as interpret-as="currency">$4.20</say-as><break time="300ms"/>
      <value expr="'now &amp; later'"/> <audio src="a.wav">or <emphasis>never</emphasis></audio></prompt></block></form>
    """
    Session(Tts()).run(str(write(tmp_path, "t.vxml", body)))
    speak = etree.fromstring(got[0].ssml)
    assert speak.tag == "{http://www.w3.org/2001/10/synthesis}speak"
    assert speak.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
    assert [etree.QName(e).localname for e in speak.iter()][1:] == ["say-as", "break", "audio", "emphasis"]
    assert "now & later" in "".join(speak.itertext())


def test_ssml_always_names_its_language(tmp_path):
    """SSML 1.0 3.1.1 requires xml:lang on <speak>: the prompt's, else the document's, else the platform's."""
    from voicexml import NullPlatform, Session, SessionSettings

    got = []

    class Tts(NullPlatform):
        def queue_prompt(self, prompt):  # type: ignore[no-untyped-def]
            got.append(prompt.ssml)

    lang = 'xml:lang="{}"'.format
    path = write(tmp_path, "t.vxml", "<form><block><prompt>hello</prompt></block></form>")
    Session(Tts()).run(str(path))
    Session(Tts(), SessionSettings(lang="de-DE")).run(str(path))
    path.write_text(path.read_text().replace("<vxml ", '<vxml xml:lang="fr-CA" '))
    Session(Tts(), SessionSettings(lang="de-DE")).run(str(path))
    assert [lang("en-US") in got[0], lang("de-DE") in got[1], lang("fr-CA") in got[2]] == [True, True, True]


def test_foreach_evaluates_its_array_once_and_nests(tmp_path):
    body = """
    <var name="calls" expr="0"/>
    <script>function rows() { calls++; return [[1, 2], [3]]; }</script>
    <form><block>
      <foreach item="row" array="rows()">
        <foreach item="n" array="row"><prompt><value expr="n"/></prompt></foreach>
      </foreach>
      <prompt>calls <value expr="calls"/></prompt>
      <foreach item="x" array="'not an array'"/>
    </block>
    <catch event="error.semantic"><prompt>not an array</prompt></catch></form>
    """
    events, _, _ = converse(write(tmp_path, "f.vxml", body))
    assert said(events) == ["1", "2", "3", "calls 1", "not an array"]


def test_data_dom_navigation(tmp_path):
    (tmp_path / "q.xml").write_text('<?xml version="1.0"?><quote ticker="ACME"><price>12.5</price><!-- c --><vol>9</vol></quote>')
    body = """
    <form><block>
      <data name="q" src="q.xml"/>
      <var name="root" expr="q.documentElement"/>
      <prompt><value expr="root.nodeName"/> <value expr="root.getAttribute('ticker')"/>
        <value expr="root.attributes.getNamedItem('ticker').value"/> <value expr="root.hasAttributes()"/>
        <value expr="root.childNodes.length"/> <value expr="root.firstChild.firstChild.nodeValue"/>
        <value expr="root.lastChild.textContent"/> <value expr="q.getElementsByTagName('vol').item(0).nodeType"/>
      </prompt>
    </block></form>
    """
    events, _, _ = converse(write(tmp_path, "d.vxml", body))
    assert said(events) == ["quote ACME ACME true 3 12.5 9 1"]  # price, the comment, vol


def test_mark_sets_the_form_items_markname_and_marktime_shadow_variables(tmp_path):
    # VoiceXML 2.1 section 4: name$.markname/marktime carry the same values as application.lastresult$.
    body = """
    <form>
      <field name="z" type="boolean">
        <prompt>A <mark name="m1"/> B <mark nameexpr="'m' + 2"/> C</prompt>
        <filled><prompt><value expr="application.lastresult$.markname"/> <value expr="z$.markname"/>
          <value expr="z$.marktime"/></prompt></filled>
      </field>
      <record name="r"><prompt>after <mark name="rec"/> the tone</prompt>
        <filled><prompt><value expr="r$.markname"/> <value expr="r$.marktime"/></prompt></filled>
      </record>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "m.vxml", body), {"input": "voice", "utterance": "yes"},
                            {"input": "voice", "utterance": "hello"})
    texts = said(events)
    assert "m2 m2 0" in texts
    assert texts[-1] == "rec 0"


def test_the_platform_says_which_mark_the_caller_barged_in_after(tmp_path):
    body = """
    <form>
      <field name="z" type="boolean">
        <prompt>A <mark name="m1"/> B <mark name="m2"/> C</prompt>
        <filled><prompt><value expr="application.lastresult$.markname"/> <value expr="lastresult$.marktime"/>
          <value expr="z$.markname"/> <value expr="z$.marktime"/></prompt></filled>
      </field>
      <record name="r"><prompt>after <mark name="rec"/> the tone</prompt>
        <filled><prompt><value expr="r$.markname"/> <value expr="r$.marktime"/></prompt></filled>
      </record>
      <field name="again" type="boolean">
        <catch event="nomatch"><prompt>bad mark</prompt><exit/></catch>
      </field>
    </form>
    """
    events, _, err = converse(write(tmp_path, "m.vxml", body),
                              {"input": "voice", "utterance": "yes", "mark": {"name": "m1", "time_ms": 450}},
                              {"input": "voice", "utterance": "hello", "mark": {"name": "rec", "time_ms": 1200}},
                              {"input": "dtmf", "digits": "1", "mark": {"name": 7}})
    assert said(events) == ["A B C", "m1 450 m1 450", "after the tone", "rec 1200", "bad mark"]
    assert "mark must be" in err


def test_data_dom_has_namespaces_comments_and_owner_documents(tmp_path):
    (tmp_path / "n.xml").write_text('<?xml version="1.0"?><a:list xmlns:a="urn:acct" xmlns:x="urn:x" x:v="7">'
                                    '<a:item id="1">one</a:item><?note hi?><!-- c --><item>two</item></a:list>')
    body = """
    <catch><prompt><value expr="_event"/></prompt></catch>
    <form><block>
      <data name="d" src="n.xml"/>
      <var name="r" expr="d.documentElement"/>
      <prompt><value expr="r.nodeName"/> <value expr="r.localName"/> <value expr="r.prefix"/> <value expr="r.namespaceURI"/></prompt>
      <prompt><value expr="d.getElementsByTagNameNS('urn:acct', 'item').length"/>
        <value expr="d.getElementsByTagNameNS('*', 'item').length"/> <value expr="d.getElementsByTagName('a:item').length"/>
        <value expr="r.getAttributeNS('urn:x', 'v')"/> <value expr="r.hasAttributeNS('urn:x', 'v')"/>
        <value expr="r.attributes.item(0).name"/> <value expr="r.getAttributeNodeNS('urn:x', 'v').ownerElement === r"/></prompt>
      <prompt><value expr="r.childNodes.item(1).nodeType"/> <value expr="r.childNodes.item(1).nodeName"/>
        <value expr="r.childNodes.item(2).nodeType"/> <value expr="r.childNodes.item(2).data"/>
        <value expr="r.childNodes.item(9)"/> <value expr="r.firstChild.firstChild.substringData(1, 2)"/>
        <value expr="r.lastChild.ownerDocument === d"/> <value expr="r.parentNode === d"/> <value expr="r.textContent"/></prompt>
    </block></form>
    """
    events, _, _ = converse(write(tmp_path, "d.vxml", body))
    assert said(events) == ["a:list list a urn:acct", "1 2 1 7 true x:v true", "7 note 8 c null ne true true onetwo"]


def test_audio_may_carry_an_ssml_desc_which_is_not_spoken(tmp_path):
    # VoiceXML 2.0 4.1 takes SSML's <desc> (inside <audio>): a description of the audio, not fallback speech.
    body = """
    <form><block><prompt>hello <audio src="chime.wav">ding<desc>a chime</desc></audio> there</prompt></block></form>
    """
    events, outcome, _ = converse(write(tmp_path, "d.vxml", body))
    assert outcome.status == "exit"
    assert said(events) == ["hello ding there"]
