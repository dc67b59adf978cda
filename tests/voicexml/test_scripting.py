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


def test_a_script_declares_its_hoisted_vars_and_functions_and_nothing_else():
    # 5.3.12: the script's variables land in its scope; ECMAScript hoists a var out of blocks and `for` heads,
    # while nested functions' locals, let/const and text in strings, comments and regular expressions declare none.
    js = chain()
    js.run_script(DOCUMENT, r"""
      for (var i = 0; i < 3; i++) {}
      var a = 1, b = Math.max(4, 5), c = {p: [1, 2], q: 'x,y'};
      if (a) { var inblock = 'hoisted'; } else { function never() {} }
      function outer() { var local = 1; function innerf() {} return local; }
      var s = "var notme = 1; function nope() {}"; // var com = 1;
      /* var com2; */ var r = /var re = 1;/g, h = function named() { var inner2; };
      for (var k in {key: 1}) {}
      var {d1, e1: {f1}, g1 = 'g'} = {d1: 'd', e1: {f1: 'f'}};
      let notvar = 1; const nc = 2;
    """)
    names = ["i", "a", "b", "c", "inblock", "outer", "s", "r", "h", "k", "d1", "f1", "g1", "never", "local", "innerf",
             "notme", "nope", "com", "com2", "re", "inner2", "named", "notvar", "nc", "e1"]
    assert [n for n in names if js.has(DOCUMENT, n)] == ["i", "a", "b", "c", "inblock", "outer", "s", "r", "h", "k",
                                                         "d1", "f1", "g1"]
    assert js.eval("[i, b, c.q, inblock, typeof outer, k, d1 + f1 + g1]") == [3, 5, "x,y", "hoisted", "function",
                                                                              "key", "dfg"]
    assert js.eval("typeof never") == "undefined"  # a function declared in a block that never ran (Annex B)


def test_a_deeply_nested_hostile_script_is_error_semantic():
    js = chain()
    with pytest.raises(VXMLEvent) as e:
        js.run_script(DIALOG, "{" * 100_000 + "var x = 1;" + "}" * 100_000)
    assert e.value.name == "error.semantic"
    js.run_script(DIALOG, "var after = 42;")
    assert js.eval("after") == 42
