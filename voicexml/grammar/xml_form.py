"""The SRGS 1.0 XML form (application/srgs+xml) into the grammar model."""
from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urldefrag, urljoin

from lxml import etree

from .errors import GrammarError
from .grammar import Grammar, GrammarSettings
from .nodes import SPECIALS, Node, Repeat, Rule, RuleRef, Tag, Token, make_one_of, make_sequence
from .tokens import split_tokens, token_words

SRGS_NS = "http://www.w3.org/2001/06/grammar"
VXML_NS = "http://www.w3.org/2001/vxml"
XML_NS = "http://www.w3.org/XML/1998/namespace"
# Inline grammars in a VoiceXML document are in its namespace (or none, in sloppy documents).
_OURS = {SRGS_NS, VXML_NS, None}
_IGNORED = {"example", "lexicon", "meta", "metadata"}
_REPEAT = re.compile(r"^\s*(\d+)\s*(?:(-)\s*(\d*)\s*)?$")
_XML_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?)encoding=["'][^"']*["']""")
_RULE_NAME = re.compile(r"^[^\s#.:/]+$")


def local_name(el: Any) -> str | None:
    """The element's local name when it is an SRGS (or VoiceXML, or no-namespace) element, else None."""
    if not isinstance(el.tag, str):
        return None  # comment or processing instruction
    q = etree.QName(el)
    return q.localname if q.namespace in _OURS else None


def parse_repeat(value: str) -> tuple[int, int | None]:
    """Parse an SRGS repeat ("3", "2-5", "1-", "0-1") into (min, max or None)."""
    m = _REPEAT.match(value)
    if not m:
        raise GrammarError(f"invalid repeat {value!r}: use n, n-m or n-", code="invalid")
    low = int(m.group(1))
    if not m.group(2):
        return low, low
    high = int(m.group(3)) if m.group(3) else None
    if high is not None and high < low:
        raise GrammarError(f"invalid repeat {value!r}: the maximum is below the minimum", code="invalid")
    return low, high


def parse_float(value: str, what: str, *, low: float, high: float | None = None) -> float:
    """A float attribute within bounds, or a GrammarError naming it."""
    try:
        number = float(value)
    except ValueError:
        raise GrammarError(f"invalid {what} {value!r}: not a number", code="invalid") from None
    if not math.isfinite(number) or number < low or (high is not None and number > high):
        raise GrammarError(f"invalid {what} {value!r}", code="invalid")
    return number


class _XmlParser:
    def __init__(self, key: str, base_uri: str | None, mode: str) -> None:
        self.key = key
        self.base_uri = base_uri
        self.mode = mode

    def tokens(self, text: str | None) -> list[Node]:
        out: list[Node] = []
        for tok in split_tokens(text or ""):
            out += self.token(tok)
        return out

    def token(self, text: str) -> list[Node]:
        words = token_words(text, self.mode)
        if words is None:
            raise GrammarError(f"{text!r} is not a DTMF token (use 0-9, *, #, A-D)", code="invalid")
        return [Token(tuple(words))] if words else []

    def expansion(self, el: Any) -> Node:
        """The mixed content of a rule or item as one node."""
        items: list[Node] = self.tokens(el.text)
        for child in el:
            name = local_name(child)
            if name is None:
                pass  # comments and other namespaces' elements are not part of the expansion
            elif name == "item":
                items.append(self.item(child))
            elif name == "one-of":
                items.append(self.one_of(child))
            elif name == "ruleref":
                items.append(self.ruleref(child))
            elif name == "token":
                items += self.token("".join(child.itertext()))
            elif name == "tag":
                items.append(Tag("".join(child.itertext())))
            elif name not in _IGNORED:
                raise GrammarError(f"unexpected element <{name}> in <{local_name(el)}>", code="invalid")
            items += self.tokens(child.tail)
        return make_sequence(items)

    def item(self, el: Any) -> Node:
        body = self.expansion(el)
        repeat = el.get("repeat")
        if repeat is None:
            return body
        low, high = parse_repeat(repeat)
        prob = el.get("repeat-prob")
        p = parse_float(prob, "repeat-prob", low=0.0, high=1.0) if prob is not None else None
        if low == 1 and high == 1:
            return body
        return Repeat(body, low, high, p)

    def one_of(self, el: Any) -> Node:
        if (el.text or "").strip():
            raise GrammarError(f"text {el.text.strip()!r} directly in <one-of>: wrap it in <item>", code="invalid")
        items: list[Node] = []
        weights: list[float] = []
        for child in el:
            name = local_name(child)
            if name == "item":
                items.append(self.item(child))
                w = child.get("weight")
                weights.append(parse_float(w, "weight", low=0.0) if w is not None else 1.0)
            elif name is not None and name not in _IGNORED:
                raise GrammarError(f"<one-of> may contain only <item>, not <{name}>", code="invalid")
            if (child.tail or "").strip():
                raise GrammarError(f"text {child.tail.strip()!r} directly in <one-of>: wrap it in <item>",
                                   code="invalid")
        if not items:
            raise GrammarError("<one-of> needs at least one <item>", code="invalid")
        return make_one_of(items, weights)

    def ruleref(self, el: Any) -> Node:
        uri, special = el.get("uri"), el.get("special")
        if (uri is None) == (special is None):
            raise GrammarError("<ruleref> needs exactly one of uri and special", code="invalid")
        if special is not None:
            if special not in SPECIALS:
                raise GrammarError(f"unknown special rule {special!r} (NULL, VOID or GARBAGE)", code="invalid")
            return SPECIALS[special]
        return rule_reference(uri, self.key, self.base_uri)


def rule_reference(uri: str, key: str, base_uri: str | None) -> RuleRef:
    """A RuleRef for `#rule`, `uri#rule`, `uri` or `builtin:...` relative to the grammar `key`."""
    uri = uri.strip()
    if not uri:
        raise GrammarError("empty rule reference", code="invalid")
    if uri.startswith("#"):
        return RuleRef(key, uri[1:])
    if uri.startswith("builtin:"):
        return RuleRef(uri, "")
    target, fragment = urldefrag(urljoin(base_uri or "", uri))
    if target == key:
        return RuleRef(key, fragment)
    return RuleRef(target, fragment)


def grammar_from_element(el: Any, *, key: str, base_uri: str | None,
                         settings: GrammarSettings | None) -> Grammar:
    """Build a Grammar from a `<grammar>` element (SRGS, or inline in VoiceXML)."""
    if local_name(el) != "grammar":
        raise GrammarError(f"the document element is <{etree.QName(el).localname}>, not <grammar>", code="invalid")
    mode = el.get("mode", "voice")
    if mode not in ("voice", "dtmf"):
        raise GrammarError(f"mode must be 'voice' or 'dtmf', not {mode!r}", code="invalid")
    xml_base = el.get(f"{{{XML_NS}}}base")
    if xml_base:
        base_uri = urljoin(base_uri or "", xml_base)
    parser = _XmlParser(key, base_uri, mode)
    rules: dict[str, Rule] = {}
    header_tags: list[str] = []
    first: str | None = None
    if (el.text or "").strip():
        raise GrammarError(f"text {el.text.strip()[:40]!r} outside any <rule>", code="invalid")
    for child in el:
        name = local_name(child)
        if name == "rule":
            rid = child.get("id")
            if not rid or not _RULE_NAME.match(rid) or rid in SPECIALS:
                raise GrammarError(f"<rule> needs a valid id, not {rid!r}", code="invalid")
            if rid in rules:
                raise GrammarError(f"rule {rid!r} is defined twice", code="invalid")
            scope = child.get("scope", "private")
            if scope not in ("public", "private"):
                raise GrammarError(f"rule {rid!r}: scope must be public or private, not {scope!r}",
                                   code="invalid")
            rules[rid] = Rule(rid, parser.expansion(child), scope)
            first = first or rid
        elif name == "tag":
            if rules:
                raise GrammarError("a <tag> in the grammar header must come before the rules", code="invalid")
            header_tags.append("".join(child.itertext()))  # SISR global declarations
        elif name is not None and name not in _IGNORED:
            raise GrammarError(f"unexpected element <{name}> in <grammar>", code="invalid")
        if (child.tail or "").strip():
            raise GrammarError(f"text {child.tail.strip()[:40]!r} outside any <rule>", code="invalid")
    if not rules:
        raise GrammarError("the grammar defines no rules", code="invalid")
    root = el.get("root") or first
    if root not in rules:
        raise GrammarError(f"the root rule {root!r} is not defined", code="undefined_rule")
    tag_format = el.get("tag-format")
    return Grammar(rules=rules, root=root, mode=mode, lang=el.get(f"{{{XML_NS}}}lang"),
                   tag_format=tag_format.strip() if tag_format else None, key=key, base_uri=base_uri,
                   settings=settings, root_declared=bool(el.get("root")), header_tags=tuple(header_tags))


def parse_xml_bytes(data: bytes | str) -> Any:
    """Parse XML text safely (no network, no entity expansion) into its root element."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        if isinstance(data, str):
            # Already decoded text: its declaration's encoding no longer applies, UTF-8 does.
            data = _XML_ENCODING.sub(r'\1encoding="UTF-8"', data, count=1).encode("utf-8")
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise GrammarError(f"the grammar is not well-formed XML: {e}", code="syntax") from e

