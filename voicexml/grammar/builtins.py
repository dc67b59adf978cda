"""VoiceXML builtin grammars (VoiceXML 2.0 Appendix P), en-US: boolean, digits, number, currency, date,
time and phone, for voice and DTMF.

Each builtin is a `BuiltinGrammar`: an SRGS rule over its vocabulary (what a recogniser compiled to
JSGF listens for) and a reader that turns the recognised words into the spec's value, refusing what
does not make sense ("february thirtieth"). Values: boolean true/false; digits, phone ("x" before an
extension), number ("-3.5") as strings; currency "USD12.30" (or "12.30" when no currency was said);
date "yyyymmdd" with "?" for parts not said; time "hhmm" followed by a (am), p (pm), h (24-hour) or ?.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from . import spoken
from .errors import GrammarError
from .grammar import Grammar, Match, NoMatch
from .nodes import Node, Repeat, Rule, Token, make_one_of
from .tokens import dtmf_keys

Reader = Callable[[list[str], dict[str, str]], Any]

_MONTHS = {"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
           "september": 9, "october": 10, "november": 11, "december": 12,
           "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
           "oct": 10, "nov": 11, "dec": 12}
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_YES = ("yes", "yeah", "yep", "yup", "sure", "correct", "right", "true", "ok", "okay", "affirmative",
        "absolutely", "certainly", "indeed", "positive")
_NO = ("no", "nope", "nah", "false", "negative", "incorrect", "wrong", "not")
_CURRENCIES = {"dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR",
               "pound": "GBP", "pounds": "GBP", "yen": "JPY"}
_CENTS = ("cent", "cents", "penny", "pence")
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_NUMERAL = re.compile(r"^[-+]?\d[\d,]*(?:\.\d+)?$")


class BuiltinGrammar(Grammar):
    """A builtin grammar: matching is its reader's decision, the rule is the vocabulary it listens for."""

    def __init__(self, type_name: str, mode: str, params: dict[str, str], reader: Reader,
                 vocabulary: list[str], max_words: int) -> None:
        key = f"builtin:{'dtmf' if mode == 'dtmf' else 'grammar'}/{type_name}"
        words: list[Node] = [Token(tuple(dtmf_keys(v) or [v])) if mode == "dtmf" else Token((v,))
                             for v in vocabulary]
        body = Repeat(make_one_of(words, [1.0] * len(words)), 1, max_words)
        super().__init__(rules={type_name: Rule(type_name, body, "public")}, root=type_name, mode=mode,
                         lang="en-US", key=key)
        self.type_name = type_name
        self.params = params
        self._reader = reader

    def __repr__(self) -> str:
        return f"<BuiltinGrammar {self.key} {self.params or ''}>"

    def read(self, words: list[str]) -> Any:
        """The value of already tokenised words; raises NoMatch."""
        return self._reader(words, self.params)

    def tokenize(self, text: str) -> list[str] | None:
        """Words for the reader: lower case, hyphens split ("twenty-five"), currency symbols kept apart."""
        if self.mode == "dtmf":
            return dtmf_keys(text)
        words = []
        spaced = re.sub(r"(?<=[^\W\d])-(?=[^\W\d])", " ", re.sub(r"([$€£¥])", r" \1 ", text.casefold()))
        for raw in spaced.split():
            word = raw if _NUMERAL.match(raw) or raw in _SYMBOLS else raw.strip(".,!?;:\"()").replace(".", "")
            if word:
                words.append(word)
        return words

    def match(self, text: str) -> Match | None:
        """Read the input; None when it is not a value of this type."""
        tokens = self.tokenize(text)
        if not tokens or len(tokens) > self.settings.max_tokens:
            return None
        try:
            value = self._reader(tokens, self.params)
        except NoMatch:
            return None
        joiner = "" if self.mode == "dtmf" else " "
        return Match(joiner.join(tokens), value, 1.0, tuple(tokens))


def _whole(read: tuple[Any, int] | None, w: list[str]) -> Any:
    """The value of a reader that must have consumed every word."""
    if read is None or read[1] != len(w):
        raise NoMatch
    return read[0]


# -- boolean ---------------------------------------------------------------------------------------------

def _boolean_voice(w: list[str], params: dict[str, str]) -> bool:
    words = [x for x in w if x not in ("please", "thanks", "thank", "you", "it", "is", "that's", "thats")]
    if len(words) == 1 and words[0] in _YES or words in (["of", "course"], ["that", "right"]):
        return True
    if len(words) == 1 and words[0] in _NO or words in (["no", "way"], ["not", "really"]):
        return False
    raise NoMatch


def _boolean_dtmf(w: list[str], params: dict[str, str]) -> bool:
    yes, no = params.get("y", "1"), params.get("n", "2")
    if w == list(yes):
        return True
    if w == list(no):
        return False
    raise NoMatch


# -- digits and phone ----------------------------------------------------------------------------------

def _length_ok(value: str, params: dict[str, str]) -> bool:
    def num(name: str) -> int | None:
        raw = params.get(name)
        if raw is None:
            return None
        if not raw.isdigit():
            raise GrammarError(f"builtin digits parameter {name}={raw!r} is not a number", code="invalid")
        return int(raw)

    length, low, high = num("length"), num("minlength"), num("maxlength")
    if length is not None and len(value) != length:
        return False
    return (low is None or len(value) >= low) and (high is None or len(value) <= high)


def _digits_voice(w: list[str], params: dict[str, str]) -> str:
    value = _whole(spoken.digit_string(w, 0), w)
    if not _length_ok(value, params):
        raise NoMatch
    return str(value)


def _digits_dtmf(w: list[str], params: dict[str, str]) -> str:
    value = "".join(w)
    if not value.isdigit() or not _length_ok(value, params):
        raise NoMatch
    return value


def _phone_voice(w: list[str], params: dict[str, str]) -> str:
    for marker in ("extension", "ext", "x"):
        if marker in w:
            k = w.index(marker)
            return _phone_voice(w[:k], {}) + "x" + _whole(spoken.digit_string(w, k + 1), w)
    value = _whole(spoken.digit_string(w, 0), w)
    if len(value) < 3:
        raise NoMatch
    return str(value)


def _phone_dtmf(w: list[str], params: dict[str, str]) -> str:
    value = "".join(w).replace("*", "x")
    if not re.fullmatch(r"\d{3,}(?:x\d+)?", value):
        raise NoMatch
    return value


# -- number and currency -------------------------------------------------------------------------------

def _decimal(w: list[str], i: int) -> tuple[str, int] | None:
    """A number with optional sign and fraction, as the spec's string ("-12", "3.05")."""
    sign = ""
    if i < len(w) and w[i] in ("minus", "negative", "plus", "positive"):
        sign = "-" if w[i] in ("minus", "negative") else "+"
        i += 1
    if i < len(w) and _NUMERAL.match(w[i]):
        text = w[i].replace(",", "")
        if text[0] in "+-":
            if sign:
                return None
            sign, text = ("-" if text[0] == "-" else "+"), text[1:]
        return sign + text, i + 1
    whole = spoken.cardinal(w, i)
    if whole is None:
        if i < len(w) and w[i] == "point":  # "point five"
            whole = (0, i)
        else:
            return None
    value, j = whole
    if j < len(w) and w[j] == "point":
        frac = spoken.digit_string(w, j + 1, allow_double=False)
        if frac is None:
            return None
        return f"{sign}{value}.{frac[0]}", frac[1]
    return f"{sign}{value}", j


def _number_voice(w: list[str], params: dict[str, str]) -> str:
    return str(_whole(_decimal(w, 0), w))


def _number_dtmf(w: list[str], params: dict[str, str]) -> str:
    value = "".join(w)
    if not re.fullmatch(r"\d*\*?\d*", value) or not any(c.isdigit() for c in value):
        raise NoMatch
    whole, _, frac = value.partition("*")
    return (whole or "0") + ("." + frac if frac else "")


def _amount(dollars: int, cents: int, code: str) -> str:
    if not 0 <= cents <= 99:
        raise NoMatch
    return f"{code}{dollars}.{cents:02d}"


def _currency_voice(w: list[str], params: dict[str, str]) -> str:
    code = ""
    if w and w[0] in _SYMBOLS:
        code, w = _SYMBOLS[w[0]], w[1:]
    if len(w) == 1 and _NUMERAL.match(w[0]) and not w[0][0] in "+-":
        whole, _, frac = w[0].replace(",", "").partition(".")
        return _amount(int(whole), int((frac + "00")[:2]), code)
    i, dollars = 0, 0
    if w[:2] == ["a", "buck"] or w[:2] == ["a", "dollar"]:
        code, dollars, i = "USD", 1, 2
    else:
        main = spoken.cardinal(w, 0)
        if main is not None and main[1] < len(w) and w[main[1]] in _CURRENCIES:
            code, dollars, i = _CURRENCIES[w[main[1]]], main[0], main[1] + 1
        elif main is not None and main[1] < len(w) and w[main[1]] in _CENTS:
            if main[1] + 1 != len(w):
                raise NoMatch
            return _amount(0, main[0], code)
        elif main is not None and main[1] == len(w):
            return _amount(main[0], 0, code)
        elif main is not None:
            # "nine ninety nine": a whole amount, then two-digit cents.
            rest = spoken.below_hundred(w, main[1])
            if rest is None or rest[1] != len(w) or rest[0] < 10:
                raise NoMatch
            return _amount(main[0], rest[0], code)
        else:
            raise NoMatch
    if i == len(w):
        return _amount(dollars, 0, code)
    if w[i] == "and":
        i += 1
    small = spoken.below_hundred(w, i)
    if small is None:
        raise NoMatch
    cents, i = small
    if i < len(w) and w[i] in _CENTS:
        i += 1
    if i != len(w):
        raise NoMatch
    return _amount(dollars, cents, code)


def _currency_dtmf(w: list[str], params: dict[str, str]) -> str:
    value = "".join(w)
    m = re.fullmatch(r"(\d+)(?:\*(\d{1,2}))?", value)
    if not m:
        raise NoMatch
    return _amount(int(m.group(1)), int((m.group(2) or "0").ljust(2, "0")), "")


# -- date and time -------------------------------------------------------------------------------------

def _date_value(y: int | None, m: int | None, d: int | None) -> str:
    if m is not None and not 1 <= m <= 12:
        raise NoMatch
    if d is not None:
        limit = _DAYS_IN_MONTH[m - 1] if m else 31
        if m == 2 and y is not None and not (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
            limit = 28
        if not 1 <= d <= limit:
            raise NoMatch
    return (f"{y:04d}" if y is not None else "????") + (f"{m:02d}" if m else "??") + (f"{d:02d}" if d else "??")


def _date_voice(w: list[str], params: dict[str, str]) -> str:
    words = [x for x in w if x not in ("on", "the")]
    if words and words[0].isdigit() and len(words) == 1 and len(words[0]) == 8:
        return _date_value(int(words[0][:4]), int(words[0][4:6]), int(words[0][6:]))
    month = day = yr = None
    i = 0
    if i < len(words) and words[i] in _MONTHS:  # "march third 2004", "march 2004"
        month, i = _MONTHS[words[i]], i + 1
        read = spoken.ordinal_day(words, i)
        if read is not None and read[0] <= 31 and (read[1] == len(words) or spoken.year(words, read[1])):
            day, i = read
    else:  # "the third of march", "third"
        read = spoken.ordinal_day(words, i)
        if read is None:
            raise NoMatch
        day, i = read
        if i < len(words) and words[i] == "of":
            i += 1
        if i < len(words) and words[i] in _MONTHS:
            month, i = _MONTHS[words[i]], i + 1
    if i < len(words):
        if month is None:
            raise NoMatch
        if words[i] == "of" or words[i] == "in":
            i += 1
        yr = _whole(spoken.year(words, i), words)
    if month is None and day is None:
        raise NoMatch
    return _date_value(yr, month, day)


def _date_dtmf(w: list[str], params: dict[str, str]) -> str:
    value = "".join(w)
    if not re.fullmatch(r"\d{8}", value):
        raise NoMatch
    return _date_value(int(value[:4]), int(value[4:6]), int(value[6:]))


def _time_value(h: int, m: int, suffix: str) -> str:
    if not (0 <= m <= 59) or not (0 <= h <= 23):
        raise NoMatch
    if suffix in "ap":
        if not 1 <= h <= 12:
            raise NoMatch
    elif suffix == "?" and (h == 0 or h > 12):
        suffix = "h"  # only a 24-hour clock has these hours
    return f"{h:02d}{m:02d}{suffix}"


def _time_voice(w: list[str], params: dict[str, str]) -> str:
    words = [x for x in w if x not in ("at", "about", "around")]
    suffix = "?"
    tails = {("a", "m"): "a", ("am",): "a", ("p", "m"): "p", ("pm",): "p", ("in", "the", "morning"): "a",
             ("in", "the", "afternoon"): "p", ("in", "the", "evening"): "p", ("at", "night"): "p",
             ("tonight",): "p"}
    for tail, s in tails.items():
        if tuple(words[-len(tail):]) == tail and len(words) > len(tail):
            words, suffix = words[:-len(tail)], s
            break
    if words == ["noon"] or words == ["midday"]:
        return _time_value(12, 0, "p")
    if words == ["midnight"]:
        return _time_value(12, 0, "a")
    if len(words) == 1 and re.fullmatch(r"\d{1,2}:\d{2}", words[0]):
        h, m = words[0].split(":")
        return _time_value(int(h), int(m), suffix)
    # "half past three", "quarter to four", "ten past six"
    for relation, sign in (("past", 1), ("after", 1), ("to", -1), ("before", -1)):
        if relation in words:
            k = words.index(relation)
            before = [x for x in words[:k] if x not in ("minutes", "minute", "a")]
            minutes = 30 if before == ["half"] else 15 if before == ["quarter"] else \
                _whole(spoken.below_hundred(before, 0), before)
            hour = _whole(spoken.below_hundred(words, k + 1), words)
            if not 1 <= hour <= 12 or not 1 <= minutes <= 59 or (sign < 0 and minutes == 30):
                raise NoMatch
            if sign < 0:
                hour, minutes = (hour - 2) % 12 + 1, 60 - minutes
            return _time_value(hour, minutes, suffix)
    hour_read = spoken.below_hundred(words, 0)
    if hour_read is None:
        raise NoMatch
    hour, i = hour_read
    rest = words[i:]
    if rest in ([], ["o'clock"], ["oclock"]):
        return _time_value(hour, 0, suffix)
    if rest == ["hundred"] or rest == ["hundred", "hours"]:
        return _time_value(hour, 0, "h" if suffix == "?" else suffix)
    if rest[:1] in (["oh"], ["o"]) and len(rest) == 2 and rest[1] in spoken.ONES:
        return _time_value(hour, spoken.ONES[rest[1]], suffix)
    minutes = _whole(spoken.below_hundred(rest, 0), rest)
    if minutes < 10:
        raise NoMatch  # "three five" is not a time; "three oh five" is
    return _time_value(hour, minutes, suffix)


def _time_dtmf(w: list[str], params: dict[str, str]) -> str:
    value = "".join(w)
    if not re.fullmatch(r"\d{3,4}", value):
        raise NoMatch
    value = value.rjust(4, "0")
    return _time_value(int(value[:2]), int(value[2:]), "?")


# -- the registry --------------------------------------------------------------------------------------

_DIGIT_KEYS = list("0123456789")
_SPOKEN_DIGITS = list(spoken.ONES) + ["oh"]  # what a recogniser listens for; the readers accept more
_NUMBER_VOCAB = list(spoken.NUMBER_WORDS) + ["minus", "negative", "plus", "point", "oh"]
_ORDINAL_VOCAB = list(spoken.ORDINALS)
_MONTH_VOCAB = [m for m in _MONTHS if len(m) > 4 or m in ("may", "june", "july")]

# type -> mode -> (reader, vocabulary, most words/keys one value takes)
_REGISTRY: dict[str, dict[str, tuple[Reader, list[str], int]]] = {
    "boolean": {"voice": (_boolean_voice, list(_YES + _NO), 3), "dtmf": (_boolean_dtmf, _DIGIT_KEYS, 1)},
    "digits": {"voice": (_digits_voice, _SPOKEN_DIGITS + ["double", "triple"], 64),
               "dtmf": (_digits_dtmf, _DIGIT_KEYS, 64)},
    "phone": {"voice": (_phone_voice, _SPOKEN_DIGITS + ["double", "triple", "extension", "x"], 32),
              "dtmf": (_phone_dtmf, _DIGIT_KEYS + ["*"], 32)},
    "number": {"voice": (_number_voice, _NUMBER_VOCAB, 24), "dtmf": (_number_dtmf, _DIGIT_KEYS + ["*"], 24)},
    "currency": {"voice": (_currency_voice, _NUMBER_VOCAB + ["dollars", "dollar", "cents", "cent", "buck",
                                                             "bucks", "euro", "euros", "pound", "pounds", "yen", "penny", "pence"], 24),
                 "dtmf": (_currency_dtmf, _DIGIT_KEYS + ["*"], 24)},
    "date": {"voice": (_date_voice, _MONTH_VOCAB + _ORDINAL_VOCAB + _NUMBER_VOCAB + ["the", "of", "on"], 12),
             "dtmf": (_date_dtmf, _DIGIT_KEYS, 8)},
    "time": {"voice": (_time_voice, _NUMBER_VOCAB + ["o'clock", "a", "m", "p", "am", "pm", "noon", "midnight",
                                                     "midday", "half", "quarter", "past", "to", "after", "before",
                                                     "morning", "afternoon", "evening", "in", "the", "at", "night",
                                                     "tonight", "hours", "minutes", "minute"], 10),
             "dtmf": (_time_dtmf, _DIGIT_KEYS, 4)},
}
BUILTIN_TYPES = tuple(_REGISTRY)


def parse_builtin_spec(spec: str, mode: str = "voice") -> tuple[str, str, dict[str, str]]:
    """Split "builtin:dtmf/digits?minlength=3;maxlength=5" into ("digits", "dtmf", {...})."""
    text = spec.strip()
    if text.startswith("builtin:"):
        text = text[len("builtin:"):]
        kind, slash, text = text.partition("/")
        if not slash or kind not in ("grammar", "dtmf", "voice"):
            raise GrammarError(f"invalid builtin grammar URI {spec!r}: use builtin:grammar/TYPE or "
                               f"builtin:dtmf/TYPE", code="invalid")
        mode = "dtmf" if kind == "dtmf" else "voice"
    name, _, query = text.partition("?")
    params: dict[str, str] = {}
    for part in re.split(r"[;&]", query):
        if part.strip():
            k, eq, v = part.partition("=")
            if not eq:
                raise GrammarError(f"invalid builtin parameter {part!r} in {spec!r}", code="invalid")
            params[unquote(k.strip())] = unquote(v.strip())
    return name.strip(), mode, params


def builtin_grammar(spec: str, mode: str = "voice") -> BuiltinGrammar:
    """The builtin grammar for `spec` ("digits?minlength=3", "builtin:dtmf/boolean?y=7") in `mode`.

    A `builtin:` URI names its own mode (grammar = voice, dtmf); raises GrammarError (code
    ``unsupported``) for an unknown type.
    """
    name, mode, params = parse_builtin_spec(spec, mode)
    if mode not in ("voice", "dtmf"):
        raise GrammarError(f"mode must be 'voice' or 'dtmf', not {mode!r}", code="invalid")
    modes = _REGISTRY.get(name)
    if modes is None:
        raise GrammarError(f"unknown builtin grammar type {name!r} (known: {', '.join(BUILTIN_TYPES)})",
                           code="unsupported")
    reader, vocabulary, max_words = modes[mode]
    if name == "boolean" and mode == "dtmf":
        for p in ("y", "n"):
            if p in params and (not params[p] or dtmf_keys(params[p]) is None):
                raise GrammarError(f"builtin boolean parameter {p}={params[p]!r} is not DTMF keys", code="invalid")
        vocabulary = sorted(set(vocabulary) | set(params.get("y", "")) | set(params.get("n", "")))
    if name == "digits":
        _length_ok("", params)  # validates the parameters now, not at the first match
    return BuiltinGrammar(name, mode, params, reader, vocabulary, max_words)
