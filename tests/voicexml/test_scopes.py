"""ECMAScript scopes: session, application (root document), document, dialog, anonymous; scripts; assign."""
from __future__ import annotations

from tests.voicexml.talk import converse, said, write


def test_scope_chain_shadowing_and_qualified_names(tmp_path):
    body = """
    <var name="x" expr="'doc'"/>
    <script>var fromScript = x + '!'; function twice(s) { return s + s; }</script>
    <form>
      <var name="x" expr="'dialog'"/>
      <block>
        <var name="x" expr="'block'"/>
        <prompt><value expr="x"/> <value expr="dialog.x"/> <value expr="document.x"/>
          <value expr="fromScript"/> <value expr="twice('a')"/> <value expr="typeof session.connection"/></prompt>
        <assign name="document.x" expr="'changed'"/>
        <script>var anon = 1;</script>
        <prompt><value expr="document.x"/> <value expr="anon"/></prompt>
      </block>
      <block><prompt><value expr="typeof anon"/> <value expr="x"/></prompt></block>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "s.vxml", body))
    assert said(events) == ["block dialog doc doc! aa object", "changed 1", "undefined dialog"]


def test_application_root_variables_live_across_leaf_documents(tmp_path):
    write(tmp_path, "root.vxml", '<var name="visits" expr="0"/><script>function bump() { visits++; }</script>')
    write(tmp_path, "b.vxml", """
    <var name="local" expr="'b'"/>
    <form><block><script>bump();</script>
      <prompt><value expr="application.visits"/> <value expr="local"/></prompt></block></form>
    """, application="root.vxml")
    a = write(tmp_path, "a.vxml", """
    <var name="local" expr="'a'"/>
    <form><block><script>bump();</script><prompt><value expr="visits"/> <value expr="local"/></prompt>
      <goto next="b.vxml"/></block></form>
    """, application="root.vxml")
    events, _, _ = converse(a)
    assert said(events) == ["1 a", "2 b"]


def test_goto_to_the_same_document_by_uri_reinitialises_it(tmp_path):
    body = """
    <var name="n" expr="0"/>
    <form id="one"><block><assign name="n" expr="n + 1"/><prompt><value expr="n"/></prompt>
      <goto next="#two"/></block></form>
    <form id="two"><block><assign name="n" expr="n + 1"/><prompt><value expr="n"/></prompt>
      <goto next="s.vxml#three"/></block></form>
    <form id="three"><block><prompt><value expr="n"/></prompt></block></form>
    """
    events, _, _ = converse(write(tmp_path, "s.vxml", body))
    assert said(events) == ["1", "2", "0"]


def test_assign_to_undeclared_and_bad_names_are_semantic_errors(tmp_path):
    body = """
    <catch event="error.semantic"><prompt>semantic</prompt></catch>
    <form>
      <block><assign name="nope" expr="1"/></block>
      <block><var name="1bad"/></block>
      <block><prompt><value expr="(function(){ throw new Error('x'); })()"/></prompt></block>
      <block><clear namelist="notdeclared"/></block>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "s.vxml", body))
    assert said(events) == ["semantic"] * 4



def test_a_scope_qualified_name_must_be_declared_in_that_scope_and_session_is_read_only(tmp_path):
    # 5.3.2/5.3.3: <assign> and <clear> need a declared variable; `document.zz` names document's zz, not a new
    # one; session variables are set by the platform and read-only (5.1.2). Properties of objects stay writable.
    body = """
    <var name="d" expr="'doc'"/>
    <catch event="error.semantic"><prompt>semantic</prompt></catch>
    <form>
      <var name="obj" expr="({})"/>
      <block><assign name="document.zz" expr="1"/></block>
      <block><assign name="application.newvar" expr="1"/></block>
      <block><assign name="dialog.d" expr="1"/></block>
      <block><assign name="session.foo" expr="1"/></block>
      <block><assign name="session.connection.local.uri" expr="'x'"/></block>
      <block><assign name="connection" expr="1"/></block>
      <block><clear namelist="document.zz"/></block>
      <block><clear namelist="session.telephone"/></block>
      <block><assign name="obj.field" expr="'f'"/><assign name="document.d" expr="d + '!'"/>
        <assign name="dialog.obj.more" expr="2"/><clear namelist="document.d"/>
        <prompt><value expr="obj.field"/> <value expr="obj.more"/> <value expr="typeof d"/>
          <value expr="typeof document.zz"/> <value expr="typeof application.newvar"/> <value expr="typeof dialog.d"/>
          <value expr="typeof session.foo"/> <value expr="session.connection.local.uri"/></prompt></block>
    </form>
    """
    from voicexml import SessionSettings
    events, _, _ = converse(write(tmp_path, "s.vxml", body), settings=SessionSettings(local_uri="tel:+15550000"))
    assert said(events) == ["semantic"] * 8 + ["f 2 undefined undefined undefined undefined undefined tel:+15550000"]


def test_session_variables(tmp_path):
    from voicexml import SessionSettings
    body = """<form><block><prompt><value expr="session.connection.remote.uri"/>
      <value expr="session.connection.protocol.name"/></prompt></block></form>"""
    events, _, _ = converse(write(tmp_path, "s.vxml", body), settings=SessionSettings(remote_uri="tel:+15551234"))
    assert said(events) == ["tel:+15551234 text"]


def test_connection_originator_is_the_party_that_placed_the_call(tmp_path):
    """5.1.4: session.connection.originator references connection.local or connection.remote."""
    from voicexml import SessionSettings
    body = """<form><block><prompt><value expr="session.connection.originator == session.connection.remote"/>
      <value expr="session.connection.originator.uri"/></prompt></block></form>"""
    path = write(tmp_path, "s.vxml", body)
    events, _, _ = converse(path, settings=SessionSettings(remote_uri="tel:+15551234"))
    assert said(events) == ["true tel:+15551234"]
    events, _, _ = converse(path, settings=SessionSettings(local_uri="tel:+1800", inbound=False))
    assert said(events) == ["false tel:+1800"]


def test_the_root_document_as_the_leaf_keeps_application_variables(tmp_path):
    write(tmp_path, "root.vxml", """
    <var name="visits" expr="0"/>
    <form id="home"><block><prompt>home <value expr="visits"/> <value expr="document.visits"/></prompt></block></form>
    """)
    leaf = write(tmp_path, "leaf.vxml", """
    <form><block><assign name="visits" expr="visits + 5"/><goto next="root.vxml#home"/></block></form>
    """, application="root.vxml")
    events, _, _ = converse(leaf)
    assert said(events) == ["home 5 5"]
