"""The grammars in scope while a form item collects input, in VoiceXML 2.0 3.1.4's order of precedence: the
item's own (grammar elements, builtin types, options) and links, the form's grammars or the menu's choices and
links, the document's links and the grammars its dialogs make document-wide, the application root's likewise,
then the universals. Compiled grammars are memoised per document."""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from lxml import etree

from . import inputs
from .events import VXMLEvent
from .inputs import ActiveGrammar, PhraseGrammar
from .properties import boolean

if TYPE_CHECKING:
    from .fia import FormInterpreter

UNIVERSALS = ("help", "cancel", "exit")


class DialogGrammars:
    """Builds the active grammar set for one form interpreter."""

    def __init__(self, fia: FormInterpreter) -> None:
        self.fia = fia

    def active(self, item: etree._Element) -> list[ActiveGrammar]:
        """The grammars in scope for `item` in VoiceXML 2.0 3.1.4's order of precedence: the item's own and its
        links; the form's (a menu's choices) and its links; the document's links and the grammars its other
        dialogs give document scope; the application root's likewise; then the platform's (universals).
        Within a level, document order. A modal field listens to its own grammars alone."""
        dialog = self.fia.dialog
        if item.tag == "field" and boolean(item.get("modal", "false")):
            return self.item_grammars(item, links=False)
        out = self.item_grammars(item, links=True) if item is not dialog else []
        if self.fia.is_menu:
            out += self.choice_grammars(dialog, "dialog")
        else:  # a transfer does not listen to the form's grammars
            out += self._level(dialog, "dialog", own=item.tag != "transfer")
        out += self._level(self.fia.doc.root, "document", skip=dialog)
        root = self.fia.context.root
        if root is not None:
            out += self._level(root, "application")
        return out + self.universal_grammars(item)

    def _level(self, container: etree._Element, level: str, *, own: bool = False,
               skip: etree._Element | None = None) -> list[ActiveGrammar]:
        """One level's grammars in document order: links, the container's `<grammar>`s when `own`, and the
        document-scoped grammars of the dialogs in it (but `skip`)."""
        out: list[ActiveGrammar] = []
        for child in container:
            if child.tag == "link":
                out += [ActiveGrammar(g, child, level) for g in self.grammars_of(child)]
            elif child.tag == "grammar" and own:
                out.append(ActiveGrammar(self.compile(child), container, level))
            elif child.tag in ("form", "menu") and child is not skip:
                out += self.document_scoped(child, level)
        return out

    def document_scoped(self, dialog: etree._Element, level: str) -> list[ActiveGrammar]:
        """The grammars a dialog makes active document-wide: a `scope="document"` menu's choices, and those of a
        form's grammars whose `scope` (else the form's) is document."""
        if dialog.tag == "menu":
            return self.choice_grammars(dialog, level) if dialog.get("scope") == "document" else []
        default = dialog.get("scope") or "dialog"
        return [ActiveGrammar(self.compile(g), dialog, level) for g in dialog
                if g.tag == "grammar" and (g.get("scope") or default) == "document"]

    def universal_grammars(self, item: etree._Element) -> list[ActiveGrammar]:
        """The `universals` property's grammars (help, cancel, exit), which throw their events."""
        names = self.fia.prop("universals", item).split()
        if "all" in names:
            names = list(UNIVERSALS)
        out = []
        for n in names:
            if n in UNIVERSALS:
                g = self.fia.cached(self.fia.doc.root, "universal:" + n, partial(PhraseGrammar, "voice", n, n))
                out.append(ActiveGrammar(g, item, "universal", event=n))
        return out

    def item_grammars(self, item: etree._Element, *, links: bool) -> list[ActiveGrammar]:
        """An item's own grammars: its `<grammar>` children (and with `links`, its links' grammars) in document
        order, then a field's builtin `type` and its `<option>`s."""
        out: list[ActiveGrammar] = []
        for child in item:
            if child.tag == "grammar":
                out.append(ActiveGrammar(self.compile(child), item, "item"))
            elif child.tag == "link" and links:
                out += [ActiveGrammar(g, child, "item") for g in self.grammars_of(child)]
        ftype = item.get("type") if item.tag == "field" else None
        if ftype:
            out += [ActiveGrammar(g, item, "item") for g in self.fia.cached(
                item, "builtin", lambda: [inputs.builtin(ftype, mode) for mode in ("voice", "dtmf")])]
        options = [o for o in item if o.tag == "option"]
        if options:
            out += [ActiveGrammar(g, item, "item") for g in self.fia.cached(item, "options", lambda: _options(options))]
        return out

    def grammars_of(self, el: etree._Element) -> list[Any]:
        """Compiled `<grammar>` children of an element (and a link's dtmf attribute)."""
        gs = [self.compile(g) for g in el if g.tag == "grammar"]
        if el.tag == "link" and el.get("dtmf"):
            gs.append(self.fia.cached(el, "dtmf", lambda: PhraseGrammar("dtmf", el.get("dtmf", ""), el.get("dtmf"))))
        return gs

    def choice_grammars(self, menu: etree._Element, level: str) -> list[ActiveGrammar]:
        """One grammar per choice: its `<grammar>`, or its text (exact or approximate) and its DTMF key."""
        out: list[ActiveGrammar] = []
        for choice, text, dtmf in self.choices(menu):
            own = [self.compile(g) for g in choice if g.tag == "grammar"]
            accept = choice.get("accept") or menu.get("accept") or "exact"

            def build(text: str = text, dtmf: str | None = dtmf, accept: str = accept) -> list[Any]:
                gs: list[Any] = []
                if text:
                    gs.append(PhraseGrammar("voice", text, text, approximate=accept == "approximate"))
                if dtmf:
                    gs.append(PhraseGrammar("dtmf", dtmf, dtmf))
                return gs
            generated = self.fia.cached(choice, "choice", build)
            if own:
                generated = [g for g in generated if g.mode == "dtmf"]
            out += [ActiveGrammar(g, menu, level, choice) for g in own + generated]
        return out

    def choices(self, menu: etree._Element) -> list[tuple[etree._Element, str, str | None]]:
        """A menu's choices with their text and DTMF key (implicit 1-9 when `dtmf="true"`)."""
        def build() -> list[tuple[etree._Element, str, str | None]]:
            auto = boolean(menu.get("dtmf", "false"))
            out, n = [], 0
            for c in menu:
                if c.tag != "choice":
                    continue
                dtmf = c.get("dtmf")
                if dtmf is None and auto:
                    n += 1
                    dtmf = str(n) if n <= 9 else None
                out.append((c, choice_text(c), dtmf))
            return out
        return self.fia.cached(menu, "choices", build)

    def compile(self, g: etree._Element) -> Any:
        """A `<grammar>` element compiled once per document (srcexpr: each time)."""
        if g.get("srcexpr"):
            return self._external(self.fia.js.string(g.get("srcexpr", "")), g)
        return self.fia.cached(g, "grammar", lambda: self._compile(g))

    def _compile(self, g: etree._Element) -> Any:
        _check_type(g)
        src = g.get("src")
        if src is None:
            doc = self.fia.document_of(g)  # the application root's grammars are compiled in leaves too
            return inputs.parse(doc.grammar_sources.get(g, g), base_uri=doc.base, fetch=self._fetch)
        return self._external(src, g)

    def _external(self, src: str, g: etree._Element) -> Any:
        _check_type(g)
        if src.startswith("builtin:"):
            kind, _, spec = src[len("builtin:"):].partition("/")
            return inputs.builtin(spec, "dtmf" if kind == "dtmf" else "voice")
        uri, _, rule = self.fia.document_of(g).resolve(src).partition("#")
        hints = self.fia.fetch_hints(g)
        content = self.fia.session.fetch(uri, timeout_s=hints.get("timeout_s"), maxage=hints.get("maxage"),
                                                 maxstale=hints.get("maxstale")).content
        return inputs.parse(content, base_uri=uri, fetch=self._fetch, media_type=g.get("type"), root=rule or None)

    def _fetch(self, uri: str) -> bytes:
        """What an SRGS grammar's external rule references load with."""
        return self.fia.session.fetch(uri).content


GRAMMAR_TYPES = frozenset(("application/srgs+xml", "application/srgs", "application/grammar+xml",
                           "application/x-srgs+xml", "text/plain"))


def _check_type(g: etree._Element) -> None:
    kind = (g.get("type") or "").split(";")[0].strip().lower()
    if kind and kind not in GRAMMAR_TYPES:
        raise VXMLEvent("error.unsupported.format", f"grammar type {kind!r} is not supported (SRGS XML or ABNF)")


def choice_text(el: etree._Element) -> str:
    """The words of a `<choice>` or `<option>` (its text, not its grammars)."""
    parts = [el.text or ""]
    for c in el:
        if c.tag != "grammar":
            parts.append("".join(c.itertext()))
        parts.append(c.tail or "")
    return " ".join("".join(parts).split())


def _options(options: list[etree._Element]) -> list[Any]:
    out: list[Any] = []
    for o in options:
        text = choice_text(o)
        value = o.get("value") or text
        if text:
            out.append(PhraseGrammar("voice", text, value, approximate=o.get("accept") == "approximate"))
        if o.get("dtmf"):
            out.append(PhraseGrammar("dtmf", o.get("dtmf", ""), value))
    return out
