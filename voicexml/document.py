"""Parsing VoiceXML documents into a checked model; a cache of parsed documents keyed by content."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from .events import badfetch
from .fetch import resolve

VXML_NS = "http://www.w3.org/2001/vxml"
SRGS_NS = "http://www.w3.org/2001/06/grammar"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

# VoiceXML 2.1 elements, and the SSML elements allowed inside prompts.
VXML_ELEMENTS = frozenset(["assign", "audio", "block", "catch", "choice", "clear", "data", "disconnect", "else", "elseif", "enumerate", "error", "exit", "field", "filled", "foreach", "form", "goto", "grammar", "help", "if", "initial", "link", "log", "mark", "menu", "meta", "metadata", "noinput", "nomatch", "object", "option", "param", "prompt", "property", "record", "reprompt", "return", "script", "submit", "subdialog", "throw", "transfer", "value", "var", "vxml"])
SSML_ELEMENTS = frozenset(["break", "desc", "emphasis", "lexicon", "mark", "p", "paragraph", "phoneme", "prosody", "s", "say-as", "sentence", "sub", "voice"])
PROMPT_CONTENT = SSML_ELEMENTS | {"audio", "value", "enumerate", "foreach"}
DIALOGS = ("form", "menu")
VERSIONS = ("2.0", "2.1")  # the required <vxml version> this interpreter runs
FORM_ITEMS = frozenset(["field", "block", "initial", "subdialog", "object", "record", "transfer"])
INPUT_ITEMS = frozenset(["field", "initial", "subdialog", "object", "record", "transfer"])
# Elements whose content is executable (5.3), and elements that are never executable content.
EXECUTABLE_CONTAINERS = frozenset(["block", "filled", "catch", "error", "help", "noinput", "nomatch", "if", "foreach"])
NOT_EXECUTABLE = FORM_ITEMS | frozenset(DIALOGS) | frozenset(["vxml", "choice", "grammar", "link", "catch", "error",
                                                               "help", "noinput", "nomatch", "filled", "option", "param",
                                                               "property", "meta", "metadata"])

# Attributes of which exactly one is required (a document breaking this is an error.badfetch).
_ONE_OF = {
    "goto": ("next", "expr", "nextitem", "expritem"),
    "submit": ("next", "expr"),
    "throw": ("event", "eventexpr"),
    "subdialog": ("src", "srcexpr"),
    "choice": ("next", "expr", "event", "eventexpr"),
    "link": ("next", "expr", "event", "eventexpr"),
    "transfer": ("dest", "destexpr", None),
    "audio": ("src", "expr"),
    "script": ("src", "srcexpr", None),
    "data": ("src", "srcexpr"),
    "mark": ("name", "nameexpr"),  # 2.1 section 4
}
# Attributes of which at most one may be given (section by section of VoiceXML 2.0/2.1).
_AT_MOST_ONE = {
    "exit": (("expr", "namelist"),),
    "return": (("event", "eventexpr", "namelist"), ("message", "messageexpr")),
    "throw": (("message", "messageexpr"),),
    "choice": (("message", "messageexpr"),),
    "link": (("message", "messageexpr"),),
    "transfer": (("aai", "aaiexpr"), ("bridge", "type")),
    "param": (("expr", "value"),),
    "grammar": (("src", "srcexpr"),),
}
_REQUIRED = {"assign": ("name", "expr"), "var": ("name",), "value": ("expr",), "param": ("name",),
             "property": ("name", "value"), "foreach": ("array", "item"), "clear": (), "if": ("cond",),
             "elseif": ("cond",)}


@dataclass
class Document:
    """A parsed, checked VoiceXML document."""

    uri: str
    root: etree._Element
    base: str
    application: str | None
    dialogs: OrderedDict[str, etree._Element]
    grammar_sources: dict[etree._Element, etree._Element] = field(default_factory=dict)
    compiled: dict[tuple[str, etree._Element], object] = field(default_factory=dict)  # grammars, choice lists

    @property
    def first_dialog(self) -> etree._Element | None:
        """The document's first form or menu."""
        return next(iter(self.dialogs.values()), None)

    def resolve(self, ref: str) -> str:
        """`ref` resolved against the document's base URI (xml:base or its own URI)."""
        return resolve(self.base, ref)


def _strip(root: etree._Element) -> dict[etree._Element, etree._Element]:
    """Drop the VoiceXML namespace from tags (the model matches plain names); keep grammars intact aside."""
    grammars: dict[etree._Element, etree._Element] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in (f"{{{VXML_NS}}}grammar", "grammar", f"{{{SRGS_NS}}}grammar"):
            parent = el.getparent()
            if parent is not None and parent.tag in (f"{{{SRGS_NS}}}grammar", f"{{{SRGS_NS}}}rule"):
                continue
            grammars[el] = _copy(el)
    for el in list(root.iter()):
        if isinstance(el.tag, str) and el.tag.startswith(f"{{{VXML_NS}}}"):
            el.tag = el.tag[len(VXML_NS) + 2:]
    for el in grammars:
        el.tag = "grammar"  # an SRGS-namespaced <grammar> inside VoiceXML is a VoiceXML grammar element
    return grammars


def _copy(el: etree._Element) -> etree._Element:
    from copy import deepcopy
    return deepcopy(el)


def _check(root: etree._Element) -> None:
    if root.tag != "vxml":
        raise badfetch(f"the root element is <{etree.QName(root).localname}>, not <vxml>")
    if root.get("version") not in VERSIONS:
        raise badfetch(f"<vxml> needs version=\"2.0\" or \"2.1\", not {root.get('version')!r}")
    stack: list[tuple[etree._Element, bool]] = [(root, False)]
    while stack:
        el, in_prompt = stack.pop()
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if tag.startswith("{"):
            continue  # other namespaces (SRGS inside grammars, extensions) are not ours to judge
        if tag not in VXML_ELEMENTS and not (in_prompt and tag in SSML_ELEMENTS):
            raise badfetch(f"unknown element <{tag}> at line {el.sourceline}")
        if in_prompt and tag not in PROMPT_CONTENT:
            # Prompts hold speech markup only (2.0 4.1, 2.1 6: a <foreach> in a prompt has no executable content).
            raise badfetch(f"<{tag}> at line {el.sourceline} is not allowed in prompt content")
        if tag in _ONE_OF:
            names = _ONE_OF[tag]
            present = [a for a in names if a and el.get(a) is not None]
            optional = None in names
            if len(present) > 1 or (not present and not optional):
                raise badfetch(f"<{tag}> at line {el.sourceline} needs exactly one of {', '.join(a for a in names if a)}")
        for group in _AT_MOST_ONE.get(tag, ()):
            if sum(el.get(a) is not None for a in group) > 1:
                raise badfetch(f"<{tag}> at line {el.sourceline} may have only one of {', '.join(group)}")
        if tag in ("script", "grammar") and (el.get("src") or el.get("srcexpr")) and \
                ((el.text or "").strip() or len(el)):
            raise badfetch(f"<{tag}> at line {el.sourceline} has both a source and inline content")
        if tag == "grammar" and el.get("src") is None and el.get("srcexpr") is None and \
                not (el.text or "").strip() and not len(el):
            # 2.1 section 2: exactly one of src, srcexpr or inline content.
            raise badfetch(f"<grammar> at line {el.sourceline} has no src, srcexpr or inline content")
        count = el.get("count")
        if count is not None and not (count.strip().isdigit() and int(count) > 0):
            raise badfetch(f"<{tag}> at line {el.sourceline}: count={count!r} is not a positive integer")
        for a in _REQUIRED.get(tag, ()):
            if el.get(a) is None:
                raise badfetch(f"<{tag}> at line {el.sourceline} lacks its {a} attribute")
        if tag == "filled" and el.getparent() is not None and el.getparent().tag in INPUT_ITEMS and \
                (el.get("mode") is not None or el.get("namelist") is not None):
            # 2.4: an input item's own <filled> is about that item alone.
            raise badfetch(f"<filled> at line {el.sourceline} inside an input item may not have mode or namelist")
        if not in_prompt and el.getparent() is not None:
            parent = el.getparent().tag
            if parent in EXECUTABLE_CONTAINERS and (tag in NOT_EXECUTABLE or (tag in ("else", "elseif") and parent != "if")):
                # 5.3: a handler, <filled>, <block>, <if> or <foreach> holds executable content only; found at
                # load, not when it would run (a handler would catch its own error.badfetch again and again).
                raise badfetch(f"<{tag}> at line {el.sourceline} is not executable content, so not allowed in <{parent}>")
        if tag == "menu" and el.get("dtmf", "").strip().lower() == "true":
            # 2.2.1: with implicit keys 1-9, a choice may claim only "*", "#" or "0" for itself.
            own = [c.get("dtmf", "").strip() for c in el if c.tag == "choice" and c.get("dtmf") is not None]
            if any(k not in ("*", "#", "0") for k in own):
                raise badfetch(f"<menu dtmf=\"true\"> at line {el.sourceline} has a choice with its own dtmf key "
                               f"other than *, # or 0")
        if tag == "grammar":
            continue
        # A <foreach> holds prompt content inside a prompt and executable content elsewhere.
        child_prompt = in_prompt or tag in ("prompt", "enumerate", "audio") or tag in SSML_ELEMENTS
        stack.extend((c, child_prompt) for c in el)


def parse_document(uri: str, content: bytes) -> Document:
    """Parse and check `content` fetched from `uri`; raises `error.badfetch` for documents that are not valid."""
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as e:
        raise badfetch(f"not well-formed: {e}") from e
    grammars = _strip(root)
    _check(root)
    base = uri
    if root.get(XML_BASE):
        base = resolve(uri, root.get(XML_BASE) or "")
    app = root.get("application")
    dialogs: OrderedDict[str, etree._Element] = OrderedDict()
    for n, el in enumerate(c for c in root if c.tag in DIALOGS):
        did = el.get("id") or f"__dialog{n}"
        if did in dialogs:
            raise badfetch(f"two dialogs share the id {did!r}")
        dialogs[did] = el
    _name_items(dialogs.values())
    return Document(uri=uri, root=root, base=base, application=resolve(base, app) if app else None,
                    dialogs=dialogs, grammar_sources=grammars)


def _name_items(dialogs: Iterable[etree._Element]) -> None:
    """Give anonymous form items internal names; names are unique in a form, filled namelists name its items."""
    for d in dialogs:
        seen: set[str] = set()
        for n, item in enumerate(c for c in d if c.tag in FORM_ITEMS):
            name = item.get("name")
            if name is None:
                item.set("name", f"$item{n}")
                item.set("__anonymous", "1")
            elif name in seen:
                raise badfetch(f"two form items are named {name!r}")
            seen.add(name)
        for filled in (c for c in d if c.tag == "filled"):
            unknown = [n for n in (filled.get("namelist") or "").split() if n not in seen]
            if unknown:
                raise badfetch(f"<filled namelist> names no form item: {', '.join(unknown)}")


class DocumentCache:
    """Parsed documents keyed by URI and content digest; parsed trees are shared read-only between sessions."""

    def __init__(self, entries: int = 128) -> None:
        self._docs: OrderedDict[tuple[str, bytes], Document] = OrderedDict()
        self._entries = entries
        self._lock = threading.Lock()

    def get(self, uri: str, content: bytes) -> Document:
        """The parsed document for `content`, parsing it only the first time."""
        key = (uri, hashlib.blake2b(content, digest_size=16).digest())
        with self._lock:
            doc = self._docs.get(key)
            if doc is not None:
                self._docs.move_to_end(key)
                return doc
        doc = parse_document(uri, content)
        with self._lock:
            self._docs[key] = doc
            while len(self._docs) > self._entries:
                self._docs.popitem(last=False)
        return doc
