"""`/ws/agent`: the agent desktop's websocket (docs/api.md, "Agent websocket").

The login cookie authenticates it; without one the upgrade is refused with 401. On connect the agent gets their
state, then every open offer and assigned contact again, so a reload loses nothing. Every action is checked
against the agent: accepting someone else's offer or replying on someone else's contact is an `error`.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import web

from agent_console.api import agent_status, check_presence
from agent_console.auth import check_same_origin, current_user
from contact_center.hub import agent_topic
from contact_center.keys import HISTORY, HUB, LIFECYCLE, METRICS, ROUTER, SETTINGS
from contact_center.lifecycle import LifecycleError
from contact_center.sockets import BadFrame, JsonSocket, field, open_socket, serve_frames
from contact_center.staffing import register_agent

log = logging.getLogger(__name__)

MAX_ID = 200
MAX_DISPOSITION = 100

_GRACE: web.AppKey[dict[str, asyncio.Task[None]]] = web.AppKey("agent_grace_timers")


class AgentSession:
    """One agent socket: what each frame does."""

    def __init__(self, app: web.Application, sock: JsonSocket, user: Any) -> None:
        self.app = app
        self.sock = sock
        self.user = user
        self.agent_id = str(user.id)
        self.lifecycle = app[LIFECYCLE]
        self.router = app[ROUTER]
        self.settings = app[SETTINGS]

    async def greet(self) -> None:
        """State, open offers and assigned contacts: what a fresh desktop needs to show."""
        await self._send_state()
        for offer in self.lifecycle.offers_for(self.agent_id):
            await self.sock.send(await self.lifecycle.offer_message(offer))
        for contact_id in self.lifecycle.contacts_of(self.agent_id):
            await self.sock.send(await self.lifecycle.assigned_message(contact_id))
            if self.lifecycle.is_ended(contact_id):
                await self.sock.send({"type": "ended", "contact_id": contact_id})

    async def handle(self, frame: dict[str, Any]) -> None:
        """Dispatch one client frame."""
        handler = getattr(self, "do_" + frame["type"], None)
        if handler is None:
            raise BadFrame("unknown_type", f"unknown message type {frame['type']!r}; expected state, accept, "
                                           "reject, reply, end or wrapup")
        await handler(frame)

    async def do_ping(self, frame: dict[str, Any]) -> None:
        await self.sock.send({"type": "pong"})

    async def do_state(self, frame: dict[str, Any]) -> None:
        state, reason = check_presence(self.settings, field(frame, "state", max_len=20),
                                       field(frame, "reason", optional=True, max_len=100))
        await self.router.set_agent_state(self.agent_id, state, reason)
        # Confirm even when nothing changed (routing reports changes only); changes also arrive via the hub.
        await self._send_state()

    async def _send_state(self) -> None:
        status = await agent_status(self.router, self.agent_id)
        await self.sock.send({"type": "state", "state": status["state"], "activity": status["activity"],
                              "reason": status["reason"]})

    async def do_accept(self, frame: dict[str, Any]) -> None:
        await self.lifecycle.accept(self.agent_id, field(frame, "offer_id", max_len=MAX_ID))

    async def do_reject(self, frame: dict[str, Any]) -> None:
        await self.lifecycle.reject(self.agent_id, field(frame, "offer_id", max_len=MAX_ID))

    async def do_reply(self, frame: dict[str, Any]) -> None:
        contact_id = field(frame, "contact_id", max_len=MAX_ID)
        text = field(frame, "text")
        try:
            await self.lifecycle.reply(self.agent_id, contact_id, text)
        except LifecycleError as e:
            # After wrap-up the contact is no longer assigned to anyone; to the agent who had it, say it ended.
            if e.code == "not_your_contact" and await self._had(contact_id):
                raise LifecycleError("contact_ended", "the conversation has ended") from e
            raise

    async def _had(self, contact_id: str) -> bool:
        """True when this agent handled the contact and it is over."""
        try:
            contact, _ = await self.app[HISTORY].get_contact(contact_id)
        except (LookupError, ValueError):
            return False
        return str(contact.agent_id) == self.agent_id and not contact.state.is_open

    async def do_end(self, frame: dict[str, Any]) -> None:
        await self.lifecycle.end(self.agent_id, field(frame, "contact_id", max_len=MAX_ID))

    async def do_wrapup(self, frame: dict[str, Any]) -> None:
        contact_id = field(frame, "contact_id", max_len=MAX_ID)
        disposition = field(frame, "disposition", optional=True, max_len=MAX_DISPOSITION)
        note = field(frame, "note", optional=True, max_len=self.settings.max_message_chars)
        promise = frame.get("promise", False)
        if not isinstance(promise, bool):
            raise BadFrame("bad_field", "promise must be true or false", contact_id=contact_id)
        if promise and not (note and note.strip()):
            raise BadFrame("missing_field", "a promise needs the note saying what was promised",
                           contact_id=contact_id)
        if note and note.strip() and self.lifecycle.agent_of(contact_id) == self.agent_id:
            # The note is also its own event, so the customer's timeline shows it and a promise lands in the
            # promotional data (docs/history.md, "Wrap-up notes"). Recorded first, so it precedes the wrap-up.
            data: dict[str, Any] = {"text": note, **({"disposition": disposition} if disposition else {})}
            if promise:
                data["promise"] = True
            await self.app[HISTORY].append_event(contact_id, "note", data, agent_id=self.agent_id)
            self.app[METRICS].event("note")
        await self.lifecycle.wrap_up(self.agent_id, contact_id, disposition, note)


def _cancel_grace(app: web.Application, agent_id: str) -> None:
    task = app[_GRACE].pop(agent_id, None)
    if task is not None:
        task.cancel()


def _start_grace(app: web.Application, agent_id: str) -> None:
    """The agent's last socket closed: offline after the grace period unless a socket comes back."""
    hub, router = app[HUB], app[ROUTER]
    if hub.listeners(agent_topic(agent_id)) or agent_id in app[_GRACE]:
        return

    async def later() -> None:
        try:
            await asyncio.sleep(app[SETTINGS].agent_grace_s)
            if not hub.listeners(agent_topic(agent_id)):
                await router.set_agent_state(agent_id, "offline", reason="disconnected")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("could not set disconnected agent %s offline", agent_id)
        finally:
            app[_GRACE].pop(agent_id, None)

    app[_GRACE][agent_id] = asyncio.get_running_loop().create_task(later())


async def agent_socket(request: web.Request) -> web.StreamResponse:
    """GET /ws/agent: 401 before the upgrade without a login."""
    user = await current_user(request)  # raises 401 as JSON; the socket is never opened
    check_same_origin(request)
    app = request.app
    await register_agent(app[ROUTER], user, app[SETTINGS])
    async with open_socket(request, "agent") as ws:
        sock = JsonSocket(ws, max_frame_chars=app[SETTINGS].max_message_chars * 6 + 4096)
        session = AgentSession(app, sock, user)
        with app[HUB].subscribe(agent_topic(session.agent_id)) as sub:
            _cancel_grace(app, session.agent_id)
            await session.greet()
            sock.pump(sub)
            try:
                await serve_frames(sock, session.handle, echo=("offer_id", "contact_id"))
            finally:
                await sock.stop_pumps()
        _start_grace(app, session.agent_id)
    return ws


async def grace_ctx(app: web.Application):
    """Own the grace timers: cancelled on shutdown."""
    app[_GRACE] = {}
    yield
    for task in list(app[_GRACE].values()):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
