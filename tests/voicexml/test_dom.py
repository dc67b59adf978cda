"""2.1 `<data>`: the document's DOM (DOM Level 2 Core subset): nodes around the root, CDATA sections, read-only."""
from __future__ import annotations

from tests.voicexml.talk import converse, said, write


def test_comments_and_processing_instructions_around_the_root_are_children_of_the_document(tmp_path):
    (tmp_path / "d.xml").write_text('<?xml version="1.0"?>\n<!-- head -->\n<?style sheet?>\n<r><x/></r>\n<!-- tail -->\n')
    body = """
    <form><block>
      <data name="d" src="d.xml"/>
      <prompt><value expr="d.childNodes.length"/> <value expr="d.firstChild.nodeType"/> <value expr="d.firstChild.data"/>
        <value expr="d.childNodes.item(1).nodeType"/> <value expr="d.childNodes.item(1).target"/>
        <value expr="d.childNodes.item(1).data"/> <value expr="d.childNodes.item(2) === d.documentElement"/>
        <value expr="d.documentElement.previousSibling.nodeName"/> <value expr="d.lastChild.data"/>
        <value expr="d.lastChild.previousSibling.nodeName"/> <value expr="d.firstChild.parentNode === d"/></prompt>
    </block></form>
    """
    events, _, _ = converse(write(tmp_path, "d.vxml", body))
    assert said(events) == ["4 8 head 7 style sheet true style tail r true"]


def test_cdata_sections_are_cdata_section_nodes(tmp_path):
    (tmp_path / "c.xml").write_text("<r>a<![CDATA[<b> & c]]>d<![CDATA[]]><i>e</i></r>")
    body = """
    <form><block>
      <data name="d" src="c.xml"/>
      <var name="r" expr="d.documentElement"/>
      <var name="c" expr="r.childNodes.item(1)"/>
      <prompt><value expr="r.childNodes.length"/> <value expr="c.nodeType"/> <value expr="c.nodeName"/>
        [<value expr="c.data"/>] <value expr="c.length"/> <value expr="r.firstChild.nodeValue"/>
        <value expr="c.nextSibling.nodeName"/> <value expr="r.childNodes.item(3).nodeType"/>
        [<value expr="r.childNodes.item(3).data"/>] [<value expr="r.textContent"/>]</prompt>
    </block></form>
    """
    events, _, _ = converse(write(tmp_path, "d.vxml", body))
    assert said(events) == ["5 4 #cdata-section [<b> & c] 7 a #text 4 [] [a<b> & cde]"]


def test_the_dom_is_read_only(tmp_path):
    # DOM Level 2 Core: setting nodeValue, data or value of a read-only node and every method that would change the
    # tree raise NO_MODIFICATION_ALLOWED_ERR (code 7); readonly attributes and a null nodeValue ignore assignment.
    (tmp_path / "r.xml").write_text('<r v="1">text<!-- c --><?pi d?><e/></r>')
    body = """
    <catch event="error.semantic"><prompt>semantic</prompt></catch>
    <form>
      <data name="d" src="r.xml"/>
      <var name="r" expr="d.documentElement"/>
      <var name="codes" expr="[]"/>
      <block>
        <script><![CDATA[
          var t = r.firstChild, attr = r.getAttributeNode('v');
          var writes = [
            function () { t.nodeValue = 'x'; }, function () { t.data = 'x'; },
            function () { r.childNodes.item(1).data = 'x'; }, function () { r.childNodes.item(2).data = 'x'; },
            function () { attr.value = 'x'; }, function () { attr.nodeValue = 'x'; }, function () { r.prefix = 'p'; },
            function () { r.appendChild(t); }, function () { r.insertBefore(t, null); },
            function () { r.replaceChild(t, r.lastChild); }, function () { r.removeChild(t); },
            function () { r.setAttribute('v', '2'); }, function () { r.removeAttribute('v'); },
            function () { r.setAttributeNS(null, 'v', '2'); }, function () { r.removeAttributeNode(attr); },
            function () { r.attributes.removeNamedItem('v'); }, function () { t.appendData('x'); },
            function () { t.deleteData(0, 1); }, function () { t.splitText(1); }
          ];
          for (var i = 0; i < writes.length; i++) {
            try { writes[i](); codes.push('none'); } catch (e) { codes.push(e.code); }
          }
          r.nodeValue = 'ignored'; r.nodeName = 'x'; r.tagName = 'x'; r.firstChild = null; d.documentElement = null;
          r.childNodes[0] = null; r.attributes[0] = null; t.length = 0;
        ]]></script>
        <prompt><value expr="codes.join(' ')"/></prompt>
        <prompt><value expr="r.nodeName"/> <value expr="r.tagName"/> <value expr="r.nodeValue"/>
          <value expr="t.data"/> <value expr="t.nodeValue"/> <value expr="t.length"/> <value expr="attr.value"/>
          <value expr="r.getAttribute('v')"/> <value expr="r.childNodes.length"/> <value expr="r.firstChild === t"/>
          <value expr="d.documentElement === r"/> <value expr="r.childNodes.item(1).data"/> <value expr="r.prefix"/></prompt>
      </block>
      <block><script>r.removeChild(r.firstChild);</script></block>
      <block><prompt><value expr="r.firstChild.data"/></prompt></block>
    </form>
    """
    events, _, _ = converse(write(tmp_path, "d.vxml", body))
    assert said(events) == [" ".join(["7"] * 19), "r r null text text 4 1 1 4 true true c null", "semantic", "text"]


def test_entities_external_ones_are_never_loaded_and_bombs_are_a_badfetch(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    (tmp_path / "ext.xml").write_text(f'<!DOCTYPE l [<!ENTITY s SYSTEM "{secret.as_uri()}">]><l>[&s;]</l>')
    (tmp_path / "int.xml").write_text('<!DOCTYPE l [<!ENTITY s "small">]><l>[&s;] &lt;&#65;&gt;</l>')
    bomb = "".join(f'<!ENTITY e{i + 1} "' + f"&e{i};" * 10 + '">' for i in range(9))
    (tmp_path / "bomb.xml").write_text(f'<!DOCTYPE l [<!ENTITY e0 "xxxxxxxxxx">{bomb}]><l>&e9;</l>')
    body = """
    <catch event="error.badfetch"><prompt>badfetch</prompt></catch>
    <form>
      <block><data name="d" src="ext.xml"/><prompt><value expr="d.documentElement.textContent"/></prompt></block>
      <block><data name="d" src="int.xml"/><prompt><value expr="d.documentElement.textContent"/></prompt></block>
      <block><data name="d" src="bomb.xml"/><prompt>expanded</prompt></block>
    </form>
    """
    events, outcome, _ = converse(write(tmp_path, "d.vxml", body))
    assert said(events) == ["[]", "[small] <A>", "badfetch"]
    assert outcome.status == "exit"
