"""VoiceXML interpreter benchmarks: dialog turns per second, memory per live session, parse/compile time.

    python bench/voicexml.py [--turns 20000] [--sessions 200]

Targets (issue 4): >= 2,000 turns per second per core in text mode; <= 1 MB per live session.
"""
from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voicexml import DocumentCache, Fetcher, InputResult, NullPlatform, Session, parse_document
from voicexml.fetch import to_uri

APP = """<?xml version="1.0"?>
<vxml version="2.1" xmlns="http://www.w3.org/2001/vxml">
  <var name="calls" expr="0"/>
  <property name="inputmodes" value="dtmf voice"/>
  <catch event="nomatch noinput"><prompt>Sorry.</prompt><reprompt/></catch>
  <menu id="main" dtmf="true">
    <prompt>Welcome to Example Bank. <enumerate/></prompt>
    <choice next="#balance">account balance</choice>
    <choice next="#transfer">transfer money</choice>
    <choice next="#agent">speak to an agent</choice>
  </menu>
  <form id="balance">
    <field name="acct" type="digits?minlength=4;maxlength=8">
      <prompt>Please enter your account number followed by the pound key.</prompt>
      <filled><assign name="calls" expr="calls + 1"/>
        <prompt>The balance of account <say-as interpret-as="digits"><value expr="acct"/></say-as> is
          <value expr="(acct.length * 123.45).toFixed(2)"/> dollars.</prompt></filled>
    </field>
    <field name="again" type="boolean">
      <prompt>Anything else?</prompt>
      <filled><if cond="again"><goto next="#main"/><else/><exit/></if></filled>
    </field>
  </form>
  <form id="transfer">
    <field name="amount" type="number"><prompt>How much?</prompt></field>
    <field name="confirm"><prompt>Transfer <value expr="amount"/> dollars? Say yes or no.</prompt>
      <option dtmf="1" value="yes">yes</option><option dtmf="2" value="no">no</option>
      <filled><goto next="#main"/></filled></field>
  </form>
  <form id="agent"><block><prompt>Transferring you.</prompt><goto next="#main"/></block></form>
</vxml>
"""

# One caller's behaviour, repeated: balance, yes; transfer 25, confirm; agent; balance, no-match, then yes.
SCRIPT = [("dtmf", "1"), ("dtmf", "12345678#"), ("voice", "yes"), ("dtmf", "2"), ("voice", "twenty five"),
          ("dtmf", "1"), ("dtmf", "3"), ("dtmf", "1"), ("dtmf", "99"), ("dtmf", "1234#"), ("dtmf", "1")]


class ScriptedCaller(NullPlatform):
    """Answers every listen from a fixed script until `turns` inputs have been given, then hangs up."""

    def __init__(self, turns: int, hold: threading.Event | None = None, held: threading.Event | None = None):
        self.turns, self.given, self.prompts = turns, 0, 0
        self.hold, self.held = hold, held

    def queue_prompt(self, prompt) -> None:  # type: ignore[no-untyped-def]
        self.prompts += 1

    def collect(self, request) -> InputResult:  # type: ignore[no-untyped-def]
        if self.hold is not None and self.given == 1:
            self.held.set()  # type: ignore[union-attr]
            self.hold.wait()
            return InputResult("hangup")
        if self.given >= self.turns:
            return InputResult("hangup")
        kind, value = SCRIPT[self.given % len(SCRIPT)]
        self.given += 1
        return InputResult(kind, value, 0.9)  # type: ignore[arg-type]


def turns_per_second(path: Path, turns: int) -> tuple[float, float, int]:
    """Turns per wall-clock second and per CPU second of this (single-threaded) process: the per-core figure."""
    fetcher, docs = Fetcher(), DocumentCache()
    Session(ScriptedCaller(50), fetcher=fetcher, documents=docs).run(str(path))  # warm the caches
    caller = ScriptedCaller(turns)
    t0, c0 = time.perf_counter(), time.process_time()
    outcome = Session(caller, fetcher=fetcher, documents=docs).run(str(path))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert outcome.status == "exit", outcome
    return caller.given / cpu, caller.given / elapsed, caller.prompts


def memory_per_session(path: Path, sessions: int) -> tuple[float, float]:
    fetcher, docs = Fetcher(), DocumentCache()
    Session(ScriptedCaller(20), fetcher=fetcher, documents=docs).run(str(path))
    hold = threading.Event()
    live: list[Session] = []
    threads = []
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    def start() -> None:  # each session's quickjs context is created and used in its own thread
        held = threading.Event()
        s = Session(ScriptedCaller(10**9, hold, held), fetcher=fetcher, documents=docs)
        live.append(s)
        s.run(str(path))

    for _ in range(sessions):
        t = threading.Thread(target=start, daemon=True, name="session")
        t.start()
        threads.append(t)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(s.platform.held.is_set() for s in live if s is not None) \
            or len(live) < sessions:
        time.sleep(0.05)
        if time.monotonic() > deadline:
            break
    gc.collect()
    after = tracemalloc.take_snapshot()
    python_bytes = sum(st.size_diff for st in after.compare_to(before, "filename"))
    tracemalloc.stop()
    js_bytes = sum(s.js.memory_used() for s in live)
    hold.set()
    for t in threads:
        t.join(10)
    return python_bytes / sessions, js_bytes / sessions


def parse_times(path: Path, n: int) -> tuple[float, float, float]:
    content = path.read_bytes()
    uri = to_uri(str(path))
    t0 = time.perf_counter()
    for _ in range(n):
        parse_document(uri, content)
    cold = (time.perf_counter() - t0) / n
    cache = DocumentCache()
    cache.get(uri, content)
    t0 = time.perf_counter()
    for _ in range(n):
        cache.get(uri, content)
    warm = (time.perf_counter() - t0) / n
    # compile: the first session on a fresh cache pays fetch, parse and grammar compilation
    t0 = time.perf_counter()
    Session(ScriptedCaller(3)).run(str(path))
    first = time.perf_counter() - t0
    return cold, warm, first


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--turns", type=int, default=20000)
    ap.add_argument("--sessions", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bank.vxml"
        path.write_text(APP)
        rate, wall, prompts = turns_per_second(path, args.turns)
        print(f"dialog turns per second (per CPU second of one core, text mode): {rate:,.0f}  target >= 2,000"
              f"  [{wall:,.0f} per wall-clock second on this machine now; {args.turns} turns, {prompts} prompts]")
        py, js = memory_per_session(path, args.sessions)
        print(f"memory per live session: {(py + js) / 1024:,.0f} KiB  (Python {py / 1024:,.0f} KiB by tracemalloc"
              f" + ECMAScript heap {js / 1024:,.0f} KiB, {args.sessions} concurrent sessions)  target <= 1,024 KiB")
        cold, warm, first = parse_times(path, 200)
        print(f"document parse+check: {cold * 1e3:.2f} ms uncached, {warm * 1e6:.1f} us from the parsed-document cache;"
              f" first session incl. fetch, parse and grammar compilation: {first * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
