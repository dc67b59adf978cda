"""The form interpretation algorithm (VoiceXML 2.0 Appendix C): initialize, then select, collect, process.

One `FormInterpreter` runs one `<form>` or `<menu>`. Each kind of form item has its own `collect_*` method;
events thrown while an item runs are handled here, by the catch the spec's selection rules choose.
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lxml import etree

from . import inputs
from .dialog_grammars import DialogGrammars
from .document import FORM_ITEMS, INPUT_ITEMS
from .events import HANGUP, ExitSession, GotoDialog, GotoItem, VXMLEvent, badfetch, semantic, unsupported
from .executable import Executor
from .handlers import count_event, default_action, select_catch
from .inputs import ActiveGrammar, Hit
from .platform import FetchAudio, InputRequest, InputResult, RecordRequest, TransferRequest
from .prompts import Prompts
from .properties import boolean, lookup, time_ms
from .scripting import ANONYMOUS, DIALOG, HANDLER, UNDEFINED

if TYPE_CHECKING:
    from .document import Document
    from .interpreter import ExecutionContext, Session

MAX_NESTED_EVENTS = 8
# The outcomes of a consultation transfer that did not connect the caller (anything else means it did).
CONSULTATION_FAILURES = frozenset(("busy", "noanswer", "network_busy", "near_end_disconnect", "unknown"))


class SessionFailed(Exception):
    """An event no handler took: the session ends with it."""

    def __init__(self, event: VXMLEvent) -> None:
        super().__init__(event.name)
        self.event = event


class FormInterpreter:
    """Runs one dialog (form or menu) of a document in an execution context."""

    def __init__(self, session: Session, context: ExecutionContext, dialog: etree._Element) -> None:
        self.session = session
        self.js = session.js
        self.context = context
        self.doc = context.doc
        self.dialog = dialog
        self.is_menu = dialog.tag == "menu"
        self.items = [dialog] if self.is_menu else [c for c in dialog if c.tag in FORM_ITEMS]
        self.prompt_counts: dict[str, int] = {}
        self.event_counts: dict[str, dict[str, int]] = {}
        self.current: etree._Element | None = None
        self.reprompt = False
        self.suppress_prompts = False
        self.prompt_timeout_ms: int | None = None
        self.prompt_bargeintype: str | None = None
        self.recording: dict[str, Any] | None = None  # recordutterance's facts about the last input
        self.heard_mark: tuple[str, int] | None = None  # the platform's (markname, marktime) for the last input
        self.exec = Executor(self)
        self.grammars = DialogGrammars(self)
        self.prompts = Prompts(self)

    # == the main loop =================================================================================
    def run(self, params: dict[str, Any] | None = None, hit: Hit | None = None) -> None:
        """Interpret the dialog until it transfers control (an exception) or runs out of items; `hit` is input
        one of its document-scoped grammars matched while another dialog was active."""
        next_item: str | None = None
        pending: VXMLEvent | None = None
        chained = 0  # events handled in a row without any item running: a handler loop
        try:
            self.initialize(params)
        except VXMLEvent as ev:
            pending = ev
        while True:
            try:
                try:
                    if hit is not None:
                        carried, hit = hit, None
                        self.apply(carried, self.dialog)
                        continue
                    if pending is not None:
                        event, pending = pending, None
                        chained += 1
                        if chained > MAX_NESTED_EVENTS:
                            raise SessionFailed(event)
                        next_item = self.handle_event(event, self.current)
                        continue
                    item = self.select(next_item)
                    next_item = None
                    if item is None:
                        return
                    self.current = item
                    chained = 0
                    self.collect(item)
                    self.suppress_prompts = False
                except GotoDialog as g:
                    # Fetch the target now: a bad fetch is an event in this dialog, not in the next one.
                    self.session.prefetch(g, self.context)
                    raise
            except GotoItem as g:
                next_item, self.suppress_prompts = g.item, False
            except VXMLEvent as ev:
                pending = ev

    def initialize(self, params: dict[str, Any] | None) -> None:
        """Appendix C's initialization: dialog scope, `<var>`/`<script>` and form item variables in order."""
        self.js.new_scope(DIALOG)
        params = dict(params or {})
        for child in self.dialog:
            tag = child.tag
            if tag == "var":
                name = child.get("name", "")
                if name in params:
                    self.js.set(DIALOG, name, params.pop(name))
                else:
                    self.js.declare(DIALOG, name, child.get("expr"))
            elif tag == "script":
                self.js.run_script(DIALOG, self.script_source(child))
            elif tag == "data":
                self.data(child, DIALOG)
            elif tag in FORM_ITEMS:
                self.js.declare(DIALOG, child.get("name", ""), child.get("expr"))
        if params:
            raise semantic(f"subdialog parameters without a matching <var>: {', '.join(sorted(params))}")

    def select(self, next_item: str | None) -> etree._Element | None:
        """The item named by `<goto nextitem>`, else the first whose variable is undefined and cond holds."""
        if self.is_menu:
            return self.dialog
        if next_item is not None:
            for item in self.items:
                if item.get("name") == next_item:
                    return item
            raise badfetch(f"<goto nextitem> names no form item: {next_item!r}")
        for item in self.items:
            if self.js.is_undefined(DIALOG, item.get("name", "")):
                cond = item.get("cond")
                if cond is None or self.js.cond(cond):
                    return item
        return None

    def collect(self, item: etree._Element) -> None:
        """Run one form item (Appendix C's collect and process phases)."""
        self.session.step()
        name = item.get("name", "")
        self.prompt_counts[name] = self.prompt_counts.get(name, 0) + (0 if self.suppress_prompts else 1)
        self.prompt_counts[name] = max(self.prompt_counts[name], 1)
        getattr(self, "collect_" + item.tag)(item)

    # == form items ====================================================================================
    def collect_block(self, item: etree._Element) -> None:
        """`<block>`: its variable becomes true, then its content runs."""
        self.js.set(DIALOG, item.get("name", ""), True)
        self.js.new_scope(ANONYMOUS)
        self.exec.run(item, ANONYMOUS)

    def collect_field(self, item: etree._Element) -> None:
        """`<field>`: prompts, listen against the active grammars, fill, run `<filled>`."""
        self.queue_item_prompts(item)
        grammars = self.active_grammars(item)
        self.apply(self.listen(item, grammars), item)

    def collect_initial(self, item: etree._Element) -> None:
        """`<initial>` (mixed initiative): prompts, listen to the form-level grammars."""
        self.queue_item_prompts(item)
        grammars = self.active_grammars(item)
        self.apply(self.listen(item, grammars), item)

    def collect_menu(self, menu: etree._Element) -> None:
        """A `<menu>`: prompts (with `<enumerate>`), listen to the choices, follow the chosen one."""
        self.queue_item_prompts(menu)
        grammars = self.active_grammars(menu)
        self.apply(self.listen(menu, grammars), menu)

    def collect_subdialog(self, item: etree._Element) -> None:
        """`<subdialog>`: run another dialog in a new context and keep what it returns."""
        self.queue_item_prompts(item)
        src = item.get("src") or self.js.string(item.get("srcexpr", "''"))
        uri = self.resolve_target(src, item)
        # <param>s initialise the subdialog's <var>s; the namelist goes to the server with the fetch.
        params = {p.get("name", ""): self.param_value(p) for p in item if p.tag == "param"}
        submit = self.namelist_values(item.get("namelist"))
        ret = self.session.subdialog(uri, params, self.context, self.fetch_hints(item), submit=submit,
                                     method=(item.get("method") or "get").lower(), audio=self.fetch_audio(item),
                                     enctype=item.get("enctype") or "application/x-www-form-urlencoded")
        if ret.event:
            raise VXMLEvent(ret.event, ret.message)
        self.js.set(DIALOG, item.get("name", ""), ret.namelist)
        self.process_filled([item])

    def collect_object(self, item: etree._Element) -> None:
        """`<object>`: no platform objects exist here."""
        raise unsupported("objectname", f"object {item.get('classid', '')!r} is not supported")

    def collect_record(self, item: etree._Element) -> None:
        """`<record>`: prompts, record, keep the recording and its shadow variables."""
        self.queue_item_prompts(item)
        name = item.get("name", "")
        req = RecordRequest(name=name, maxtime_ms=time_ms(item.get("maxtime"), 60000),
                            finalsilence_ms=time_ms(item.get("finalsilence"), 5000),
                            dtmfterm=boolean(item.get("dtmfterm", "true")), beep=boolean(item.get("beep", "false")),
                            type=item.get("type", "audio/x-wav"), timeout_ms=self.timeout_ms(item))
        res = self.session.platform.record(req)
        self.heard_mark = _mark(res.markname, res.marktime_ms)
        if res.kind == "noinput":
            raise VXMLEvent("noinput")
        audio = res.audio
        value = audio if isinstance(audio, str) else \
            f"data:{req.type};base64,{base64.b64encode(audio).decode()}"
        self.js.set(DIALOG, name, value)
        shadow = {"duration": res.duration_ms, "size": len(audio), "maxtime": res.maxtime,
                  "utterance": res.utterance, "inputmode": "voice", **self.mark_shadows()}
        if res.termchar is not None:   # otherwise undefined (section 2.3.6), hence left out
            shadow["termchar"] = res.termchar
        self.js.set(DIALOG, name + "$", shadow)
        if res.kind == "hangup":
            self.session.hangup()
            raise VXMLEvent(HANGUP, "the caller hung up while recording")
        self.process_filled([item])

    def collect_transfer(self, item: etree._Element) -> None:
        """`<transfer>`: blind, bridge or consultation; the outcome is the item's value."""
        self.queue_item_prompts(item)
        name = item.get("name", "")
        dest = item.get("dest") or (self.js.string(item.get("destexpr", "")) if item.get("destexpr") else "")
        ttype = item.get("type") or ("bridge" if boolean(item.get("bridge", "false")) else "blind")
        if ttype not in ("blind", "bridge", "consultation"):
            raise badfetch(f"unknown transfer type {ttype!r}")
        aai = item.get("aai") or (self.js.string(item.get("aaiexpr", "")) if item.get("aaiexpr") else None)
        audio = item.get("transferaudio")
        req = TransferRequest(dest=dest, type=ttype, connecttimeout_ms=time_ms(item.get("connecttimeout"), 30000),
                              maxtime_ms=time_ms(item.get("maxtime"), 0), aai=aai,
                              grammars=self.active_grammars(item),
                              transferaudio=self.doc.resolve(audio) if audio else None)
        res = self.session.platform.transfer(req)
        if res.result.startswith("error."):
            raise VXMLEvent(res.result, f"transfer to {dest} failed")
        if res.result == "hangup":
            self.session.hangup()
            raise VXMLEvent(HANGUP, "the caller hung up during the transfer")
        if ttype == "blind" or (ttype == "consultation" and res.result not in CONSULTATION_FAILURES):
            # 2.1 section 10: a consultation transfer that connects leaves the caller with the callee and the
            # interpreter disconnected, as a blind one does; only a failed attempt comes back as the outcome.
            raise VXMLEvent("connection.disconnect.transfer", f"{ttype} transfer to {dest}")
        self.js.set(DIALOG, name, res.result)
        shadow: dict[str, Any] = {"duration": res.duration_ms / 1000.0, **self.mark_shadows()}
        if res.utterance is not None:  # otherwise undefined: no input ended the transfer (2.3.7)
            shadow.update(utterance=res.utterance, inputmode=res.inputmode or "voice")
        self.js.set(DIALOG, name + "$", shadow)
        self.process_filled([item])

    # == input =========================================================================================
    def listen(self, item: etree._Element, grammars: list[ActiveGrammar]) -> Hit:
        """Wait for input and match it; noinput, nomatch and hangup come back as events."""
        if self.session.hung_up:
            raise ExitSession()  # nobody is left to listen to
        modes = tuple(m for m in ("voice", "dtmf") if m in self.prop("inputmodes", item).split())
        termchar = self.prop("termchar", item)
        req = InputRequest(grammars=[g for g in grammars if g.mode in modes], modes=modes,
                           timeout_ms=self.timeout_ms(item),
                           interdigittimeout_ms=time_ms(self.prop("interdigittimeout", item), 3000),
                           termtimeout_ms=time_ms(self.prop("termtimeout", item), 0),
                           termchar=termchar, confidencelevel=_float(self.prop("confidencelevel", item), 0.5),
                           maxspeechtimeout_ms=time_ms(self.prop("maxspeechtimeout", item), 60000),
                           completetimeout_ms=time_ms(self.prop("completetimeout", item), 1000),
                           incompletetimeout_ms=time_ms(self.prop("incompletetimeout", item), 1000),
                           sensitivity=_float(self.prop("sensitivity", item), 0.5),
                           speedvsaccuracy=_float(self.prop("speedvsaccuracy", item), 0.5),
                           bargein=self.bargein(item),
                           recordutterance=boolean(self.prop("recordutterance", item)),
                           maxnbest=_positive_int("maxnbest", self.prop("maxnbest", item)))
        # 4.1.5.1: with hotword barge-in (the last prompt's bargeintype, else the property), input that matches
        # no grammar is ignored and never a nomatch.
        hotword = (self.prompt_bargeintype or self.prop("bargeintype", item)).strip().lower() == "hotword"
        self.prompt_timeout_ms = self.prompt_bargeintype = None
        self.session.steps = 0
        while True:
            result: InputResult = self.session.platform.collect(req)
            hit = self.recognize(req, result, item)
            if hit is not None:
                return hit
            if not hotword:
                raise VXMLEvent("nomatch")

    def recognize(self, req: InputRequest, result: InputResult, item: etree._Element) -> Hit | None:
        """Match what the platform heard against the request's grammars; None for a nomatch (then in
        `lastresult$`); noinput and hangup come back as events."""
        modes, termchar = req.modes, req.termchar
        self.heard_mark = _mark(result.markname, result.marktime_ms)
        if result.kind in ("noinput", "maxspeechtimeout"):  # silence, or speech longer than maxspeechtimeout
            raise VXMLEvent(result.kind)
        if result.kind == "hangup":
            self.session.hangup()
            raise VXMLEvent(HANGUP, "the caller hung up")
        if result.kind in ("voice", "dtmf") and result.kind not in modes:
            # 6.3.6: a modality that is off is not listened to, so the caller was not heard at all.
            raise VXMLEvent("noinput")
        if result.kind not in modes:
            return None  # the recognizer heard something outside every grammar
        value = result.value
        # The termchar alone is kept: a grammar may claim that key (2.2.1 lets a <choice dtmf="#"> do so).
        lone_termchar = result.kind == "dtmf" and bool(termchar) and value == termchar
        if result.kind == "dtmf" and termchar and value.endswith(termchar) and not lone_termchar:
            value = value[: -len(termchar)]
        self.recording = None
        if req.recordutterance and result.recording is not None:
            audio = result.recording
            self.recording = {"recording": audio if isinstance(audio, str) else
                              f"data:{self.prop('recordutterancetype', item)};base64,"
                              f"{base64.b64encode(audio).decode()}",
                              "recordingsize": len(audio), "recordingduration": result.recording_ms}
        hypotheses = [(value, result.confidence)]
        if result.kind == "voice":
            hypotheses += [(" ".join(a.value.split()), a.confidence) for a in result.alternatives]
        hit = inputs.match_nbest(result.kind, hypotheses, req.grammars, req.confidencelevel, req.maxnbest)
        if hit is None and lone_termchar:
            raise VXMLEvent("noinput")  # the key only ended an empty input
        if hit is None:
            self.session.set_lastresult([self.result_fields(value, None, result.kind, result.confidence)])
        return hit

    def apply(self, hit: Hit, item: etree._Element) -> None:
        """Act on a match: follow a choice or link, or fill form items and run `<filled>`."""
        self.session.set_lastresult([self.result_fields(h.utterance, h.interpretation, h.inputmode, h.confidence)
                                     for h in (hit, *hit.nbest)])
        ag = hit.grammar
        if ag.event is not None:
            raise VXMLEvent(ag.event, f"the caller said {hit.utterance!r}")
        if ag.choice is not None:
            self.follow(ag.choice)
        if ag.owner.tag == "link":
            self.follow(ag.owner)
        if ag.owner is not item and ag.owner is not self.dialog and ag.owner.tag in ("form", "menu"):
            # A document-scoped grammar of another dialog (of this document or of the application root): go
            # there, and let that dialog take the input.
            doc = self.document_of(ag.owner)
            did = next(k for k, v in doc.dialogs.items() if v is ag.owner)
            raise GotoDialog(doc.uri + "#" + did, local=doc is self.doc, hit=hit)
        filled: list[etree._Element] = []
        interp = hit.interpretation
        if ag.owner is item and item.tag == "field":
            slot = item.get("slot") or item.get("name", "")
            value = interp[slot] if isinstance(interp, dict) and slot in interp else interp
            self.fill(item, value, hit)
            filled.append(item)
        else:
            for other in self.items:
                if other.tag != "field":
                    continue
                slot = other.get("slot") or other.get("name", "")
                found, value = _slot(interp, slot)
                if found:
                    self.fill(other, value, hit)
                    filled.append(other)
            if not filled and item.tag == "field" and not isinstance(interp, dict):
                self.fill(item, interp, hit)
                filled.append(item)
        if filled:
            for other in self.items:
                if other.tag == "initial":
                    self.js.set(DIALOG, other.get("name", ""), True)
        self.process_filled(filled)

    def fill(self, item: etree._Element, value: Any, hit: Hit) -> None:
        """Set a form item's variable and its shadow variables."""
        name = item.get("name", "")
        self.js.set(DIALOG, name, value)
        self.js.set(DIALOG, name + "$", {"utterance": hit.utterance, "inputmode": hit.inputmode,
                                         "interpretation": hit.interpretation, "confidence": hit.confidence,
                                         **self.mark_shadows(), **(self.recording or {})})

    def mark_shadows(self) -> dict[str, Any]:
        """VoiceXML 2.1 `name$.markname`/`name$.marktime`: the same values as `lastresult$`: what the platform
        said of the last input (the mark played before barge-in and the time since), else the last mark queued."""
        if self.heard_mark is not None:
            return {"markname": self.heard_mark[0], "marktime": self.heard_mark[1]}
        return {"markname": self.session.last_mark or None, "marktime": 0}

    def result_fields(self, utterance: str, interpretation: Any, inputmode: str, confidence: float
                      ) -> dict[str, Any]:
        """One element of `application.lastresult$`."""
        return {"utterance": utterance, "interpretation": interpretation, "inputmode": inputmode,
                "confidence": confidence, **self.mark_shadows(), **(self.recording or {})}

    def process_filled(self, filled: list[etree._Element]) -> None:
        """Run the `<filled>` actions this input triggers, in document order."""
        if not filled:
            return
        just = {f.get("name", "") for f in filled}
        input_names = [c.get("name", "") for c in self.items if c.tag in INPUT_ITEMS and c.tag != "initial"]
        for child in self.dialog:
            if child in filled:
                for f in child:
                    if f.tag == "filled":
                        self.js.new_scope(ANONYMOUS)
                        self.exec.run(f, ANONYMOUS)
            elif child.tag == "filled":
                names = (child.get("namelist") or "").split() or input_names
                if not any(n in just for n in names):
                    continue
                if child.get("mode", "all") == "all" and any(self.js.is_undefined(DIALOG, n) for n in names):
                    continue
                self.js.new_scope(ANONYMOUS)
                # Events thrown here count against the form's counters and skip the item's catches (5.2.2);
                # `current` stays on the form if one escapes, so the handler is chosen from there.
                item, self.current = self.current, self.dialog
                self.exec.run(child, ANONYMOUS)
                self.current = item

    def follow(self, el: etree._Element) -> None:
        """A chosen `<choice>` or matched `<link>`: go to its target or throw its event."""
        if el.get("next") or el.get("expr"):
            raise self.goto(el.get("next") or self.js.string(el.get("expr", "''")), el)
        name = el.get("event") or self.js.string(el.get("eventexpr", "''"))
        message = el.get("message") or (self.js.string(el.get("messageexpr", "")) if el.get("messageexpr") else "")
        raise VXMLEvent(name, message)

    # == grammars ======================================================================================
    def active_grammars(self, item: etree._Element) -> list[ActiveGrammar]:
        """Grammars in scope for `item`, in priority order."""
        return self.grammars.active(item)

    def choices(self, menu: etree._Element) -> list[tuple[etree._Element, str, str | None]]:
        """A menu's choices with their text and DTMF key."""
        return self.grammars.choices(menu)

    def cached(self, el: etree._Element, kind: str, build: Callable[[], Any]) -> Any:
        """Per-document memo of things built from elements (grammars, choice lists)."""
        key = (kind, el)
        memo = self.doc.compiled
        if key not in memo:
            memo[key] = build()
        return memo[key]

    # == events ========================================================================================
    def handle_event(self, ev: VXMLEvent, item: etree._Element | None) -> str | None:
        """Run the catch the spec selects (or the default); returns a `<goto nextitem>` target or None."""
        for _ in range(MAX_NESTED_EVENTS):
            counts = self.event_counts.setdefault(item.get("name", "") if item is not None else "", {})
            count_event(counts, ev.name)
            scopes = [item if item is not self.dialog else None, self.dialog, self.doc.root, self.context.root]
            try:
                catch = select_catch(ev.name, counts, scopes, self.js.cond)
            except VXMLEvent as inner:  # a catch's cond itself failed
                ev = inner
                continue
            self.reprompt = False
            if catch is None:
                action = default_action(ev.name)
                if action == "reprompt":
                    self.suppress_prompts = False
                    return None
                if action == "continue":
                    self.suppress_prompts = True
                    return None
                if action == "exit":
                    raise ExitSession()
                raise SessionFailed(ev)
            try:
                self.js.new_scope(HANDLER)
                self.js.set(HANDLER, "_event", ev.name)
                # no message given: ECMAScript undefined (section 5.2.2), not ""
                self.js.set(HANDLER, "_message", ev.message if ev.message else UNDEFINED)
                self.exec.run(catch, HANDLER)
            except GotoItem as g:
                self.suppress_prompts = False
                return g.item
            except VXMLEvent as inner:
                ev = inner
                continue
            finally:
                self.js.drop_scope(HANDLER)
            # Appendix C: the next iteration, whichever item it selects, queues no prompts unless the
            # handler asked for them with <reprompt> (the handler is expected to have said what is needed).
            self.suppress_prompts = not self.reprompt
            return None
        raise SessionFailed(ev)

    # == prompts (voicexml.prompts) =====================================================================
    def queue_item_prompts(self, item: etree._Element) -> None:
        """Queue an item's prompts for its prompt counter (not after a catch without `<reprompt>`)."""
        if self.suppress_prompts:
            self.suppress_prompts = False
            return
        self.prompts.queue_item(item)

    def select_prompts(self, container: etree._Element) -> set[etree._Element] | None:
        """Prompts with the highest count <= the current item's prompt counter (None: no counts to apply)."""
        return self.prompts.select(container)

    def queue_prompt(self, p: etree._Element, origin: etree._Element | None = None) -> None:
        """Render a `<prompt>` (made around the element `origin`, when given) and queue it with the platform."""
        self.prompts.queue(p, origin)

    # == helpers for executable content =================================================================
    def prop(self, name: str, item: etree._Element | None = None) -> str:
        """A property's value for the current item."""
        item = item if item is not None else self.current
        scope = item if item is not None else self.dialog
        # Property values are literals, so a document's answers never change: memoise them per element.
        return self.cached(scope, "property:" + name, lambda: lookup(
            name, (item if item is not self.dialog else None, self.dialog, self.doc.root, self.context.root)))

    def bargein(self, item: etree._Element | None = None) -> bool:
        """The bargein property in effect."""
        return boolean(self.prop("bargein", item))

    def timeout_ms(self, item: etree._Element) -> int:
        """The no-input timeout: the last prompt's `timeout`, else the property."""
        if self.prompt_timeout_ms is not None:
            return self.prompt_timeout_ms
        return time_ms(self.prop("timeout", item), 5000)

    def document_of(self, el: etree._Element) -> Document:
        """The document `el` is in: the application root for the root's links, handlers and dialogs."""
        app = self.context.app
        if app is not None and app is not self.doc and el.getroottree().getroot() is app.root:
            return app
        return self.doc

    def resolve_target(self, target: str, el: etree._Element) -> str:
        """A URI written on `el` made absolute against the document holding `el`; `#id` names its dialog."""
        if not target:
            raise badfetch("empty transition target")
        doc = self.document_of(el)
        if target.startswith("#"):
            return doc.uri.partition("#")[0] + target
        return doc.resolve(target)

    def goto(self, target: str, el: etree._Element) -> GotoDialog:
        """The transition a `<goto>`, `<link>` or `<choice>` makes to `target`; `#id` in the current document
        needs no fetch and keeps its variables."""
        local = target.strip().startswith("#") and self.document_of(el) is self.doc
        return GotoDialog(self.resolve_target(target, el), local=local, hints={} if local else self.fetch_hints(el),
                          audio=None if local else self.fetch_audio(el))

    def namelist_values(self, namelist: str | None, default_all: bool = False) -> dict[str, Any]:
        """The values of the variables a namelist names (for submit without one: the form's items)."""
        names = (namelist or "").split()
        if not names and default_all and not self.is_menu:
            names = [i.get("name", "") for i in self.items if i.tag in INPUT_ITEMS and not i.get("__anonymous")]
        return {n: self.js.eval(n) for n in names}

    def param_value(self, p: etree._Element) -> Any:
        """A `<param>`'s value: expr evaluated here, or the literal value."""
        if p.get("expr") is not None:
            return self.js.eval(p.get("expr", ""))
        return p.get("value", "")

    def script_source(self, el: etree._Element) -> str:
        """A `<script>`'s code, inline or fetched."""
        src = el.get("src") or (self.js.string(el.get("srcexpr", "")) if el.get("srcexpr") else None)
        if src is None:
            return el.text or ""
        return self.session.fetch_text(self.document_of(el).resolve(src), el.get("charset"), self.fetch_hints(el))

    def fetch_hints(self, el: etree._Element) -> dict[str, float]:
        """An element's fetch attributes for the fetcher, else the properties in effect (fetchtimeout,
        documentmaxage, scriptmaxstale, ... by what the element fetches: VoiceXML 2.0 6.1.1, 6.3.5)."""
        hints: dict[str, float] = {"timeout_s": time_ms(el.get("fetchtimeout") or self.prop("fetchtimeout"),
                                                        10000) / 1000}
        kind = _FETCH_KIND.get(el.tag, "document")
        for attr in ("maxage", "maxstale"):
            v = el.get(attr) or self.prop(kind + attr)
            if v:
                try:
                    hints[attr] = float(v)
                except ValueError:
                    raise badfetch(f"{attr}={v!r} is not a number of seconds") from None
        return hints

    def fetch_audio(self, el: etree._Element) -> FetchAudio | None:
        """What to play while `el` fetches (6.1.1): its `fetchaudio` attribute (empty: nothing), else the
        fetchaudio property; played after `fetchaudiodelay`, for at least `fetchaudiominimum`."""
        src = el.get("fetchaudio")
        if src is None:
            src = self.prop("fetchaudio")
        if not src.strip():
            return None
        return FetchAudio(self.document_of(el).resolve(src), time_ms(self.prop("fetchaudiodelay"), 1000),
                          time_ms(self.prop("fetchaudiominimum"), 0))

    def clear_items(self, names: list[str] | None) -> None:
        """`<clear>`: form items become undefined and their counters start again."""
        for item in self.items:
            n = item.get("name", "")
            if names is None or n in names:
                if names is None and item is not self.dialog:
                    self.js.set(DIALOG, n, UNDEFINED)
                self.prompt_counts.pop(n, None)
                if item is not self.dialog:  # a menu's event counters outlive <clear> (5.2.2)
                    self.event_counts.pop(n, None)

    def data(self, el: etree._Element, level: int) -> None:
        """2.1 `<data>`: fetch XML and expose it as a read-only DOM."""
        self.session.data(el, level, self)


_FETCH_KIND = {"script": "script", "grammar": "grammar", "data": "data", "audio": "audio"}


def _slot(interp: Any, slot: str) -> tuple[bool, Any]:
    cur = interp
    for part in slot.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return False, None
        cur = cur[part]
    return True, cur


def _mark(name: str | None, time_ms: int | None) -> tuple[str, int] | None:
    return None if name is None else (name, max(0, time_ms or 0))


def _positive_int(name: str, v: str) -> int:
    if not v.strip().isdigit() or int(v) < 1:
        raise badfetch(f"the {name} property is {v!r}, not a positive integer")
    return int(v)


def _float(v: str, default: float) -> float:
    try:
        return float(v)
    except ValueError:
        return default

