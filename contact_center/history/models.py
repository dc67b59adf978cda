"""The schema of the interaction history (SQLAlchemy 2 declarative models; migrations create the same tables).

Descriptive data: `customers` (a merged customer keeps its row with `merged_into` set, so old ids still resolve)
and `identities` (unique per kind + normalised value). Transactional data: `contacts` (mutable lifecycle row) and
`events` (append-only; `category` tells transactional, promotional and descriptive facts apart). Agent identity:
`users`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from contact_center.history.types import ID, JSONData, UTCDateTime


class Base(DeclarativeBase):
    """Declarative base of the history tables."""


class CustomerRow(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(JSONData, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    merged_into: Mapped[int | None] = mapped_column(ID, ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IdentityRow(Base):
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_identities_kind_value"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ID, ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContactRow(Base):
    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_customer_channel_state", "customer_id", "channel", "state"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ID, ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    queue: Mapped[str | None] = mapped_column(String(100))
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16))
    disposition: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        # Idempotent appends: one event per (contact, client_id); NULL client ids never clash.
        UniqueConstraint("contact_id", "client_id", name="uq_events_contact_client"),
        # The customer timeline, newest first, paged by id (`before`).
        Index("ix_events_customer_id_id", "customer_id", "id"),
        # One contact's events in order.
        Index("ix_events_contact_id_id", "contact_id", "id"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    # The customer the event was recorded under; never rewritten (a merge leaves an alias instead).
    customer_id: Mapped[int] = mapped_column(ID, ForeignKey("customers.id"))
    contact_id: Mapped[int | None] = mapped_column(ID, ForeignKey("contacts.id"))
    type: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    direction: Mapped[str | None] = mapped_column(String(8))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    skills: Mapped[dict[str, int]] = mapped_column(JSONData, default=dict)
    queues: Mapped[list[str]] = mapped_column(JSONData, default=list)
    capacity: Mapped[dict[str, int] | None] = mapped_column(JSONData, nullable=True)  # None = the defaults
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# The Core tables, for the repository's SQL (typed as Table: the mapped classes only promise a FromClause).
customers = cast(Table, CustomerRow.__table__)
identities = cast(Table, IdentityRow.__table__)
contacts = cast(Table, ContactRow.__table__)
events = cast(Table, EventRow.__table__)
users = cast(Table, UserRow.__table__)
metadata = Base.metadata
