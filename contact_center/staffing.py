"""Users with the agent role become routing agents: on start, on login, and when added through the API."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from contact_center.settings import Settings
from routing import AgentConfig, QueueConfig

if TYPE_CHECKING:
    from contact_center.history import History
    from routing import Router

log = logging.getLogger(__name__)

# Conversations an agent handles at once per channel (voice is one call; text channels interleave).
DEFAULT_CAPACITY = {"voice": 1, "chat": 3, "email": 5, "sms": 3}
ROUTABLE_ROLES = ("agent",)


def _skills(raw: Any) -> dict[str, int]:
    if isinstance(raw, dict):
        return {str(k): int(v) for k, v in raw.items()}
    return {str(s): 1 for s in (raw or ())}


def queue_config(name: str, settings: Settings) -> QueueConfig:
    """A queue as the settings configure every queue."""
    return QueueConfig(name=name, wrapup_s=settings.wrapup_timeout_s)


def agent_config(user: Any, settings: Settings) -> AgentConfig:
    """The routing agent of a user: skills, queues (default queue when none), channel capacity."""
    queues = tuple(user.queues or ()) or (settings.default_queue,)
    return AgentConfig(id=str(user.id), name=user.username, skills=_skills(user.skills), queues=queues,
                       capacity=dict(DEFAULT_CAPACITY))


async def register_agent(router: Router, user: Any, settings: Settings) -> None:
    """Upsert one agent user (and the queues they serve) into routing; other roles are ignored."""
    if user.role not in ROUTABLE_ROLES:
        return
    config = agent_config(user, settings)
    for queue in config.queues:
        await router.add_queue(queue_config(queue, settings))
    await router.add_agent(config)


async def register_all(history: History, router: Router, settings: Settings) -> int:
    """Register the default queue and every agent user; returns how many agents."""
    await router.add_queue(queue_config(settings.default_queue, settings))
    count = 0
    for user in await history.list_users():
        if user.role in ROUTABLE_ROLES:
            await register_agent(router, user, settings)
            count += 1
    log.info("registered %d agent(s) in routing", count)
    return count
