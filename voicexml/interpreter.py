"""A VoiceXML session: documents, the application root, transitions between dialogs, subdialogs, outcome."""
from __future__ import annotations

import json
import logging
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .document import Document, DocumentCache
from .dom import DOM_JS, describe
from .events import ExitSession, GotoDialog, ReturnFromSubdialog, VXMLEvent, badfetch, semantic
from .fetch import Fetcher, Resource, to_uri, with_fetchaudio
from .fia import FormInterpreter, SessionFailed
from .platform import FetchAudio, Platform
from .properties import lookup, time_ms
from .scripting import APPLICATION, DOCUMENT, SESSION, Scripting, ScriptSettings, check_name

log = logging.getLogger(__name__)
INTERNAL_ERROR = "error.interpreter"  # a platform-specific error name (VoiceXML 2.0 section 5.2.6)

@dataclass(frozen=True)
class SessionSettings:
    """Per-session limits and identity: ECMAScript limits, subdialog depth, the connection's facts."""

    script: ScriptSettings = field(default_factory=ScriptSettings)
    max_subdialog_depth: int = 32
    max_steps_without_input: int = 100_000  # form items run without asking the caller: a runaway document
    local_uri: str = ""
    remote_uri: str = ""
    protocol: str = "text"
    lang: str = "en-US"  # the platform's language (1.5.1): a prompt's xml:lang when its document names none
    inbound: bool = True  # the remote party placed the call: session.connection.originator is connection.remote


@dataclass
class Outcome:
    """How a session ended: `exit` (normal, including hangup and end of document) or `error`."""

    status: str
    value: Any = None
    namelist: dict[str, Any] = field(default_factory=dict)
    event: str | None = None
    message: str = ""
    start_failed: bool = False


@dataclass
class ExecutionContext:
    """The documents an execution context (the session, or one subdialog call) is in."""

    doc: Document
    app: Document | None = None  # the application root; a document that names none is its own
    is_subdialog: bool = False
    depth: int = 0

    @property
    def root(self) -> etree._Element | None:
        """The application root's `<vxml>` when the root is another document than the current one."""
        return self.app.root if self.app is not None and self.app is not self.doc else None


class Session:
    """One caller's VoiceXML session on a platform."""

    def __init__(self, platform: Platform, settings: SessionSettings = SessionSettings(), *,
                 fetcher: Fetcher | None = None, documents: DocumentCache | None = None,
                 variables: dict[str, Any] | None = None) -> None:
        self.platform = platform
        self.settings = settings
        self.fetcher = fetcher or Fetcher()
        self.documents = documents or DocumentCache()
        self.js = Scripting(settings.script)
        self.variables = variables or {}
        self.hung_up = False
        self.last_mark = ""
        self.steps = 0
        self._dom_ready = False
        self._remote: bool | None = None  # did the application start over http(s)? (set by the first fetch)

    # == running =======================================================================================
    def run(self, uri: str) -> Outcome:
        """Run the application at `uri` (a path or URI) until it ends; never raises for document errors."""
        uri = to_uri(uri)
        try:
            self._init_session_scope()
            try:
                res = self.fetch(uri)
            except VXMLEvent as ev:
                self.platform.failed(ev.name, ev.message)
                return Outcome("error", event=ev.name, message=ev.message, start_failed=True)
            doc = self.documents.get(res.uri.partition("#")[0], res.content)
            self.run_context(ExecutionContext(doc), uri.partition("#")[2], None)
            self.platform.ended(None, {})
            return Outcome("exit")
        except ExitSession as e:
            self.platform.ended(e.value, e.namelist)
            return Outcome("exit", e.value, e.namelist)
        except SessionFailed as f:
            self.platform.failed(f.event.name, f.event.message)
            return Outcome("error", event=f.event.name, message=f.event.message)
        except VXMLEvent as ev:  # an event outside any dialog (in document initialisation with no catch)
            self.platform.failed(ev.name, ev.message)
            return Outcome("error", event=ev.name, message=ev.message)
        except (ReturnFromSubdialog, GotoDialog) as e:  # pragma: no cover - the FIA turns these into events
            self.platform.failed("error.semantic", f"unexpected {type(e).__name__}")
            return Outcome("error", event="error.semantic", message=f"unexpected {type(e).__name__}")
        except Exception as e:
            log.exception("VoiceXML session failed on an interpreter error")
            self.platform.failed(INTERNAL_ERROR, f"{type(e).__name__}: {e}")
            return Outcome("error", event=INTERNAL_ERROR, message=str(e))

    def run_context(self, ctx: ExecutionContext, fragment: str, params: dict[str, Any] | None) -> None:
        """Run dialogs in `ctx` from `fragment` (or the first) until the context ends or exits."""
        entering: Document | None = ctx.doc
        hit, submitted = None, False
        while True:
            try:
                if entering is not None:
                    doc, entering = entering, None
                    self.enter_document(ctx, doc, submitted=submitted)
                dialog = self._dialog(ctx.doc, fragment)
                FormInterpreter(self, ctx, dialog).run(params, hit)
                raise ExitSession()  # the dialog ran out of items and named no successor
            except GotoDialog as g:
                params, hit = None, g.hit
                if g.document is None:  # from a document-level handler: not fetched yet
                    try:
                        self.prefetch(g, ctx)
                    except VXMLEvent as ev:
                        raise SessionFailed(ev) from None
                fragment = g.uri.partition("#")[2]
                if not g.local:
                    entering, submitted = g.document, g.submit

    def _dialog(self, doc: Document, fragment: str) -> etree._Element:
        dialog = doc.dialogs.get(fragment) if fragment else doc.first_dialog
        if dialog is None:
            raise SessionFailed(badfetch(f"no dialog {fragment!r} in {doc.uri}" if fragment
                                         else f"{doc.uri} has no form or menu"))
        return dialog

    def subdialog(self, uri: str, params: dict[str, Any], caller: ExecutionContext,
                  hints: dict[str, float] | None = None, *, submit: dict[str, Any] | None = None,
                  method: str = "get", enctype: str = "application/x-www-form-urlencoded",
                  audio: FetchAudio | None = None) -> ReturnFromSubdialog:
        """Run the subdialog at `uri` (fetched with `submit` as its query or body) in a new execution context and
        return what it returned."""
        if caller.depth >= self.settings.max_subdialog_depth:
            raise semantic("subdialogs are nested too deeply")
        g = GotoDialog(uri, method=method, params=submit or {}, enctype=enctype, hints=hints or {}, audio=audio)
        self.prefetch(g, caller, for_subdialog=True)
        handle = self.js.save_chain()
        try:
            ctx = ExecutionContext(g.document, None, True, caller.depth + 1)
            self.js.new_scope(APPLICATION)
            self.run_context(ctx, uri.partition("#")[2], params)
        except ReturnFromSubdialog as r:
            return r
        finally:
            self.js.restore_chain(handle)
        raise semantic("the subdialog ended without <return>")  # pragma: no cover - run_context never returns

    # == documents =====================================================================================
    def load(self, uri: str, *, method: str = "get", params: dict[str, Any] | None = None,
             hints: dict[str, float] | None = None, enctype: str = "application/x-www-form-urlencoded",
             audio: FetchAudio | None = None) -> Document:
        """Fetch and parse a document (parsed documents are cached by content)."""
        hints = hints or {}
        res = self.fetch(uri, audio, method=method, data=params or None, timeout_s=hints.get("timeout_s"),
                         maxage=hints.get("maxage"), maxstale=hints.get("maxstale"), enctype=enctype)
        return self.documents.get(res.uri.partition("#")[0], res.content)

    def prefetch(self, g: GotoDialog, ctx: ExecutionContext, for_subdialog: bool = False) -> None:
        """Load a transition's target (and its application root) before leaving the current dialog."""
        base, _, fragment = g.uri.partition("#")
        hints = g.hints or {"timeout_s": time_ms(lookup("fetchtimeout", (ctx.doc.root, ctx.root)), 10000) / 1000}
        if g.local or (base == ctx.doc.uri and for_subdialog and not g.params and g.method == "get"):
            doc = ctx.doc
        elif not for_subdialog and not g.submit and ctx.root is not None and ctx.app and base == ctx.app.uri:
            doc = ctx.app  # leaf to root by goto, choice or link: the loaded root becomes the leaf (1.5.2)
        else:
            doc = self.load(base, method=g.method, params=g.params, hints=hints, enctype=g.enctype, audio=g.audio)
        if fragment and fragment not in doc.dialogs:
            raise badfetch(f"no dialog {fragment!r} in {base}")
        if doc.application and (ctx.app is None or ctx.app.uri != doc.application or for_subdialog):
            self.load(doc.application, hints=hints, audio=g.audio)  # fails here, in the caller, when it cannot load
        g.document = doc

    def enter_document(self, ctx: ExecutionContext, doc: Document, *, submitted: bool = False) -> None:
        """Make `doc` current, keeping or initialising the application root's context as VoiceXML 2.0 1.5.2
        says: kept from the root or a leaf to a leaf of the same root, and from a leaf to its root by `<goto>`,
        `<choice>` or `<link>`; initialised afresh otherwise (a `<submit>` to the root, root to root even
        when it is the same document, another application, a subdialog's new context)."""
        app = ctx.app
        if doc.application is not None:
            keep = app is not None and app.uri == doc.application
        elif app is not None and app is not ctx.doc and app.uri == doc.uri and not submitted:
            keep, doc = True, app  # from a leaf to its root: the loaded root becomes the leaf
        else:
            keep = False
        if app is None or not keep:
            app = doc if doc.application is None else self.load(doc.application)
            if app.application:
                raise SessionFailed(semantic("an application root document has its own application root"))
            self.js.new_scope(APPLICATION)
            self.js.declare(APPLICATION, "lastresult$")
        ctx.app, ctx.doc = app, doc
        if doc is app:
            # A root document is its own leaf: document scope is application scope ("while executing inside
            # the application root document document.x is equivalent to application.x", 5.1.2).
            self.js.alias_scope(DOCUMENT, APPLICATION)
            if not keep:
                self._initialise(ctx, APPLICATION)
            return
        if not keep:
            self._initialise(ExecutionContext(app, app), APPLICATION)
        self.js.new_scope(DOCUMENT)
        self._initialise(ctx, DOCUMENT)

    def _initialise(self, ctx: ExecutionContext, level: int) -> None:
        """The current document's `<var>`, `<script>` and `<data>` in the scope at `level`; an event they throw
        goes to the document's (and its root's) handlers."""
        try:
            self._declarations(ctx.doc.root, level, ctx)
        except VXMLEvent as ev:
            FormInterpreter(self, ctx, ctx.doc.root).handle_event(ev, None)

    def _declarations(self, root: etree._Element, level: int, ctx: ExecutionContext) -> None:
        fia = None
        for child in root:
            if child.tag == "var":
                self.js.declare(level, child.get("name", ""), child.get("expr"))
            elif child.tag in ("script", "data"):
                fia = fia or FormInterpreter(self, ctx, root)
                if child.tag == "script":
                    self.js.run_script(level, fia.script_source(child))
                else:
                    fia.data(child, level)

    def _init_session_scope(self) -> None:
        self.js.new_scope(SESSION)
        s = self.settings
        connection = {"local": {"uri": s.local_uri}, "remote": {"uri": s.remote_uri},
                      "protocol": {"name": s.protocol, "version": "1.0", s.protocol: {}},
                      "redirect": [], "aai": None}
        # 5.1.4: originator is a reference to the local or the remote object, not a copy
        self.js.set_expr(SESSION, "connection", f"(function(c){{ c.originator = c.{'remote' if s.inbound else 'local'};"
                                                f" return c; }})({json.dumps(connection)})")
        self.js.set(SESSION, "telephone", {"ani": s.remote_uri, "dnis": s.local_uri})
        for k, v in self.variables.items():
            check_name(k)
            self.js.set(SESSION, k, v)

    # == services for the form interpreter ==============================================================
    def set_lastresult(self, results: list[dict[str, Any]]) -> None:
        """Set `application.lastresult$`: the results, best first, as an array that also carries the first
        result's properties (`lastresult$.utterance` is `lastresult$[0].utterance`, VoiceXML 2.0 5.1.5)."""
        self.js.set_expr(APPLICATION, "lastresult$",
                         f"(function(a){{ var r = a[0]; for (var k in r) a[k] = r[k]; return a; }})"
                         f"({json.dumps(results)})")

    def fetch(self, uri: str, audio: FetchAudio | None = None, **kwargs: Any) -> Resource:
        """Fetch for this session: an application that came over the network may not read local files. With
        `audio`, the platform plays it if the fetch goes to the network and takes longer than its delay."""
        if self._remote is None:
            self._remote = urllib.parse.urlsplit(uri).scheme.lower() in ("http", "https")
        elif self._remote and urllib.parse.urlsplit(uri).scheme.lower() == "file":
            raise VXMLEvent("error.noauthorization", f"a document fetched over the network may not read {uri}")
        if audio is None:
            return self.fetcher.fetch(uri, **kwargs)
        cached = self.fetcher.cached(uri, **{k: v for k, v in kwargs.items()
                                             if k in ("maxage", "maxstale", "method", "data")})
        if cached is not None:  # nothing to wait for: no fetch audio (6.1.1: "if it actually needs fetching")
            return cached
        return with_fetchaudio(self.platform, audio, lambda: self.fetcher.fetch(uri, **kwargs))

    def fetch_text(self, uri: str, charset: str | None = None, hints: dict[str, float] | None = None) -> str:
        """A fetched resource as text (scripts, grammars)."""
        hints = hints or {}
        res = self.fetch(uri, timeout_s=hints.get("timeout_s"), maxage=hints.get("maxage"),
                                 maxstale=hints.get("maxstale"))
        try:
            return res.content.decode(charset or "utf-8")
        except (UnicodeDecodeError, LookupError) as e:
            raise badfetch(f"cannot decode {uri}: {e}") from e

    def data(self, el: etree._Element, level: int, fia: FormInterpreter) -> None:
        """2.1 `<data>`: fetch XML and bind a read-only DOM to the `name` variable."""
        src = el.get("src") or fia.js.string(el.get("srcexpr", "''"))
        uri = fia.resolve_target(src, el)
        params = fia.namelist_values(el.get("namelist"))
        hints = fia.fetch_hints(el)
        res = self.fetch(uri, fia.fetch_audio(el), method=(el.get("method") or "get").lower(), data=params or None,
                         timeout_s=hints.get("timeout_s"), maxage=hints.get("maxage"), maxstale=hints.get("maxstale"),
                         enctype=el.get("enctype") or "application/x-www-form-urlencoded")
        try:
            tree = json.dumps(describe(res.content))
        except ValueError as e:
            raise badfetch(f"<data> {uri} is {e}") from e
        if not self._dom_ready:
            self.js._eval(DOM_JS)
            self._dom_ready = True
        name = el.get("name")
        if name:
            self.js.declare(level, name)
            self.js.set_expr(level, name, f"__dom({tree})")

    def step(self) -> None:
        """Count a form item run; a document that loops forever without input ends with error.semantic."""
        self.steps += 1
        if self.steps > self.settings.max_steps_without_input:
            raise SessionFailed(semantic(f"{self.steps} form items ran without any input: a runaway document"))

    def hangup(self) -> None:
        """The caller is gone: no more input will come."""
        self.hung_up = True

    def disconnect(self, namelist: dict[str, Any] | None = None) -> None:
        """`<disconnect>`: the platform hangs up, told the values of its 2.1 namelist."""
        if not self.hung_up:
            self.platform.disconnect(namelist)
        self.hung_up = True
