"""2.1 `<data>`: the fetched XML as the read-only subset of DOM Level 2 Core that VoiceXML 2.1 (Appendix D)
asks for, built in the session's ECMAScript context from a JSON description of the lxml tree.

The description is plain data (no code from the document runs), so a hostile XML file can only be large, and
the fetcher's size limit bounds that.
"""
from __future__ import annotations

from typing import Any

from lxml import etree

ELEMENT, ATTRIBUTE, TEXT, PI, COMMENT, DOCUMENT = 1, 2, 3, 7, 8, 9

# One function, `__dom(description)`, returning a Document. Names start with `__` so documents cannot reach them.
DOM_JS = r"""
var __dom = (function () {
  function list(a) { a.item = function (i) { return (i >= 0 && i < this.length) ? this[i] : null; }; return a; }
  function Node() {}
  Node.prototype.hasChildNodes = function () { return this.childNodes.length > 0; };
  Node.prototype.hasAttributes = function () { return !!this.attributes && this.attributes.length > 0; };
  Object.defineProperty(Node.prototype, "firstChild", {get: function () { return this.childNodes[0] || null; }});
  Object.defineProperty(Node.prototype, "lastChild", {get: function () {
    return this.childNodes[this.childNodes.length - 1] || null; }});
  Object.defineProperty(Node.prototype, "textContent", {get: function () {
    if (this.nodeType === 3 || this.nodeType === 8 || this.nodeType === 7) return this.nodeValue;
    var s = ""; for (var i = 0; i < this.childNodes.length; i++) {
      var c = this.childNodes[i]; if (c.nodeType === 1 || c.nodeType === 3) s += c.textContent; }
    return s; }});
  function byName(root, test) {
    var out = [];
    (function walk(node) { for (var i = 0; i < node.childNodes.length; i++) { var c = node.childNodes[i];
      if (c.nodeType === 1) { if (test(c)) out.push(c); walk(c); } } })(root);
    return list(out);
  }
  function nameTest(n) { return function (e) { return n === "*" || e.nodeName === n; }; }
  function nsTest(ns, local) { return function (e) {
    return (ns === "*" || e.namespaceURI === (ns === "" ? null : ns)) && (local === "*" || e.localName === local); }; }
  function named(attrs) {
    attrs.getNamedItem = function (n) { for (var i = 0; i < this.length; i++) if (this[i].name === n) return this[i];
      return null; };
    attrs.getNamedItemNS = function (ns, local) { ns = ns === "" ? null : ns;
      for (var i = 0; i < this.length; i++) if (this[i].namespaceURI === ns && this[i].localName === local) return this[i];
      return null; };
    return list(attrs);
  }
  function setup(node, type, name, parent, doc) {
    node.nodeType = type; node.nodeName = name; node.parentNode = parent; node.ownerDocument = doc;
    node.namespaceURI = null; node.prefix = null; node.localName = null; node.attributes = null;
    node.previousSibling = null; node.nextSibling = null; node.childNodes = list([]);
  }
  function Char(type, name, value, parent, doc) {
    setup(this, type, name, parent, doc);
    this.nodeValue = this.data = value; this.length = value.length;
  }
  Char.prototype = Object.create(Node.prototype);
  Char.prototype.substringData = function (offset, count) { return this.data.substr(offset, count); };
  function Attr(a, owner, doc) {
    setup(this, 2, a.q, null, doc);
    this.name = a.q; this.value = this.nodeValue = a.v; this.specified = true; this.ownerElement = owner;
    this.localName = a.l; this.prefix = a.p; this.namespaceURI = a.n;
  }
  Attr.prototype = Object.create(Node.prototype);
  function Element(t, parent, doc) {
    setup(this, 1, t.q, parent, doc);
    this.tagName = t.q; this.nodeValue = null; this.localName = t.l; this.prefix = t.p; this.namespaceURI = t.n;
    var attrs = []; for (var i = 0; i < t.a.length; i++) attrs.push(new Attr(t.a[i], this, doc));
    this.attributes = named(attrs);
    var kids = [];
    for (var j = 0; j < t.c.length; j++) {
      var c = t.c[j];
      kids.push(typeof c === "string" ? new Char(3, "#text", c, this, doc)
        : c.k === 8 ? new Char(8, "#comment", c.v, this, doc)
        : c.k === 7 ? new Char(7, c.t, c.v, this, doc) : new Element(c, this, doc));
    }
    for (var k = 0; k < kids.length; k++) { kids[k].previousSibling = kids[k - 1] || null;
      kids[k].nextSibling = kids[k + 1] || null; }
    this.childNodes = list(kids);
  }
  Element.prototype = Object.create(Node.prototype);
  Element.prototype.getAttribute = function (n) { var a = this.attributes.getNamedItem(n); return a ? a.value : ""; };
  Element.prototype.getAttributeNS = function (ns, l) { var a = this.attributes.getNamedItemNS(ns, l);
    return a ? a.value : ""; };
  Element.prototype.getAttributeNode = function (n) { return this.attributes.getNamedItem(n); };
  Element.prototype.getAttributeNodeNS = function (ns, l) { return this.attributes.getNamedItemNS(ns, l); };
  Element.prototype.hasAttribute = function (n) { return this.attributes.getNamedItem(n) !== null; };
  Element.prototype.hasAttributeNS = function (ns, l) { return this.attributes.getNamedItemNS(ns, l) !== null; };
  Element.prototype.getElementsByTagName = function (n) { return byName(this, nameTest(n)); };
  Element.prototype.getElementsByTagNameNS = function (ns, l) { return byName(this, nsTest(ns, l)); };
  function Document(tree) {
    setup(this, 9, "#document", null, null);
    this.nodeValue = null; this.doctype = null;
    this.documentElement = new Element(tree, this, this);
    this.childNodes = list([this.documentElement]);
  }
  Document.prototype = Object.create(Node.prototype);
  Document.prototype.getElementsByTagName = function (n) { return byName(this, nameTest(n)); };
  Document.prototype.getElementsByTagNameNS = function (ns, l) { return byName(this, nsTest(ns, l)); };
  Document.prototype.getElementById = function () { return null; };  // no DTD, so no attribute is of type ID
  return function (tree) { return new Document(tree); };
})();
"""


def describe(el: etree._Element) -> dict[str, Any]:
    """An element as the plain data `__dom` builds nodes from: qualified name, local name, prefix, namespace,
    attributes and children (text as strings, comments and processing instructions as small objects)."""
    children: list[Any] = []
    if el.text:
        children.append(el.text)
    for c in el:
        if isinstance(c, etree._Comment):
            children.append({"k": COMMENT, "v": c.text or ""})
        elif isinstance(c, etree._ProcessingInstruction):
            children.append({"k": PI, "t": c.target, "v": c.text or ""})
        elif isinstance(c.tag, str):
            children.append(describe(c))
        if c.tail:
            children.append(c.tail)
    qname = etree.QName(el)
    return {"q": _qualified(el, el.tag), "l": qname.localname, "p": el.prefix, "n": qname.namespace,
            "a": [_attribute(el, k, v) for k, v in el.attrib.items()], "c": children}


def _attribute(el: etree._Element, key: str, value: str) -> dict[str, Any]:
    q = etree.QName(key)
    prefix = _prefix_of(el, q.namespace) if q.namespace else None
    return {"q": f"{prefix}:{q.localname}" if prefix else q.localname, "l": q.localname, "p": prefix,
            "n": q.namespace, "v": value}


def _qualified(el: etree._Element, tag: str) -> str:
    local = etree.QName(tag).localname
    return f"{el.prefix}:{local}" if el.prefix else local


def _prefix_of(el: etree._Element, namespace: str) -> str | None:
    if namespace == "http://www.w3.org/XML/1998/namespace":
        return "xml"
    for prefix, uri in el.nsmap.items():
        if uri == namespace and prefix:
            return str(prefix)
    return None
