"""`/ws/chat`: the customer's side of a web chat (docs/api.md, "Customer chat websocket").

start (or resume by token) -> started [+ history of a resumed chat] -> message/ack ... -> status updates and the
agent's messages pushed. A message is acknowledged only after it is committed, and resending the same `client_id`
is acknowledged again without a second event, so a client that lost its socket simply resends what was not acked.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from channels.webchat.adapter import CHANNEL, WebchatAdapter
from contact_center.hub import contact_topic
from contact_center.intake import IntakeError
from contact_center.keys import CHANNELS, HISTORY, HUB, INTAKE, LIFECYCLE, ROUTER, SETTINGS
from contact_center.sockets import BadFrame, JsonSocket, field, open_socket, serve_frames

if TYPE_CHECKING:
    from contact_center.domain import Contact, Customer

log = logging.getLogger(__name__)

MAX_NAME = 200
MAX_EMAIL = 320
MAX_CLIENT_ID = 200
MAX_TOKEN = 200
MAX_QUEUE = 64
# A person types a few messages a second at most; a socket sending faster is a script (each message is a write).
RATE_BURST = 20
RATE_PER_S = 5.0


class TokenBucket:
    """Allows `burst` actions at once and `per_s` a second after that."""

    def __init__(self, burst: int, per_s: float) -> None:
        self.burst, self.per_s = burst, per_s
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self) -> bool:
        """True when one more action is allowed now."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_s)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def token_binding(token: str) -> str:
    """What a chat contact stores to name the token it belongs to: a digest, so the token itself (a bearer
    secret) never shows in the contact that agents and the API see."""
    return "chat:" + hashlib.sha256(token.encode()).hexdigest()[:40]


class ChatSession:
    """One customer socket: which chat it is, and what each client frame does."""

    def __init__(self, app: web.Application, sock: JsonSocket) -> None:
        self.app = app
        self.sock = sock
        self.history = app[HISTORY]
        self.intake = app[INTAKE]
        self.lifecycle = app[LIFECYCLE]
        self.hub = app[HUB]
        self.adapter: WebchatAdapter = app[CHANNELS][CHANNEL]  # type: ignore[assignment]
        self.customer: Customer | None = None
        self.token: str | None = None
        self.contact: Contact | None = None
        self.queue: str | None = None   # the queue the customer asked for (None = the default queue)
        self.closed = False   # the current contact is over; the next message opens a new one
        self.left = False
        self._subscription: contextlib.ExitStack | None = None
        self._rate = TokenBucket(RATE_BURST, RATE_PER_S)

    async def handle(self, frame: dict[str, Any]) -> None:
        """Dispatch one client frame."""
        kind = frame["type"]
        if kind == "start":
            await self.start(frame)
        elif kind == "message":
            await self.message(frame)
        elif kind == "leave":
            await self.leave()
        elif kind == "ping":
            await self.sock.send({"type": "pong"})
        else:
            raise BadFrame("unknown_type", f"unknown message type {kind!r}; expected start, message or leave")

    # --- start / resume --------------------------------------------------------------------------------------

    async def start(self, frame: dict[str, Any]) -> None:
        if self.contact is not None:
            raise BadFrame("already_started", "this socket already has a chat; open a new socket for another")
        token = field(frame, "token", optional=True, max_len=MAX_TOKEN)
        name = field(frame, "name", optional=token is not None, max_len=MAX_NAME)
        email = field(frame, "email", optional=True, max_len=MAX_EMAIL)
        if name is not None and not name.strip():
            raise BadFrame("bad_field", "name must not be empty")
        queue = field(frame, "queue", optional=True, max_len=MAX_QUEUE)
        settings = self.app[SETTINGS]
        # A widget may ask for a queue of the settings file ([queues.NAME]) or the default one, never any other:
        # a customer must not reach, or create, a queue the operator did not publish.
        if queue is not None and queue not in settings.known_queues():
            raise BadFrame("unknown_queue", f"there is no chat queue {queue!r}")
        self.queue = queue
        if token is None:
            # A start without a token is always a new chat, even when the email names a known customer: the
            # email may link the history, but it never hands over someone's open conversation.
            token = secrets.token_urlsafe(24)
            customer = await self.intake.identify("chat", token, name=name)
        else:
            # Only a token this server issued names a chat; a client-chosen one would be a new identity that
            # nobody can verify, so it is refused rather than adopted.
            try:
                found = await self.history.find_customer("chat", token)
            except ValueError:   # blank: no token the server issues looks like that
                found = None
            if found is None:
                raise BadFrame("unknown_token", "this chat token is unknown; start without a token")
            customer = found
        if email:
            try:
                customer = await self.history.link_identity(customer.id, "email", email)
            except ValueError as e:
                raise BadFrame("bad_email", str(e)) from e
        self.customer = customer
        self.token = token
        # Resume only the chat bound to this token (another open chat of the same customer stays private).
        contact = await self.history.find_open_contact(customer.id, CHANNEL, external_id=token_binding(token))
        new = contact is None
        if contact is None:
            contact = await self._open()
        await self._attach(contact)
        await self.sock.send({"type": "started", "token": token, "contact_id": str(contact.id),
                              "customer_id": str(customer.id), "resumed": not new})
        if new:
            await self._route()
        else:
            await self._catch_up(contact)

    async def _open(self) -> Contact:
        """A new chat contact for this socket's customer, bound to its token."""
        assert self.customer is not None and self.token is not None
        return await self.intake.open_contact(self.customer, CHANNEL, self.queue,
                                              external_id=token_binding(self.token))

    async def _route(self) -> None:
        assert self.contact is not None
        try:
            await self.intake.route(self.contact)
        except IntakeError:
            self.closed = True  # the queue refused it: the contact is closed, the customer gets the error
            raise

    async def _attach(self, contact: Contact) -> None:
        """Make `contact` this socket's chat and listen for what happens to it."""
        await self._detach()
        self.contact = contact
        self.closed = False
        stack = contextlib.ExitStack()
        sub = stack.enter_context(self.hub.subscribe(contact_topic(str(contact.id))))
        self._subscription = stack
        self.adapter.socket_back(str(contact.id))

        async def forward() -> None:
            async for message in sub:
                if message.get("type") == "status" and message.get("state") == "closed":
                    self.closed = True
                await self.sock.send(message)
        self._pump = self.sock.pump_task(forward())

    async def _detach(self) -> None:
        if self._subscription is not None:
            self._pump.cancel()
            with contextlib.suppress(BaseException):
                await self._pump
            self._subscription.close()
            self._subscription = None

    async def _catch_up(self, contact: Contact) -> None:
        """A resumed chat: send the conversation so far and where the contact stands."""
        cid = str(contact.id)
        _, events = await self.history.get_contact(cid)
        messages = []
        for e in events:
            if e.type not in ("message.in", "message.out"):
                continue
            item: dict[str, Any] = {"id": str(e.id), "from": "customer" if e.direction == "in" else "agent",
                                    "text": (e.data or {}).get("text", ""),
                                    "at": e.at.isoformat() if hasattr(e.at, "isoformat") else str(e.at)}
            if e.client_id:
                item["client_id"] = e.client_id
            if e.direction == "out" and e.agent_id:
                item["agent_name"] = await self.lifecycle.agent_name(e.agent_id)
            messages.append(item)
        await self.sock.send({"type": "history", "contact_id": cid, "messages": messages})
        state = await self.lifecycle.routing_state(cid)
        if state in ("queued", "offered"):
            await self.sock.send(await self.lifecycle.queued_status(cid))
        elif state == "assigned":
            task = await self.app[ROUTER].get_task(cid)
            await self.sock.send({"type": "status", "state": "assigned", "contact_id": cid,
                                  "agent_name": await self.lifecycle.agent_name(str(task.agent_id))})
        elif state is not None:  # wrap-up or over: the conversation has ended
            self.closed = True
            await self.sock.send({"type": "status", "state": "closed", "contact_id": cid})
        else:
            # Open in the history but unknown to routing (the server restarted): route it again.
            try:
                await self._route()
            except IntakeError as e:
                log.warning("could not re-route resumed chat %s: %s", cid, e.code)
                await self.sock.error(e.code, e.message)

    # --- messages --------------------------------------------------------------------------------------------

    async def message(self, frame: dict[str, Any]) -> None:
        if self.contact is None or self.customer is None:
            raise BadFrame("not_started", "send start first")
        client_id = field(frame, "client_id", max_len=MAX_CLIENT_ID)
        if not self._rate.take():
            raise BadFrame("rate_limited", "too many messages; slow down and resend", client_id=client_id)
        text = frame.get("text")
        if text is None:
            raise BadFrame("missing_field", "message needs a string field 'text'", client_id=client_id)
        try:
            text = self.intake.check_text(text)
        except IntakeError as e:
            raise BadFrame(e.code, e.message, client_id=client_id) from e
        new = False
        if self.closed:  # the last chat is over: this message opens the next one
            contact, new = await self._open(), True
            await self._attach(contact)
            await self.sock.send({"type": "started", "token": self.token, "contact_id": str(contact.id),
                                  "customer_id": str(self.customer.id), "resumed": False})
        assert self.contact is not None
        event = await self.intake.record_message(self.contact, text, client_id=client_id)
        await self.sock.send({"type": "ack", "client_id": client_id, "id": str(event.id)})
        if new:
            await self._route()

    async def leave(self) -> None:
        if self.contact is None:
            raise BadFrame("not_started", "send start first")
        self.left = True
        cid = str(self.contact.id)
        waiting = await self.lifecycle.is_waiting(cid)
        await self.lifecycle.customer_left(cid)
        if not self.closed:
            await self.sock.send({"type": "status", "state": "closed", "contact_id": cid,
                                  **({"reason": "abandoned"} if waiting else {})})
        await self.sock.ws.close()

    async def close(self) -> None:
        """The socket is gone: stop listening; a waiting customer who does not come back abandons."""
        contact = self.contact
        await self._detach()
        if contact is not None and not self.left and not self.closed:
            cid = str(contact.id)
            if await self.lifecycle.is_waiting(cid):
                self.adapter.socket_gone(cid)


async def chat_socket(request: web.Request) -> web.StreamResponse:
    """GET /ws/chat: the customer chat websocket."""
    settings = request.app[SETTINGS]
    async with open_socket(request, "chat") as ws:
        # Room for a message at the limit even when every character is JSON-escaped.
        sock = JsonSocket(ws, max_frame_chars=settings.max_message_chars * 6 + 4096)
        session = ChatSession(request.app, sock)
        try:
            await serve_frames(sock, session.handle, echo=("client_id",))
        finally:
            await session.close()
    return ws
