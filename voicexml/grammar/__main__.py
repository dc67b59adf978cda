"""Try grammars from the command line.

    python -m voicexml.grammar match GRAMMAR [TEXT ...]   one JSON line per input (stdin lines without TEXT)
    python -m voicexml.grammar jsgf GRAMMAR               the JSGF a recogniser would get
    python -m voicexml.grammar check GRAMMAR              parse only; exit status 1 on a bad grammar

GRAMMAR is a file (.grxml or .gram; rulerefs to other files resolve beside it) or a builtin such as
"builtin:dtmf/digits?length=4".
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from . import GrammarError, builtin_grammar, parse_grammar, srgs_to_jsgf
from .grammar import Grammar


def _read_file_uri(uri: str) -> bytes:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise GrammarError(f"only file: grammars can be fetched from the command line, not {uri}", code="fetch")
    return Path(url2pathname(parsed.path)).read_bytes()


def load(spec: str) -> Grammar:
    """A grammar from a file path or a builtin: URI."""
    if spec.startswith("builtin:"):
        return builtin_grammar(spec)
    path = Path(spec).resolve()
    try:
        data = path.read_bytes()
    except OSError as e:
        raise GrammarError(f"cannot read {spec}: {e.strerror}", code="fetch") from e
    return parse_grammar(data, base_uri=path.as_uri(), fetch=_read_file_uri)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m voicexml.grammar", description="Try SRGS grammars.")
    parser.add_argument("command", choices=("match", "jsgf", "check"))
    parser.add_argument("grammar", help="a .grxml/.gram file or a builtin: URI")
    parser.add_argument("text", nargs="*", help="inputs to match (default: one per line of stdin)")
    args = parser.parse_args(argv)
    try:
        grammar = load(args.grammar)
        if args.command == "check":
            print(f"ok: {grammar.mode} grammar, root {grammar.root!r}, {len(grammar.rules)} rules")
        elif args.command == "jsgf":
            sys.stdout.write(srgs_to_jsgf(grammar))
        else:
            for text in args.text or (line.rstrip("\n") for line in sys.stdin):
                m = grammar.match(text)
                out = {"input": text, "match": m is not None}
                if m is not None:
                    out |= {"utterance": m.utterance, "interpretation": m.interpretation, "confidence": m.confidence}
                print(json.dumps(out))
    except GrammarError as e:
        print(f"error ({e.code}): {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
