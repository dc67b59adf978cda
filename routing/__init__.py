"""routing: the contact center's routing engine (ACD) — queues, skills, priorities, offers, capacity, metrics.

A library: stdlib, sortedcontainers and (for the shared store) redis only; it knows nothing of the web, Twilio
or the database. See docs/routing.md.
"""
from routing.engine import Router
from routing.errors import RoutingError
from routing.memory_store import MemoryStore
from routing.model import (
    CHANNELS,
    EVENT_TYPES,
    AgentConfig,
    AgentRecord,
    Assignment,
    EscalationStep,
    OfferRecord,
    QueueConfig,
    RouterSettings,
    RoutingEvent,
    Task,
    TaskRecord,
    can_take,
)
from routing.redis_store import RedisStore
from routing.skills import parse_skill_expr
from routing.store import Store
from routing.strategies import STRATEGIES
from routing.strategies import register as register_strategy

__all__ = [
    "CHANNELS",
    "EVENT_TYPES",
    "STRATEGIES",
    "AgentConfig",
    "AgentRecord",
    "Assignment",
    "EscalationStep",
    "MemoryStore",
    "OfferRecord",
    "QueueConfig",
    "RedisStore",
    "Router",
    "RouterSettings",
    "RoutingError",
    "RoutingEvent",
    "Store",
    "Task",
    "TaskRecord",
    "can_take",
    "parse_skill_expr",
    "register_strategy",
]

