"""Relationship figures of one customer: value, frequency, satisfaction, most related agent.

Definitions (docs/history.md repeats them):
- value: the customer's `value` attribute when it is a number (set by a CRM: revenue, tier weight); otherwise the
  number of resolved contacts (contacts closed normally, not abandoned).
- frequency: contacts per 30 days since the first contact (the window is at least 30 days, so a new customer with
  two contacts this week has frequency 2, not 9), plus the plain count of the last 30 days.
- satisfaction: the mean `score` of the customer's `survey.response` events (None without any), and their count.
- most related agent: the agent who handled most of the customer's contacts; ties go to the longer total handling
  time (contact opened → closed), then to the agent of the newer contact. `agent_relations` ranks every agent so
  (routing gets the head of that ranking and the customer's last agent from it).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, extract, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contact_center.domain import ContactState, Customer, iso
from contact_center.history.models import contacts, customers, events, users

WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class AgentRelation:
    """How much one agent handled of a customer's contacts."""

    agent_id: str
    contacts: int            # contacts of the customer assigned to them
    handled_s: float         # their total handling time (opened → closed; open contacts count 0), to 0.1 s
    last_contact_id: int     # their newest contact of the customer: the highest of all names the last agent


@dataclass(frozen=True, slots=True)
class Profile:
    """The relationship figures of one customer."""

    customer_id: str
    value: float
    value_source: str                       # "attribute" or "resolved_contacts"
    contacts: int
    resolved_contacts: int
    frequency_per_30d: float
    contacts_last_30d: int
    satisfaction: float | None
    survey_responses: int
    most_related_agent: dict[str, Any] | None
    channels: dict[str, int] = field(default_factory=dict)
    events_by_category: dict[str, int] = field(default_factory=dict)
    first_contact_at: datetime | None = None
    last_contact_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The profile as JSON."""
        return {
            "customer_id": self.customer_id, "value": self.value, "value_source": self.value_source,
            "contacts": self.contacts, "resolved_contacts": self.resolved_contacts,
            "frequency_per_30d": self.frequency_per_30d, "contacts_last_30d": self.contacts_last_30d,
            "satisfaction": self.satisfaction, "survey_responses": self.survey_responses,
            "most_related_agent": self.most_related_agent, "channels": dict(self.channels),
            "events_by_category": dict(self.events_by_category),
            "first_contact_at": iso(self.first_contact_at), "last_contact_at": iso(self.last_contact_at),
        }


async def compute_profile(conn: AsyncConnection, customer: Customer, family: list[int], now: datetime) -> Profile:
    """The figures of `customer`, whose events are recorded under the ids in `family`."""
    rows = (await conn.execute(select(contacts.c.channel, contacts.c.state, contacts.c.created_at)
                               .where(contacts.c.customer_id == int(customer.id)))).all()
    channels: dict[str, int] = defaultdict(int)
    resolved = recent = 0
    for r in rows:
        channels[r.channel] += 1
        resolved += r.state == ContactState.CLOSED.value
        recent += r.created_at >= now - WINDOW
    first = min((r.created_at for r in rows), default=None)
    last = max((r.created_at for r in rows), default=None)
    span = max(now - first, WINDOW) if first else WINDOW
    frequency = round(len(rows) / (span / WINDOW), 3)

    by_category: dict[str, int] = dict((await conn.execute(
        select(events.c.category, func.count()).where(events.c.customer_id.in_(family))
        .group_by(events.c.category))).all())
    scores = []
    for (data,) in await conn.execute(select(events.c.data).where(
            events.c.customer_id.in_(family), events.c.type == "survey.response")):
        score = (data or {}).get("score")
        if isinstance(score, (int, float)) and not isinstance(score, bool):
            scores.append(float(score))

    agent = None
    relations = await agent_relations(conn, int(customer.id))
    if relations:
        top = relations[0]
        agent = {"agent_id": top.agent_id, "contacts": top.contacts, "handled_s": top.handled_s,
                 "username": None}
        if top.agent_id.isdigit():
            agent["username"] = (await conn.execute(select(users.c.username)
                                                    .where(users.c.id == int(top.agent_id)))).scalar()

    attr = customer.attributes.get("value")
    has_attr = isinstance(attr, (int, float)) and not isinstance(attr, bool)
    return Profile(
        customer_id=customer.id, value=float(attr) if has_attr and attr is not None else float(resolved),
        value_source="attribute" if has_attr else "resolved_contacts", contacts=len(rows),
        resolved_contacts=resolved, frequency_per_30d=frequency, contacts_last_30d=recent,
        satisfaction=round(sum(scores) / len(scores), 3) if scores else None, survey_responses=len(scores),
        most_related_agent=agent, channels=dict(channels), events_by_category=by_category,
        first_contact_at=first, last_contact_at=last)


async def agent_relations(conn: AsyncConnection, customer_id: int) -> list[AgentRelation]:
    """Every agent who handled (was assigned) a contact of the customer (any id it ever had), most related first:
    most contacts, then the longer total handling time, then the newer contact. One aggregate query, so it is
    cheap enough for every contact routed; none for an unknown customer."""
    survivor = select(func.coalesce(customers.c.merged_into, customers.c.id)) \
        .where(customers.c.id == customer_id).scalar_subquery()
    handled = _seconds(conn.dialect.name, contacts.c.created_at, contacts.c.closed_at)
    rows = (await conn.execute(
        select(contacts.c.agent_id, func.count().label("n"), func.sum(handled).label("s"),
               func.max(contacts.c.id).label("last"))
        .where(contacts.c.customer_id == survivor, contacts.c.agent_id.is_not(None))
        .group_by(contacts.c.agent_id))).all()
    # Rounded, so that a database's time precision (SQLite's date functions keep milliseconds) never decides a tie.
    relations = [AgentRelation(r.agent_id, r.n, round(float(r.s or 0.0), 1), r.last) for r in rows]
    return sorted(relations, key=lambda a: (a.contacts, a.handled_s, a.last_contact_id), reverse=True)


def _seconds(dialect: str, start: ColumnElement[Any], end: ColumnElement[Any]) -> ColumnElement[Any]:
    """Seconds from `start` to `end` in SQL (NULL when `end` is): SQLite has no interval type."""
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return extract("epoch", end - start)
