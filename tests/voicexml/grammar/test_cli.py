"""`python -m voicexml.grammar`: match, jsgf and check from the command line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voicexml.grammar", *args], check=False, cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_match_jsgf_and_check_with_files_referencing_each_other(tmp_path: Path) -> None:
    (tmp_path / "menu.gram").write_text("#ABNF 1.0; root $main; tag-format <semantics/1.0>;\n"
                                        "public $main = [I want] $<cities.grxml#city> {out = {city: rules.city}};\n")
    (tmp_path / "cities.grxml").write_text(
        '<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" root="city" tag-format="semantics/1.0">'
        '<rule id="city" scope="public"><one-of><item>paris<tag>out="CDG"</tag></item>'
        '<item>rome<tag>out="FCO"</tag></item></one-of></rule></grammar>')
    menu = str(tmp_path / "menu.gram")

    done = run("match", menu, "I want Paris", "london")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines == [{"input": "I want Paris", "match": True, "utterance": "i want paris",
                      "interpretation": {"city": "CDG"}, "confidence": 1.0},
                     {"input": "london", "match": False}]
    from_stdin = run("match", menu, stdin="rome\n")
    assert json.loads(from_stdin.stdout)["interpretation"] == {"city": "FCO"}

    jsgf = run("jsgf", menu)
    assert jsgf.returncode == 0 and "public <main> = [ i want ] <g1_city>;" in jsgf.stdout

    assert run("check", "builtin:dtmf/digits?length=4").returncode == 0


def test_bad_grammars_exit_1_with_the_error_code(tmp_path: Path) -> None:
    (tmp_path / "bad.gram").write_text("#ABNF 1.0; $r = (a | b;")
    done = run("check", str(tmp_path / "bad.gram"))
    assert done.returncode == 1 and "error (syntax)" in done.stderr and "line 1" in done.stderr
    missing = run("check", str(tmp_path / "missing.grxml"))
    assert missing.returncode == 1 and "error (fetch)" in missing.stderr
