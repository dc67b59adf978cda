"""Agent-selection strategies: a registry of small functions choosing among eligible free agents.

Each strategy gets the eligible candidates in the free lists' order (fewest contacts held, then longest idle), the task and a context, and returns one
candidate (or None). A strategy registered with `first_fit=True` only ever needs the first candidate, so the
engine stops looking after one (longest idle is O(1) however many agents are free).
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from routing.errors import RoutingError
from routing.model import AgentRecord, TaskRecord
from routing.skills import parse_skill_expr, skills_in


@dataclass
class StrategyContext:
    """What a strategy may consult beyond the candidates; `memory` persists between decisions per queue."""
    now: float
    queue: str
    rng: random.Random
    memory: dict[str, object] = field(default_factory=dict)


StrategyFn = Callable[[Sequence[AgentRecord], TaskRecord, StrategyContext], AgentRecord | None]


@dataclass(frozen=True)
class Strategy:
    name: str
    pick: StrategyFn
    first_fit: bool = False


STRATEGIES: dict[str, Strategy] = {}


def register(name: str, *, first_fit: bool = False) -> Callable[[StrategyFn], StrategyFn]:
    """Decorator adding a strategy to the registry under `name`."""
    def add(fn: StrategyFn) -> StrategyFn:
        STRATEGIES[name] = Strategy(name, fn, first_fit)
        return fn
    return add


def get_strategy(name: str) -> Strategy:
    """The registered strategy, or RoutingError(`unknown_strategy`)."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise RoutingError("unknown_strategy", f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGIES))}")


@register("longest_idle", first_fit=True)
def longest_idle(candidates: Sequence[AgentRecord], task: TaskRecord, ctx: StrategyContext) -> AgentRecord | None:
    """The agent holding fewest contacts, then idle the longest (candidates already come in that order)."""
    return candidates[0] if candidates else None


def _occupancy(agent: AgentRecord) -> float:
    capacity = sum(agent.config.capacity.values())
    return sum(agent.load.values()) / capacity if capacity else 1.0


@register("least_occupied")
def least_occupied(candidates: Sequence[AgentRecord], task: TaskRecord, ctx: StrategyContext) -> AgentRecord | None:
    """The agent holding the smallest share of its capacity; ties go to the longest idle."""
    return min(candidates, key=_occupancy, default=None)


@register("best_skill")
def best_skill(candidates: Sequence[AgentRecord], task: TaskRecord, ctx: StrategyContext) -> AgentRecord | None:
    """The agent with the highest total level in the skills the task requires; ties go to the longest idle."""
    wanted = skills_in(parse_skill_expr(task.requirement))
    return max(candidates, key=lambda a: sum(a.config.skills.get(s, 0) for s in wanted), default=None)


@register("round_robin")
def round_robin(candidates: Sequence[AgentRecord], task: TaskRecord, ctx: StrategyContext) -> AgentRecord | None:
    """The next agent by id after the one this queue chose last, wrapping around."""
    if not candidates:
        return None
    last = str(ctx.memory.get("round_robin:" + ctx.queue, ""))
    ordered = sorted(candidates, key=lambda a: a.id)
    chosen = next((a for a in ordered if a.id > last), ordered[0])
    ctx.memory["round_robin:" + ctx.queue] = chosen.id
    return chosen


@register("random")
def random_agent(candidates: Sequence[AgentRecord], task: TaskRecord, ctx: StrategyContext) -> AgentRecord | None:
    """Any eligible agent, uniformly (seeded by the router's rng)."""
    return ctx.rng.choice(candidates) if candidates else None


@register("most_related")
def most_related(candidates: Sequence[AgentRecord], task: TaskRecord, ctx: StrategyContext) -> AgentRecord | None:
    """The agent the task's attributes name as most related (`related_agents` list, best first, or
    `related_agent` / `preferred_agent`); otherwise the longest idle."""
    attrs = task.attributes
    related = list(attrs.get("related_agents") or [])
    for key in ("related_agent", "preferred_agent"):
        if attrs.get(key):
            related.append(attrs[key])
    by_id = {a.id: a for a in candidates}
    for agent_id in related:
        if agent_id in by_id:
            return by_id[agent_id]
    return candidates[0] if candidates else None
