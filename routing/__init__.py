"""routing: the contact center's routing engine (ACD) — queues, skills, priorities, offers, capacity, metrics.

A library: stdlib, sortedcontainers and (for the shared store) redis only; it knows nothing of the web, Twilio
or the database. See docs/routing.md.
"""
from routing.engine import Router
from routing.errors import RoutingError
from routing.memory_store import MemoryStore
from routing.model import (CHANNELS, EVENT_TYPES, AgentConfig, AgentRecord, Assignment, EscalationStep,
                           OfferRecord, QueueConfig, RouterSettings, RoutingEvent, Task, TaskRecord, can_take)
from routing.skills import parse_skill_expr
from routing.store import Store
from routing.strategies import STRATEGIES, register as register_strategy

__all__ = ["Router", "RoutingError", "MemoryStore", "Store", "AgentConfig", "AgentRecord", "Assignment",
           "EscalationStep", "OfferRecord", "QueueConfig", "RouterSettings", "RoutingEvent", "Task", "TaskRecord",
           "CHANNELS", "EVENT_TYPES", "can_take", "parse_skill_expr", "STRATEGIES", "register_strategy"]


def __getattr__(name: str):   # RedisStore lives in its own module and needs redis: import it on first use
    if name == "RedisStore":
        from routing.redis_store import RedisStore  # type: ignore[import-not-found]
        return RedisStore
    raise AttributeError(name)
