"""Users with the agent role become routing agents: on start, on login, and when added through the API.

Queues come from the settings (`[queues.NAME]`, see contact_center.queue_settings); a queue an agent serves that
has no table gets the defaults.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from contact_center.domain import InvalidInput
from contact_center.queue_settings import queue_config, queue_order
from contact_center.settings import Settings
from routing import AgentConfig, RoutingError

if TYPE_CHECKING:
    from contact_center.history import History
    from routing import Router

log = logging.getLogger(__name__)

ROUTABLE_ROLES = ("agent",)


def _skills(raw: Any) -> dict[str, int]:
    if isinstance(raw, dict):
        return {str(k): int(v) for k, v in raw.items()}
    return {str(s): 1 for s in (raw or ())}


def capacity_of(user: Any, settings: Settings) -> dict[str, int]:
    """Contacts the user takes at once per channel: `[routing] capacity` with the user's own override on top;
    channels at 0 are not served."""
    merged = {**settings.routing.capacity, **(getattr(user, "capacity", None) or {})}
    return {channel: n for channel, n in merged.items() if n > 0}


def agent_config(user: Any, settings: Settings) -> AgentConfig:
    """The routing agent of a user: skills, queues (default queue when none), channel capacity, blocking."""
    queues = tuple(user.queues or ()) or (settings.default_queue,)
    return AgentConfig(id=str(user.id), name=user.username, skills=_skills(user.skills), queues=queues,
                       capacity=capacity_of(user, settings), blocking=settings.routing.blocking)


async def register_agent(router: Router, user: Any, settings: Settings) -> None:
    """Upsert one agent user (and the queues they serve) into routing; other roles are ignored.

    A user routing cannot take (a skill outside the `[routing] skills` catalogue, no channel left) is InvalidInput
    with routing's code."""
    if user.role not in ROUTABLE_ROLES:
        return
    config = agent_config(user, settings)
    try:
        for queue in config.queues:
            await router.add_queue(queue_config(queue, settings))
        await router.add_agent(config)
    except RoutingError as e:
        raise InvalidInput(f"user {user.username} cannot be routed: {e.message}", code=e.code) from e


async def register_queues(router: Router, settings: Settings) -> list[str]:
    """Add the configured queues and the default queue, each after its overflow/escalation targets."""
    order = queue_order(settings)
    for name in order:
        await router.add_queue(queue_config(name, settings))
    return order


async def register_all(history: History, router: Router, settings: Settings) -> int:
    """Register the queues and every agent user; returns how many agents.

    An agent routing refuses is logged and left out, so one stale user record cannot stop the server."""
    queues = await register_queues(router, settings)
    count = 0
    for user in await history.list_users():
        if user.role in ROUTABLE_ROLES:
            try:
                await register_agent(router, user, settings)
            except InvalidInput as e:
                log.error("%s (fix the user or the settings file)", e.message)
                continue
            count += 1
    log.info("registered %d queue(s) and %d agent(s) in routing", len(queues), count)
    return count
