"""Business hours of a queue: `"mon-fri 08:00-18:00; sat 09:00-13:00"` in an IANA time zone, as routing's
`business_hours(epoch) -> open?` hook.

A rule is a set of days and one span of wall-clock time; a span whose end is not after its start runs past
midnight into the next day (`fri 22:00-06:00` is open Friday night until Saturday 06:00). Wall-clock time means
the span follows daylight saving time, as an operator's opening hours do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RULE = re.compile(r"^(?P<days>[a-z,\-]+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")
_MINUTES_PER_DAY = 24 * 60


class BusinessHoursError(ValueError):
    """A business-hours string or time zone that cannot be read; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Rule:
    """Open on `days` (0 = Monday) from `start` to `end`, minutes after midnight (end <= start: past midnight)."""
    days: frozenset[int]
    start: int
    end: int

    def is_open(self, weekday: int, minute: int) -> bool:
        """Whether the rule covers this minute of this weekday."""
        if self.start < self.end:
            return weekday in self.days and self.start <= minute < self.end
        # Past midnight: the evening of a listed day, or the early hours of the day after one.
        return (weekday in self.days and minute >= self.start) or \
            ((weekday - 1) % 7 in self.days and minute < self.end)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """When a queue is open; call it with epoch seconds (routing's `QueueConfig.business_hours` hook)."""
    text: str
    timezone: str
    rules: tuple[Rule, ...]

    def __call__(self, epoch: float) -> bool:
        """Whether the queue is open at `epoch` (seconds since 1970, UTC)."""
        local = datetime.fromtimestamp(epoch, ZoneInfo(self.timezone))
        minute = local.hour * 60 + local.minute
        return any(rule.is_open(local.weekday(), minute) for rule in self.rules)

    def __str__(self) -> str:
        return f"{self.text} ({self.timezone})"


def parse_business_hours(text: str | list[str], timezone: Any = "UTC") -> BusinessHours:
    """Rules separated by `;` (or given as a list): days (`mon-fri`, `sat,sun`, `daily`) and `HH:MM-HH:MM`."""
    parts = text if isinstance(text, list) else str(text).split(";")
    if not all(isinstance(p, str) for p in parts):
        raise BusinessHoursError("hours must be a string or a list of strings")
    rules = tuple(_rule(p.strip().lower()) for p in parts if p.strip())
    if not rules:
        raise BusinessHoursError("hours must name at least one rule such as 'mon-fri 08:00-18:00'")
    try:
        if not isinstance(timezone, str):
            raise TypeError(timezone)
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise BusinessHoursError(f"unknown time zone {timezone!r} (an IANA name such as 'Europe/Berlin')") from None
    return BusinessHours("; ".join(p.strip() for p in parts if p.strip()), timezone, rules)


def _rule(text: str) -> Rule:
    m = _RULE.match(text)
    if not m:
        raise BusinessHoursError(f"cannot read {text!r}: expected days and a time span such as 'mon-fri 08:00-18:00'")
    start, end = _minutes(m["start"], text), _minutes(m["end"], text)
    if start == _MINUTES_PER_DAY:
        raise BusinessHoursError(f"{text!r}: a span cannot start at 24:00")
    if end == _MINUTES_PER_DAY:
        end = 0  # "until midnight" is the overnight form ending at 00:00
    if start == end and m["start"] != "00:00":
        raise BusinessHoursError(f"{text!r}: the span is empty")
    if start == 0 and end == 0:
        return Rule(_days(m["days"], text), 0, _MINUTES_PER_DAY)  # 00:00-24:00: the whole day
    return Rule(_days(m["days"], text), start, end)


def _minutes(hhmm: str, text: str) -> int:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    if hours == 24 and minutes == 0:
        return _MINUTES_PER_DAY
    try:
        time(hours, minutes)
    except ValueError:
        raise BusinessHoursError(f"{text!r}: {hhmm} is not a time of day") from None
    return hours * 60 + minutes


def _days(spec: str, text: str) -> frozenset[int]:
    if spec in ("daily", "all"):
        return frozenset(range(7))
    days: set[int] = set()
    for item in spec.split(","):
        first, _, last = item.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise BusinessHoursError(f"{text!r}: {item!r} is not a day or range of days "
                                     f"({', '.join(DAYS)}, e.g. mon-fri)")
        a, b = DAYS.index(first), DAYS.index(last or first)
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))  # fri-mon wraps over the weekend
    return frozenset(days)
