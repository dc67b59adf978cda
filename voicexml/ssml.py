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
# What `PromptContext.audio_src` returns for an `<audio expr>` that is undefined: skip the element and its fallback.
IGNORED = "\x00ignored"


class PromptContext(Protocol):
    """What rendering needs from the interpreter: values of expressions and the dynamic parts of prompts."""

    def value(self, expr: str) -> str:
        """`<value expr>` as a string."""

    def audio_src(self, el: etree._Element) -> str | None:
        """The resolved URI of an `<audio>` (src or expr), None when there is none, `IGNORED` to skip it."""

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

    def ssml(self, lang: str) -> str:
        """The prompt as an SSML 1.0 `<speak>` document (values substituted), for a TTS engine; SSML 1.0 3.1.1
        requires its `xml:lang`."""
        body = _SPACE.sub(" ", "".join(self.markup)).strip()
        return (f'<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis"'
                f' xml:lang="{escape(lang, {chr(34): "&quot;"})}">{body}</speak>')


def spoken_form(text: str, interpret_as: str | None, fmt: str | None = None) -> str:
    """What `<say-as interpret-as=... format=...>` makes of `text` in a text rendering (en-US words).

    Table-driven (`SAY_AS`); text a renderer cannot read, or an unknown interpret-as, is kept as written.
    """
    t = " ".join(text.split())
    kind = (interpret_as or "").lower()
    if kind in _SPELL:
        return " ".join(ch for ch in t if not ch.isspace())
    renderer = SAY_AS.get(kind)
    if renderer is None:
        return t
    return renderer(t, (fmt or "").lower()) or t


# -- <say-as> spoken forms ---------------------------------------------------------------------------------
# Each renderer takes the text and the format (lower case, "" when absent) and returns words, or None when
# it cannot read the text (which is then spoken as written).

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_ENDS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                 "nine": "ninth", "twelve": "twelfth"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_NUMBER = re.compile(r"^([-+]?)(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d+))?$")
_CURRENCIES = {  # symbol or ISO code: (unit, units, subunit, subunits)
    "$": ("dollar", "dollars", "cent", "cents"), "usd": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"), "eur": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"), "gbp": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "sen", "sen"), "jpy": ("yen", "yen", "sen", "sen"),
    "cad": ("Canadian dollar", "Canadian dollars", "cent", "cents"),
}
_CURRENCY = re.compile(r"^(\$|€|£|¥|[A-Za-z]{3})?\s*([\d,]+(?:\.\d+)?)\s*(\$|€|£|¥|[A-Za-z]{3})?$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*([ap])?\.?\s*m?\.?$", re.IGNORECASE)


def cardinal_words(n: int) -> str:
    """An integer in words: 1234 -> "one thousand two hundred thirty four"."""
    if n < 0:
        return "minus " + cardinal_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + cardinal_words(n % 100))
    for size, name in _SCALES:
        if n >= size:
            rest = n % size
            return cardinal_words(n // size) + " " + name + ("" if rest == 0 else " " + cardinal_words(rest))
    raise AssertionError("unreachable")


def ordinal_words(n: int) -> str:
    """An integer as an ordinal: 21 -> "twenty first"."""
    words = cardinal_words(n).split(" ")
    last = words[-1]
    words[-1] = _ORDINAL_ENDS.get(last) or (last[:-1] + "ieth" if last.endswith("y") else last + "th")
    return " ".join(words)


def _year_words(y: int) -> str:
    """A year as people say it: 1999 -> "nineteen ninety nine", 2005 -> "two thousand five"."""
    if y < 1000 or 2000 <= y < 2010 or y % 1000 == 0:
        return cardinal_words(y)
    high, low = divmod(y, 100)
    if low == 0:
        return cardinal_words(high) + " hundred"
    return cardinal_words(high) + " " + ("oh " if low < 10 else "") + cardinal_words(low)


def _number(text: str, fmt: str) -> str | None:
    if fmt == "ordinal":
        return _ordinal(text, fmt)
    if fmt in ("digits", "telephone"):
        return SAY_AS[fmt](text, fmt)
    m = _NUMBER.match(text)
    if not m or (m.group(2) is None and m.group(3) is None):
        return None
    sign, whole, frac = m.groups()
    words = cardinal_words(int((whole or "0").replace(",", "")))
    if frac:
        words += " point " + " ".join(_ONES[int(d)] for d in frac)
    return ("minus " if sign == "-" else "") + words


def _ordinal(text: str, fmt: str) -> str | None:
    m = re.match(r"^(\d+)(?:st|nd|rd|th)?$", text.replace(",", ""), re.IGNORECASE)
    return ordinal_words(int(m.group(1))) if m else None


def _date(text: str, fmt: str) -> str | None:
    parts = re.split(r"[/.\-]", text)
    order = fmt if fmt and set(fmt) <= set("dmy") and len(set(fmt)) == len(fmt) else ""
    if not order:  # en-US default; an ISO date (2024-12-25) reads year first
        order = "ymd" if len(parts) == 3 and len(parts[0]) == 4 else "mdy"[: len(parts)]
    if len(parts) != len(order) or not all(p.isdigit() for p in parts):
        return None
    fields = {k: int(p) for k, p in zip(order, parts, strict=True)}
    if not 1 <= fields.get("m", 1) <= 12 or not 1 <= fields.get("d", 1) <= 31:
        return None
    if "y" in fields and len(parts[order.index("y")]) == 2:
        fields["y"] += 2000 if fields["y"] < 50 else 1900
    words = []
    if "m" in fields:
        words.append(_MONTHS[fields["m"] - 1])
    if "d" in fields:
        words.append(ordinal_words(fields["d"]) if "m" in fields else "the " + ordinal_words(fields["d"]))
    if "y" in fields:
        words.append(_year_words(fields["y"]))
    return " ".join(words)


def _time(text: str, fmt: str) -> str | None:
    m = _TIME.match(text)
    if not m or (m.group(2) is None and m.group(4) is None):
        return None
    hour, minute, second = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59 or (m.group(4) and not 1 <= hour <= 12):
        return None
    half = m.group(4).lower() if m.group(4) else None
    if half is None and fmt.startswith("hms12"):
        half, hour = ("p" if hour >= 12 else "a"), (hour % 12 or 12)
    if half is None:  # 24-hour clock: 15:00 -> "fifteen hundred", 09:05 -> "nine oh five"
        words = cardinal_words(hour) + (" hundred" if minute == 0 else "")
    else:
        words = cardinal_words(hour)  # 7:00 pm -> "seven p m"
    if minute:
        words += " " + ("oh " if minute < 10 else "") + cardinal_words(minute)
    if second:
        words += " and " + cardinal_words(second) + (" second" if second == 1 else " seconds")
    return words + (f" {half} m" if half else "")


def _currency(text: str, fmt: str) -> str | None:
    m = _CURRENCY.match(text)
    if not m or (m.group(1) and m.group(3)):
        return None
    code = (m.group(1) or m.group(3) or fmt or "").lower()
    names = _CURRENCIES.get(code)
    if names is None or not re.fullmatch(r"\d{1,3}(,\d{3})*(\.\d+)?|\d+(\.\d+)?", m.group(2)):
        return None
    whole, _, frac = m.group(2).replace(",", "").partition(".")
    units, cents = int(whole), int((frac + "00")[:2]) if frac else 0
    words = []
    if units or not cents:
        words.append(f"{cardinal_words(units)} {names[0] if units == 1 else names[1]}")
    if cents:
        words.append(f"{cardinal_words(cents)} {names[2] if cents == 1 else names[3]}")
    return " and ".join(words)


def _telephone(text: str, fmt: str) -> str | None:
    m = re.fullmatch(r"(\+?)([\d\s().\-]+?)(?:\s*(?:x|ext\.?)\s*(\d+))?", text, re.IGNORECASE)
    if not m or not any(ch.isdigit() for ch in m.group(2)):
        return None
    groups = [g for g in re.split(r"[\s().\-]+", m.group(2)) if g]
    words = ", ".join(" ".join(_ONES[int(d)] for d in g) for g in groups)
    if m.group(1):
        words = "plus " + words
    if m.group(3):
        words += ", extension " + " ".join(_ONES[int(d)] for d in m.group(3))
    return words


def _digits(text: str, fmt: str) -> str | None:
    return " ".join(_ONES[int(ch)] for ch in text if ch.isdigit()) if any(c.isdigit() for c in text) else None


# VoiceXML 2.0 Appendix P: `interpret-as="vxml:TYPE"` speaks a builtin grammar's value in its return format.

def _vxml_boolean(text: str, fmt: str) -> str | None:
    return {"true": "yes", "false": "no"}.get(text.lower())


def _vxml_date(text: str, fmt: str) -> str | None:
    """yyyymmdd, `?` for what the caller did not say: "????0303" -> "March third"."""
    if not re.fullmatch(r"[\d?]{4}[\d?]{2}[\d?]{2}", text):
        return None
    y, m, d = text[:4], text[4:6], text[6:]
    if any("?" in f and f.strip("?") for f in (y, m, d)) or (m == "??" and d != "??"):
        return None
    if m != "??" and not 1 <= int(m) <= 12 or d != "??" and not 1 <= int(d) <= 31:
        return None
    words = ([_MONTHS[int(m) - 1]] if m != "??" else []) + ([ordinal_words(int(d))] if d != "??" else [])
    return " ".join(words + ([_year_words(int(y))] if y != "????" else [])) or None


def _vxml_time(text: str, fmt: str) -> str | None:
    """hhmm and a (am), p (pm), h (24-hour clock) or ? (not said): "0330p" -> "three thirty p m"."""
    m = re.fullmatch(r"(\d\d)(\d\d)([aph?])", text.lower())
    if not m:
        return None
    half = m.group(3)
    return _time(f"{int(m.group(1))}:{m.group(2)}{half if half in 'ap' else ''}", "")


def _vxml_currency(text: str, fmt: str) -> str | None:
    """An ISO 4217 code and an amount ("USD12.34"), or the amount alone when no currency was said."""
    return _currency(text, fmt) if re.match(r"[A-Za-z]{3}", text) else _number(text, "")


SAY_AS: dict[str, Callable[[str, str], str | None]] = {
    "number": _number, "cardinal": _number, "ordinal": _ordinal, "date": _date, "time": _time,
    "currency": _currency, "telephone": _telephone, "phone": _telephone, "digits": _digits,
    "vxml:boolean": _vxml_boolean, "vxml:date": _vxml_date, "vxml:time": _vxml_time, "vxml:currency": _vxml_currency,
    "vxml:number": _number, "vxml:digits": _digits, "vxml:phone": _telephone,
}
"""`interpret-as` value -> renderer (text, format) -> words or None; extend it to speak another kind."""


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
            if src == IGNORED:
                return
            if src:
                self.out.audio.append(src)
            self.out.markup.append(_tag("audio", {"src": src}) if src else "")
            self.render_children(el)  # fallback content: what a text caller hears
            self.out.markup.append("</audio>" if src else "")
        elif tag == "say-as":
            inner = Renderer(self.ctx)
            inner.render_children(el)
            self.out.audio.extend(inner.out.audio)
            self.out.parts.append(spoken_form(inner.out.text, el.get("interpret-as") or el.get("type"),
                                              el.get("format")))
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
