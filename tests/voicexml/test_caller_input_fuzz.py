"""Whatever a caller sends, the runner answers with protocol events and never crashes."""
from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicexml import DocumentCache, Fetcher, Session
from voicexml.text_runner import JsonlPlatform

DOC = """<?xml version="1.0"?>
<vxml version="2.1" xmlns="http://www.w3.org/2001/vxml">
  <menu id="m" dtmf="true"><prompt>menu</prompt><choice next="#f">digits</choice><choice next="#r">record</choice>
    <choice next="#t">transfer</choice></menu>
  <form id="f"><field name="n" type="digits"><prompt>n</prompt><filled><goto next="#m"/></filled></field></form>
  <form id="r"><record name="msg"><prompt>r</prompt><filled><goto next="#m"/></filled></record></form>
  <form id="t"><transfer name="x" dest="tel:1" bridge="true"><filled><goto next="#m"/></filled></transfer></form>
</vxml>
"""

inputs = st.one_of(
    st.text(max_size=40),
    st.builds(lambda d: json.dumps({"input": "dtmf", "digits": d}), st.text(max_size=6)),
    st.builds(lambda u, c: json.dumps({"input": "voice", "utterance": u, "confidence": c}),
              st.text(max_size=20), st.one_of(st.floats(allow_nan=True), st.integers(), st.none(), st.text())),
    st.builds(lambda k: json.dumps({"input": k}), st.sampled_from(["noinput", "nomatch", "hangup", "transfer", "x"])),
    st.builds(lambda r: json.dumps({"input": "transfer", "result": r}), st.text(max_size=12)),
    st.builds(json.dumps, st.recursive(st.none() | st.booleans() | st.integers(), lambda c: st.lists(c, max_size=3))),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(inputs, max_size=12))
def test_any_caller_input_is_handled(tmp_path_factory, lines):
    path = tmp_path_factory.getbasetemp() / "fuzz.vxml"
    if not path.exists():
        path.write_text(DOC)
    stdin = io.StringIO("".join(line.replace("\n", " ") + "\n" for line in lines))
    out, err = io.StringIO(), io.StringIO()
    outcome = Session(JsonlPlatform(stdin, out, err), fetcher=FETCHER, documents=DOCS).run(str(path))
    events = [json.loads(x) for x in out.getvalue().splitlines()]
    assert outcome.status == "exit"  # end of input is a hangup: a normal end
    assert events[-1]["event"] == "exit"
    assert {e["event"] for e in events} <= {"prompt", "listen", "record", "transfer", "exit", "log"}


FETCHER, DOCS = Fetcher(), DocumentCache()
