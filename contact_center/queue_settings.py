"""Routing as the operator configures it: `[routing]` (per-channel offer timeouts and capacity, blocking
channels, autopause, skill catalogue, default strategy) and `[queues.NAME]` tables of the TOML settings file.

Parsed into immutable settings when the file is read (wrong types and unknown keys), checked against each other
when `Settings` validates (strategies, skill expressions, overflow and escalation targets, cycles), and turned into
routing's `RouterSettings` and `QueueConfig`s when the app starts. Every error names the table and key.
"""
from __future__ import annotations

import graphlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from contact_center.business_hours import BusinessHours, BusinessHoursError, parse_business_hours
from contact_center.users import MAX_CAPACITY, NAME_RE
from routing import CHANNELS, STRATEGIES, EscalationStep, QueueConfig, RouterSettings, RoutingError

if TYPE_CHECKING:
    from contact_center.settings import Settings

# Conversations an agent handles at once per channel (voice is one call; text channels interleave).
DEFAULT_CAPACITY: Mapping[str, int] = MappingProxyType({"voice": 1, "chat": 3, "email": 5, "sms": 3})
# Why an agent is away, as the desktop offers them; `[routing] away_reasons` replaces the list.
DEFAULT_AWAY_REASONS = ("break", "lunch", "meeting", "training", "other")
WHEN_EMPTY = ("join", "refuse")


class ConfigError(ValueError):
    """A `[routing]` or `[queues.*]` value that cannot work; `settings.SettingsError` re-raises it."""


@dataclass(frozen=True, slots=True)
class EscalationSettings:
    """After `after_s` seconds in the queue: require `skills` instead, and/or move to `queue`, and/or raise the
    priority by `priority_boost`."""
    after_s: float
    skills: str | None = None
    queue: str | None = None
    priority_boost: int = 0


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """One `[queues.NAME]` table; None = the platform default (`CC_WRAPUP_TIMEOUT_S`, `[routing] strategy`)."""
    name: str
    skills: str = ""
    sl_threshold_s: float = 20.0
    max_wait_s: float | None = None
    max_length: int | None = None
    overflow: str | None = None
    when_empty: str = "join"
    wrapup_s: float | None = None
    strategy: str | None = None
    ageing_per_s: float = 0.0
    hours: BusinessHours | None = None
    escalation: tuple[EscalationSettings, ...] = ()

    def targets(self) -> set[str]:
        """The queues this one may send contacts to (overflow, escalation)."""
        found = {self.overflow} if self.overflow else set()
        return found | {s.queue for s in self.escalation if s.queue}


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """The `[routing]` table: engine-wide settings and the agents' defaults."""
    offer_timeout_s: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))  # else CC_OFFER_...
    capacity: Mapping[str, int] = field(default_factory=lambda: DEFAULT_CAPACITY)
    blocking: tuple[str, ...] = ("voice",)
    max_missed_offers: int = 3
    reject_cooldown_s: float = RouterSettings.reject_cooldown_s
    skills: frozenset[str] | None = None   # a closed catalogue; None = free-form skills
    strategy: str = "longest_idle"
    away_reasons: tuple[str, ...] = DEFAULT_AWAY_REASONS


# -- reading the TOML tables ------------------------------------------------------------------------------------

def parse_routing(raw: Any) -> RoutingConfig:
    """The `[routing]` table (a dict from tomllib) as a RoutingConfig; ConfigError names the key."""
    table = _table(raw, "routing")
    _known(table, "routing", RoutingConfig.__dataclass_fields__)
    out: dict[str, Any] = {}
    if "offer_timeout_s" in table:
        timeouts = _channel_table(table["offer_timeout_s"], "routing.offer_timeout_s")
        out["offer_timeout_s"] = MappingProxyType(
            {ch: _number(v, f"routing.offer_timeout_s.{ch}", positive=True) for ch, v in timeouts.items()})
    if "capacity" in table:
        out["capacity"] = merge_capacity(DEFAULT_CAPACITY, table["capacity"], "routing.capacity")
    if "blocking" in table:
        blocking = table["blocking"]
        if not isinstance(blocking, list) or not all(isinstance(c, str) for c in blocking):
            raise ConfigError(f"routing.blocking must be a list of channels, not {blocking!r}")
        for ch in blocking:
            _channel(ch, "routing.blocking")
        out["blocking"] = tuple(dict.fromkeys(blocking))
    if "max_missed_offers" in table:
        out["max_missed_offers"] = _whole(table["max_missed_offers"], "routing.max_missed_offers", minimum=0)
    if "reject_cooldown_s" in table:
        out["reject_cooldown_s"] = _number(table["reject_cooldown_s"], "routing.reject_cooldown_s", positive=False)
    if "skills" in table:
        skills = table["skills"]
        if not isinstance(skills, list) or not all(isinstance(s, str) and s for s in skills):
            raise ConfigError(f"routing.skills must be a list of skill names, not {skills!r}")
        bad = [s for s in skills if not NAME_RE.match(s)]
        if bad:
            raise ConfigError(f"routing.skills: bad skill name {bad[0]!r} (letters, digits or ._-)")
        out["skills"] = frozenset(skills)
    if "strategy" in table:
        out["strategy"] = _strategy(table["strategy"], "routing.strategy")
    if "away_reasons" in table:
        out["away_reasons"] = _away_reasons(table["away_reasons"])
    return RoutingConfig(**out)


def _away_reasons(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        raise ConfigError(f"routing.away_reasons must be a list of reason names, not {raw!r}")
    bad = [r for r in raw if not NAME_RE.match(r)]
    if bad:
        raise ConfigError(f"routing.away_reasons: bad reason name {bad[0]!r} (letters, digits or ._-)")
    return tuple(dict.fromkeys(raw))


def parse_queues(raw: Any) -> Mapping[str, QueueSettings]:
    """The `[queues.NAME]` tables as QueueSettings by name; ConfigError names the queue and key."""
    tables = _table(raw, "queues")
    for name in tables:
        if not NAME_RE.match(str(name)):
            raise ConfigError(f"queues.{name}: a queue name is 1-64 letters, digits or ._- and starts with a "
                              "letter or digit")
    return MappingProxyType({str(name): _queue(str(name), table) for name, table in tables.items()})


def _queue(name: str, raw: Any) -> QueueSettings:
    where = f"queues.{name}"
    table = _table(raw, where)
    _known(table, where, set(QueueSettings.__dataclass_fields__) - {"name"} | {"timezone"})
    out: dict[str, Any] = {"name": name}
    if "skills" in table:
        out["skills"] = _expression(table["skills"], f"{where}.skills")
    for key in ("sl_threshold_s", "ageing_per_s", "wrapup_s"):
        if key in table:
            out[key] = _number(table[key], f"{where}.{key}", positive=False)
    if "max_wait_s" in table:
        out["max_wait_s"] = _number(table["max_wait_s"], f"{where}.max_wait_s", positive=True)
    if "max_length" in table:
        out["max_length"] = _whole(table["max_length"], f"{where}.max_length", minimum=0)
    for key in ("overflow", "strategy"):
        if key in table:
            out[key] = _name(table[key], f"{where}.{key}")
    if "strategy" in out:
        _strategy(out["strategy"], f"{where}.strategy")
    if "when_empty" in table:
        if table["when_empty"] not in WHEN_EMPTY:
            raise ConfigError(f"{where}.when_empty must be 'join' or 'refuse', not {table['when_empty']!r}")
        out["when_empty"] = table["when_empty"]
    if "timezone" in table and "hours" not in table:
        raise ConfigError(f"{where}.timezone is given without hours")
    if "hours" in table:
        try:
            out["hours"] = parse_business_hours(table["hours"], table.get("timezone", "UTC"))
        except BusinessHoursError as e:
            key = "timezone" if "time zone" in str(e) else "hours"
            raise ConfigError(f"{where}.{key}: {e}") from None
    if "escalation" in table:
        out["escalation"] = _escalation(table["escalation"], f"{where}.escalation")
    return QueueSettings(**out)


def _escalation(raw: Any, where: str) -> tuple[EscalationSettings, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where} must be a list of steps such as {{after_s = 60, skills = \"billing >= 1\"}}")
    steps = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        step = _table(item, at)
        _known(step, at, EscalationSettings.__dataclass_fields__)
        if "after_s" not in step:
            raise ConfigError(f"{at}.after_s is missing")
        if not ({"skills", "queue", "priority_boost"} & set(step)):
            raise ConfigError(f"{at} must change something: skills, queue or priority_boost")
        steps.append(EscalationSettings(
            after_s=_number(step["after_s"], f"{at}.after_s", positive=False),
            skills=_expression(step["skills"], f"{at}.skills") if "skills" in step else None,
            queue=_name(step["queue"], f"{at}.queue") if "queue" in step else None,
            priority_boost=_whole(step.get("priority_boost", 0), f"{at}.priority_boost", minimum=-1000)))
    if [s.after_s for s in steps] != sorted(s.after_s for s in steps):
        raise ConfigError(f"{where}: steps must be in increasing after_s order")
    return tuple(steps)


def merge_capacity(base: Mapping[str, int], raw: Any, where: str) -> Mapping[str, int]:
    """`base` with the channels of `raw` ({channel: n}, 0 = not served) replaced; at least one channel left."""
    table = _channel_table(raw, where)
    merged = dict(base)
    for ch, n in table.items():
        merged[ch] = _whole(n, f"{where}.{ch}", minimum=0, maximum=MAX_CAPACITY)
    if not any(merged.values()):
        raise ConfigError(f"{where} leaves no channel to serve: give at least one channel a capacity of 1 or more")
    return MappingProxyType(merged)


# -- checking the whole configuration ---------------------------------------------------------------------------

def check(settings: Settings) -> None:
    """Raise ConfigError when queues and routing do not fit together (targets, cycles, catalogue)."""
    catalogue = RouterSettings(skills=settings.routing.skills)
    known = settings.known_queues()
    for queue in settings.queues.values():
        where = f"queues.{queue.name}"
        exprs = [("skills", queue.skills)] + [(f"escalation[{i}].skills", s.skills)
                                              for i, s in enumerate(queue.escalation) if s.skills is not None]
        for key, expr in exprs:
            try:
                QueueConfig(queue.name, skill_expr=expr).validate(catalogue)
            except RoutingError as e:
                hint = " (not in routing.skills)" if e.code == "unknown_skill" else ""
                raise ConfigError(f"{where}.{key}: {e.message}{hint}") from None
        if queue.overflow and queue.overflow not in known:
            raise ConfigError(f"{where}.overflow: unknown queue {queue.overflow!r} (configure [queues."
                              f"{queue.overflow}] or use the default queue {settings.default_queue!r})")
        for i, step in enumerate(queue.escalation):
            if step.queue and step.queue not in known:
                raise ConfigError(f"{where}.escalation[{i}].queue: unknown queue {step.queue!r}")
        try:
            queue_config(queue.name, settings).validate(catalogue)
        except RoutingError as e:
            raise ConfigError(f"{where}: {e.message}") from None
    queue_order(settings)


def queue_order(settings: Settings) -> list[str]:
    """Every configured queue and the default queue, each after the queues it sends contacts to."""
    graph: dict[str, set[str]] = {settings.default_queue: set()}
    graph.update({q.name: q.targets() for q in settings.queues.values()})
    try:
        return list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as e:
        cycle = e.args[1][::-1]  # graphlib lists it against the arrows
        raise ConfigError(f"queues: overflow/escalation cycle {' -> '.join(cycle)}") from None


# -- routing's settings and queues ------------------------------------------------------------------------------

def router_settings(settings: Settings) -> RouterSettings:
    """routing's engine settings: per-channel offer timeouts over `CC_OFFER_TIMEOUT_S`, autopause, catalogue."""
    r = settings.routing
    return RouterSettings(offer_timeout_s=MappingProxyType(offer_timeouts(settings)),
                          default_offer_timeout_s=settings.offer_timeout_s, max_missed_offers=r.max_missed_offers,
                          reject_cooldown_s=r.reject_cooldown_s, skills=r.skills, strategy=r.strategy)


def offer_timeouts(settings: Settings) -> dict[str, float]:
    """Seconds to accept an offer, per channel: `[routing] offer_timeout_s.CHANNEL`, else `CC_OFFER_TIMEOUT_S`."""
    return {ch: float(settings.routing.offer_timeout_s.get(ch, settings.offer_timeout_s)) for ch in CHANNELS}


def queue_config(name: str, settings: Settings) -> QueueConfig:
    """routing's QueueConfig of a queue: its `[queues.NAME]` table, or the defaults when it has none."""
    q = settings.queues.get(name) or QueueSettings(name)
    return QueueConfig(
        name=name, skill_expr=q.skills, sl_threshold_s=q.sl_threshold_s, max_wait_s=q.max_wait_s,
        max_length=q.max_length, overflow=q.overflow,
        wrapup_s=settings.wrapup_timeout_s if q.wrapup_s is None else q.wrapup_s,
        strategy=q.strategy, ageing_per_s=q.ageing_per_s,
        escalation=tuple(EscalationStep(s.after_s, s.skills, s.queue, s.priority_boost) for s in q.escalation),
        when_empty="refuse" if q.when_empty == "refuse" else "join", business_hours=q.hours)


def queue_json(name: str, settings: Settings) -> dict[str, Any]:
    """The effective configuration of one queue, as JSON (API and `contact-center queues`)."""
    q = settings.queues.get(name) or QueueSettings(name)
    config = queue_config(name, settings)
    return {"name": name, "configured": name in settings.queues, "skills": config.skill_expr,
            "sl_threshold_s": config.sl_threshold_s, "max_wait_s": config.max_wait_s,
            "max_length": config.max_length, "overflow": config.overflow, "when_empty": config.when_empty,
            "wrapup_s": config.wrapup_s, "strategy": config.strategy or settings.routing.strategy,
            "ageing_per_s": config.ageing_per_s,
            "hours": q.hours.text if q.hours else None, "timezone": q.hours.timezone if q.hours else None,
            "escalation": [{"after_s": s.after_s, "skills": s.skills, "queue": s.queue,
                            "priority_boost": s.priority_boost} for s in q.escalation]}


def routing_json(settings: Settings) -> dict[str, Any]:
    """The effective `[routing]` configuration, as JSON."""
    r = settings.routing
    return {"offer_timeout_s": offer_timeouts(settings), "capacity": dict(r.capacity), "blocking": list(r.blocking),
            "max_missed_offers": r.max_missed_offers, "reject_cooldown_s": r.reject_cooldown_s,
            "strategy": r.strategy, "skills": sorted(r.skills) if r.skills is not None else None,
            "away_reasons": list(r.away_reasons), "default_queue": settings.default_queue}


def describe(settings: Settings) -> dict[str, Any]:
    """The effective routing and queue configuration, queues in the order routing gets them."""
    return {"routing": routing_json(settings), "queues": [queue_json(n, settings) for n in queue_order(settings)]}


def describe_text(settings: Settings) -> str:
    """`describe` for a person: one block for routing, one per queue."""
    doc = describe(settings)
    r = doc["routing"]
    lines = ["routing",
             *_rows({"default queue": r["default_queue"], "offer timeout s": _pairs(r["offer_timeout_s"]),
                     "capacity": _pairs(r["capacity"]), "blocking": ", ".join(r["blocking"]) or "none",
                     "max missed offers": r["max_missed_offers"] or "never autopause",
                     "reject cooldown s": r["reject_cooldown_s"],
                     "strategy": r["strategy"],
                     "skills": ", ".join(r["skills"]) if r["skills"] is not None else "free-form (any name)",
                     "away reasons": ", ".join(r["away_reasons"]) or "none (away without a reason)"})]
    for q in doc["queues"]:
        steps = "; ".join(f"after {s['after_s']:g} s: " + ", ".join(
            part for part in (f"skills {s['skills']}" if s["skills"] is not None else "",
                              f"queue {s['queue']}" if s["queue"] else "",
                              f"priority +{s['priority_boost']}" if s["priority_boost"] else "") if part)
            for s in q["escalation"])
        lines += ["", f"queue {q['name']}" + ("" if q["configured"] else " (no [queues] table: defaults)"),
                  *_rows({"skills": q["skills"] or "any agent of the queue", "sl threshold s": q["sl_threshold_s"],
                          "max wait s": _or_none(q["max_wait_s"]), "max length": _or_none(q["max_length"]),
                          "overflow": q["overflow"] or "none", "when empty": q["when_empty"],
                          "wrapup s": q["wrapup_s"] or "until the agent ends it", "strategy": q["strategy"],
                          "ageing per s": q["ageing_per_s"],
                          "hours": f"{q['hours']} ({q['timezone']})" if q["hours"] else "always open",
                          "escalation": steps or "none"})]
    return "\n".join(lines)


def _rows(values: Mapping[str, Any]) -> list[str]:
    return [f"  {key:<18} {value}" for key, value in values.items()]


def _or_none(value: Any) -> Any:
    return "none" if value is None else value


def _pairs(mapping: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in mapping.items())


# -- small readers ----------------------------------------------------------------------------------------------

def _table(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table, not {raw!r}")
    return raw


def _known(table: Mapping[str, Any], where: str, allowed: Any) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")


def _channel(ch: Any, where: str) -> str:
    if ch not in CHANNELS:
        raise ConfigError(f"{where}: unknown channel {ch!r} (channels: {', '.join(CHANNELS)})")
    return str(ch)


def _channel_table(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table of channel = value, such as {{voice = 1, chat = 3}}")
    for ch in raw:
        _channel(ch, where)
    return raw


def _number(raw: Any, where: str, *, positive: bool) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) or raw < 0 \
            or (positive and raw == 0):
        raise ConfigError(f"{where} must be a {'positive' if positive else 'non-negative'} number, not {raw!r}")
    return float(raw)


def _whole(raw: Any, where: str, *, minimum: int, maximum: int = 1_000_000) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not minimum <= raw <= maximum:
        raise ConfigError(f"{where} must be a whole number from {minimum} to {maximum}, not {raw!r}")
    return raw


def _name(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise ConfigError(f"{where} must be a name, not {raw!r}")
    return raw


def _strategy(raw: Any, where: str) -> str:
    if raw not in STRATEGIES:
        raise ConfigError(f"{where}: unknown strategy {raw!r} (known: {', '.join(sorted(STRATEGIES))})")
    return str(raw)


def _expression(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise ConfigError(f"{where} must be a skill expression string such as \"billing >= 3\", not {raw!r}")
    try:
        QueueConfig("check", skill_expr=raw).validate(RouterSettings())
    except RoutingError as e:
        raise ConfigError(f"{where}: {e.message}") from None
    return raw
