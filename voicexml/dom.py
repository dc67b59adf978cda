"""2.1 `<data>`: the fetched XML as the read-only subset of DOM Level 2 Core that VoiceXML 2.1 (Appendix D)
asks for, built in the session's ECMAScript context from a flat JSON description of the document.

The description is plain data (no code from the document runs), so a hostile XML file can only be large, and
the fetcher's size limit bounds that. It is read with expat, which reports what the DOM needs and lxml's tree
does not keep apart: CDATA sections, and comments and processing instructions around the root element. expat
loads no external entities and refuses entity expansion bombs (its amplification limit). Nodes are listed in
document order with their parent's index, so neither the description nor the building of the DOM recurses.
"""
from __future__ import annotations

from typing import Any
from xml.parsers import expat

ELEMENT, TEXT, CDATA, PI, COMMENT = 1, 3, 4, 7, 8  # DOM nodeType values
_SEP = "\x1f"  # between namespace, local name and prefix in expat's names: no XML 1.0 document can contain it

# One function, `__dom(description)`, returning a Document. Names start with `__` so documents cannot reach them.
# Read-only as DOM Level 2 Core says for read-only nodes: setting nodeValue, data, value or prefix where they are
# not null, or calling a method that would change the tree, throws a DOMException NO_MODIFICATION_ALLOWED_ERR
# (code 7); every other attribute is a readonly attribute, which ECMAScript assignment leaves unchanged.
DOM_JS = r"""
var __dom = (function () {
  function DOMException(code, message) { this.code = code; this.message = message; }
  DOMException.prototype = Object.create(Error.prototype);
  DOMException.prototype.constructor = DOMException;
  DOMException.prototype.name = "DOMException";
  DOMException.prototype.NO_MODIFICATION_ALLOWED_ERR = DOMException.NO_MODIFICATION_ALLOWED_ERR = 7;
  function readOnly() {
    throw new DOMException(7, "NO_MODIFICATION_ALLOWED_ERR: the DOM of <data> is read-only");
  }
  function item(i) { return (i >= 0 && i < this.length) ? this[i] : null; }
  function list(a) { a.item = item; return Object.freeze(a); }
  var EMPTY = list([]);
  function accessor(proto, name, get, set) {
    Object.defineProperty(proto, name, {get: get, set: set || readOnly, enumerable: true});
  }
  // nodeValue and prefix live in hidden non-writable properties behind accessors, so that writes can be refused.
  function value() { return this.__v; }
  function Node() {}
  accessor(Node.prototype, "nodeValue", value, function () {
    if (this.__v !== null) readOnly();  // "when it is defined to be null, setting it has no effect"
  });
  accessor(Node.prototype, "prefix", function () { return this.__p; }, function () {
    if (this.nodeType === 1 || this.nodeType === 2) readOnly();
  });
  accessor(Node.prototype, "firstChild", function () { return this.childNodes[0] || null; }, function () {});
  accessor(Node.prototype, "lastChild", function () {
    return this.childNodes[this.childNodes.length - 1] || null; }, function () {});
  accessor(Node.prototype, "textContent", function () {
    if (this.nodeType !== 1 && this.nodeType !== 9) return this.nodeValue;
    var s = "", stack = [this];
    while (stack.length) {
      var n = stack.pop();
      if (n.nodeType === 3 || n.nodeType === 4) s += n.nodeValue;
      for (var i = n.childNodes.length - 1; i >= 0; i--) stack.push(n.childNodes[i]);
    }
    return s; });
  Node.prototype.hasChildNodes = function () { return this.childNodes.length > 0; };
  Node.prototype.hasAttributes = function () { return !!this.attributes && this.attributes.length > 0; };
  Node.prototype.appendChild = Node.prototype.insertBefore = Node.prototype.replaceChild =
    Node.prototype.removeChild = readOnly;
  function setup(node, type, name, parent, doc, v, p) {
    Object.defineProperty(node, "__v", {value: v});
    Object.defineProperty(node, "__p", {value: p});
    node.nodeType = type; node.nodeName = name; node.parentNode = parent; node.ownerDocument = doc;
    node.namespaceURI = null; node.localName = null; node.attributes = null;
    node.previousSibling = null; node.nextSibling = null; node.childNodes = EMPTY;
  }
  function CharacterData(type, name, v, parent, doc) {
    setup(this, type, name, parent, doc, v, null);
    this.length = v.length;
  }
  CharacterData.prototype = Object.create(Node.prototype);
  accessor(CharacterData.prototype, "data", value);
  CharacterData.prototype.substringData = function (offset, count) { return this.data.substr(offset, count); };
  CharacterData.prototype.appendData = CharacterData.prototype.insertData = CharacterData.prototype.deleteData =
    CharacterData.prototype.replaceData = CharacterData.prototype.splitText = readOnly;
  function ProcessingInstruction(d, parent, doc) {
    setup(this, 7, d.t, parent, doc, d.v, null);
    this.target = d.t;
  }
  ProcessingInstruction.prototype = Object.create(Node.prototype);
  accessor(ProcessingInstruction.prototype, "data", value);
  function Attr(a, owner, doc) {
    setup(this, 2, a.q, null, doc, a.v, a.p);
    this.name = a.q; this.specified = true; this.ownerElement = owner;
    this.localName = a.l; this.namespaceURI = a.n;
  }
  Attr.prototype = Object.create(Node.prototype);
  accessor(Attr.prototype, "value", value);
  function getNamedItem(n) { for (var i = 0; i < this.length; i++) if (this[i].name === n) return this[i];
    return null; }
  function getNamedItemNS(ns, local) { ns = ns === "" ? null : ns;
    for (var i = 0; i < this.length; i++) {
      if (this[i].namespaceURI === ns && this[i].localName === local) return this[i];
    }
    return null; }
  function named(attrs) {
    attrs.getNamedItem = getNamedItem; attrs.getNamedItemNS = getNamedItemNS;
    attrs.setNamedItem = attrs.removeNamedItem = attrs.setNamedItemNS = attrs.removeNamedItemNS = readOnly;
    return list(attrs);
  }
  function Element(d, parent, doc) {
    setup(this, 1, d.q, parent, doc, null, d.p);
    this.tagName = d.q; this.localName = d.l; this.namespaceURI = d.n;
    var attrs = []; for (var i = 0; i < d.a.length; i++) attrs.push(Object.freeze(new Attr(d.a[i], this, doc)));
    this.attributes = named(attrs);
  }
  Element.prototype = Object.create(Node.prototype);
  Element.prototype.getAttribute = function (n) { var a = this.attributes.getNamedItem(n); return a ? a.value : ""; };
  Element.prototype.getAttributeNS = function (ns, l) { var a = this.attributes.getNamedItemNS(ns, l);
    return a ? a.value : ""; };
  Element.prototype.getAttributeNode = function (n) { return this.attributes.getNamedItem(n); };
  Element.prototype.getAttributeNodeNS = function (ns, l) { return this.attributes.getNamedItemNS(ns, l); };
  Element.prototype.hasAttribute = function (n) { return this.attributes.getNamedItem(n) !== null; };
  Element.prototype.hasAttributeNS = function (ns, l) { return this.attributes.getNamedItemNS(ns, l) !== null; };
  Element.prototype.setAttribute = Element.prototype.removeAttribute = Element.prototype.setAttributeNode =
    Element.prototype.removeAttributeNode = Element.prototype.setAttributeNS = Element.prototype.removeAttributeNS =
    Element.prototype.setAttributeNodeNS = readOnly;
  function byName(root, test) {
    var out = [], stack = [root];
    while (stack.length) {
      var n = stack.pop();
      if (n !== root && test(n)) out.push(n);
      for (var i = n.childNodes.length - 1; i >= 0; i--) {
        if (n.childNodes[i].nodeType === 1) stack.push(n.childNodes[i]);
      }
    }
    return list(out);
  }
  function nameTest(n) { return function (e) { return n === "*" || e.nodeName === n; }; }
  function nsTest(ns, local) { return function (e) {
    return (ns === "*" || e.namespaceURI === (ns === "" ? null : ns)) && (local === "*" || e.localName === local); }; }
  Element.prototype.getElementsByTagName = function (n) { return byName(this, nameTest(n)); };
  Element.prototype.getElementsByTagNameNS = function (ns, l) { return byName(this, nsTest(ns, l)); };
  function Document() {
    setup(this, 9, "#document", null, null, null, null);
    this.doctype = null; this.documentElement = null;
  }
  Document.prototype = Object.create(Node.prototype);
  Document.prototype.getElementsByTagName = Element.prototype.getElementsByTagName;
  Document.prototype.getElementsByTagNameNS = Element.prototype.getElementsByTagNameNS;
  Document.prototype.getElementById = function () { return null; };  // no DTD, so no attribute is of type ID
  [DOMException, Node, CharacterData, ProcessingInstruction, Attr, Element, Document].forEach(function (c) {
    Object.freeze(c.prototype); Object.freeze(c); });
  var NAMES = {3: "#text", 4: "#cdata-section", 8: "#comment"};
  return function (flat) {
    var doc = new Document(), nodes = [doc], kids = [[]];
    for (var i = 0; i < flat.length; i++) {
      var d = flat[i], parent = nodes[d.up + 1];
      var node = d.k === 1 ? new Element(d, parent, doc) : d.k === 7 ? new ProcessingInstruction(d, parent, doc)
        : new CharacterData(d.k, NAMES[d.k], d.v, parent, doc);
      if (d.k === 1 && parent === doc) doc.documentElement = node;
      nodes.push(node); kids.push([]); kids[d.up + 1].push(node);
    }
    for (var j = 0; j < nodes.length; j++) {
      var k = kids[j];
      for (var m = 0; m < k.length; m++) {
        k[m].previousSibling = k[m - 1] || null; k[m].nextSibling = k[m + 1] || null;
      }
      if (k.length) nodes[j].childNodes = list(k);
    }
    nodes.forEach(Object.freeze);
    return doc;
  };
})();
"""


def describe(content: bytes) -> list[dict[str, Any]]:
    """The document's nodes in document order as plain data for `__dom`: each with its kind `k`, the index `up` of
    its parent (-1: the document) and, for elements, qualified name, local name, prefix, namespace and attributes;
    for character data and processing instructions, its text. Raises ValueError for XML that is not well-formed."""
    nodes: list[dict[str, Any]] = []
    open_elements = [-1]
    in_cdata = False

    def add(node: dict[str, Any]) -> None:
        node["up"] = open_elements[-1]
        nodes.append(node)

    def start(name: str, attrs: list[str]) -> None:
        add({"k": ELEMENT, **_names(name),
             "a": [{**_names(k), "v": v} for k, v in zip(attrs[::2], attrs[1::2], strict=True)]})
        open_elements.append(len(nodes) - 1)

    def end(name: str) -> None:
        open_elements.pop()

    def text(data: str) -> None:
        if len(open_elements) == 1:
            return  # white space around the root element is not part of the document's tree
        last = nodes[-1]
        if in_cdata or (last["k"] == TEXT and last["up"] == open_elements[-1]):
            last["v"] += data  # the CDATA section being read, or the text node it continues
        else:
            add({"k": TEXT, "v": data})

    def cdata(starts: bool) -> None:
        nonlocal in_cdata
        in_cdata = starts
        if starts:
            add({"k": CDATA, "v": ""})

    parser = expat.ParserCreate(namespace_separator=_SEP)
    parser.namespace_prefixes = True
    parser.ordered_attributes = True
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartCdataSectionHandler = lambda: cdata(True)
    parser.EndCdataSectionHandler = lambda: cdata(False)
    parser.CommentHandler = lambda data: add({"k": COMMENT, "v": data})
    parser.ProcessingInstructionHandler = lambda target, data: add({"k": PI, "t": target, "v": data})
    try:
        parser.Parse(content, True)
    except expat.ExpatError as e:
        raise ValueError(f"not well-formed XML: {e}") from e
    return nodes


def _names(expat_name: str) -> dict[str, Any]:
    """expat's `namespace<SEP>local<SEP>prefix` (or `local`) as qualified name, local name, prefix, namespace."""
    parts = expat_name.split(_SEP)
    if len(parts) == 1:
        return {"q": expat_name, "l": expat_name, "p": None, "n": None}
    namespace, local, prefix = parts[0], parts[1], parts[2] if len(parts) > 2 else None
    return {"q": f"{prefix}:{local}" if prefix else local, "l": local, "p": prefix, "n": namespace}
