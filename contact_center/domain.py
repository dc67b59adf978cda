"""The domain: customers, their identities, contacts, the events in them, and users (agent identity).

Plain immutable dataclasses with `to_json()` in the shape of docs/api.md (ids are strings, times ISO 8601 UTC).
The history store builds them; every other package reads them. Errors a client can see carry a stable `code`.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class DomainError(Exception):
    """An error a client may see: a stable `code`, an HTTP-like `status` and a human-readable message."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_json(self) -> dict[str, Any]:
        """The API's error body: `{"error": {"code", "message"}}`."""
        return {"error": {"code": self.code, "message": self.message}}


class NotFound(DomainError, LookupError):
    """No such customer, contact, event or user."""

    code = "not_found"
    status = 404


class InvalidInput(DomainError, ValueError):
    """A value is malformed or out of range; nothing was changed."""

    code = "bad_request"
    status = 400


class Conflict(DomainError):
    """The change clashes with what is stored (a taken username, a merge of a customer with itself)."""

    code = "conflict"
    status = 409


class Unavailable(DomainError):
    """The database cannot be reached or refused the write; nothing was recorded."""

    code = "unavailable"
    status = 503


class ContactState(str, enum.Enum):
    """The lifecycle of a contact: new → queued → offered → assigned → wrapup → closed (or abandoned)."""

    NEW = "new"
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    WRAPUP = "wrapup"
    CLOSED = "closed"
    ABANDONED = "abandoned"

    @property
    def is_open(self) -> bool:
        """True while the contact can still receive events from the customer."""
        return self not in (ContactState.CLOSED, ContactState.ABANDONED)


class EventCategory(str, enum.Enum):
    """The three kinds of customer data an event belongs to."""

    TRANSACTIONAL = "transactional"  # what happened in a contact: messages, queueing, offers, wrap-up, surveys
    PROMOTIONAL = "promotional"      # what we sent or promised: outbound messages, campaign touches, promises
    DESCRIPTIVE = "descriptive"      # changes to the customer record itself: merges, edits


# Event types that are promotional or descriptive by nature; every other type is transactional. An event of any
# type can also say so itself: `data.campaign` (a campaign's outbound message) or `data.promise` (an agent's
# promise recorded as a note) make it promotional.
_CATEGORY_BY_TYPE = {
    "campaign.touch": EventCategory.PROMOTIONAL,
    "promotion.sent": EventCategory.PROMOTIONAL,
    "promise": EventCategory.PROMOTIONAL,
    "customer.merged": EventCategory.DESCRIPTIVE,
    "customer.updated": EventCategory.DESCRIPTIVE,
    "identity.linked": EventCategory.DESCRIPTIVE,
}


def category_for(event_type: str, data: Mapping[str, Any] | None = None) -> EventCategory:
    """The category an event of `event_type` with `data` belongs to when the caller does not say."""
    if event_type in _CATEGORY_BY_TYPE:
        return _CATEGORY_BY_TYPE[event_type]
    if data and (data.get("campaign") or data.get("promise")):
        return EventCategory.PROMOTIONAL
    return EventCategory.TRANSACTIONAL


CHANNELS = ("voice", "sms", "email", "chat")
DIRECTIONS = ("in", "out")
ROLES = ("agent", "supervisor", "admin")


def iso(at: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, or None."""
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Identity:
    """One way to reach a customer: a phone (E.164), an email (lower-case) or a chat visitor token."""

    kind: str
    value: str

    def to_json(self) -> dict[str, Any]:
        """`{"kind", "value"}`; chat tokens are secrets (they resume a chat), so their value is never shown."""
        return {"kind": self.kind, "value": None if self.kind == "chat" else self.value}


@dataclass(frozen=True, slots=True)
class Customer:
    """The descriptive record of one person, with every identity that resolves to them."""

    id: str
    name: str | None
    organisation: str | None
    tags: tuple[str, ...]
    attributes: Mapping[str, Any]
    identities: tuple[Identity, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def phones(self) -> list[str]:
        return [i.value for i in self.identities if i.kind == "phone"]

    @property
    def emails(self) -> list[str]:
        return [i.value for i in self.identities if i.kind == "email"]

    def to_json(self) -> dict[str, Any]:
        """The API's customer object."""
        return {
            "id": self.id,
            "name": self.name,
            "organisation": self.organisation,
            "emails": self.emails,
            "phones": self.phones,
            "chat_identities": sum(1 for i in self.identities if i.kind == "chat"),
            "tags": list(self.tags),
            "attributes": dict(self.attributes),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class Contact:
    """One conversation on one channel: a call, an SMS conversation, an email thread, a chat."""

    id: str
    customer_id: str
    channel: str
    direction: str
    queue: str | None
    agent_id: str | None
    state: ContactState
    disposition: str | None
    subject: str | None
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        """The API's contact object (`agent` is the assigned agent's user id)."""
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "channel": self.channel,
            "direction": self.direction,
            "state": self.state.value,
            "queue": self.queue,
            "agent": self.agent_id,
            "disposition": self.disposition,
            "subject": self.subject,
            "external_id": self.external_id,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "closed_at": iso(self.closed_at),
        }


@dataclass(frozen=True, slots=True)
class Event:
    """One immutable fact in the history. `contact_id` is None for customer-level events (merges, edits)."""

    id: str
    contact_id: str | None
    customer_id: str
    type: str
    category: EventCategory
    at: datetime
    direction: str | None = None
    agent_id: str | None = None
    client_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The API's event object; the event's own fields are under `data`."""
        return {
            "id": self.id,
            "contact_id": self.contact_id,
            "customer_id": self.customer_id,
            "type": self.type,
            "category": self.category.value,
            "at": iso(self.at),
            "direction": self.direction,
            "agent_id": self.agent_id,
            "client_id": self.client_id,
            "data": dict(self.data),
        }


@dataclass(frozen=True, slots=True)
class User:
    """Someone who logs in: an agent, a supervisor or an admin, with skills (name → level), queues and an optional
    capacity per channel (None = the `[routing] capacity` defaults)."""

    id: str
    username: str
    role: str
    skills: Mapping[str, int]
    queues: tuple[str, ...]
    created_at: datetime
    capacity: Mapping[str, int] | None = None

    def to_json(self) -> dict[str, Any]:
        """The API's user object; the password hash never leaves the store."""
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role,
            "skills": dict(self.skills),
            "queues": list(self.queues),
            "capacity": dict(self.capacity) if self.capacity is not None else None,
            "created_at": iso(self.created_at),
        }
