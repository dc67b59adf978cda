"""Rendering prompt content (SSML inside VoiceXML) to the text a caller would hear, plus the audio it names."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

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

    @property
    def text(self) -> str:
        """The spoken text with whitespace normalised."""
        return _SPACE.sub(" ", "".join(self.parts)).strip()


def spoken_form(text: str, interpret_as: str | None) -> str:
    """What `<say-as interpret-as=...>` makes of `text` in a text rendering."""
    t = " ".join(text.split())
    if interpret_as and interpret_as.lower() in _SPELL:
        return " ".join(ch for ch in t if not ch.isspace())
    return t


class Renderer:
    """Walks prompt content, collecting text and audio."""

    def __init__(self, ctx: PromptContext) -> None:
        self.ctx = ctx
        self.out = Rendered()

    def render_children(self, el: etree._Element) -> None:
        """Render the text and elements inside `el`."""
        if el.text:
            self.out.parts.append(el.text)
        for child in el:
            self.render(child)
            if child.tail:
                self.out.parts.append(child.tail)

    def render(self, el: etree._Element) -> None:
        """Render one element of prompt content."""
        tag = el.tag
        if not isinstance(tag, str):
            return
        if tag.startswith("{"):
            tag = etree.QName(tag).localname
        if tag == "value":
            self.out.parts.append(self.ctx.value(el.get("expr", "")))
        elif tag == "audio":
            src = self.ctx.audio_src(el)
            if src:
                self.out.audio.append(src)
            self.render_children(el)  # fallback content: what a text caller hears
        elif tag == "say-as":
            inner = Renderer(self.ctx)
            inner.render_children(el)
            self.out.audio.extend(inner.out.audio)
            self.out.parts.append(spoken_form(inner.out.text, el.get("interpret-as") or el.get("type")))
        elif tag == "sub":
            self.out.parts.append(el.get("alias", ""))
        elif tag == "mark":
            self.ctx.mark(el.get("name") or el.get("nameexpr") or "")
        elif tag in _SILENT:
            if tag == "break":
                self.out.parts.append(" ")  # a pause still separates words
            return
        elif tag == "enumerate":
            text = self.ctx.enumerate(el, self.render_children)
            if text:
                self.out.parts.append(text)
        elif tag == "foreach":
            self.ctx.foreach(el, self.render_children)
        elif tag in ("p", "s", "paragraph", "sentence"):
            self.out.parts.append(" ")
            self.render_children(el)
            self.out.parts.append(" ")
        else:  # prompt, emphasis, prosody, voice, phoneme, ...
            self.render_children(el)


def render(el: etree._Element, ctx: PromptContext) -> Rendered:
    """Render the children of a `<prompt>` (or of any element holding prompt content)."""
    r = Renderer(ctx)
    r.render_children(el)
    return r.out
