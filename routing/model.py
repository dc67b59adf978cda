"""The routing vocabulary: settings and configs (immutable, passed in), tasks, records, offers and events."""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal

from routing.errors import RoutingError
from routing.skills import parse_skill_expr, validate_skills

CHANNELS = ("voice", "chat", "email", "sms")
Presence = Literal["offline", "available", "away"]
PRESENCES = ("offline", "available", "away")
# Task states: queued -> offered -> assigned -> wrapup -> closed; abandoned / overflowed end it early.
TASK_STATES = ("queued", "offered", "assigned", "wrapup", "closed", "abandoned", "overflowed")
ACTIVE_TASK_STATES = frozenset({"queued", "offered", "assigned", "wrapup"})
EVENT_TYPES = ("task.queued", "offer.made", "offer.accepted", "offer.rejected", "offer.timeout", "offer.revoked",
               "task.assigned", "task.wrapup", "task.wrapped_up", "task.abandoned", "task.escalated",
               "task.overflowed", "agent.state")
# Without ageing, one priority point outweighs any realistic wait (about 31 years).
NO_AGEING_PRIORITY_WEIGHT_S = 1e9
# Priorities (and escalation boosts) are integers within +-PRIORITY_LIMIT: `key` = enqueued_at - priority * 1e9
# then stays below 2**53, where a float still tells tasks apart by their enqueue time.
PRIORITY_LIMIT = 1_000_000


def is_seconds(value: object, *, positive: bool = False) -> bool:
    """A finite number of seconds, >= 0 (> 0 with `positive`); bools and NaN are not."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    return value > 0 if positive else value >= 0


def is_priority(value: object) -> bool:
    """An integer priority within +-PRIORITY_LIMIT."""
    return isinstance(value, int) and not isinstance(value, bool) and -PRIORITY_LIMIT <= value <= PRIORITY_LIMIT


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class RouterSettings:
    """Engine-wide settings; queues and agents may override some of them."""
    offer_timeout_s: Mapping[str, float] = field(default_factory=lambda: _frozen(
        {"voice": 20.0, "chat": 30.0, "email": 120.0, "sms": 60.0}))
    default_offer_timeout_s: float = 30.0
    max_missed_offers: int = 3           # consecutive offer timeouts before autopause (0 = never; rejects don't count)
    reject_cooldown_s: float = 10.0      # an agent who missed a task is not offered it again for this long
    strategy: str = "longest_idle"       # default strategy for queues that name none
    skills: frozenset[str] | None = None  # when given, the only skill names queues and agents may use
    channels: tuple[str, ...] = CHANNELS
    preferred_for_s: float = 30.0        # how long a preferred agent is waited for when the task names none
    default_aht_s: float = 300.0         # estimated-wait basis until a queue has handled contacts
    # A due timer is leased to the node handling it for this long: if that node dies (or the handler fails),
    # another node's tick takes it over after the lease. Longer than any tick's work, short enough to be late by.
    timer_lease_s: float = 10.0

    def timeout_for(self, channel: str) -> float:
        """The offer timeout of a channel."""
        return float(self.offer_timeout_s.get(channel, self.default_offer_timeout_s))


@dataclass(frozen=True)
class EscalationStep:
    """After `after_s` seconds in the queue: widen the requirement to `skill_expr`, and/or move to `queue`,
    and/or raise the priority by `priority_boost`."""
    after_s: float
    skill_expr: str | None = None
    queue: str | None = None
    priority_boost: int = 0


@dataclass(frozen=True)
class QueueConfig:
    """A queue: who may serve it, its service level, its limits and what happens beyond them."""
    name: str
    skill_expr: str = ""
    sl_threshold_s: float = 20.0
    max_wait_s: float | None = None      # beyond: overflow to `overflow` (or leave with task.overflowed)
    max_length: int | None = None        # a full queue sends newcomers to `overflow` (or refuses them)
    overflow: str | None = None
    wrapup_s: float = 0.0                # automatic end of wrap-up (0 = the agent ends it with wrapup_done)
    strategy: str | None = None          # None = RouterSettings.strategy
    ageing_per_s: float = 0.0            # priority points a task gains per second of waiting
    escalation: tuple[EscalationStep, ...] = ()
    when_empty: Literal["join", "refuse"] = "join"   # no agent signed in (not offline) for the queue
    business_hours: Callable[[float], bool] | None = None   # epoch seconds -> open?; closed queues refuse

    def validate(self, settings: RouterSettings) -> None:
        """Raise RoutingError when the config cannot work."""
        if not isinstance(self.name, str) or not self.name or "\x1f" in self.name:
            raise RoutingError("bad_queue", f"bad queue name {self.name!r}")
        for expr in [self.skill_expr] + [s.skill_expr for s in self.escalation if s.skill_expr is not None]:
            _check_known(parse_skill_expr(expr), settings)
        if not is_seconds(self.sl_threshold_s):
            raise RoutingError("bad_queue", f"sl_threshold_s must be finite seconds >= 0, got {self.sl_threshold_s!r}")
        if self.max_wait_s is not None and not is_seconds(self.max_wait_s, positive=True):
            raise RoutingError("bad_queue", f"max_wait_s must be finite seconds > 0, got {self.max_wait_s!r}")
        if self.max_length is not None and (isinstance(self.max_length, bool) or not isinstance(self.max_length, int)
                                            or self.max_length < 0):
            raise RoutingError("bad_queue", f"max_length must be an integer >= 0, got {self.max_length!r}")
        if not is_seconds(self.wrapup_s) or not is_seconds(self.ageing_per_s):
            raise RoutingError("bad_queue", "wrapup_s and ageing_per_s must be finite numbers >= 0")
        for target in [self.overflow] + [s.queue for s in self.escalation]:
            if target is not None and (not isinstance(target, str) or not target):
                raise RoutingError("bad_queue", f"overflow and escalation queues must be queue names, got {target!r}")
        if self.when_empty not in ("join", "refuse"):
            raise RoutingError("bad_queue", f"when_empty must be 'join' or 'refuse', not {self.when_empty!r}")
        if isinstance(self.escalation, str) or not all(isinstance(s, EscalationStep) for s in self.escalation):
            raise RoutingError("bad_queue", "escalation must be a sequence of EscalationStep")
        for step in self.escalation:
            if not is_seconds(step.after_s):
                raise RoutingError("bad_queue", f"escalation after_s must be finite seconds >= 0, got {step.after_s!r}")
            if not is_priority(step.priority_boost):
                raise RoutingError("bad_queue", f"escalation priority_boost must be an integer within "
                                                f"+-{PRIORITY_LIMIT}, got {step.priority_boost!r}")
        if list(self.escalation) != sorted(self.escalation, key=lambda s: s.after_s):
            raise RoutingError("bad_queue", "escalation steps must be in increasing after_s order")
        if self.business_hours is not None and not callable(self.business_hours):
            raise RoutingError("bad_queue", "business_hours must be a callable (epoch seconds -> open?)")

    def targets(self) -> set[str]:
        """The other queues this one sends contacts to (overflow, escalation steps): they must exist first."""
        names = {self.overflow} | {step.queue for step in self.escalation}
        return {name for name in names if name is not None and name != self.name}

    @property
    def priority_weight_s(self) -> float:
        """Seconds of waiting one priority point is worth (ageing as a virtual enqueue time)."""
        return 1.0 / self.ageing_per_s if self.ageing_per_s > 0 else NO_AGEING_PRIORITY_WEIGHT_S


def _check_known(expr: Any, settings: RouterSettings) -> None:
    from routing.skills import skills_in
    if settings.skills is not None:
        unknown = skills_in(expr) - settings.skills
        if unknown:
            raise RoutingError("unknown_skill", f"unknown skill(s): {', '.join(sorted(unknown))}")


@dataclass(frozen=True)
class AgentConfig:
    """An agent's routing profile: skills with levels, queues served, capacity per channel."""
    id: str
    name: str = ""
    skills: Mapping[str, float] = field(default_factory=dict)
    queues: tuple[str, ...] = ("general",)
    capacity: Mapping[str, int] = field(default_factory=lambda: {"voice": 1, "chat": 3, "email": 5, "sms": 3})
    blocking: tuple[str, ...] = ("voice",)   # a held contact of these channels blocks every other channel

    def validate(self, settings: RouterSettings) -> None:
        """Raise RoutingError when the config cannot work."""
        if not isinstance(self.id, str) or not self.id or "\x1f" in self.id:
            raise RoutingError("bad_agent", f"bad agent id {self.id!r}")
        skills = validate_skills(self.skills)
        if settings.skills is not None and set(skills) - settings.skills:
            raise RoutingError("unknown_skill",
                               f"unknown skill(s): {', '.join(sorted(set(skills) - settings.skills))}")
        if isinstance(self.queues, str) or not all(isinstance(q, str) and q for q in self.queues):
            raise RoutingError("bad_agent", "queues must be a sequence of queue names")
        if not self.capacity:
            raise RoutingError("bad_capacity", "an agent needs capacity on at least one channel")
        for channel, n in self.capacity.items():
            if channel not in settings.channels:
                raise RoutingError("unknown_channel", f"unknown channel {channel!r}")
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise RoutingError("bad_capacity", f"capacity for {channel} must be an integer >= 1, got {n!r}")
        if not isinstance(self.blocking, (tuple, list)) or not all(isinstance(c, str) for c in self.blocking):
            raise RoutingError("bad_agent", f"blocking must be a tuple of channel names, got {self.blocking!r}")
        for channel in self.blocking:
            if channel not in settings.channels:
                raise RoutingError("unknown_channel", f"unknown blocking channel {channel!r}")


@dataclass(frozen=True)
class Task:
    """A contact to route, as the app hands it in."""
    id: str
    queue: str
    channel: str
    priority: int = 0
    attributes: Mapping[str, Any] = field(default_factory=dict)
    preferred_agent: str | None = None
    # How long only the preferred agent is tried, at most (None = RouterSettings.preferred_for_s, 30 s by default).
    preferred_for_s: float | None = None
    # When the contact first joined a queue, epoch seconds (None = now). A contact handed back after a crash keeps
    # its place, its wait (service level, ASA), its ageing and its escalation / max-wait timers. Not in the future.
    enqueued_at: float | None = None


@dataclass(slots=True)
class TaskRecord:
    """A task as the store holds it. Owned by the store: the engine reads it, changes it only through the store."""
    id: str
    queue: str
    channel: str
    priority: int
    attributes: Mapping[str, Any]
    requirement: str                    # the skill expression in force (widened by escalation)
    enqueued_at: float                  # first entry into routing: never changes (order, recovery)
    queued_at: float                    # entry into the current queue (service level, max wait, escalation)
    key: float = 0.0                    # virtual enqueue time: order within a bucket, smaller first
    bucket: str = ""                    # waiting bucket while queued or offered (to go back on re-offer)
    state: str = "queued"
    preferred_agent: str | None = None
    preferred_until: float = 0.0
    step: int = 0                       # escalation steps applied
    agent_id: str | None = None
    offer_id: str | None = None
    assigned_at: float | None = None
    ended_at: float | None = None       # conversation end (wrap-up start) or abandonment
    closed_at: float | None = None
    excluded: dict[str, float] = field(default_factory=dict)   # agent id -> not before (after a miss)


@dataclass(slots=True)
class AgentRecord:
    """An agent's runtime state as the store holds it (read-only for the engine)."""
    config: AgentConfig
    presence: str = "offline"
    reason: str | None = None
    state: str = "offline"              # busy | wrapup | offline | away | available (derived, with state_since)
    state_since: float = 0.0
    idle_since: float = 0.0             # last time capacity was freed or the agent became available
    load: dict[str, int] = field(default_factory=dict)   # contacts held per channel (offered, assigned, wrap-up)
    wrapping: int = 0                   # of which in wrap-up
    offers: int = 0                     # of which offered, not yet accepted
    missed: int = 0                     # consecutive missed offers (autopause)
    tasks: set[str] = field(default_factory=set)
    id: str = ""                        # = config.id (a plain attribute: read on every decision)

    def __post_init__(self) -> None:
        self.id = self.config.id

    def derived_state(self) -> str:
        """busy while on a contact and wrapup while only wrapping up, whatever the presence (an agent set away
        during a call is still busy: time in state and occupancy count it so); else the presence
        (offline, away, available). (`routing.redis_scripts` has this function in Lua, line for line.)"""
        held = sum(self.load.values())
        if held > self.wrapping + self.offers:
            return "busy"
        return "wrapup" if self.wrapping else self.presence


def can_take(agent: AgentRecord, channel: str) -> bool:
    """Whether one more contact of `channel` fits on the agent (presence, capacity, blocking channels).

    A blocking channel (default voice) is exclusive both ways, as Amazon Connect without cross-channel
    concurrency: while held it blocks every other channel, and it is offered only to an agent holding nothing
    of another channel. (`routing.redis_scripts` has this function in Lua, line for line.)"""
    if agent.presence != "available":
        return False
    cap = agent.config.capacity.get(channel, 0)
    if agent.load.get(channel, 0) >= cap:
        return False
    for blocking in agent.config.blocking:
        if blocking == channel:   # offered only to an agent holding nothing of another channel
            for other, held in agent.load.items():
                if other != channel and held > 0:
                    return False
        elif agent.load.get(blocking, 0) > 0:   # held, it blocks the others
            return False
    return True


# Free agents are ordered by (contacts held, idle_since) as ONE float, so that Redis can score a sorted set by it:
# held * FREE_LOAD_WEIGHT + idle_since. Exact in order for epoch idle times below 1e10 s (the year 2286): the
# sum's rounding is monotonic, so a smaller load always comes first and, at equal load, idle times closer than
# the sum's resolution (~2 us at load 1, ~16 us at load 50) tie, then order by agent id, alike in both stores.
FREE_LOAD_WEIGHT = 1e10


def free_score(agent: AgentRecord) -> float:
    """The agent's place in the free lists: fewest contacts held first, then longest idle (TaskRouter
    multitasking, Connect: a fully idle agent before one already on a chat). Mirrored in Lua."""
    return sum(agent.load.values()) * FREE_LOAD_WEIGHT + agent.idle_since


@dataclass(slots=True)
class OfferRecord:
    """A reservation: one task offered to one agent until `expires_at`."""
    id: str
    task_id: str
    agent_id: str
    queue: str
    channel: str
    made_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class Assignment:
    """What `accept` returns: the task is the agent's."""
    task_id: str
    agent_id: str
    queue: str
    channel: str
    offer_id: str
    assigned_at: float
    waited_s: float
    attributes: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RoutingEvent:
    """One state change, in order; `contact_center` records it in the history."""
    type: str
    task_id: str | None
    queue: str | None
    agent_id: str | None = None
    offer_id: str | None = None
    at: float = 0.0
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict."""
        return {"type": self.type, "task_id": self.task_id, "queue": self.queue, "agent_id": self.agent_id,
                "offer_id": self.offer_id, "at": self.at, "data": dict(self.data)}


@lru_cache(maxsize=65536)
def bucket_name(queue: str, channel: str, requirement: str) -> str:
    """The waiting bucket of tasks of one queue, channel and requirement (all served by the same agents)."""
    return f"q\x1f{queue}\x1f{channel}\x1f{requirement}"


@lru_cache(maxsize=65536)
def preferred_bucket(agent_id: str, channel: str) -> str:
    """The waiting bucket of tasks reserved for one agent for a while."""
    return f"a\x1f{agent_id}\x1f{channel}"


@lru_cache(maxsize=65536)
def parse_bucket(bucket: str) -> tuple[str, str, str, str]:
    """(kind 'q' or 'a', queue or agent id, channel, requirement)."""
    kind, owner, channel, *rest = bucket.split("\x1f")
    return kind, owner, channel, rest[0] if rest else ""
