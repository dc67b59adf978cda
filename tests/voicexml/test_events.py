"""Events: catch selection by scope, count and cond; prefix matching; _event/_message; defaults; counters."""
from __future__ import annotations

from tests.voicexml.talk import NOINPUT, NOMATCH, converse, said, voice, write


def test_selection_by_count_scope_and_document_order(tmp_path):
    body = """
    <catch event="noinput" count="3"><prompt>doc three</prompt><exit/></catch>
    <form>
      <catch event="noinput"><prompt>form one</prompt></catch>
      <field name="f" type="boolean">
        <prompt>question</prompt>
        <noinput count="2"><prompt>field two</prompt></noinput>
        <noinput count="2"><prompt>never: later in document order</prompt></noinput>
      </field>
    </form>
    """
    events, outcome, _ = converse(write(tmp_path, "e.vxml", body), NOINPUT, NOINPUT, NOINPUT)
    assert said(events) == ["question", "form one", "field two", "doc three"]
    assert outcome.status == "exit"


def test_prefix_match_cond_event_and_message(tmp_path):
    body = """
    <form>
      <catch event="com.example.err" cond="false"><prompt>cond false</prompt></catch>
      <catch event="com.example"><prompt><value expr="_event"/> / <value expr="_message"/></prompt><exit/></catch>
      <catch event="com.ex"><prompt>not a token prefix</prompt></catch>
      <block><throw event="com.example.err.deep" messageexpr="'m' + 1"/></block>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "e.vxml", body))
    assert said(events) == ["com.example.err.deep / m1"]


def test_uncaught_error_ends_the_session_with_an_error_event(tmp_path):
    body = """
    <form><block><prompt>before</prompt><assign name="undeclared" expr="1"/><prompt>after</prompt></block></form>
    """
    events, outcome, _ = converse(write(tmp_path, "e.vxml", body))
    assert said(events) == ["before"]
    assert events[-1]["event"] == "error" and events[-1]["name"] == "error.semantic"
    assert outcome.status == "error"


def test_default_nomatch_reprompts_and_catch_without_reprompt_does_not(tmp_path):
    body = """
    <form>
      <field name="f" type="boolean">
        <prompt>yes or no</prompt>
        <noinput><prompt>silence</prompt></noinput>
        <filled><exit expr="f"/></filled>
      </field>
    </form>
    """
    events, outcome, _ = converse(write(tmp_path, "e.vxml", body), NOMATCH, NOINPUT, voice("no"))
    assert said(events) == ["yes or no", "yes or no", "silence"]
    assert outcome.value is False


def test_counters_reset_when_the_form_is_entered_again(tmp_path):
    body = """
    <form id="f">
      <field name="x" type="boolean">
        <prompt>x</prompt>
        <noinput><prompt>one</prompt><goto next="#f"/></noinput>
        <noinput count="2"><prompt>two</prompt><exit/></noinput>
      </field>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "e.vxml", body), NOINPUT, NOINPUT, {"input": "hangup"})
    assert said(events) == ["x", "one", "x", "one", "x"]


def test_hangup_is_an_event_and_end_of_input_is_a_hangup(tmp_path):
    body = """
    <catch event="connection.disconnect.hangup"><log>gone</log></catch>
    <form><field name="x" type="boolean"><prompt>x</prompt></field></form>
    """
    events, outcome, _ = converse(write(tmp_path, "e.vxml", body))
    assert [e["event"] for e in events] == ["prompt", "listen", "log", "exit"]
    assert outcome.status == "exit"


def test_error_in_a_handler_is_handled_and_loops_are_bounded(tmp_path):
    body = """
    <catch event="error.semantic"><throw event="error.semantic" message="again"/></catch>
    <form><block><value expr="nosuchvar"/></block></form>
    """
    events, outcome, _ = converse(write(tmp_path, "e.vxml", body))
    assert events[-1] == {"event": "error", "name": "error.semantic", "message": "again"}
    assert outcome.status == "error"


def test_universal_grammars_throw_their_events(tmp_path):
    body = """
    <property name="universals" value="all"/>
    <form>
      <field name="f" type="boolean">
        <prompt>question</prompt>
        <help><prompt>help text</prompt><reprompt/></help>
        <filled><exit expr="f"/></filled>
      </field>
    </form>
    """
    events, outcome, _ = converse(write(tmp_path, "u.vxml", body), voice("help"), voice("yes"))
    assert said(events) == ["question", "help text", "question"]
    assert outcome.value is True


def test_a_catch_without_reprompt_silences_the_next_iteration_whatever_item_it_selects(tmp_path):
    body = """
    <form>
      <block><throw event="app.oops"/></block>
      <catch event="app.oops"><prompt>oops</prompt></catch>
      <field name="f" type="boolean"><prompt>field prompt</prompt><filled><exit/></filled></field>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "r.vxml", body), voice("no"))
    assert said(events) == ["oops"]  # Appendix C: no prompt selection on the iteration after a catch


def test_events_in_a_form_level_filled_use_the_form_scope(tmp_path):
    body = """
    <form>
      <catch event="app.bad"><prompt>form caught</prompt><exit/></catch>
      <field name="f" type="boolean">
        <prompt>q</prompt>
        <catch event="app.bad"><prompt>field caught</prompt><exit/></catch>
      </field>
      <filled><throw event="app.bad"/></filled>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "ff.vxml", body), voice("yes"))
    assert said(events) == ["q", "form caught"]


def test_an_event_counts_for_every_prefix_of_its_name_and_a_catch_all_counts_them_all(tmp_path):
    # 5.2.2: "event.foo.1" increments the counters of "event.foo.1", "event.foo" and "event"; a catch without
    # an event attribute matches every event, so its counter is the number of events of any name.
    body = """
    <form>
      <var name="n" expr="0"/>
      <catch event="error.badfetch" count="1"><prompt>badfetch once</prompt><assign name="b" expr="undefined"/></catch>
      <catch event="error.badfetch" count="2"><prompt>badfetch twice</prompt><assign name="b" expr="undefined"/></catch>
      <catch event="error" count="3"><prompt>three errors</prompt><assign name="b" expr="undefined"/></catch>
      <catch event="error"><prompt>an error</prompt><assign name="b" expr="undefined"/></catch>
      <catch event="custom"><prompt>custom</prompt><assign name="b" expr="undefined"/></catch>
      <catch count="4"><prompt>four events</prompt><assign name="b" expr="undefined"/></catch>
      <block name="b">
        <assign name="n" expr="n + 1"/>
        <if cond="n == 1"><throw event="error.badfetch.http.404"/>
        <elseif cond="n == 2"/><throw event="error.badfetch.timeout"/>
        <elseif cond="n == 3"/><throw event="error.semantic"/>
        <elseif cond="n == 4"/><throw event="custom"/>
        <elseif cond="n == 5"/><throw event="custom.other"/>
        </if>
        <prompt>done</prompt>
      </block>
    </form>
    """
    events, outcome, _ = converse(write(tmp_path, "e.vxml", body))
    assert said(events) == ["badfetch once", "badfetch twice", "three errors", "four events", "four events", "done"]
    assert outcome.status == "exit"


def test_clear_in_a_menu_leaves_the_menus_event_counters(tmp_path):
    # 5.2.2: form- and menu-level event counters are not reset by <clear>.
    body = """
    <menu>
      <prompt>pick</prompt>
      <choice dtmf="1" next="#x">one</choice>
      <noinput count="1"><prompt>first</prompt><clear/><reprompt/></noinput>
      <noinput count="2"><prompt>second</prompt><exit/></noinput>
    </menu>
    <form id="x"><block>x</block></form>
    """
    events, _, _ = converse(write(tmp_path, "m.vxml", body), NOINPUT, NOINPUT)
    assert said(events) == ["pick", "first", "pick", "second"]
