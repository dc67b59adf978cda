"""`python -m voicexml run [--jsonl] DOCUMENT`: run a VoiceXML application in text mode."""
from __future__ import annotations

import argparse
import io
import sys

from .interpreter import Session, SessionSettings
from .scripting import ScriptSettings
from .text_runner import ConsolePlatform, JsonlPlatform


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (0 normal end, 1 uncaught error, 2 usage or first fetch)."""
    ap = argparse.ArgumentParser(prog="python -m voicexml", description="VoiceXML 2.1 interpreter, text mode")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a document (a path or an http(s) URL)")
    run.add_argument("document")
    run.add_argument("--jsonl", action="store_true", help="speak the JSON-lines protocol instead of a console")
    run.add_argument("--script-time-limit", type=float, default=1.0, help="CPU seconds per ECMAScript evaluation")
    run.add_argument("--script-memory-limit", type=int, default=32, help="ECMAScript heap limit in MiB")
    run.add_argument("--caller", default="", help="session.connection.remote.uri")
    run.add_argument("--called", default="", help="session.connection.local.uri")
    args = ap.parse_args(argv)
    if args.script_time_limit <= 0 or args.script_memory_limit <= 0:
        ap.error("script limits must be positive")
    # Caller input that is not UTF-8 is replaced, then judged like any other bad input: never a crash.
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    platform = JsonlPlatform(stdin, sys.stdout) if args.jsonl else ConsolePlatform(stdin, sys.stdout)
    settings = SessionSettings(script=ScriptSettings(time_limit_s=args.script_time_limit,
                                                     memory_limit_bytes=args.script_memory_limit << 20),
                               local_uri=args.called, remote_uri=args.caller)
    outcome = Session(platform, settings).run(args.document)
    if outcome.start_failed:
        print(f"voicexml: cannot read {args.document}: {outcome.message}", file=sys.stderr)
        return 2
    return 1 if outcome.status == "error" else 0


if __name__ == "__main__":
    sys.exit(main())
