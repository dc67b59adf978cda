"""The text platform: the JSON-lines protocol for programs (tests, the conformance harness) and a console
for people. Both implement `voicexml.platform.Platform` over a pair of text streams."""
from __future__ import annotations

import json
import re
import sys
from dataclasses import fields, replace
from typing import IO, Any

from .platform import (
    FetchAudio,
    Hypothesis,
    InputRequest,
    InputResult,
    Prompt,
    RecordRequest,
    RecordResult,
    TransferRequest,
    TransferResult,
)

_DTMF = re.compile(r"^[0-9*#A-Da-d]+$")
TRANSFER_RESULTS = frozenset(("busy", "noanswer", "network_busy", "near_end_disconnect", "far_end_disconnect",
                              "network_disconnect", "maxtime_disconnect", "unknown", "hangup"))
# `listen` fields beyond the protocol's, with the defaults they are left out at
_RECOGNIZER = {f.name: f.default for f in fields(InputRequest)
               if f.name in ("maxnbest", "completetimeout_ms", "incompletetimeout_ms", "maxspeechtimeout_ms",
                             "sensitivity", "speedvsaccuracy")}


class JsonlPlatform:
    """Speaks voicexml-text-protocol.md: events as JSON lines out, one caller input line in per wait."""

    def __init__(self, stdin: IO[str], stdout: IO[str], stderr: IO[str] = sys.stderr) -> None:
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.eof = False
        self.gone = False  # stdout is closed: nobody is listening any more
        self.disconnected = False
        self.disconnect_namelist: dict[str, Any] = {}

    def _emit(self, event: str, **fields: Any) -> None:
        if self.gone:
            return
        try:
            self.stdout.write(json.dumps({"event": event, **fields}, default=str) + "\n")
            self.stdout.flush()
        except (BrokenPipeError, ValueError):  # the caller closed our output: it has hung up
            self.gone = self.eof = True

    def _read(self) -> dict[str, Any] | None:
        """One caller line as an object; None at end of input (a hangup); {} for a line that makes no sense."""
        if self.eof:
            return None
        line = self.stdin.readline()
        if not line:
            self.eof = True
            return None
        try:
            msg = json.loads(line)
        except json.JSONDecodeError as e:
            self._complain(f"caller input is not JSON ({e.msg}): {line.strip()[:100]!r}")
            return {}
        if not isinstance(msg, dict) or not isinstance(msg.get("input"), str):
            self._complain(f'caller input must be an object with an "input" field: {line.strip()[:100]!r}')
            return {}
        return msg

    def _complain(self, text: str) -> None:
        self.stderr.write(f"voicexml: {text}; treated as nomatch\n")
        self.stderr.flush()

    # -- Platform ---------------------------------------------------------------------------------------
    def queue_prompt(self, prompt: Prompt) -> None:
        """Prompts go out at once, so they always precede the wait that follows them."""
        self._emit("prompt", text=prompt.text, audio=list(prompt.audio), bargein=prompt.bargein)

    def collect(self, request: InputRequest) -> InputResult:
        """`listen`, then one input line."""
        # the recognizer's settings, each only when the document changed it (older callers see no new fields)
        extra = {k: getattr(request, k) for k in _RECOGNIZER if getattr(request, k) != _RECOGNIZER[k]}
        self._emit("listen", modes=list(request.modes), grammars=len(request.grammars),
                   timeout_ms=request.timeout_ms, **extra)
        msg = self._read()
        if msg is None:
            return InputResult("hangup")
        got = self._input(msg)
        if request.recordutterance and got.kind == "voice":  # text mode: the words stand for the audio
            return replace(got, recording=got.value, recording_ms=400 * len(got.value.split()))
        return got

    def _input(self, msg: dict[str, Any]) -> InputResult:
        got = self._kind(msg)
        mark = msg.get("mark")
        if mark is None or got.kind == "nomatch":
            return got
        name, time_ms = (mark.get("name"), mark.get("time_ms", 0)) if isinstance(mark, dict) else (None, None)
        if not isinstance(name, str) or isinstance(time_ms, bool) or not isinstance(time_ms, int) or time_ms < 0:
            self._complain(f'mark must be {{"name": "...", "time_ms": 0 or more}}, got {mark!r}')
            return InputResult("nomatch")
        return replace(got, markname=name, marktime_ms=time_ms)

    def _kind(self, msg: dict[str, Any]) -> InputResult:
        kind = msg.get("input")
        if kind in ("noinput", "nomatch", "hangup"):
            return InputResult(kind)  # type: ignore[arg-type]
        if kind == "dtmf":
            digits = msg.get("digits")
            if isinstance(digits, str) and _DTMF.match(digits):
                return InputResult("dtmf", digits.upper())
            self._complain(f"dtmf input needs digits 0-9 * # A-D, got {digits!r}")
            return InputResult("nomatch")
        if kind == "voice":
            best = self._hypothesis(msg)
            alternatives = msg.get("nbest", [])
            if not isinstance(alternatives, list) or not all(isinstance(a, dict) for a in alternatives):
                self._complain(f'nbest must be a list of {{"utterance", "confidence"}} objects, got {alternatives!r}')
                return InputResult("nomatch")
            others = [self._hypothesis(a) for a in alternatives]
            if best is None or None in others:
                return InputResult("nomatch")
            return InputResult("voice", best.value, best.confidence,
                               alternatives=tuple(h for h in others if h is not None))
        if msg:
            self._complain(f"input {kind!r} does not fit a listen")
        return InputResult("nomatch")

    def _hypothesis(self, msg: dict[str, Any]) -> Hypothesis | None:
        """An utterance and its confidence (default 1.0), or None (after a complaint) when they make no sense."""
        utt, conf = msg.get("utterance"), msg.get("confidence", 1.0)
        if not isinstance(utt, str) or not utt.strip():
            self._complain("voice input needs a non-empty utterance")
            return None
        if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0.0 <= conf <= 1.0:
            self._complain(f"confidence must be a number from 0 to 1, got {conf!r}")
            return None
        return Hypothesis(" ".join(utt.split()), float(conf))

    def record(self, request: RecordRequest) -> RecordResult:
        """`record`, then one input line: an utterance is the recording, DTMF ends it, noinput, hangup."""
        self._emit("record", name=request.name, maxtime_ms=request.maxtime_ms, dtmfterm=request.dtmfterm)
        msg = self._read()
        if msg is None:
            return RecordResult(kind="hangup")
        got = self._input(msg)
        if got.kind == "voice":
            spoken_ms = len(got.value.split()) * 400  # text mode: a word lasts 400 ms
            return RecordResult(kind="voice", audio=got.value, duration_ms=min(spoken_ms, request.maxtime_ms),
                                maxtime=spoken_ms >= request.maxtime_ms, utterance=got.value,
                                markname=got.markname, marktime_ms=got.marktime_ms)
        if got.kind == "dtmf":
            # The first key ends the recording (VoiceXML 2.0 2.3.6): it is the termchar, not the last one typed.
            first = got.value.lstrip()[:1]
            return RecordResult(kind="dtmf", audio="", termchar=first if request.dtmfterm else None,
                                markname=got.markname, marktime_ms=got.marktime_ms)
        if got.kind == "hangup":
            return RecordResult(kind="hangup")
        return RecordResult(kind="noinput")

    def transfer(self, request: TransferRequest) -> TransferResult:
        """`transfer`; a bridged or consultation transfer then reads its outcome."""
        bridge = request.type != "blind"
        self._emit("transfer", dest=request.dest, bridge=bridge, type=request.type, aai=request.aai)
        if not bridge:
            return TransferResult("unknown")
        msg = self._read()
        if msg is None:
            return TransferResult("hangup")
        if msg.get("input") == "hangup":
            return TransferResult("hangup")
        result = msg.get("result")
        if msg.get("input") != "transfer" or not isinstance(result, str) or \
                not (result in TRANSFER_RESULTS or result.startswith("error.connection")):
            if msg:
                self._complain(f"a transfer outcome is {{\"input\": \"transfer\", \"result\": ...}}, got {msg!r}")
            return TransferResult("unknown")
        return TransferResult(result, int(msg.get("duration_ms", 0) or 0))

    def disconnect(self, namelist: dict[str, Any] | None = None) -> None:
        """The line is dropped; `disconnect` is reported (with a 2.1 namelist's values, if there were any) when
        the session has finished its hangup handling."""
        self.disconnected = True
        self.disconnect_namelist = namelist or {}

    def play_fetchaudio(self, audio: FetchAudio) -> None:
        """`fetchaudio`: a fetch is slower than `fetchaudiodelay` (text mode plays nothing, so waits for nothing)."""
        self._emit("fetchaudio", src=audio.src, minimum_ms=audio.minimum_ms)

    def stop_fetchaudio(self) -> None:
        """The fetch is over; nothing is playing in text mode."""

    def log(self, text: str, label: str | None = None) -> None:
        """`log`."""
        if label:
            self._emit("log", text=text, label=label)
        else:
            self._emit("log", text=text)

    def submitted(self, uri: str, method: str, params: dict[str, Any]) -> None:
        """`submit`."""
        self._emit("submit", next=uri, method=method, namelist=params)

    def ended(self, value: Any, namelist: dict[str, Any]) -> None:
        """`exit` (after `disconnect` when the document hung up)."""
        self._report_disconnect()
        self._emit("exit", expr=value, namelist=namelist)

    def failed(self, name: str, message: str) -> None:
        """`error`."""
        self._report_disconnect()
        self._emit("error", name=name, message=message)

    def _report_disconnect(self) -> None:
        if self.disconnected:
            extra = {"namelist": self.disconnect_namelist} if self.disconnect_namelist else {}
            self._emit("disconnect", **extra)


class ConsolePlatform(JsonlPlatform):
    """A console for a person: prompts printed, digits typed as DTMF, words as speech, empty line = silence."""

    def _emit(self, event: str, **fields: Any) -> None:
        if event == "prompt":
            text = fields["text"] + (f"  [audio: {', '.join(fields['audio'])}]" if fields["audio"] else "")
            self.stdout.write(f"  {text}\n")
        elif event == "log":
            self.stdout.write(f"  (log{' ' + fields['label'] if fields.get('label') else ''}: {fields['text']})\n")
        elif event == "error":
            self.stdout.write(f"  !! {fields['name']}: {fields['message']}\n")
        elif event == "fetchaudio":
            self.stdout.write(f"  (fetching: playing {fields['src']})\n")
        elif event == "record":
            self.stdout.write("  (recording: type what you say, digits to stop, empty line for silence)\n")
        elif event in ("exit", "disconnect", "submit", "transfer"):
            self.stdout.write(f"  [{event} {json.dumps({k: v for k, v in fields.items() if v})}]\n")
            if event == "transfer" and fields.get("bridge"):
                self.stdout.write("  (the transfer's outcome: type !transfer busy, !transfer far_end_disconnect, ...)\n")
        self.stdout.flush()

    def _read(self) -> dict[str, Any] | None:
        self.stdout.write("> ")
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            return None
        text = line.strip()
        if text == "":
            return {"input": "noinput"}
        if text.lower() in ("!hangup", "/hangup"):
            return {"input": "hangup"}
        if text.lower() in ("!nomatch", "/nomatch"):
            return {"input": "nomatch"}
        if text.startswith(("!transfer ", "/transfer ")):
            return {"input": "transfer", "result": text.split(None, 1)[1]}
        if _DTMF.match(text):
            return {"input": "dtmf", "digits": text}
        return {"input": "voice", "utterance": text, "confidence": 1.0}

    def collect(self, request: InputRequest) -> InputResult:
        """Read a line: digits are DTMF, words are speech."""
        msg = self._read()
        return InputResult("hangup") if msg is None else self._input(msg)
