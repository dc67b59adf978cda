"""Multi-document applications (VoiceXML 2.0 1.5.2, 3.1.4, 5.1.2): the application root's grammars, links,
handlers, properties and variables in its leaf documents, grammar precedence, and the transitions between
root, leaves and subdialogs."""
from __future__ import annotations

from tests.voicexml.talk import converse, dtmf, said, voice, write

ASK = '<field name="f" type="boolean"><prompt>leaf question</prompt><filled><prompt>answer <value expr="f"/></prompt>' \
      '</filled></field>'


# == the root's grammars in a leaf (3.1.3, 3.1.4) ========================================================
def test_document_scoped_form_of_the_root_takes_voice_input_in_a_leaf(tmp_path):
    write(tmp_path, "root.vxml", """
    <var name="calls" expr="0"/>
    <form id="operator" scope="document">
      <grammar root="op" xmlns="http://www.w3.org/2001/06/grammar"><rule id="op">operator</rule></grammar>
      <block><prompt>operator in the root <value expr="calls"/></prompt></block>
    </form>
    """)
    leaf = write(tmp_path, "leaf.vxml", f'<form><block><assign name="calls" expr="calls + 1"/></block>{ASK}</form>',
                 application="root.vxml")
    events, outcome, _ = converse(leaf, voice("operator"))
    assert said(events) == ["leaf question", "operator in the root 1"]  # the root stayed loaded
    assert outcome.status == "exit"


def test_document_scoped_menu_of_the_root_takes_dtmf_in_a_leaf_and_its_targets_are_the_roots(tmp_path):
    write(tmp_path, "root.vxml", """
    <menu id="top" scope="document">
      <choice dtmf="0" next="#agent">agent</choice>
      <choice dtmf="9" next="goodbye.vxml">goodbye</choice>
    </menu>
    <form id="agent"><block><prompt>agent form of the root</prompt></block></form>
    """)
    write(tmp_path, "goodbye.vxml", '<form><block><prompt>goodbye document</prompt></block></form>')
    (tmp_path / "sub").mkdir()
    write(tmp_path, "sub/leaf.vxml", f'<form id="agent"><block><prompt>wrong agent</prompt></block></form>'
                                     f'<form id="ask">{ASK}</form>', application="../root.vxml")
    leaf = tmp_path / "sub" / "leaf.vxml"
    events, _, _ = converse(str(leaf) + "#ask", dtmf("0"))
    assert said(events) == ["leaf question", "agent form of the root"]
    events, _, _ = converse(str(leaf) + "#ask", dtmf("9"))
    assert said(events) == ["leaf question", "goodbye document"]


def test_form_grammar_of_the_root_without_document_scope_is_not_active_in_a_leaf(tmp_path):
    write(tmp_path, "root.vxml", """
    <form id="operator">
      <grammar root="op" xmlns="http://www.w3.org/2001/06/grammar"><rule id="op">operator</rule></grammar>
      <block><prompt>operator</prompt></block>
    </form>
    """)
    leaf = write(tmp_path, "leaf.vxml", f'<form>{ASK}</form>', application="root.vxml")
    events, _, _ = converse(leaf, voice("operator"), dtmf("1"))
    assert said(events) == ["leaf question", "leaf question", "answer true"]  # a nomatch, then the field again


def test_links_of_the_root_resolve_against_the_root(tmp_path):
    write(tmp_path, "root.vxml", """
    <link next="#home"><grammar root="h" xmlns="http://www.w3.org/2001/06/grammar"><rule id="h">home</rule></grammar></link>
    <link dtmf="*" next="other.vxml"/>
    <form id="home"><block><prompt>root home</prompt></block></form>
    """)
    write(tmp_path, "other.vxml", '<form><block><prompt>other beside the root</prompt></block></form>')
    (tmp_path / "sub").mkdir()
    write(tmp_path, "sub/other.vxml", '<form><block><prompt>other beside the leaf</prompt></block></form>')
    write(tmp_path, "sub/leaf.vxml", f'<form id="home"><block><prompt>leaf home</prompt></block></form>'
                                     f'<form id="ask">{ASK}</form>', application="../root.vxml")
    leaf = str(tmp_path / "sub" / "leaf.vxml") + "#ask"
    events, _, _ = converse(leaf, voice("home"))
    assert said(events) == ["leaf question", "root home"]
    events, _, _ = converse(leaf, dtmf("*"))
    assert said(events) == ["leaf question", "other beside the root"]


def test_handlers_of_the_root_run_in_a_leaf_and_their_targets_are_the_roots(tmp_path):
    write(tmp_path, "root.vxml", """
    <var name="who" expr="'application'"/>
    <catch event="app.help"><prompt>root caught <value expr="who"/></prompt><goto next="#after"/></catch>
    <form id="after"><block><prompt>root after</prompt></block></form>
    """)
    leaf = write(tmp_path, "leaf.vxml", """
    <var name="who" expr="'leaf document'"/>
    <form id="after"><block><prompt>leaf after</prompt></block></form>
    <form id="start"><block><throw event="app.help"/></block></form>
    """, application="root.vxml")
    events, _, _ = converse(str(leaf) + "#start")
    # The handler sees the leaf's scope chain (the document's `who` shadows the application's).
    assert said(events) == ["root caught leaf document", "root after"]


def test_audio_in_the_roots_handlers_is_found_beside_the_root(tmp_path):
    write(tmp_path, "root.vxml", '<catch event="app.beep"><prompt><audio src="sounds/a.wav"/></prompt>'
                                 '<audio src="sounds/b.wav"/></catch>')
    (tmp_path / "sub").mkdir()
    leaf = write(tmp_path, "sub/leaf.vxml", '<form><block><throw event="app.beep"/></block></form>',
                 application="../root.vxml")
    events, _, _ = converse(leaf)
    sounds = (tmp_path / "sounds").as_uri()
    assert [e["audio"] for e in events if e["event"] == "prompt"] == [[sounds + "/a.wav"], [sounds + "/b.wav"]]


def test_an_error_in_a_leafs_declarations_goes_to_the_roots_handler(tmp_path):
    write(tmp_path, "root.vxml", '<error><prompt>root error handler <value expr="_event"/></prompt><exit/></error>')
    leaf = write(tmp_path, "leaf.vxml", '<var name="x" expr="no_such_function()"/><form><block/></form>',
                 application="root.vxml")
    events, outcome, _ = converse(leaf)
    assert said(events) == ["root error handler error.semantic"]
    assert outcome.status == "exit"


# == precedence (3.1.4) ==================================================================================
def test_a_fields_own_link_comes_before_the_form_grammar(tmp_path):
    doc = write(tmp_path, "p.vxml", """
    <form id="f">
      <grammar mode="dtmf" root="k" xmlns="http://www.w3.org/2001/06/grammar"><rule id="k">5</rule></grammar>
      <field name="x" type="boolean"><prompt>q</prompt><link dtmf="5" next="#item_link"/></field>
      <filled><prompt>form grammar</prompt></filled>
    </form>
    <form id="item_link"><block><prompt>item link</prompt></block></form>
    """)
    events, _, _ = converse(doc, dtmf("5"))
    assert said(events) == ["q", "item link"]


def test_the_forms_links_come_before_the_documents(tmp_path):
    doc = write(tmp_path, "p.vxml", """
    <link dtmf="5" next="#document_link"/>
    <form id="f">
      <link dtmf="5" next="#form_link"/>
      <field name="x" type="boolean"><prompt>q</prompt></field>
    </form>
    <form id="form_link"><block><prompt>form link</prompt></block></form>
    <form id="document_link"><block><prompt>document link</prompt></block></form>
    """)
    events, _, _ = converse(doc, dtmf("5"))
    assert said(events) == ["q", "form link"]


def test_the_documents_grammars_come_before_the_roots_in_document_order(tmp_path):
    write(tmp_path, "root.vxml", """
    <link dtmf="5" next="#root_link"/>
    <form id="root_link"><block><prompt>root link</prompt></block></form>
    """)
    leaf = write(tmp_path, "leaf.vxml", """
    <form id="ask"><field name="x" type="boolean"><prompt>q</prompt></field></form>
    <form id="scoped" scope="document">
      <grammar mode="dtmf" root="k" xmlns="http://www.w3.org/2001/06/grammar"><rule id="k">5</rule></grammar>
      <block><prompt>document scoped form</prompt></block>
    </form>
    <link dtmf="5" next="#document_link"/>
    <form id="document_link"><block><prompt>document link</prompt></block></form>
    """, application="root.vxml")
    # The document-scoped form precedes the document's link in document order; both precede the root's link.
    events, _, _ = converse(leaf, dtmf("5"))
    assert said(events) == ["q", "document scoped form"]
    scoped_only = write(tmp_path, "scoped.vxml", """
    <form id="ask"><field name="x" type="boolean"><prompt>q</prompt></field></form>
    <form id="scoped" scope="document">
      <grammar mode="dtmf" root="k" xmlns="http://www.w3.org/2001/06/grammar"><rule id="k">5</rule></grammar>
      <block><prompt>document scoped form</prompt></block>
    </form>
    """, application="root.vxml")
    events, _, _ = converse(scoped_only, dtmf("5"))
    assert said(events) == ["q", "document scoped form"]


def test_the_roots_grammars_come_before_the_platforms(tmp_path):
    write(tmp_path, "root.vxml", """
    <property name="universals" value="all"/>
    <form id="helpdesk" scope="document">
      <grammar root="h" xmlns="http://www.w3.org/2001/06/grammar"><rule id="h">help</rule></grammar>
      <block><prompt>help desk form</prompt></block>
    </form>
    """)
    leaf = write(tmp_path, "leaf.vxml", """
    <form><field name="x" type="boolean"><prompt>q</prompt><help><prompt>platform help</prompt></help></field></form>
    """, application="root.vxml")
    events, _, _ = converse(leaf, voice("help"))
    assert said(events) == ["q", "help desk form"]


def test_a_modal_field_listens_to_its_own_grammars_only(tmp_path):
    write(tmp_path, "root.vxml", '<link dtmf="1" next="#root_link"/>'
                                 '<form id="root_link"><block><prompt>root link</prompt></block></form>')
    leaf = write(tmp_path, "leaf.vxml", """
    <form><field name="x" type="boolean" modal="true"><prompt>q</prompt>
      <filled><prompt>field <value expr="x"/></prompt></filled></field></form>
    """, application="root.vxml")
    events, _, _ = converse(leaf, dtmf("1"))
    assert said(events) == ["q", "field true"]


# == transitions (1.5.2) and scopes (5.1.2) ==============================================================
def test_root_to_leaf_keeps_the_application_context_of_the_first_document(tmp_path):
    root = write(tmp_path, "root.vxml", """
    <var name="n" expr="0"/>
    <form><block><assign name="n" expr="n + 1"/>
      <prompt><value expr="n"/> <value expr="application.n"/> <value expr="document.n"/></prompt>
      <goto next="leaf.vxml"/></block></form>
    """)
    write(tmp_path, "leaf.vxml", '<form><block><assign name="n" expr="n + 1"/><prompt>leaf <value expr="n"/></prompt>'
                                 '</block></form>', application="root.vxml")
    events, _, _ = converse(root)
    assert said(events) == ["1 1 1", "leaf 2"]


def test_a_leaf_naming_the_same_root_by_another_relative_uri_keeps_it_without_running_it_again(tmp_path):
    write(tmp_path, "root.vxml", '<var name="runs" expr="0"/><script>runs++;</script><var name="n" expr="0"/>')
    (tmp_path / "sub").mkdir()
    write(tmp_path, "sub/b.vxml", '<form><block><prompt>b <value expr="runs"/> <value expr="n"/></prompt></block>'
                                  '</form>', application="../root.vxml")
    a = write(tmp_path, "a.vxml", '<form><block><assign name="n" expr="3"/><goto next="sub/b.vxml"/></block></form>',
              application="./root.vxml")
    events, _, _ = converse(a)
    assert said(events) == ["b 1 3"]


def test_a_leaf_of_another_root_starts_a_new_application(tmp_path):
    write(tmp_path, "root1.vxml", '<var name="n" expr="10"/><var name="only1"/>')
    write(tmp_path, "root2.vxml", '<var name="n" expr="20"/><var name="only2" expr="true"/>')
    write(tmp_path, "b.vxml", '<form><block><prompt><value expr="n"/> <value expr="typeof application.only1"/>'
                              '</prompt></block></form>', application="root2.vxml")
    a = write(tmp_path, "a.vxml", """
    <form><block><assign name="n" expr="n + 1"/><assign name="application.only1" expr="1"/>
      <prompt><value expr="n"/></prompt><goto next="b.vxml"/></block></form>
    """, application="root1.vxml")
    events, _, _ = converse(a)
    assert said(events) == ["11", "20 undefined"]


def test_leaf_to_root_by_goto_keeps_and_root_to_root_reinitialises(tmp_path):
    write(tmp_path, "root.vxml", """
    <var name="n" expr="0"/>
    <form id="home"><block><prompt>home <value expr="n"/></prompt>
      <if cond="n == 5"><assign name="n" expr="6"/><goto next="root.vxml#home"/></if></block></form>
    """)
    leaf = write(tmp_path, "leaf.vxml", '<form><block><assign name="n" expr="5"/><goto next="root.vxml#home"/>'
                                        '</block></form>', application="root.vxml")
    events, _, _ = converse(leaf)
    # leaf to root: the context is kept; then the root (now the current document) to itself: root to root.
    assert said(events) == ["home 5", "home 0"]


def test_leaf_to_root_by_submit_reinitialises_the_root(tmp_path):
    write(tmp_path, "root.vxml", '<var name="n" expr="0"/>'
                                 '<form id="home"><block><prompt>home <value expr="n"/></prompt></block></form>')
    leaf = write(tmp_path, "leaf.vxml", '<form><block><assign name="n" expr="5"/><submit next="root.vxml"/>'
                                        '</block></form>', application="root.vxml")
    events, _, _ = converse(leaf)
    assert said(events) == ["home 0"]


def test_document_and_application_scopes_are_distinct_in_a_leaf_and_lastresult_survives(tmp_path):
    write(tmp_path, "root.vxml", '<var name="x" expr="\'app\'"/>')
    write(tmp_path, "b.vxml", """
    <var name="x" expr="'b'"/>
    <form><block><prompt><value expr="x"/> <value expr="document.x"/> <value expr="application.x"/>
      <value expr="application.lastresult$.utterance"/> <value expr="lastresult$.interpretation"/></prompt>
    </block></form>
    """, application="root.vxml")
    a = write(tmp_path, "a.vxml", """
    <var name="x" expr="'a'"/>
    <form><field name="f" type="digits"><prompt>q</prompt>
      <filled><assign name="application.x" expr="'app changed'"/><goto next="b.vxml"/></filled></field></form>
    """, application="root.vxml")
    events, _, _ = converse(a, dtmf("42"))
    assert said(events) == ["q", "b b app changed 42 42"]


def test_properties_of_the_root_apply_in_a_leaf_unless_it_sets_them(tmp_path):
    write(tmp_path, "root.vxml", '<property name="timeout" value="2s"/><property name="inputmodes" value="dtmf"/>')
    leaf = write(tmp_path, "leaf.vxml", """
    <property name="timeout" value="3s"/>
    <form><field name="f" type="digits"><prompt>q</prompt></field></form>
    """, application="root.vxml")
    events, _, _ = converse(leaf, dtmf("1"))
    listen = next(e for e in events if e["event"] == "listen")
    assert (listen["timeout_ms"], listen["modes"]) == (3000, ["dtmf"])


def test_a_subdialog_gets_a_fresh_application_context(tmp_path):
    write(tmp_path, "root.vxml", '<var name="n" expr="0"/>')
    write(tmp_path, "other_root.vxml", '<var name="n" expr="100"/>')
    write(tmp_path, "same_app_sub.vxml", '<form><block><prompt>same <value expr="n"/></prompt>'
                                         '<assign name="n" expr="50"/><return/></block></form>',
          application="root.vxml")
    write(tmp_path, "other_app_sub.vxml", '<form><block><prompt>other <value expr="n"/></prompt><return/>'
                                          '</block></form>', application="other_root.vxml")
    main = write(tmp_path, "main.vxml", """
    <form>
      <block><assign name="n" expr="7"/></block>
      <subdialog name="s1" src="same_app_sub.vxml"/>
      <subdialog name="s2" src="other_app_sub.vxml"/>
      <block><prompt>caller <value expr="n"/></prompt></block>
    </form>
    """, application="root.vxml")
    events, _, _ = converse(main)
    assert said(events) == ["same 0", "other 100", "caller 7"]


def test_a_bridged_transfer_listens_to_its_own_grammars_first_and_not_to_the_forms(tmp_path):
    from voicexml import NullPlatform, Session
    from voicexml.platform import TransferRequest, TransferResult

    class Operator(NullPlatform):
        def transfer(self, request: TransferRequest) -> TransferResult:
            self.owners = [(ag.owner.tag, ag.level) for ag in request.grammars]
            return TransferResult("near_end_disconnect")

    write(tmp_path, "root.vxml", '<link dtmf="0" next="#top"/><form id="top"><block/></form>')
    leaf = write(tmp_path, "leaf.vxml", """
    <form>
      <grammar mode="dtmf" root="k" xmlns="http://www.w3.org/2001/06/grammar"><rule id="k">5</rule></grammar>
      <transfer name="t" dest="tel:+15550100" bridge="true">
        <grammar mode="dtmf" root="s" xmlns="http://www.w3.org/2001/06/grammar"><rule id="s">*</rule></grammar>
      </transfer>
    </form>
    """, application="root.vxml")
    platform = Operator()
    Session(platform).run(str(leaf))
    assert platform.owners == [("transfer", "item"), ("link", "application")]
