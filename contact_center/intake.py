"""Intake: a channel hands in what a customer did; intake identifies them, opens or continues a contact, records
the event durably, and hands new contacts to routing.

The order is the contract: the event is committed to the history *before* `receive` returns, and the channel
acknowledges to the outside world only after that, so an acknowledged message survives a crash.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contact_center.domain import utcnow
from contact_center.hub import Hub, agent_topic
from contact_center.metrics import Metrics
from contact_center.settings import Settings
from routing import RoutingError, Task

if TYPE_CHECKING:
    from contact_center.domain import Contact, Customer, Event
    from contact_center.history import AgentRelation, History
    from contact_center.lifecycle import Lifecycle
    from routing import Router

log = logging.getLogger(__name__)

# How many of a customer's related agents a task carries: enough that one is likely free, bounded for every offer.
RELATED_AGENTS = 10


class IntakeError(Exception):
    """Input a channel must refuse; `.code` is stable (too_large, empty, bad_identity)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a customer did on a channel, as a channel adapter hands it in."""

    channel: str                      # "chat", "sms", "email", "voice"
    identity_kind: str                # "chat", "phone", "email"
    identity_value: str
    text: str | None = None
    name: str | None = None
    client_id: str | None = None      # the sender's own id of this message: resends are idempotent on it
    queue: str | None = None          # None = the default queue
    subject: str | None = None
    external_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A reply an agent wrote, already recorded in the history as event `id`; adapters deliver it."""

    id: str
    text: str
    at: Any
    agent_id: str | None = None
    agent_name: str | None = None


def message_json(event: Event, agent_name: str | None = None) -> dict[str, Any]:
    """A message event as the agent websocket shows it: id, direction, text, at."""
    data = event.data or {}
    out: dict[str, Any] = {"id": str(event.id), "direction": event.direction or "in", "text": data.get("text", ""),
                           "at": _iso(event.at)}
    if event.direction == "out" and agent_name:
        out["agent_name"] = agent_name
    return out


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class Intake:
    """The way in for every channel."""

    def __init__(self, history: History, router: Router, hub: Hub, lifecycle: Lifecycle, metrics: Metrics,
                 settings: Settings) -> None:
        self.history = history
        self.router = router
        self.hub = hub
        self.lifecycle = lifecycle
        self.metrics = metrics
        self.settings = settings

    def check_text(self, text: Any) -> str:
        """The message text if a channel may accept it, else IntakeError (too_large, empty, bad_field)."""
        if not isinstance(text, str):
            raise IntakeError("bad_field", "text must be a string")
        if len(text) > self.settings.max_message_chars:
            raise IntakeError("too_large", f"message is {len(text)} characters; the limit is "
                                           f"{self.settings.max_message_chars}")
        if not text.strip():
            raise IntakeError("empty", "message text is empty")
        return text

    async def identify(self, kind: str, value: str, *, name: str | None = None) -> Customer:
        """The customer behind an identity (created when unknown)."""
        try:
            return await self.history.identify(kind, value, name=name)
        except ValueError as e:  # an unparseable phone number or email
            raise IntakeError("bad_identity", str(e)) from e

    async def open_or_continue(self, customer: Customer, channel: str, queue: str | None = None, *,
                               subject: str | None = None,
                               external_id: str | None = None) -> tuple[Contact, bool]:
        """The customer's open contact on this channel, or a new one; True when new."""
        contact = await self.history.find_open_contact(customer.id, channel)
        if contact is not None:
            return contact, False
        return await self.open_contact(customer, channel, queue, subject=subject, external_id=external_id), True

    async def open_contact(self, customer: Customer, channel: str, queue: str | None = None, *,
                           subject: str | None = None, external_id: str | None = None) -> Contact:
        """A new contact (state new) for the customer; route it once its first event is recorded."""
        contact = await self.history.open_contact(customer.id, channel, queue or self.settings.default_queue,
                                                  subject=subject, external_id=external_id)
        self.metrics.contacts.labels(channel).inc()
        return contact

    async def route(self, contact: Contact, *, priority: int = 0, attributes: dict[str, Any] | None = None,
                    preferred_agent: str | None = None, preferred_for_s: float | None = None,
                    enqueued_at: float | None = None) -> None:
        """Hand a new contact to routing (its queue joins come back through the lifecycle); `preferred_agent`
        is tried alone for `preferred_for_s` seconds while they are signed in (without one, the customer's agent
        that `preferred_agent` in the settings names, for `preferred_agent_s`); `enqueued_at` (epoch seconds)
        keeps the wait of a contact that was queued before a restart. The task's `related_agents` attribute lists
        the customer's most related agents, best first, for the `most_related` strategy.

        A queue that refuses it (closed, full, nobody signed in when it refuses then) closes the contact with a
        `queue.refused` event, and the channel gets IntakeError with routing's code to tell the customer.
        """
        queue = contact.queue or self.settings.default_queue
        attributes = dict(attributes or {})
        relations = await self.history.agent_relations(str(contact.customer_id))
        if relations:
            attributes.setdefault("related_agents", [r.agent_id for r in relations[:RELATED_AGENTS]])
        if preferred_agent is None and self.settings.preferred_agent_s > 0:
            preferred_agent = await self._preferred_agent(relations)
            preferred_for_s = self.settings.preferred_agent_s
        try:
            await self.router.enqueue(Task(id=str(contact.id), queue=queue, channel=contact.channel,
                                           priority=priority, attributes=attributes,
                                           preferred_agent=preferred_agent, preferred_for_s=preferred_for_s,
                                           enqueued_at=enqueued_at))
        except RoutingError as e:
            await self.history.append_event(str(contact.id), "queue.refused", {"queue": queue, "code": e.code})
            self.metrics.event("queue.refused")
            await self.history.update_contact(str(contact.id), state="closed")
            raise IntakeError(e.code, f"the queue {queue!r} cannot take the contact now: {e.message}") from e

    async def _preferred_agent(self, relations: list[AgentRelation]) -> str | None:
        """The customer's agent the settings prefer (most related or last), when routing knows them (else None)."""
        if not relations or self.settings.preferred_agent == "none":
            return None
        if self.settings.preferred_agent == "last":
            agent_id = max(relations, key=lambda r: r.last_contact_id).agent_id
        else:
            agent_id = relations[0].agent_id
        try:
            await self.router.agent_stats(agent_id)   # a removed or non-routable user: no preference
        except RoutingError:
            return None
        return agent_id

    async def record_message(self, contact: Contact, text: str, *, client_id: str | None = None,
                             data: dict[str, Any] | None = None) -> Event:
        """Commit an inbound message to the history, then show it to the agent on the contact."""
        text = self.check_text(text)
        asked_at = utcnow()
        event = await self.history.append_event(str(contact.id), "message.in", {"text": text, **(data or {})},
                                                direction="in", client_id=client_id)
        # A resend of a stored `client_id` returns the stored event, recorded before this call began: it was
        # counted and shown when it was new, so it is neither counted nor shown again.
        if client_id is not None and event.at < asked_at:
            return event
        self.metrics.event("message.in")
        self.metrics.messages.labels(contact.channel, "in").inc()
        agent_id = self.lifecycle.agent_of(str(contact.id))
        if agent_id is not None:
            self.hub.publish(agent_topic(agent_id), {"type": "message", "contact_id": str(contact.id),
                                                     "message": message_json(event)})
        return event

    async def receive(self, inbound: Inbound) -> tuple[Contact, Event | None, bool]:
        """The whole way in for a message channel: identify, open or continue, record, route a new contact.

        Returns (contact, the recorded event or None when there was no text, whether the contact is new). The
        event is durable when this returns; the caller acknowledges after.
        """
        if inbound.text is not None:
            self.check_text(inbound.text)  # refuse before anything is created
        customer = await self.identify(inbound.identity_kind, inbound.identity_value, name=inbound.name)
        contact, new = await self.open_or_continue(customer, inbound.channel, inbound.queue,
                                                   subject=inbound.subject, external_id=inbound.external_id)
        event = None
        if inbound.text is not None:
            event = await self.record_message(contact, inbound.text, client_id=inbound.client_id,
                                              data=inbound.data)
        if new:
            await self.route(contact)
        return contact, event, new
