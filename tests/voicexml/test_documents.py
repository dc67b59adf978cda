"""Bad documents raise the right event in the session; xml:base; the parsed-document cache."""
from __future__ import annotations

import json

from tests.voicexml.talk import converse, said, vxml, write
from voicexml import DocumentCache, Fetcher
from voicexml.fetch import to_uri

CATCH_ALL = '<catch event="error"><prompt><value expr="_event"/>: <value expr="_message"/></prompt><exit/></catch>'


def test_goto_to_a_document_that_is_not_well_formed(tmp_path):
    (tmp_path / "broken.vxml").write_text("<vxml version='2.1'><form>")
    events, _, _ = converse(write(tmp_path, "a.vxml", CATCH_ALL + '<form><block><goto next="broken.vxml"/></block></form>'))
    assert said(events)[0].startswith("error.badfetch: not well-formed")


def test_unknown_element_and_missing_next(tmp_path):
    write(tmp_path, "unknown.vxml", "<form><block><frobnicate/></block></form>")
    write(tmp_path, "nonext.vxml", "<form><block><goto/></block></form>")
    path = write(tmp_path, "a.vxml", CATCH_ALL + """
    <form>
      <catch event="error.badfetch"><prompt><value expr="_message"/></prompt></catch>
      <block><goto next="unknown.vxml"/></block>
      <block><goto next="nonext.vxml"/></block>
    </form>
    """)
    events, outcome, _ = converse(path)
    assert said(events) == ["unknown element <frobnicate> at line 3",
                            "<goto> at line 3 needs exactly one of next, expr, nextitem, expritem"]
    assert outcome.status == "exit"


def assert_each_is_badfetch(tmp_path, cases: dict[str, str]) -> None:
    """Each document of `cases` (file name -> body) is refused as error.badfetch where a <goto> fetches it,
    and the session goes on after each."""
    for name, body in cases.items():
        write(tmp_path, name, body)
    checks = "".join(f'<block><goto next="{n}"/></block>' for n in cases)
    path = write(tmp_path, "main.vxml", f"""
    <form>
      <catch event="error.badfetch"><prompt>bad</prompt></catch>
      {checks}
      <block><prompt>end</prompt></block>
    </form>""")
    events, _, _ = converse(path)
    assert said(events) == ["bad"] * len(cases) + ["end"]


def test_attributes_that_exclude_each_other(tmp_path):
    cases = {
        "exit.vxml": "<form><block><exit expr=\"1\" namelist=\"x\"/></block></form>",
        "audio.vxml": "<form><block><audio>no source</audio></block></form>",
        "script.vxml": "<script src=\"a.js\">var a;</script><form><block/></form>",
        "goto.vxml": "<form><block><goto next=\"#a\" expr=\"'#a'\"/></block></form>",
        "count.vxml": "<form><block><prompt count=\"#\">x</prompt></block></form>",
        "filled.vxml": "<form><field name=\"f\" type=\"digits\"/><filled namelist=\"g\"/></form>",
        "transfer.vxml": "<form><transfer name=\"t\" dest=\"tel:1\" bridge=\"true\" type=\"bridge\"/></form>",
        "grammar.vxml": "<form><field name=\"f\"><grammar/></field></form>",
        "prompt_if.vxml": "<form><block><prompt>a <if cond=\"true\">b</if></prompt></block></form>",
        "prompt_foreach.vxml": "<var name=\"a\" expr=\"[1]\"/><form><block><prompt><foreach item=\"x\" array=\"a\">"
                               "<throw event=\"x\"/></foreach></prompt></block></form>",
        "mark.vxml": "<form><block><prompt>a <mark/></prompt></block></form>",  # 2.1 4: name or nameexpr
        "mark_both.vxml": "<form><block><prompt>a <mark name=\"m\" nameexpr=\"'m'\"/></prompt></block></form>",
    }
    assert_each_is_badfetch(tmp_path, cases)


def test_handlers_blocks_and_ifs_hold_executable_content_only(tmp_path):
    # 5.3: a form item, dialog, handler, <filled> or stray <else> inside executable content is a bad document,
    # thrown where it was fetched (not each time the handler would run it).
    cases = {
        "catch_subdialog.vxml": "<form><catch event=\"e\"><subdialog name=\"s\" src=\"x.vxml\"/></catch>"
                                "<block><throw event=\"e\"/></block></form>",
        "block_field.vxml": "<form><block><field name=\"f\" type=\"digits\"/></block></form>",
        "filled_form.vxml": "<form><field name=\"f\" type=\"digits\"><filled><form id=\"g\"/></filled></field></form>",
        "if_catch.vxml": "<form><block><if cond=\"true\"><catch event=\"x\"/></if></block></form>",
        "block_else.vxml": "<form><block><else/></block></form>",
        "nomatch_grammar.vxml": "<form><field name=\"f\" type=\"digits\"><nomatch><grammar>a</grammar></nomatch>"
                                "</field></form>",
    }
    assert_each_is_badfetch(tmp_path, cases)


def test_foreach_holds_executable_content_outside_prompts_and_prompt_content_inside(tmp_path):
    path = write(tmp_path, "a.vxml", """
    <var name="a" expr="['x', 'y']"/>
    <form><block>
      <foreach item="i" array="a"><if cond="i == 'y'"><prompt>saw <value expr="i"/></prompt></if></foreach>
      <prompt><foreach item="i" array="a"><value expr="i"/> <break time="10ms"/></foreach></prompt>
    </block></form>""")
    events, outcome, _ = converse(path)
    assert said(events) == ["saw y", "x y"] and outcome.status == "exit"


def test_first_document_broken_is_an_error_event_not_a_crash(tmp_path):
    (tmp_path / "bad.vxml").write_text(vxml("<form><block><nonsense/></block></form>"))
    events, outcome, _ = converse(tmp_path / "bad.vxml")
    assert events == [{"event": "error", "name": "error.badfetch", "message": "unknown element <nonsense> at line 3"}]
    assert outcome.status == "error" and not outcome.start_failed
    events, outcome, _ = converse(tmp_path / "absent.vxml")
    assert outcome.start_failed and events[0]["name"] == "error.badfetch.http.404"



def test_a_vxml_root_needs_version_2_0_or_2_1(tmp_path):
    # 1.5.1: version is required; a document without it (or of another version) is not valid: error.badfetch
    # where it was fetched, for a target as for the first document.
    for name, attrs in {"none.vxml": "", "three.vxml": ' version="3.0"', "one.vxml": ' version="1.0"'}.items():
        (tmp_path / name).write_text(f'<vxml{attrs} xmlns="http://www.w3.org/2001/vxml"><form><block>in</block></form></vxml>')
    (tmp_path / "two.vxml").write_text('<vxml version="2.0" xmlns="http://www.w3.org/2001/vxml"><form><block>'
                                       '<prompt>two</prompt></block></form></vxml>')
    checks = "".join(f'<block><goto next="{n}"/></block>' for n in ("none.vxml", "three.vxml", "one.vxml", "two.vxml"))
    path = write(tmp_path, "main.vxml", f"""
    <form>
      <catch event="error.badfetch"><prompt><value expr="_message"/></prompt></catch>
      {checks}
    </form>""")
    events, outcome, _ = converse(path)
    assert said(events) == ['<vxml> needs version="2.0" or "2.1", not None',
                            '<vxml> needs version="2.0" or "2.1", not \'3.0\'',
                            '<vxml> needs version="2.0" or "2.1", not \'1.0\'', "two"]
    assert outcome.status == "exit"
    events, outcome, _ = converse(tmp_path / "none.vxml")
    assert events == [{"event": "error", "name": "error.badfetch",
                       "message": '<vxml> needs version="2.0" or "2.1", not None'}]
    assert outcome.status == "error" and not outcome.start_failed


def test_missing_dialog_and_nextitem(tmp_path):
    path = write(tmp_path, "a.vxml", """
    <form>
      <catch event="error.badfetch"><prompt>bad <value expr="_message"/></prompt><assign name="x" expr="1"/></catch>
      <block name="x"><goto next="#nowhere"/></block>
      <block name="y"><goto nextitem="nothing"/></block>
    </form>
    """)
    events, _, _ = converse(path)
    assert said(events)[0].startswith("bad no dialog 'nowhere'")
    assert said(events)[1] == "bad <goto nextitem> names no form item: 'nothing'"


def test_xml_base_resolves_relative_uris(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "target.vxml", "<form><block><prompt>in sub</prompt></block></form>")
    path = tmp_path / "a.vxml"
    path.write_text(vxml('<form><block><goto next="target.vxml"/></block></form>')
                    .replace("<vxml ", f'<vxml xml:base="{to_uri(str(tmp_path / "sub"))}/" ', 1))
    events, _, _ = converse(path)
    assert said(events) == ["in sub"]


def test_document_cache_parses_once_per_content(tmp_path):
    path = write(tmp_path, "a.vxml", "<form><block/></form>")
    fetcher, cache = Fetcher(), DocumentCache()
    res = fetcher.fetch(to_uri(str(path)))
    assert cache.get(res.uri, res.content) is cache.get(res.uri, res.content)
    path.write_text(vxml("<form id='changed'><block/></form>"))
    res2 = fetcher.fetch(to_uri(str(path)))
    assert list(cache.get(res2.uri, res2.content).dialogs) == ["changed"]


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    doc = tmp_path / "xxe.vxml"
    doc.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE vxml [<!ENTITY x SYSTEM "{secret.as_uri()}">]>
<vxml version="2.1" xmlns="http://www.w3.org/2001/vxml"><form><block><prompt>a &x; b</prompt></block></form></vxml>
""")
    events, _, _ = converse(doc)
    assert "SECRET" not in json.dumps(events)


def test_a_path_with_a_fragment_starts_at_that_dialog(tmp_path):
    path = write(tmp_path, "two.vxml", """
    <form id="one"><block><prompt>one</prompt></block></form>
    <form id="two"><block><prompt>two</prompt></block></form>
    """)
    events, _, _ = converse(f"{path}#two")
    assert said(events) == ["two"]


def test_if_and_elseif_need_their_cond(tmp_path):
    # VoiceXML 2.0 5.3.4: cond is required on <if> and <elseif>; a document without it is error.badfetch.
    write(tmp_path, "if.vxml", "<form><block><if><prompt>ran</prompt></if></block></form>")
    write(tmp_path, "elseif.vxml", "<form><block><if cond=\"false\"><elseif/><prompt>ran</prompt></if></block></form>")
    path = write(tmp_path, "main.vxml", """
    <form>
      <catch event="error.badfetch"><prompt><value expr="_message"/></prompt></catch>
      <block><goto next="if.vxml"/></block>
      <block><goto next="elseif.vxml"/></block>
    </form>""")
    events, _, _ = converse(path)
    assert said(events) == ["<if> at line 3 lacks its cond attribute", "<elseif> at line 3 lacks its cond attribute"]
