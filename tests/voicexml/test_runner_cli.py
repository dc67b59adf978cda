"""`python -m voicexml run --jsonl`: the protocol over real pipes, bad caller input, exit statuses, HTTP."""
from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from tests.voicexml.talk import converse, said, vxml, write
from voicexml import NullPlatform, RecordResult, Session

ROOT = Path(__file__).resolve().parents[2]


def run(doc: str, *lines: str, args: tuple[str, ...] = ("--jsonl",)) -> tuple[list[dict], int, str]:
    proc = subprocess.run([sys.executable, "-m", "voicexml", "run", *args, doc], cwd=ROOT, input="".join(lines), check=False,
                          capture_output=True, text=True, timeout=30)
    events = [json.loads(x) for x in proc.stdout.splitlines()] if "--jsonl" in args else []
    return events, proc.returncode, proc.stderr if "--jsonl" in args else proc.stdout


FIELD = """
<form>
  <field name="n" type="digits"><prompt>Number?</prompt>
    <nomatch><prompt>nomatch</prompt></nomatch>
    <filled><exit namelist="n"/></filled>
  </field>
</form>
"""


def test_a_caller_that_stops_reading_is_a_hangup_not_a_traceback(tmp_path):
    doc = str(write(tmp_path, "f.vxml", """
    <catch event="connection.disconnect.hangup"><log>hung up</log></catch>
    <form><field name="n" type="digits"><prompt>Number?</prompt><nomatch><prompt>again</prompt></nomatch></field></form>
    """))
    proc = subprocess.Popen([sys.executable, "-m", "voicexml", "run", "--jsonl", doc], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    assert json.loads(proc.stdout.readline())["event"] == "prompt"
    proc.stdout.close()  # the caller goes away without a word
    _, err = proc.communicate('{"input": "nomatch"}\n', timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_bad_caller_input_is_a_nomatch_with_a_message(tmp_path):
    doc = str(write(tmp_path, "f.vxml", FIELD))
    events, code, err = run(doc, "this is not json\n", '{"input": "dtmf", "digits": "12x"}\n', '[1]\n',
                            '{"input": "voice"}\n', '{"input": "transfer", "result": "busy"}\n',
                            '{"input": "dtmf", "digits": "12"}\n')
    assert said(events) == ["Number?"] + ["nomatch"] * 5
    assert events[-1] == {"event": "exit", "expr": None, "namelist": {"n": "12"}}
    assert code == 0
    assert "not JSON" in err and "digits" in err and '"input" field' in err and "utterance" in err


def test_input_that_is_not_utf8_is_a_nomatch(tmp_path):
    doc = str(write(tmp_path, "f.vxml", FIELD))
    proc = subprocess.run([sys.executable, "-m", "voicexml", "run", "--jsonl", doc], cwd=ROOT, check=False,
                          input=b'\xff\xfe{"input": \x80}\n{"input": "dtmf", "digits": "7"}\n', capture_output=True,
                          timeout=30)
    events = [json.loads(x) for x in proc.stdout.splitlines()]
    assert said(events) == ["Number?", "nomatch"] and events[-1]["namelist"] == {"n": "7"}
    assert proc.returncode == 0


def test_end_of_input_is_a_hangup_and_exit_status_zero(tmp_path):
    events, code, _ = run(str(write(tmp_path, "f.vxml", FIELD)))
    assert [e["event"] for e in events] == ["prompt", "listen", "exit"] and code == 0


def test_exit_statuses_for_errors_and_usage(tmp_path):
    bad = write(tmp_path, "bad.vxml", "<form><block><throw event='error.custom'/></block></form>")
    events, code, _ = run(str(bad))
    assert events[-1]["name"] == "error.custom" and code == 1
    _, code, err = run(str(tmp_path / "missing.vxml"))
    assert code == 2 and "cannot read" in err
    proc = subprocess.run([sys.executable, "-m", "voicexml", "frobnicate"], cwd=ROOT, capture_output=True, check=False)
    assert proc.returncode == 2


def test_console_mode_for_people(tmp_path):
    _, code, out = run(str(write(tmp_path, "f.vxml", FIELD)), "\n", "42\n", args=())
    assert "Number?" in out and '"n": "42"' in out and code == 0


class _Handler(http.server.SimpleHTTPRequestHandler):
    hits: ClassVar[list[str]] = []
    posts: ClassVar[list[tuple[str, str, bytes]]] = []

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "max-age=60")
        super().end_headers()

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        super().do_GET()

    def do_POST(self) -> None:  # keep the body, answer with the file at the path
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).posts.append((self.path, self.headers.get("Content-Type", ""), body))
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path):
    handler = lambda *a, **kw: _Handler(*a, directory=str(tmp_path), **kw)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_documents_404_and_cache(http_root):
    folder, base = http_root
    (folder / "lib.js").write_text("function greet(n) { return 'hi ' + n; }")
    (folder / "a.vxml").write_text(vxml("""
    <script src="lib.js"/>
    <form>
      <catch event="error.badfetch.http.404"><prompt><value expr="greet('404')"/></prompt><assign name="x" expr="1"/></catch>
      <block name="x"><goto next="missing.vxml"/></block>
      <block><goto next="b.vxml"/></block>
    </form>"""))
    (folder / "b.vxml").write_text(vxml('<script src="lib.js"/><form><block><prompt><value expr="greet(\'b\')"/></prompt></block></form>'))
    _Handler.hits.clear()
    events, _outcome, _ = converse(f"{base}/a.vxml")
    assert said(events) == ["hi 404", "hi b"]
    assert _Handler.hits.count("/lib.js") == 1  # max-age=60: the second document uses the cached script


def test_subdialog_namelist_goes_to_the_server_and_params_to_its_vars(http_root):
    folder, base = http_root
    (folder / "sub.vxml").write_text(vxml(
        '<form><var name="who"/><block><return namelist="who"/></block></form>'))
    (folder / "main.vxml").write_text(vxml("""
    <var name="acct" expr="'A 7'"/>
    <form><subdialog name="s" src="sub.vxml" namelist="acct"><param name="who" expr="'me'"/>
      <filled><prompt><value expr="s.who"/></prompt></filled></subdialog></form>"""))
    _Handler.hits.clear()
    events, _, _ = converse(f"{base}/main.vxml")
    assert said(events) == ["me"]
    assert "/sub.vxml?acct=A+7" in _Handler.hits


class _RecordingPhone(NullPlatform):
    """A platform that hears every prompt's text and answers every `<record>` with a short WAV."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def queue_prompt(self, prompt):  # type: ignore[no-untyped-def]
        self.said.append(prompt.text)

    def record(self, request):  # type: ignore[no-untyped-def]
        return RecordResult(kind="voice", audio=b"RIFF....WAVEfmt ", duration_ms=1200)


def test_a_recording_is_submitted_as_a_multipart_file(http_root):
    folder, base = http_root
    (folder / "saved.vxml").write_text(vxml("<form><block><prompt>saved</prompt></block></form>"))
    (folder / "voicemail.vxml").write_text(vxml("""
    <form>
      <record name="msg"><prompt>leave a message</prompt></record>
      <block><submit next="saved.vxml" method="post" enctype="multipart/form-data" namelist="msg caller"/></block>
      <var name="caller" expr="'tel:+15551234'"/>
    </form>"""))
    _Handler.posts.clear()
    phone = _RecordingPhone()
    Session(phone).run(f"{base}/voicemail.vxml")
    assert phone.said == ["leave a message", "saved"]
    path, ctype, body = _Handler.posts[0]
    assert path == "/saved.vxml" and ctype.startswith("multipart/form-data; boundary=")
    assert b'name="msg"; filename="msg"' in body and b"Content-Type: audio/x-wav" in body
    assert b"RIFF....WAVEfmt " in body and b"tel:+15551234" in body


def test_a_subdialog_posts_its_namelist_with_its_enctype(http_root):
    # 2.3.4: <subdialog> takes method and enctype as <submit> does, so a recording can go to it as a file part.
    folder, base = http_root
    (folder / "store.vxml").write_text(vxml("""
    <form><block><var name="id" expr="'m1'"/><return namelist="id"/></block></form>"""))
    (folder / "voicemail.vxml").write_text(vxml("""
    <form>
      <var name="caller" expr="'tel:+15551234'"/>
      <record name="msg"/>
      <subdialog name="saved" src="store.vxml" method="post" enctype="multipart/form-data" namelist="msg caller">
        <filled><prompt>stored <value expr="saved.id"/></prompt></filled>
      </subdialog>
    </form>"""))
    _Handler.posts.clear()
    phone = _RecordingPhone()
    Session(phone).run(f"{base}/voicemail.vxml")
    assert phone.said == ["stored m1"]
    path, ctype, body = _Handler.posts[0]
    assert path == "/store.vxml" and ctype.startswith("multipart/form-data; boundary=")
    assert b'name="msg"; filename="msg"' in body and b"RIFF....WAVEfmt " in body and b"tel:+15551234" in body


def test_a_document_from_the_network_may_not_read_local_files(http_root, tmp_path_factory):
    folder, base = http_root
    secret = tmp_path_factory.mktemp("private") / "secret.js"
    secret.write_text("var stolen = 'TOP SECRET';")
    (folder / "evil.vxml").write_text(vxml(f"""
    <form>
      <catch event="error.noauthorization"><prompt>refused</prompt><exit/></catch>
      <block><script src="{secret.as_uri()}"/><prompt><value expr="stolen"/></prompt></block>
    </form>"""))
    events, _, _ = converse(f"{base}/evil.vxml")
    assert said(events) == ["refused"]


def test_a_present_but_malformed_first_document_is_badfetch_and_status_one(tmp_path):
    # As docs/voicexml.md states: a fetched but broken first document is error.badfetch (1), a missing one 2.
    broken = tmp_path / "broken.vxml"
    broken.write_text('<?xml version="1.0"?><vxml version="2.1" xmlns="http://www.w3.org/2001/vxml"><form>')
    events, code, _ = run(str(broken))
    assert events[-1]["event"] == "error" and events[-1]["name"] == "error.badfetch" and code == 1
    events, code, _ = run(str(write(tmp_path, "f.vxml", FIELD)), '{"input": "hangup"}\n')
    assert events[-1] == {"event": "exit", "expr": None, "namelist": {}} and code == 0
