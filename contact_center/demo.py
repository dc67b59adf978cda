"""The demo: a ready agent and supervisor so a newcomer can chat with themselves (serve --demo / CC_DEMO)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from contact_center.settings import Settings
from contact_center.staffing import register_agent

if TYPE_CHECKING:
    from contact_center.history import History
    from routing import Router

log = logging.getLogger(__name__)

# Fixed, printed credentials: the demo is for a machine of one's own (the server listens on 127.0.0.1 by
# default). A random password could not be printed again on the next start of the same database.
DEMO_USERS = (("agent", "demo-agent", "demo-agent-pw"), ("supervisor", "demo-supervisor", "demo-supervisor-pw"))


async def ensure_demo_users(history: History, router: Router,
                            settings: Settings) -> list[tuple[str, str, str]]:
    """Create the demo users when missing (agents serve the default queue); returns (role, username, password)."""
    shown = []
    for role, username, password in DEMO_USERS:
        user = await history.get_user_by_username(username)
        if user is None:
            user = await history.create_user(username, role, password, {}, [settings.default_queue])
            log.info("created demo %s %s", role, username)
        elif await history.verify_password(username, password) is None:
            log.warning("demo user %s exists with another password; not shown", username)
            continue
        await register_agent(router, user, settings)
        shown.append((role, username, password))
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("demo mode on %s: the demo passwords are public; do not expose this server", settings.host)
    return shown
