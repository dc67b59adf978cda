"""Records of the routing model to and from their Redis form (hashes of exact strings, JSON script replies)."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from routing.errors import RoutingError
from routing.model import AgentConfig, AgentRecord, EscalationStep, OfferRecord, QueueConfig, TaskRecord
from routing.redis_keys import sortable
from routing.skills import Always, And, Expr, Has, Not, Or, parse_skill_expr

_OPTIONAL_TASK_FLOATS = ("assigned_at", "ended_at", "closed_at")


def text(value: Any) -> str:
    """A reply item as str (clients with or without `decode_responses`)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def pairs(value: Any) -> dict[Any, Any]:
    """A hash reply as a dict: redis-py gives one, the store's connection a flat [field, value, ...] list."""
    return value if isinstance(value, dict) else dict(zip(value[::2], value[1::2], strict=True))


def exact(x: float) -> str:
    """A float as the exact string Redis and Lua store unchanged (repr round-trips)."""
    return repr(float(x))


def items(value: Any) -> list[Any]:
    """A JSON array from a script (cjson encodes an empty Lua table as `{}`)."""
    return value if isinstance(value, list) else []


def encode_queue(config: QueueConfig) -> str:
    """A queue config as JSON (`business_hours`, a callable, stays with the node that set it)."""
    data = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name != "business_hours"}
    data["escalation"] = [dataclasses.asdict(step) for step in config.escalation]
    return json.dumps(data, sort_keys=True)


def decode_queue(raw: Any) -> QueueConfig:
    """The inverse of `encode_queue`."""
    data = json.loads(text(raw))
    data["escalation"] = tuple(EscalationStep(**step) for step in data["escalation"])
    return QueueConfig(**data)


def encode_agent_config(config: AgentConfig) -> str:
    """An agent config as JSON (read by the Lua capacity rule: capacity, blocking, queues)."""
    return json.dumps({"id": config.id, "name": config.name, "skills": dict(config.skills),
                       "queues": list(config.queues), "capacity": dict(config.capacity),
                       "blocking": list(config.blocking)}, sort_keys=True)


def _requirement_tree(expr: Expr) -> list[Any]:
    if isinstance(expr, Has):   # the level as its exact string: Lua's tonumber gives back the same double
        return ["h", expr.skill] if expr.op is None else ["h", expr.skill, expr.op, repr(expr.level)]
    if isinstance(expr, Not):
        return ["n", _requirement_tree(expr.operand)]
    if isinstance(expr, (And, Or)):
        return ["a" if isinstance(expr, And) else "o", *map(_requirement_tree, expr.operands)]
    assert isinstance(expr, Always)
    return ["t"]


def encode_requirement(requirement: str) -> str:
    """A skill expression parsed (`routing.skills`) into the JSON tree the Lua `matches` evaluates:
    ["h", skill] / ["h", skill, op, level] / ["n", x] / ["a", x, ...] / ["o", x, ...] / ["t"]."""
    return json.dumps(_requirement_tree(parse_skill_expr(requirement)), separators=(",", ":"))


def bucket_member(task: TaskRecord) -> str:
    """The task's member in its bucket: 16 hex digits of `enqueued_at` and the id order ties (by bytes, as
    `MemoryStore` by (enqueued_at, id): ids hold no NUL), then NUL and what the Lua choice reads of a head without
    its hash: priority, enqueued_at, whether the task has exclusions (then it reads them), queue (`member_of` in
    routing/redis_scripts.py writes the same)."""
    return (f"{sortable(task.enqueued_at)}{task.id}\0{int(task.priority)}\x1f{exact(task.enqueued_at)}"
            f"\x1f{1 if task.excluded else 0}\x1f{task.queue}")


def encode_task(task: TaskRecord) -> str:
    """A queued task's hash as one JSON object of strings (exact: no number goes through Lua)."""
    try:
        attributes = json.dumps(dict(task.attributes), sort_keys=True)
    except (TypeError, ValueError) as e:
        raise RoutingError("bad_task", f"task attributes must be JSON-serialisable for Redis: {e}") from e
    fields = ["id", task.id, "queue", task.queue, "channel", task.channel, "priority", str(int(task.priority)),
              "attributes", attributes, "requirement", task.requirement, "enqueued_at", exact(task.enqueued_at),
              "queued_at", exact(task.queued_at), "key", exact(task.key), "bucket", task.bucket, "state", "queued",
              "preferred_until", exact(task.preferred_until), "step", str(task.step),
              "m", bucket_member(task)]
    if task.preferred_agent is not None:
        fields += ["preferred_agent", task.preferred_agent]
    for agent_id, until in task.excluded.items():
        fields += ["x:" + agent_id, exact(until)]
    return json.dumps(dict(zip(fields[::2], fields[1::2], strict=True)), separators=(",", ":"))


# the fields of a task hash that are not `x:<agent>` exclusions (a set difference finds those in C)
_TASK_FIELDS = frozenset(("id", "queue", "channel", "priority", "attributes", "requirement", "enqueued_at",
                          "queued_at", "key", "bucket", "state", "preferred_until", "step", "m", "preferred_agent",
                          "agent_id", "offer_id", *_OPTIONAL_TASK_FLOATS))


def decode_task(h: Mapping[str, str] | None) -> TaskRecord | None:
    """A task hash as a TaskRecord; None for a missing one."""
    if not h:
        return None
    get = h.get
    attributes = h["attributes"]
    assigned_at, ended_at, closed_at = get("assigned_at"), get("ended_at"), get("closed_at")
    extra = h.keys() - _TASK_FIELDS   # usually empty: decoding is on every routing decision
    return TaskRecord(h["id"], h["queue"], h["channel"], int(h["priority"]),
                      {} if attributes == "{}" else json.loads(attributes), h["requirement"],
                      float(h["enqueued_at"]), float(h["queued_at"]), float(h["key"]), h["bucket"], h["state"],
                      get("preferred_agent"), float(h["preferred_until"]), int(h["step"]), get("agent_id"),
                      get("offer_id"), None if assigned_at is None else float(assigned_at),
                      None if ended_at is None else float(ended_at), None if closed_at is None else float(closed_at),
                      {k[2:]: float(h[k]) for k in extra if k.startswith("x:")} if extra else {})


def decode_offer(h: Mapping[str, str] | None) -> OfferRecord | None:
    """An offer hash as an OfferRecord; None for a missing one."""
    if not h:
        return None
    return OfferRecord(h["id"], h["task_id"], h["agent_id"], h["queue"], h["channel"], float(h["made_at"]),
                       float(h["expires_at"]))


# the fields of an agent hash that are not `l:<channel>` loads
_AGENT_FIELDS = frozenset(("id", "config", "presence", "reason", "state", "state_since", "idle_since", "wrapping",
                           "offers", "missed", "claims"))


class AgentDecoder:
    """Agents from script replies ({h: hash, t: task ids}); configs are decoded once per distinct JSON."""

    def __init__(self) -> None:
        self._configs: dict[str, AgentConfig] = {}

    def config(self, raw: str) -> AgentConfig:
        """The AgentConfig of a config JSON."""
        config = self._configs.get(raw)
        if config is None:
            d = json.loads(raw)
            config = AgentConfig(d["id"], d["name"], d["skills"], tuple(d["queues"]), d["capacity"],
                                 tuple(d["blocking"]))
            if len(self._configs) > 10_000:   # bounded: configs change rarely, agents are few
                self._configs.clear()
            self._configs[raw] = config
        return config

    def __call__(self, reply: Mapping[str, Any] | None) -> AgentRecord | None:
        if not reply:
            return None
        h = reply["h"]
        return AgentRecord(self.config(h["config"]), h["presence"], h.get("reason"), h["state"],
                           float(h["state_since"]), float(h["idle_since"]),
                           {k[2:]: int(h[k]) for k in h.keys() - _AGENT_FIELDS if k.startswith("l:")},
                           int(h["wrapping"]), int(h["offers"]), int(h["missed"]), set(items(reply["t"])))
