"""The web chat adapter: replies go to the customer's sockets through the hub; customers who vanish while waiting
are abandoned after a grace period (a reload or a dropped socket resumes within it)."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from contact_center.hub import Hub, contact_topic
from contact_center.intake import OutboundMessage
from contact_center.lifecycle import Lifecycle

log = logging.getLogger(__name__)

CHANNEL = "chat"


def chat_message(message: OutboundMessage) -> dict[str, Any]:
    """An agent's message as the chat websocket shows it."""
    at = message.at.isoformat() if hasattr(message.at, "isoformat") else str(message.at)
    return {"type": "message", "id": message.id, "from": "agent", "text": message.text,
            "agent_name": message.agent_name, "at": at}


class WebchatAdapter:
    """Channel adapter of the web chat (the 'client' is the set of open customer sockets in the hub)."""

    channel = CHANNEL

    def __init__(self, hub: Hub, lifecycle: Lifecycle, abandon_after_s: float) -> None:
        self.hub = hub
        self.lifecycle = lifecycle
        self.abandon_after_s = abandon_after_s
        self._timers: dict[str, asyncio.Task[None]] = {}

    async def send(self, contact: Any, message: OutboundMessage) -> None:
        """Push an agent's reply to the customer's open sockets; a closed tab reads it on resume."""
        self.hub.publish(contact_topic(str(contact.id)), chat_message(message))

    def socket_gone(self, contact_id: str) -> None:  # called only for waiting contacts
        """The customer's last socket closed: abandon the contact unless they are back in time."""
        if self.hub.listeners(contact_topic(contact_id)) or contact_id in self._timers:
            return

        async def later() -> None:
            try:
                await asyncio.sleep(self.abandon_after_s)
                if not self.hub.listeners(contact_topic(contact_id)):
                    await self.lifecycle.customer_left(contact_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not abandon chat %s", contact_id)
            finally:
                self._timers.pop(contact_id, None)

        self._timers[contact_id] = asyncio.get_running_loop().create_task(later())

    def socket_back(self, contact_id: str) -> None:
        """The customer resumed: forget the pending abandonment."""
        task = self._timers.pop(contact_id, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        """Cancel pending abandonments (a restart must not abandon customers who are merely reconnecting)."""
        for task in list(self._timers.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._timers.clear()
