"""Rows of the history tables → domain objects (ids become strings at this edge)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from contact_center.domain import (
    Contact,
    ContactState,
    Customer,
    Event,
    EventCategory,
    Identity,
    NotFound,
    User,
)


def parse_id(value: Any, what: str) -> int:
    """The database id behind an API id string, or NotFound (a malformed id names nothing)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and 0 < len(value) <= 18:
        return int(value)
    raise NotFound(f"no {what} {value!r}")


def _sid(value: int | None) -> str | None:
    return None if value is None else str(value)


def customer(row: Any, identity_rows: Iterable[Any]) -> Customer:
    """A Customer from its row and its identity rows."""
    return Customer(
        id=str(row.id), name=row.name, organisation=row.organisation, tags=tuple(row.tags or ()),
        attributes=dict(row.attributes or {}),
        identities=tuple(Identity(kind=i.kind, value=i.value) for i in identity_rows),
        created_at=row.created_at, updated_at=row.updated_at)


def contact(row: Any) -> Contact:
    """A Contact from its row."""
    return Contact(
        id=str(row.id), customer_id=str(row.customer_id), channel=row.channel, direction=row.direction,
        queue=row.queue, agent_id=row.agent_id, state=ContactState(row.state), disposition=row.disposition,
        subject=row.subject, external_id=row.external_id, created_at=row.created_at, updated_at=row.updated_at,
        closed_at=row.closed_at)


def event(row: Any) -> Event:
    """An Event from its row."""
    return Event(
        id=str(row.id), contact_id=_sid(row.contact_id), customer_id=str(row.customer_id), type=row.type,
        category=EventCategory(row.category), at=row.at, direction=row.direction, agent_id=row.agent_id,
        client_id=row.client_id, data=dict(row.data or {}))


def user(row: Any) -> User:
    """A User from its row (the password hash stays behind)."""
    return User(id=str(row.id), username=row.username, role=row.role, skills=dict(row.skills or {}),
                queues=tuple(row.queues or ()), created_at=row.created_at,
                capacity=dict(row.capacity) if row.capacity is not None else None)
