"""ECMAScript for a session: one quickjs context, the VoiceXML scope chain, compiled-expression cache, limits.

The scope chain (session, application, document, dialog, anonymous, handler, temporary) is an array of prototype-less
objects `__c`; every expression is compiled once into a function that evaluates it inside
`with(__c[0]) ... with(__c[6])`, so unqualified names resolve innermost first and `document.x` reaches the
document scope through its self-reference. Time and memory limits turn runaway scripts into `error.semantic`.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import quickjs

from .declarations import declarations
from .events import VXMLEvent, semantic

SESSION, APPLICATION, DOCUMENT, DIALOG, ANONYMOUS, HANDLER, TEMP = range(7)
SCOPE_NAMES = {SESSION: "session", APPLICATION: "application", DOCUMENT: "document", DIALOG: "dialog"}
_IDENT = re.compile(r"^[A-Za-z_$][\w$]*$")
_IDENT_PREFIX = re.compile(r"\s*([A-Za-z_$][\w$]*)")
_WITH = "".join(f"with(__c[{i}])" for i in range(7))

_PRELUDE = r"""
var __E = Object.freeze(Object.create(null));
var __c = [__E, __E, __E, __E, __E, __E, __E];
var __saved = [];
var __f = [];
// May `<assign>`/`<clear>` write `n` (or `n.m`)? `n` must be declared; a scope name (`document`) qualifies `m`,
// which must then be declared in that very scope; session variables are the platform's and read-only.
function __writable(n, m) {
  for (var i = __c.length - 1; i >= 0; i--) {
    if (!(n in __c[i])) continue;
    var v = __c[i][n];
    if (i === 0 || v === __c[0])
      throw new TypeError((m === null ? n : n + "." + m) + " is a read-only session variable");
    if (m !== null && (v === __c[1] || v === __c[2] || v === __c[3]) && !(m in v))
      throw new ReferenceError(n + "." + m + " is not declared");
    return 0;
  }
  throw new ReferenceError(n + " is not declared");
}
function __scope(k, name) {
  var o = Object.create(null);
  if (name) o[name] = o;
  __c[k] = o;
  for (var i = k + 1; i < __c.length; i++) __c[i] = __E;
  return 0;
}
function __alias(k, from, name) { __c[k] = __c[from]; __c[from][name] = __c[from];
  for (var i = k + 1; i < __c.length; i++) __c[i] = __E; return 0; }
function __drop(k) { for (var i = k; i < __c.length; i++) __c[i] = __E; return 0; }
function __setj(k, n, j) { __c[k][n] = (j === "undefined") ? undefined : JSON.parse(j); return 0; }
function __getj(k, n) { var v = __c[k][n]; return v === undefined ? "undefined" : JSON.stringify(v); }
function __isundef(k, n) { return __c[k][n] === undefined; }
function __has(k, n) { return (__c[k] !== __E) && (n in __c[k]); }
function __save() { __saved.push(__c.slice()); return __saved.length - 1; }
function __restore(h) { __c = __saved[h]; __saved.length = h; return 0; }
var __arrays = [];
function __pusharray(a) {
  if (!Array.isArray(a)) throw new TypeError("foreach needs an array");
  __arrays.push(a.slice()); return a.length;
}
function __poparray() { __arrays.pop(); return 0; }
function __json(v) { return v === undefined ? "undefined" : JSON.stringify(v); }
function __str(v) {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  return String(v);
}
"""


@dataclass(frozen=True)
class ScriptSettings:
    """Limits on a session's ECMAScript: CPU seconds per evaluation, heap bytes, stack bytes."""

    time_limit_s: float = 1.0
    memory_limit_bytes: int = 32 * 1024 * 1024
    stack_limit_bytes: int = 256 * 1024
    max_compiled: int = 4096  # compiled expressions kept per session


class Scripting:
    """One session's ECMAScript context and scope chain."""

    def __init__(self, settings: ScriptSettings = ScriptSettings()) -> None:
        self.settings = settings
        ctx = quickjs.Context()
        ctx.set_memory_limit(settings.memory_limit_bytes)
        ctx.set_time_limit(settings.time_limit_s)
        ctx.set_max_stack_size(settings.stack_limit_bytes)
        ctx.eval(_PRELUDE)
        self._ctx = ctx
        self._cache: dict[tuple[str, str], Any] = {}
        g = ctx.get
        self._scope, self._setj, self._getj = g("__scope"), g("__setj"), g("__getj")
        self._isundef, self._has, self._save, self._restore = g("__isundef"), g("__has"), g("__save"), g("__restore")
        self._drop, self._alias = g("__drop"), g("__alias")

    # -- scopes -------------------------------------------------------------------------------------
    def new_scope(self, level: int) -> None:
        """A fresh scope object at `level`; every deeper scope is dropped."""
        self._call(self._scope, level, SCOPE_NAMES.get(level, ""))

    def alias_scope(self, level: int, to: int) -> None:
        """Make the scope at `level` the same object as the one at `to` (the root document as the leaf)."""
        self._call(self._alias, level, to, SCOPE_NAMES.get(level, ""))

    def drop_scope(self, level: int) -> None:
        """Drop the scope at `level` and every deeper one."""
        self._call(self._drop, level)

    def save_chain(self) -> int:
        """Remember the whole chain (a subdialog is about to run with its own)."""
        return int(self._call(self._save))

    def restore_chain(self, handle: int) -> None:
        """Put back a chain saved by `save_chain`."""
        self._call(self._restore, handle)

    def declare(self, level: int, name: str, expr: str | None = None) -> None:
        """`<var name expr>` in the scope at `level` (undefined without expr)."""
        check_name(name)
        if expr is None or expr.strip() == "":
            self._call(self._setj, level, name, "undefined")
        else:
            self._run("declare", f"__c[{level}][{json.dumps(name)}] = ({expr}\n);")

    def set(self, level: int, name: str, value: Any) -> None:
        """Set a variable in the scope at `level` to a JSON-compatible Python value."""
        self._call(self._setj, level, name, "undefined" if value is _UNDEFINED else json.dumps(value))

    def set_expr(self, level: int, name: str, expr: str) -> None:
        """Set a variable at `level` to the value of `expr` (evaluated in the current chain)."""
        self._run("declare", f"__c[{level}][{json.dumps(name)}] = ({expr}\n);")

    def get(self, level: int, name: str) -> Any:
        """A variable's value as a JSON-compatible Python value (None for undefined)."""
        return _loads(self._call(self._getj, level, name))

    def is_undefined(self, level: int, name: str) -> bool:
        """True when the variable at `level` is undefined (an unfilled form item)."""
        return bool(self._call(self._isundef, level, name))

    def has(self, level: int, name: str) -> bool:
        """True when `name` is declared in the scope at `level`."""
        return bool(self._call(self._has, level, name))

    def assign(self, name: str, expr: str) -> None:
        """`<assign>`: the variable must already be declared (in the scope that qualifies it, if any)."""
        self._run("assign", f"{_writable(name)}{name} = ({expr}\n);")

    def clear(self, name: str) -> None:
        """`<clear>` of one variable: it becomes undefined."""
        self._run("assign", f"{_writable(name)}{name} = undefined;")

    def foreach(self, array_expr: str) -> ForEach:
        """Evaluate `<foreach array>` once and iterate over a copy of it (a context manager)."""
        return ForEach(self, array_expr)

    def run_script(self, level: int, source: str) -> None:
        """A `<script>` whose top-level `var`s and functions land in the scope at `level`."""
        found = declarations(source)
        pre = "".join(f"if (!({json.dumps(n)} in __c[{level}])) __c[{level}][{json.dumps(n)}] = undefined;"
                      for n in found.variables)
        post = "".join(f"if (typeof {n} === 'function') __c[{level}][{json.dumps(n)}] = {n};"
                       for n in found.functions)
        # var initialisers inside `with` assign to the pre-declared scope properties; function declarations are
        # hoisted into the wrapper function and copied out afterwards.
        code = f"(function(){{ {pre} {_WITH}{{\n{source}\n}}\n{post} return 0; }})()"
        self._eval(code)

    # -- expressions ----------------------------------------------------------------------------------
    def eval(self, expr: str) -> Any:
        """The value of `expr` as a JSON-compatible Python value (undefined and null become None)."""
        return _loads(self._run("json", expr))

    def eval_or_undefined(self, expr: str) -> Any:
        """Like `eval`, but ECMAScript undefined comes back as `UNDEFINED` (null stays None)."""
        text = self._run("json", expr)
        return _UNDEFINED if text == "undefined" else _loads(text)

    def eval_raw(self, expr: str) -> Any:
        """The value of `expr` as quickjs hands it over (for strings and numbers, cheapest)."""
        return self._run("raw", expr)

    def cond(self, expr: str) -> bool:
        """`expr` converted to boolean."""
        return bool(self._run("bool", expr))

    def string(self, expr: str) -> str:
        """`expr` converted to a string, as `<value>` speaks it."""
        return str(self._run("str", expr))

    def _run(self, kind: str, expr: str) -> Any:
        fn = self._cache.get((kind, expr))
        if fn is None:
            if kind == "json":
                body = f"return __json(({expr}\n));"
            elif kind == "str":
                body = f"return __str(({expr}\n));"
            elif kind == "bool":
                body = f"return !!(({expr}\n));"
            elif kind == "raw":
                body = f"return ({expr}\n);"
            else:
                body = expr + "\nreturn 0;"
            if len(self._cache) >= self.settings.max_compiled:
                # A long session through many documents: start the cache again rather than grow without end.
                self._cache.clear()
                self._eval("__f = []; 0")
            idx = len(self._cache)
            self._eval(f"__f[{idx}] = function() {{ {_WITH} {{ {body} }} }}; 0")
            fn = self._eval(f"__f[{idx}]")
            self._cache[(kind, expr)] = fn
        return self._call(fn)

    def _eval(self, code: str) -> Any:
        try:
            return self._ctx.eval(code)
        except quickjs.JSException as e:
            raise _event(e) from None
        except quickjs.StackOverflow as e:
            raise semantic(f"stack overflow: {e}") from None

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except quickjs.JSException as e:
            raise _event(e) from None
        except quickjs.StackOverflow as e:
            raise semantic(f"stack overflow: {e}") from None

    def memory_used(self) -> int:
        """Bytes the context's heap holds."""
        return int(self._ctx.memory()["memory_used_size"])


class ForEach:
    """`with js.foreach(expr) as items: for ref in items: js.set_expr(level, name, ref)`."""

    def __init__(self, js: Scripting, array_expr: str) -> None:
        self.js, self.array_expr = js, array_expr

    def __enter__(self) -> list[str]:
        n = int(self.js.eval_raw(f"__pusharray(({self.array_expr}\n))"))
        return [f"__arrays[__arrays.length - 1][{i}]" for i in range(n)]

    def __exit__(self, *exc: object) -> None:
        self.js.eval_raw("__poparray()")


class _Undefined:
    def __repr__(self) -> str:
        return "undefined"


_UNDEFINED: Any = _Undefined()
UNDEFINED = _UNDEFINED


def _loads(text: Any) -> Any:
    if text is None or text == "undefined":
        return None
    return json.loads(text)


def _event(e: Exception) -> VXMLEvent:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if "interrupted" in msg:
        msg = "script exceeded its time limit"
        # The context survives an interrupt; nothing else to do.
    elif "out of memory" in msg:
        msg = "script exceeded its memory limit"
    return semantic(msg)


def check_name(name: str) -> None:
    """A variable name must be an ECMAScript identifier (and not reach into the interpreter's own names)."""
    if not _IDENT.match(name or "") or name.startswith("__"):
        raise semantic(f"{name!r} is not a valid variable name")


def _writable(name: str) -> str:
    """The check `__writable` makes before `name` (`x`, `obj.field`, `document.x`) is written."""
    first, _, rest = name.partition(".")
    first = first.strip()
    check_name(first)
    second = _IDENT_PREFIX.match(rest) if rest else None
    return f"__writable({json.dumps(first)}, {json.dumps(second.group(1) if second else None)});\n"
