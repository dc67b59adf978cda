"""Semantic interpretation of a derivation: SISR 1.0 script tags, literal tags and the older tag style.

A derivation becomes one small ECMAScript program, one function per matched rule, evaluated in a
quickjs context with a time, memory and stack limit so that a hostile tag cannot hang or exhaust the
process. Child rules are evaluated before the tags that follow them (SISR: a rule's value never depends
on its caller), and every tag is run with a direct `eval` in its rule's function, so `var`s are shared
by the tags of one rule and a syntax error stays in its tag.

Tag formats (the grammar's `tag-format`):
- ``semantics/1.0`` (and ``semantics/1.0.2006``): SISR script; `out`, `rules.<name>`, `rules.latest()`,
  `meta.current().text`, `meta.<name>.text`, `meta.latest()`.
- ``semantics/1.0-literals``: the tag's text is the rule's value.
- none: the style of VoiceXML 2.0 era grammars. A tag that looks like script is script, otherwise a
  literal. Script tags may also leave their result in the tag's value (``'alpha'``) or in variables
  (``var city='x'; state='y'``), which become the properties of the rule's value, and may use the 2003
  draft's ``$`` (the rule's value), ``$name`` (a referenced rule's) and ``$$`` (the latest one's).

A rule whose `out` no tag touched is worth its last referenced rule's value, or else its text.
"""
from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import quickjs

from .errors import GrammarError
from .matcher import Derivation, Garbage
from .nodes import Tag

SISR = "semantics/1.0"
LITERALS = "semantics/1.0-literals"
_SCRIPT_FORMATS = {SISR, "semantics/1.0.2006", "semantics/1.0.2006-10"}
_LITERAL_FORMATS = {LITERALS, "semantics/1.0.2006-literals"}

# Tags in the older style: anything with operators, quotes or brackets is script; bare words are literals.
_LOOKS_LIKE_SCRIPT = re.compile(r"""[=;'"(){}\[\]+]|^\s*(?:-?\d+(?:\.\d+)?|true|false|null)\s*$""")
_DECLARED = re.compile(r"(?:^|[;{}\n])\s*(?:var\s+)?([A-Za-z_$][\w$]*)\s*=(?!=)")
_VAR = re.compile(r"\bvar\s+([A-Za-z_$][\w$]*)")
_RESERVED = {"out", "rules", "meta", "var", "this", "eval", "arguments", "undefined"}

_PRELUDE = r"""
function __rules(get) { var r = {}; Object.defineProperty(r, 'latest', {value: get, enumerable: false}); return r; }
function __meta(text, get) {
  var m = {};
  Object.defineProperty(m, 'current', {value: function () { return {text: text, score: 1.0}; }, enumerable: false});
  Object.defineProperty(m, 'latest', {value: get, enumerable: false});
  return m;
}
function __end(out, init, hasRefs, latest, text, vars, value) {
  if (out !== init || Object.keys(out).length > 0) return out;
  if (vars !== undefined) {
    for (var k in vars) if (vars[k] !== undefined) return vars;
  }
  if (value !== undefined) return value;
  return hasRefs ? latest : text;
}
"""


@dataclass(frozen=True)
class ScriptLimits:
    """Limits of the ECMAScript context tags run in."""

    time_s: float = 0.25
    memory_bytes: int = 16 * 1024 * 1024
    stack_bytes: int = 256 * 1024


def tag_kind(text: str, tag_format: str | None) -> str:
    """How a tag is run: "script", "literal" or "legacy" (old-style script)."""
    if tag_format is None or tag_format == "":
        return "legacy" if _LOOKS_LIKE_SCRIPT.search(text) else "literal"
    if tag_format in _SCRIPT_FORMATS or tag_format.startswith(SISR + "."):
        return "literal" if tag_format.endswith("-literals") else "script"
    if tag_format in _LITERAL_FORMATS:
        return "literal"
    raise GrammarError(f"unsupported tag-format {tag_format!r}", code="unsupported")


_DOLLAR = re.compile(r"""("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')|\$\$|\$([A-Za-z_][\w]*)|\$(?![\w$])""")


def dollar_notation(script: str) -> str:
    """Rewrite the 2003 draft's notation, outside string literals: `$` is `out`, `$name` is `rules.name`,
    `$$` is `rules.latest()`."""

    def swap(m: re.Match[str]) -> str:
        if m.group(1):
            return m.group(1)  # a string literal stays as it is
        if m.group(0) == "$$":
            return "rules.latest()"
        return f"rules.{m.group(2)}" if m.group(2) else "out"

    return _DOLLAR.sub(swap, script) if "$" in script else script


class _Program:
    """Builds the program for one derivation: one function per matched rule."""

    def __init__(self, tag_formats: dict[str, str | None],
                 readers: dict[str, Callable[[list[str]], Any]]) -> None:
        self.tag_formats = tag_formats
        self.readers = readers
        self.functions: list[str] = []
        self.scripts: list[str] = []  # inline tag texts, to name the culprit of a syntax error

    def function(self, d: Derivation) -> str:
        name = f"__r{len(self.functions)}"
        self.functions.append("")  # reserve the slot so children get later numbers
        reader = self.readers.get(d.grammar)
        if reader is not None:  # a builtin grammar: its value is computed in Python (may raise NoMatch)
            self.functions[-1] = f"function {name}() {{ return {json.dumps(reader(d.text.split()))}; }}"
            return name
        fmt = self.tag_formats.get(d.grammar)
        body: list[str] = []
        legacy_names: list[str] = []
        has_refs = False
        for item in d.items:
            if isinstance(item, Derivation):
                has_refs = True
                child = self.function(item)
                rule = json.dumps(item.rule)
                body.append(f"__latest = rules[{rule}] = {child}();"
                            f" __lm = meta[{rule}] = {{text: {json.dumps(item.text)}, score: 1.0}};")
            elif isinstance(item, Tag):
                kind = tag_kind(item.text, fmt)
                if kind == "literal":
                    body.append(f"out = {json.dumps(item.text.strip())};")
                elif kind == "legacy":  # eval gives the tag's completion value, which old-style tags use
                    script = dollar_notation(item.text)
                    legacy_names += [n for n in _DECLARED.findall(script) + _VAR.findall(script)
                                     if n not in _RESERVED and n not in legacy_names]
                    body.append(f"__v = eval({json.dumps(script)});")
                else:  # inline: much faster than eval, and SISR needs no completion value
                    body.append(f"{item.text}\n;")
                    self.scripts.append(item.text)
            elif isinstance(item, Garbage | str):
                continue
        text = json.dumps(d.text)
        decls = "".join(f"var {n};" for n in legacy_names)
        vars_obj = "{" + ",".join(f"{json.dumps(n)}: {n}" for n in legacy_names) + "}" if legacy_names else "undefined"
        value = "__v" if fmt is None else "undefined"
        self.functions[int(name[3:])] = (
            f"function {name}() {{ var __latest, __lm, __v; {decls}"
            f" var out = {{}}, __init = out;"
            f" var rules = __rules(function () {{ return __latest; }});"
            f" var meta = __meta({text}, function () {{ return __lm; }});\n"
            + "\n".join(body)
            + f"\nreturn __end(out, __init, {str(has_refs).lower()}, __latest, {text}, {vars_obj}, {value}); }}"
        )
        return name


class Interpreter:
    """Evaluates derivations of one grammar; owns one limited quickjs context (created on first use)."""

    def __init__(self, tag_formats: dict[str, str | None], limits: ScriptLimits = ScriptLimits(),
                 header_tags: list[str] | None = None,
                 readers: dict[str, Callable[[list[str]], Any]] | None = None) -> None:
        self.tag_formats = tag_formats
        self.readers = readers or {}
        # Header tags run first in the program's scope, so their declarations are visible to every rule.
        self.header = "".join(f"eval({json.dumps(t)});\n" for t in header_tags or [])
        self.limits = limits
        self._context: quickjs.Context | None = None
        self._lock = threading.Lock()

    def _new_context(self) -> quickjs.Context:
        context = quickjs.Context()
        context.set_memory_limit(self.limits.memory_bytes)
        context.set_max_stack_size(self.limits.stack_bytes)
        context.set_time_limit(self.limits.time_s)
        context.eval(_PRELUDE)
        return context

    def interpret(self, derivation: Derivation) -> Any:
        """The JSON-compatible value of the derivation's root rule."""
        program = _Program(self.tag_formats, self.readers)
        root = program.function(derivation)
        source = self.header + "\n".join(program.functions) + f"\nreturn JSON.stringify({root}());"
        with self._lock:
            if self._context is None:
                self._context = self._new_context()
            try:
                result = self._context.eval("(function () {\n" + source + "\n})()")
            except quickjs.JSException as e:
                message = str(e).splitlines()[0] if str(e) else type(e).__name__
                if "interrupted" in message or "out of memory" in message:
                    self._context = None  # do not reuse a context a runaway script left behind
                    message += " (a tag exceeded the script time or memory limit)"
                elif message.startswith("SyntaxError"):
                    message = self._syntax_culprit(program.scripts) or message
                raise GrammarError(f"semantic interpretation failed: {message}", code="semantics") from e
            except (MemoryError, RecursionError) as e:
                self._context = None
                raise GrammarError(f"semantic interpretation failed: {e}", code="semantics") from e
        return None if result is None else json.loads(result)

    def _syntax_culprit(self, scripts: list[str]) -> str | None:
        """Which tag does not compile, and why (the context is already locked)."""
        assert self._context is not None
        for text in scripts:
            try:
                self._context.eval(f"new Function({json.dumps(text)})")
            except quickjs.JSException as e:
                return f"tag {text.strip()[:60]!r}: {str(e).splitlines()[0]}"
        return None
