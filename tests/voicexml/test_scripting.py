"""The ECMAScript layer alone: scope chain, script declarations, compiled-expression cache, limits."""
from __future__ import annotations

import pytest

from voicexml.events import VXMLEvent
from voicexml.scripting import ANONYMOUS, APPLICATION, DIALOG, DOCUMENT, SESSION, Scripting, ScriptSettings


def chain(settings: ScriptSettings | None = None) -> Scripting:
    js = Scripting(settings or ScriptSettings())
    for level in (SESSION, APPLICATION, DOCUMENT, DIALOG, ANONYMOUS):
        js.new_scope(level)
    return js


def test_declarations_land_in_their_scope_and_inner_ones_shadow():
    js = chain()
    js.declare(DOCUMENT, "x", "1")
    js.run_script(DIALOG, "var z = x + 1, y = [1, 2].length; function twice(n) { return 2 * n; }")
    js.run_script(DIALOG, "var x = 'mine';")  # hoisted like any var: a new dialog variable shadows document.x
    assert js.eval("[z, x, document.x, dialog.x, y, twice(4)]") == [2, "mine", 1, "mine", 2, 8]
    js.new_scope(DIALOG)  # a new dialog: its variables are gone, the document's stay
    assert js.eval("typeof y") == "undefined" and js.eval("x") == 1


def test_assign_needs_a_declaration_and_values_round_trip():
    js = chain()
    with pytest.raises(VXMLEvent) as e:
        js.assign("nowhere", "1")
    assert e.value.name == "error.semantic"
    js.set(APPLICATION, "data", {"a": [1, None, "x"], "b": True})
    assert js.get(APPLICATION, "data") == {"a": [1, None, "x"], "b": True}
    assert js.string("application.data.a") == "1,,x" and js.cond("data.b")


def test_compiled_expressions_are_cached_and_bounded():
    js = chain(ScriptSettings(max_compiled=3))
    for i in range(10):
        assert js.eval(f"{i} * 2") == i * 2
    assert js.eval("1 * 2") == 2


def test_limits_and_errors_are_error_semantic_and_the_context_survives():
    js = chain(ScriptSettings(time_limit_s=0.1, memory_limit_bytes=4 << 20))
    for bad in ("while (true) {}", "(function f() { return f(); })()", "new Array(1e7).fill('xxxxxxxx').join('')",
                "syntax error here", "undefinedName + 1"):
        with pytest.raises(VXMLEvent) as e:
            js.eval(bad)
        assert e.value.name == "error.semantic"
    assert js.eval("6 * 7") == 42
