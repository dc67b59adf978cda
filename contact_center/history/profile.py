"""Relationship figures of one customer: value, frequency, satisfaction, most related agent.

Definitions (docs/history.md repeats them):
- value: the customer's `value` attribute when it is a number (set by a CRM: revenue, tier weight); otherwise the
  number of resolved contacts (contacts closed normally, not abandoned).
- frequency: contacts per 30 days since the first contact (the window is at least 30 days, so a new customer with
  two contacts this week has frequency 2, not 9), plus the plain count of the last 30 days.
- satisfaction: the mean `score` of the customer's `survey.response` events (None without any), and their count.
- most related agent: the agent who handled most of the customer's contacts; ties go to the longer total handling
  time (contact opened → closed).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contact_center.domain import ContactState, Customer, iso
from contact_center.history.models import contacts, events, users

WINDOW = timedelta(days=30)


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
    rows = (await conn.execute(select(contacts.c.channel, contacts.c.state, contacts.c.agent_id,
                                      contacts.c.created_at, contacts.c.closed_at)
                               .where(contacts.c.customer_id == int(customer.id)))).all()
    channels: dict[str, int] = defaultdict(int)
    handled: dict[str, list[float]] = defaultdict(list)
    resolved = recent = 0
    for r in rows:
        channels[r.channel] += 1
        resolved += r.state == ContactState.CLOSED.value
        recent += r.created_at >= now - WINDOW
        if r.agent_id:
            handled[r.agent_id].append((r.closed_at - r.created_at).total_seconds() if r.closed_at else 0.0)
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
    if handled:
        agent_id, times = max(handled.items(), key=lambda kv: (len(kv[1]), sum(kv[1])))
        agent = {"agent_id": agent_id, "contacts": len(times), "handled_s": round(sum(times), 1),
                 "username": None}
        if agent_id.isdigit():
            agent["username"] = (await conn.execute(select(users.c.username)
                                                    .where(users.c.id == int(agent_id)))).scalar()

    attr = customer.attributes.get("value")
    has_attr = isinstance(attr, (int, float)) and not isinstance(attr, bool)
    return Profile(
        customer_id=customer.id, value=float(attr) if has_attr and attr is not None else float(resolved),
        value_source="attribute" if has_attr else "resolved_contacts", contacts=len(rows),
        resolved_contacts=resolved, frequency_per_30d=frequency, contacts_last_30d=recent,
        satisfaction=round(sum(scores) / len(scores), 3) if scores else None, survey_responses=len(scores),
        most_related_agent=agent, channels=dict(channels), events_by_category=by_category,
        first_contact_at=first, last_contact_at=last)
