"""Hostile scripts: an infinite loop or a memory bomb is error.semantic in that session only."""
from __future__ import annotations

import threading

from tests.voicexml.talk import converse, said, write
from voicexml import ScriptSettings, SessionSettings

FAST = SessionSettings(script=ScriptSettings(time_limit_s=0.2, memory_limit_bytes=8 << 20))


def test_infinite_loop_and_memory_bomb_raise_error_semantic(tmp_path):
    body = """
    <form>
      <catch event="error.semantic"><prompt><value expr="_message"/></prompt></catch>
      <block><script>while (true) {}</script><prompt>not reached</prompt></block>
      <block><script>var a = []; while (true) { a.push(new Array(200000).join('x') + a.length); }</script></block>
      <block><prompt><value expr="(function f(n) { return f(n + 1); })(0)"/></prompt></block>
      <block><prompt>still alive <value expr="1 + 1"/></prompt></block>
    </form>
    """
    events, outcome, _ = converse(write(tmp_path, "h.vxml", body), settings=FAST)
    texts = said(events)
    assert texts[0] == "script exceeded its time limit"
    assert texts[1] == "script exceeded its memory limit"
    assert texts[2].startswith(("RangeError", "InternalError", "stack overflow"))
    assert texts[3] == "still alive 2"
    assert outcome.status == "exit"


def test_a_runaway_session_leaves_another_session_untouched(tmp_path):
    bad = write(tmp_path, "bad.vxml", "<form><block><script>while (true) {}</script></block></form>")
    good = write(tmp_path, "good.vxml", '<form><block><prompt><value expr="6 * 7"/></prompt></block></form>')
    results: dict[str, object] = {}

    def run(name, path):
        results[name] = converse(path, settings=FAST)

    threads = [threading.Thread(target=run, args=("bad", bad)), threading.Thread(target=run, args=("good", good))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    bad_events, bad_outcome, _ = results["bad"]  # type: ignore[misc]
    good_events, good_outcome, _ = results["good"]  # type: ignore[misc]
    assert bad_outcome.status == "error" and bad_events[-1]["name"] == "error.semantic"
    assert said(good_events) == ["42"] and good_outcome.status == "exit"


def test_scripts_cannot_reach_the_interpreter_internals_by_name(tmp_path):
    body = """
    <catch event="error.semantic"><prompt>refused</prompt></catch>
    <form><block><var name="__c" expr="1"/></block></form>
    """
    events, _, _ = converse(write(tmp_path, "h.vxml", body))
    assert said(events) == ["refused"]


def test_a_failing_platform_ends_only_its_session(tmp_path):
    from voicexml import NullPlatform, Session

    class Broken(NullPlatform):
        failures: list[str]

        def __init__(self) -> None:
            self.failures = []

        def queue_prompt(self, prompt):  # type: ignore[no-untyped-def]
            raise RuntimeError("speaker on fire")

        def failed(self, name: str, message: str) -> None:
            self.failures.append(name)

    platform = Broken()
    outcome = Session(platform).run(str(write(tmp_path, "p.vxml", "<form><block>hello</block></form>")))
    assert outcome.status == "error" and outcome.event == "error.interpreter"
    assert platform.failures == ["error.interpreter"]
