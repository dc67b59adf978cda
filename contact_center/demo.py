"""The demo: a ready agent and supervisor so a newcomer can chat with themselves (serve --demo / CC_DEMO), and a
second queue that shows queue configuration at work (a skill expression, a maximum wait, an overflow)."""
from __future__ import annotations

import dataclasses
import logging
from types import MappingProxyType
from typing import TYPE_CHECKING

from contact_center.queue_settings import QueueSettings
from contact_center.settings import Settings
from contact_center.staffing import register_agent

if TYPE_CHECKING:
    from contact_center.history import History
    from routing import Router

log = logging.getLogger(__name__)

# Fixed, printed credentials: the demo is for a machine of one's own (the server listens on 127.0.0.1 by
# default). A random password could not be printed again on the next start of the same database.
DEMO_USERS = (("agent", "demo-agent", "demo-agent-pw"), ("supervisor", "demo-supervisor", "demo-supervisor-pw"))
DEMO_SKILLS = {"billing": 5}
# As `[queues.billing]` in a settings file would say: billing experts only; after 60 s to the default queue.
DEMO_QUEUE = QueueSettings(name="billing", skills="billing >= 3", max_wait_s=60.0)


def with_demo_queue(settings: Settings) -> Settings:
    """The settings plus the demo's billing queue (overflowing to the default queue), unless the settings file
    configures a queue of that name or a skill catalogue without `billing`."""
    if DEMO_QUEUE.name in settings.queues or DEMO_QUEUE.name == settings.default_queue:
        return settings
    catalogue = settings.routing.skills
    if catalogue is not None and not set(DEMO_SKILLS) <= catalogue:
        log.warning("demo: [routing] skills has no %s; the demo billing queue is left out", ", ".join(DEMO_SKILLS))
        return settings
    queue = dataclasses.replace(DEMO_QUEUE, overflow=settings.default_queue)
    return settings.replace(queues=MappingProxyType({**settings.queues, queue.name: queue}))


async def ensure_demo_users(history: History, router: Router,
                            settings: Settings) -> list[tuple[str, str, str]]:
    """Create the demo users when missing (the agent serves the default queue and, with the billing skill, the demo
    billing queue); returns (role, username, password)."""
    shown = []
    billing = DEMO_QUEUE.name in settings.queues
    for role, username, password in DEMO_USERS:
        user = await history.get_user_by_username(username)
        if user is None:
            skills, queues = ({}, [settings.default_queue]) if role != "agent" or not billing else \
                (dict(DEMO_SKILLS), [settings.default_queue, DEMO_QUEUE.name])
            user = await history.create_user(username, role, password, skills, queues)
            log.info("created demo %s %s", role, username)
        elif await history.verify_password(username, password) is None:
            log.warning("demo user %s exists with another password; not shown", username)
            continue
        await register_agent(router, user, settings)
        shown.append((role, username, password))
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("demo mode on %s: the demo passwords are public; do not expose this server", settings.host)
    return shown
