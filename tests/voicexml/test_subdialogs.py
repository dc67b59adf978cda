"""Subdialogs: parameters, returned namelists and events, a fresh context, fetch errors in the caller."""
from __future__ import annotations

from tests.voicexml.talk import converse, dtmf, said, write


def test_params_return_namelist_and_fresh_context(tmp_path):
    write(tmp_path, "sub.vxml", """
    <var name="shared" expr="'sub document'"/>
    <form id="ask">
      <var name="greeting"/>
      <var name="unused" expr="'default'"/>
      <field name="pin" type="digits"><prompt><value expr="greeting"/> <value expr="unused"/></prompt></field>
      <block><return namelist="pin shared"/></block>
    </form>
    """)
    main = write(tmp_path, "main.vxml", """
    <var name="shared" expr="'caller'"/>
    <form>
      <subdialog name="result" src="sub.vxml#ask">
        <param name="greeting" expr="'hello ' + shared"/>
        <filled><prompt><value expr="result.pin"/> <value expr="result.shared"/> <value expr="shared"/></prompt></filled>
      </subdialog>
    </form>
    """)
    events, outcome, _ = converse(main, dtmf("42"))
    assert said(events) == ["hello caller default", "42 sub document caller"]
    assert outcome.status == "exit"


def test_return_event_is_thrown_in_the_caller(tmp_path):
    main = write(tmp_path, "main.vxml", """
    <form>
      <subdialog name="s" src="#inner">
        <catch event="app.cancelled"><prompt>caller caught <value expr="_message"/></prompt><exit/></catch>
      </subdialog>
    </form>
    <form id="inner"><block><return event="app.cancelled" message="by user"/></block></form>
    """)
    events, _, _ = converse(main)
    assert said(events) == ["caller caught by user"]


def test_missing_subdialog_is_a_caller_event_and_a_bad_param_one_in_the_subdialog(tmp_path):
    write(tmp_path, "sub.vxml", """
    <catch event="error.semantic"><return event="sub.failed" messageexpr="_event"/></catch>
    <form><block><return/></block></form>
    """)
    main = write(tmp_path, "main.vxml", """
    <form>
      <catch event="error.badfetch"><prompt><value expr="_event"/></prompt><assign name="a" expr="0"/></catch>
      <catch event="sub.failed"><prompt><value expr="_message"/></prompt><assign name="b" expr="0"/></catch>
      <subdialog name="a" src="missing.vxml"/>
      <subdialog name="b" src="sub.vxml"><param name="nobody" value="1"/></subdialog>
      <block><prompt>end</prompt></block>
    </form>
    """)
    events, _, _ = converse(main)
    assert said(events) == ["error.badfetch.http.404", "error.semantic", "end"]


def test_return_outside_a_subdialog_is_a_semantic_error(tmp_path):
    events, outcome, _ = converse(write(tmp_path, "m.vxml", "<form><block><return/></block></form>"))
    assert events[-1]["name"] == "error.semantic" and outcome.status == "error"
