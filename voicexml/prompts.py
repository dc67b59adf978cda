"""Prompts: choosing an item's prompts by count and cond, rendering them (the `ssml.PromptContext` the renderer
calls back for values, audio, `<enumerate>` and `<foreach>`) and queueing them with the platform."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from lxml import etree

from . import ssml
from .dialog_grammars import choice_text
from .events import semantic
from .platform import Prompt
from .properties import boolean, time_ms
from .scripting import TEMP, UNDEFINED

if TYPE_CHECKING:
    from .fia import FormInterpreter

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class Prompts:
    """The prompt side of one form interpreter."""

    def __init__(self, fia: FormInterpreter) -> None:
        self.fia = fia
        self._doc = fia.doc  # the document the prompt being rendered is written in (relative audio URIs)

    def queue_item(self, item: etree._Element) -> None:
        """Queue an item's prompts for its prompt counter, with its bare text, audio and values."""
        chosen = self.select(item)
        if item.text and item.text.strip():  # bare text in an item is a prompt too
            self.fia.exec.queue_text(item.text)
        for p in item:
            if p.tag == "prompt" and (chosen is None or p in chosen):
                if chosen is None and p.get("cond") and not self.fia.js.cond(p.get("cond", "")):
                    continue
                self.queue(p)
            elif p.tag in ("audio", "value", "enumerate"):
                self.fia.exec.bare_prompt(p)
            if p.tail and p.tail.strip():
                self.fia.exec.queue_text(p.tail)

    def select(self, container: etree._Element) -> set[etree._Element] | None:
        """Prompts with the highest count <= the current item's prompt counter (None: no counts to apply)."""
        prompts = [p for p in container if p.tag == "prompt"]
        if not any(p.get("count") for p in prompts):
            return None
        name = self.fia.current.get("name", "") if self.fia.current is not None else ""
        counter = self.fia.prompt_counts.get(name, 1)
        live = [(int(p.get("count", "1") or 1), p) for p in prompts
                if not p.get("cond") or self.fia.js.cond(p.get("cond", ""))]
        eligible = [n for n, _ in live if n <= counter]
        if not eligible:
            return set()
        best = max(eligible)
        return {p for n, p in live if n == best}

    def queue(self, p: etree._Element, origin: etree._Element | None = None) -> None:
        """Render a `<prompt>` (made around `origin`, when given) and queue it with the platform."""
        self._doc = self.fia.document_of(p if origin is None else origin)
        out = ssml.render(p, self)
        timeout = time_ms(p.get("timeout"), 0) if p.get("timeout") else None
        # the last prompt queued decides the timeout (section 4.1.7); one without the attribute means the property
        self.fia.prompt_timeout_ms = timeout
        self.fia.prompt_bargeintype = p.get("bargeintype")  # likewise for hotword's effect on the listen
        bargein = boolean(p.get("bargein")) if p.get("bargein") is not None else self.fia.bargein()
        if out.text or out.audio:
            lang = p.get(XML_LANG) or self._doc.root.get(XML_LANG) or self.fia.session.settings.lang
            bargeintype = p.get("bargeintype") or self.fia.prop("bargeintype")
            self.fia.session.platform.queue_prompt(
                Prompt(out.text, tuple(out.audio), bargein, bargeintype, timeout, out.ssml(lang)))

    def value(self, expr: str) -> str:
        """`<value expr>` spoken."""
        return self.fia.js.string(expr)

    def audio_src(self, el: etree._Element) -> str | None:
        """An `<audio>`'s URI; `ssml.IGNORED` when its expr is undefined (VoiceXML 2.0 section 4.1.3: the element,
        fallback included, is ignored); None when there is none (the fallback plays)."""
        if el.get("src"):
            return self._doc.resolve(el.get("src", ""))
        if el.get("expr"):
            v = self.fia.js.eval_or_undefined(el.get("expr", ""))
            if v is UNDEFINED:
                return ssml.IGNORED
            return self._doc.resolve(str(v)) if v not in (None, "") else None
        return None

    def enumerate(self, el: etree._Element, render: Callable[[etree._Element], None]) -> str | None:
        """`<enumerate>` in a menu or a field with options."""
        owner = self.fia.current if self.fia.current is not None else self.fia.dialog
        if owner.tag == "menu":
            entries = [(text, dtmf) for _, text, dtmf in self.fia.choices(owner)]
        elif owner.tag == "field":
            entries = [(choice_text(o), o.get("dtmf")) for o in owner if o.tag == "option"]
        else:
            raise semantic("<enumerate> outside a menu or a field with options")
        if len(el) == 0 and not (el.text or "").strip():
            # The platform's own wording (section 2.2.4): "For sales, press 2." or just "Sales."
            return " ".join(f"For {t}, press {d}." if d else f"{t}." for t, d in entries)
        parts = []
        for text, dtmf in entries:
            self.fia.js.new_scope(TEMP)
            self.fia.js.set(TEMP, "_prompt", text)
            self.fia.js.set(TEMP, "_dtmf", dtmf)
            parts.append(ssml.render(el, self).text)
        self.fia.js.drop_scope(TEMP)
        return " ".join(parts)

    def foreach(self, el: etree._Element, render: Callable[[etree._Element], None]) -> None:
        """`<foreach>` inside a prompt."""
        js = self.fia.js
        with js.foreach(el.get("array", "[]")) as refs:
            for ref in refs:
                js.new_scope(TEMP)
                js.set_expr(TEMP, el.get("item", ""), ref)
                render(el)
        js.drop_scope(TEMP)

    def mark(self, name: str) -> None:
        """A `<mark>`: nothing to time in text; the name is kept for lastresult$.markname."""
        self.fia.session.last_mark = name
