"""Rendering prompt content (SSML inside VoiceXML) to the text a caller would hear, plus the audio it names."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from xml.sax.saxutils import escape

from lxml import etree

_SPACE = re.compile(r"\s+")
_SILENT = frozenset(("break", "mark", "lexicon", "metadata", "meta", "desc", "grammar"))
_SPELL = frozenset(("characters", "spell-out", "letters", "digits", "verbatim"))


class PromptContext(Protocol):
    """What rendering needs from the interpreter: values of expressions and the dynamic parts of prompts."""

    def value(self, expr: str) -> str:
        """`<value expr>` as a string."""

    def audio_src(self, el: etree._Element) -> str | None:
        """The resolved URI of an `<audio>` (src or expr), None when there is none."""

    def enumerate(self, el: etree._Element, render: Callable[[etree._Element], None]) -> str | None:
        """`<enumerate>`: the text for the enclosing menu's or field's options; None outside one."""

    def foreach(self, el: etree._Element, render: Callable[[etree._Element], None]) -> None:
        """`<foreach>` inside a prompt: render the children once per array item."""

    def mark(self, name: str) -> None:
        """A `<mark>` was reached."""


@dataclass
class Rendered:
    """The plain text of a prompt and the audio URIs it refers to."""

    parts: list[str] = field(default_factory=list)
    audio: list[str] = field(default_factory=list)
    markup: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The spoken text with whitespace normalised."""
        return _SPACE.sub(" ", "".join(self.parts)).strip()

    def ssml(self, lang: str | None = None) -> str:
        """The prompt as an SSML 1.0 `<speak>` document (values substituted), for a TTS engine."""
        attrs = f' xml:lang="{escape(lang)}"' if lang else ""
        body = _SPACE.sub(" ", "".join(self.markup)).strip()
        return f'<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis"{attrs}>{body}</speak>'


def spoken_form(text: str, interpret_as: str | None) -> str:
    """What `<say-as interpret-as=...>` makes of `text` in a text rendering."""
    t = " ".join(text.split())
    if interpret_as and interpret_as.lower() in _SPELL:
        return " ".join(ch for ch in t if not ch.isspace())
    return t


_MARKUP = frozenset(("audio", "break", "emphasis", "mark", "p", "paragraph", "phoneme", "prosody", "s", "say-as",
                     "sentence", "sub", "voice"))


def _tag(name: str, attrs: dict[str, str], empty: bool = False) -> str:
    a = "".join(f' {k}="{escape(v, {chr(34): "&quot;"})}"' for k, v in attrs.items() if not k.startswith("{"))
    return f"<{name}{a}{'/' if empty else ''}>"


class Renderer:
    """Walks prompt content, collecting text, audio and SSML markup."""

    def __init__(self, ctx: PromptContext) -> None:
        self.ctx = ctx
        self.out = Rendered()

    def _say(self, text: str, markup: str | None = None) -> None:
        self.out.parts.append(text)
        self.out.markup.append(escape(text) if markup is None else markup)

    def render_children(self, el: etree._Element) -> None:
        """Render the text and elements inside `el`."""
        if el.text:
            self._say(el.text)
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else ""
            name = etree.QName(tag).localname if tag.startswith("{") else tag
            wrap = name in _MARKUP and name not in ("audio", "mark")
            if wrap:
                self.out.markup.append(_tag(name, dict(child.attrib), empty=len(child) == 0 and not child.text))
            self.render(child)
            if wrap and (len(child) or child.text):
                self.out.markup.append(f"</{name}>")
            if child.tail:
                self._say(child.tail)

    def render(self, el: etree._Element) -> None:
        """Render one element of prompt content."""
        tag = el.tag
        if not isinstance(tag, str):
            return
        if tag.startswith("{"):
            tag = etree.QName(tag).localname
        if tag == "value":
            self._say(self.ctx.value(el.get("expr", "")))
        elif tag == "audio":
            src = self.ctx.audio_src(el)
            if src:
                self.out.audio.append(src)
            self.out.markup.append(_tag("audio", {"src": src}) if src else "")
            self.render_children(el)  # fallback content: what a text caller hears
            self.out.markup.append("</audio>" if src else "")
        elif tag == "say-as":
            inner = Renderer(self.ctx)
            inner.render_children(el)
            self.out.audio.extend(inner.out.audio)
            self.out.parts.append(spoken_form(inner.out.text, el.get("interpret-as") or el.get("type")))
            self.out.markup.append(escape(inner.out.text))
        elif tag == "sub":
            self.out.parts.append(el.get("alias", ""))
            self.out.markup.append(escape("".join(el.itertext())))
        elif tag == "mark":
            name = el.get("name") or (self.ctx.value(el.get("nameexpr", "")) if el.get("nameexpr") else "")
            self.ctx.mark(name)
            self.out.markup.append(_tag("mark", {"name": name}, empty=True))
        elif tag in _SILENT:
            if tag == "break":
                self.out.parts.append(" ")  # a pause still separates words
            return
        elif tag == "enumerate":
            text = self.ctx.enumerate(el, self.render_children)
            if text:
                self._say(text)
        elif tag == "foreach":
            self.ctx.foreach(el, self.render_children)
        elif tag in ("p", "s", "paragraph", "sentence"):
            self._say(" ")
            self.render_children(el)
            self._say(" ")
        else:  # prompt, emphasis, prosody, voice, phoneme, ...
            self.render_children(el)


def render(el: etree._Element, ctx: PromptContext) -> Rendered:
    """Render the children of a `<prompt>` (or of any element holding prompt content)."""
    r = Renderer(ctx)
    r.render_children(el)
    return r.out
