"""The SRGS 1.0 ABNF form (application/srgs) into the grammar model.

A small recursive-descent parser over the text: the self-identifying header (``#ABNF 1.0;``), then
declarations (``language``, ``mode``, ``root``, ``tag-format``, ``base``, ``lexicon``, ``meta``,
``http-equiv``, header tags), then rules ``[public|private] $name = expansion;``. Expansions:
alternatives ``a | /2/ b``, groups ``( )``, optionals ``[ ]``, repeats ``<n>``, ``<n-m>``, ``<n->`` (with
an optional ``/prob/``), references ``$rule``, ``$<uri>``, ``$<uri#rule>``, ``$NULL``, ``$VOID``,
``$GARBAGE``, tags ``{...}`` and ``{!{...}!}``, tokens bare or ``"quoted"``, language attachments
``!en-US`` (ignored), and ``//`` and ``/* */`` comments.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin

from .errors import GrammarError
from .grammar import Grammar, GrammarSettings
from .nodes import SPECIALS, Node, Repeat, Rule, Tag, Token, make_one_of, make_sequence
from .tokens import token_words
from .xml_form import parse_float, rule_reference

MAX_NESTING = 200  # as deep as XML grammars may nest (libxml2 stops at 256)
_HEADER = re.compile(r"\A\ufeff?#ABNF[ \t]+1\.0(?:[ \t]+[A-Za-z0-9._:-]+)?[ \t]*;")
_DELIMS = set(";|()[]{}<>$\"!/=") | {" ", "\t", "\r", "\n"}
_NAME = re.compile(r"[^\s;|()\[\]{}<>$\"!/=#.:]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z-]*")
_QUOTED = re.compile(r'"((?:\\.|[^"\\])*)"')
_REPEAT = re.compile(r"<\s*(\d+)\s*(?:(-)\s*(\d*))?\s*(?:/\s*([0-9.eE+-]+)\s*/)?\s*>")


class _Parser:
    def __init__(self, text: str, key: str, base_uri: str | None, mode: str | None) -> None:
        self.s = text
        self.i = 0
        self.key = key
        self.base_uri = base_uri
        self.mode = mode or "voice"
        self.depth = 0

    # -- scanning --------------------------------------------------------------------------------------

    def error(self, message: str) -> GrammarError:
        line = self.s.count("\n", 0, self.i) + 1
        col = self.i - (self.s.rfind("\n", 0, self.i) + 1) + 1
        return GrammarError(f"ABNF line {line}, column {col}: {message}", code="syntax")

    def skip(self) -> None:
        """Skip whitespace and comments."""
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c.isspace():
                self.i += 1
            elif s.startswith("//", self.i):
                end = s.find("\n", self.i)
                self.i = len(s) if end < 0 else end + 1
            elif s.startswith("/*", self.i):
                end = s.find("*/", self.i + 2)
                if end < 0:
                    raise self.error("unterminated /* comment")
                self.i = end + 2
            else:
                return

    def peek(self) -> str:
        self.skip()
        return self.s[self.i] if self.i < len(self.s) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            found = self.s[self.i:self.i + 12] or "end of grammar"
            raise self.error(f"expected {ch!r}, found {found!r}")
        self.i += 1

    def until_semicolon(self) -> str:
        self.skip()
        end = self.s.find(";", self.i)
        if end < 0:
            raise self.error("missing ';'")
        value, self.i = self.s[self.i:end].strip(), end + 1
        return value

    # -- declarations and rules ------------------------------------------------------------------------

    def grammar(self) -> tuple[dict[str, str], dict[str, Rule], str | None]:
        m = _HEADER.match(self.s)
        if not m:
            raise GrammarError("an ABNF grammar must start with '#ABNF 1.0;'", code="syntax")
        self.i = m.end()
        decls: dict[str, str] = {}
        rules: dict[str, Rule] = {}
        self.header_tags: list[str] = []
        while self.peek():
            c = self.peek()
            if c == "{":
                if rules:
                    raise self.error("a header tag after the first rule")
                self.header_tags.append(self.tag())  # SISR global declarations
                self.expect(";")
                continue
            if c == "$":
                rule = self.rule("private")
            else:
                word = _WORD.match(self.s, self.i)
                if not word:
                    raise self.error(f"expected a declaration or a rule, found {self.s[self.i:self.i + 12]!r}")
                self.i = word.end()
                name = word.group()
                if name in ("public", "private"):
                    self.add(rules, self.rule(name))
                    continue
                if rules:
                    raise self.error(f"declaration {name!r} after the first rule")
                elif name in ("language", "mode", "root", "tag-format", "base", "lexicon", "meta", "http-equiv"):
                    value = self.until_semicolon()
                    decls[name] = value
                    if name == "mode":
                        if value not in ("voice", "dtmf"):
                            raise self.error(f"mode must be voice or dtmf, not {value!r}")
                        self.mode = value
                    elif name == "base":
                        self.base_uri = urljoin(self.base_uri or "", value.strip("<>"))
                else:
                    raise self.error(f"unknown declaration {name!r}")
                continue
            self.add(rules, rule)
        return decls, rules, next(iter(rules), None)

    def add(self, rules: dict[str, Rule], rule: Rule) -> None:
        if rule.id in rules:
            raise self.error(f"rule ${rule.id} is defined twice")
        rules[rule.id] = rule

    def rule(self, scope: str) -> Rule:
        self.expect("$")
        m = _NAME.match(self.s, self.i)
        if not m or m.group() in SPECIALS:
            raise self.error("expected a rule name after '$'")
        self.i = m.end()
        self.expect("=")
        body = self.alternatives()
        self.expect(";")
        return Rule(m.group(), body, scope)

    # -- expansions ------------------------------------------------------------------------------------

    def alternatives(self) -> Node:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"groups nested more than {MAX_NESTING} deep")
        try:
            return self._alternatives()
        finally:
            self.depth -= 1

    def _alternatives(self) -> Node:
        items: list[Node] = []
        weights: list[float] = []
        weighted = False
        while True:
            weight = 1.0
            if self.peek() == "/":
                end = self.s.find("/", self.i + 1)
                if end < 0:
                    raise self.error("unterminated /weight/")
                weight = parse_float(self.s[self.i + 1:end].strip(), "weight", low=0.0)
                self.i = end + 1
                weighted = True
            seq = self.sequence()
            if seq is None:
                raise self.error("empty alternative")
            items.append(seq)
            weights.append(weight)
            if self.peek() != "|":
                break
            self.i += 1
        if len(items) == 1 and not weighted:
            return items[0]
        return make_one_of(items, weights)

    def sequence(self) -> Node | None:
        items: list[Node] = []
        while self.peek() not in ("", "|", ";", ")", "]"):
            items += self.item()
        return make_sequence(items) if items else None

    def item(self) -> list[Node]:
        c = self.peek()
        nodes: list[Node]
        if c == "(":
            self.i += 1
            nodes = [self.alternatives()]
            self.expect(")")
        elif c == "[":
            self.i += 1
            nodes = [Repeat(self.alternatives(), 0, 1)]
            self.expect("]")
        elif c == "{":
            return [Tag(self.tag())]
        elif c == "$":
            nodes = [self.reference()]
        elif c == '"':
            m = _QUOTED.match(self.s, self.i)
            if not m:
                raise self.error("unterminated quoted token")
            nodes = self.token(re.sub(r"\\(.)", r"\1", m.group(1)))  # \" and \\ stand for " and \
            self.i = m.end()
        elif c in _DELIMS:
            raise self.error(f"unexpected {c!r}")
        else:
            start = self.i
            while self.i < len(self.s) and self.s[self.i] not in _DELIMS:
                self.i += 1
            nodes = self.token(self.s[start:self.i])
        self.language_attachment()
        if self.peek() == "<":
            m = _REPEAT.match(self.s, self.i)
            if not m:
                raise self.error("invalid repeat: use <n>, <n-m> or <n->, optionally with /probability/")
            self.i = m.end()
            low = int(m.group(1))
            high = low if not m.group(2) else (int(m.group(3)) if m.group(3) else None)
            if high is not None and high < low:
                raise self.error(f"repeat <{m.group(1)}-{m.group(3)}>: maximum below minimum")
            prob = parse_float(m.group(4), "repeat probability", low=0.0, high=1.0) if m.group(4) else None
            body = make_sequence(nodes)
            nodes = [body] if (low, high) == (1, 1) else [Repeat(body, low, high, prob)]
            self.language_attachment()
        return nodes

    def language_attachment(self) -> None:
        if self.i < len(self.s) and self.s[self.i] == "!":
            m = re.compile(r"![A-Za-z0-9-]+").match(self.s, self.i)
            if not m:
                raise self.error("invalid language attachment")
            self.i = m.end()

    def token(self, text: str) -> list[Node]:
        words = token_words(text, self.mode)
        if words is None:
            raise self.error(f"{text!r} is not a DTMF token (use 0-9, *, #, A-D)")
        return [Token(tuple(words))] if words else []

    def tag(self) -> str:
        s = self.s
        if s.startswith("{!{", self.i):
            end = s.find("}!}", self.i + 3)
            if end < 0:
                raise self.error("unterminated {!{ tag")
            text, self.i = s[self.i + 3:end], end + 3
            return text
        depth, j, quote = 0, self.i, ""
        while j < len(s):  # braces balance, except inside string literals (tags are often script)
            c = s[j]
            if quote:
                if c == "\\":
                    j += 1
                elif c == quote:
                    quote = ""
            elif c in "'\"":
                quote = c
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    text, self.i = s[self.i + 1:j], j + 1
                    return text
            j += 1
        raise self.error("unterminated { tag")

    def reference(self) -> Node:
        self.i += 1  # the '$'
        if self.i < len(self.s) and self.s[self.i] == "<":
            end = self.s.find(">", self.i)
            if end < 0:
                raise self.error("unterminated $<uri>")
            uri, self.i = self.s[self.i + 1:end].strip(), end + 1
            # A media type may follow the URI (`$<uri>~<type>`); it does not change how we parse.
            if self.s.startswith("~<", self.i):
                close = self.s.find(">", self.i)
                self.i = close + 1 if close > 0 else len(self.s)
            return rule_reference(uri, self.key, self.base_uri)
        m = _NAME.match(self.s, self.i)
        if not m:
            raise self.error("expected a rule name after '$'")
        self.i = m.end()
        name = m.group()
        if name in SPECIALS:
            return SPECIALS[name]
        return rule_reference("#" + name, self.key, self.base_uri)


def parse_abnf(text: str, *, key: str = "", base_uri: str | None = None, settings: GrammarSettings | None = None,
               mode: str | None = None, root: str | None = None) -> Grammar:
    """Parse an ABNF grammar; `mode` and `root` are defaults an enclosing VoiceXML element gives."""
    parser = _Parser(text, key, base_uri, mode)
    decls, rules, first = parser.grammar()
    if not rules:
        raise GrammarError("the grammar defines no rules", code="invalid")
    root_name = decls.get("root", "").lstrip("$").strip() or root or first
    if root_name not in rules:
        raise GrammarError(f"the root rule {root_name!r} is not defined", code="undefined_rule")
    tag_format = decls.get("tag-format", "").strip().strip("<>").strip() or None
    return Grammar(rules=rules, root=root_name, mode=parser.mode, lang=decls.get("language"),
                   tag_format=tag_format, key=key, base_uri=parser.base_uri, settings=settings,
                   root_declared=bool(decls.get("root") or root), header_tags=tuple(parser.header_tags))
