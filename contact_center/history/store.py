"""`History`: the unified interaction history every channel and the agent desktop use.

One object per process. Reads run in their own snapshot transactions; writes are short transactions; contact
events go through the group-commit writer (durable when `append_event` returns). Every public method takes and
returns domain objects with string ids; bad input raises `InvalidInput`, unknown ids `NotFound`, both before
anything is written.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from contact_center import users as user_rules
from contact_center.domain import (
    CHANNELS,
    DIRECTIONS,
    Conflict,
    Contact,
    ContactState,
    Customer,
    Event,
    EventCategory,
    InvalidInput,
    NotFound,
    Unavailable,
    User,
    category_for,
    utcnow,
)
from contact_center.history import convert
from contact_center.history import customers as cust
from contact_center.history.codes import USER_EXISTS
from contact_center.history.db import Database, DatabaseSettings
from contact_center.history.models import contacts, events, users
from contact_center.history.profile import AgentRelation, Profile, agent_relations, compute_profile
from contact_center.history.writer import GroupCommitWriter, NewEvent
from contact_center.identity import IdentityRules, normalise

MAX_PAGE = 500
_MAX_DATA_BYTES = 256 * 1024
_CONTACT_FIELDS = ("state", "queue", "agent_id", "disposition", "closed_at", "subject", "external_id")
_OPEN_STATES = [s.value for s in ContactState if s.is_open]


_TIMELINE = (select(events).where(events.c.customer_id.in_(cust.FAMILY_QUERY))
             .order_by(events.c.id.desc()).limit(bindparam("limit")))
_TIMELINE_BEFORE = _TIMELINE.where(events.c.id < bindparam("before"))


class History:
    """The interaction history store (SQLite or PostgreSQL, same code)."""

    def __init__(self, db: Database, rules: IdentityRules | None = None, *, max_batch: int = 500):
        self.db = db
        self.rules = rules or IdentityRules()
        self.writer = GroupCommitWriter(db, max_batch=max_batch)

    @classmethod
    async def connect(cls, database_url: str, *, rules: IdentityRules | None = None,
                      settings: DatabaseSettings | None = None, max_batch: int = 500) -> History:
        """Open the history at `database_url`; the schema must be migrated (`contact-center db upgrade`)."""
        history = cls(Database(database_url, settings or DatabaseSettings()), rules, max_batch=max_batch)
        try:
            async with history.db.read() as conn:
                await conn.execute(select(events.c.id).limit(1))
        except DBAPIError as e:
            await history.db.dispose()
            if "no such table" in str(e) or 'relation "events" does not exist' in str(e):
                raise Unavailable("the history database has no schema; run `contact-center db upgrade`",
                                  code="schema_missing") from e
            raise Unavailable(f"cannot open the history database: {e.orig}") from e
        except OSError as e:
            await history.db.dispose()
            raise Unavailable(f"cannot reach the history database: {e}") from e
        return history

    async def close(self) -> None:
        """Finish queued writes and close the connections."""
        await self.writer.close()
        await self.db.dispose()

    async def ping(self) -> None:
        """Raise Unavailable unless the database answers (for /healthz)."""
        try:
            async with self.db.read() as conn:
                await conn.execute(select(1))
        except Exception as e:
            raise Unavailable(f"history database unreachable: {e}") from e

    # -- customers and identity -------------------------------------------------------------------------------

    async def identify(self, kind: str, value: str, *, name: str | None = None) -> Customer:
        """The customer with this identity, created when unknown (a new customer gets `name`)."""
        key = normalise(kind, value, self.rules)
        name = cust.check_text(name, "name")
        async with self.db.read() as conn:
            owner = await cust.find_identity(conn, kind, key)
            if owner is not None:
                found = await cust.load(conn, owner)
        if owner is not None:
            if name and not found.name:
                return await self.update_customer(found.id, name=name)
            return found
        for _ in range(3):
            try:
                async with self.db.write() as conn:
                    owner = await cust.find_identity(conn, kind, key)
                    if owner is None:
                        now = utcnow()
                        owner = await cust.create(conn, name=name, now=now)
                        await cust.add_identity(conn, owner, kind, key, now)
                    return await cust.load(conn, owner)
            except IntegrityError:
                continue  # another node created it between our check and insert: the retry finds it
        raise Unavailable(f"could not resolve {kind} identity")

    async def find_customer(self, kind: str, value: str) -> Customer | None:
        """The customer with this identity, or None when nobody has it (never creates one)."""
        key = normalise(kind, value, self.rules)
        async with self.db.read() as conn:
            owner = await cust.find_identity(conn, kind, key)
            return None if owner is None else await cust.load(conn, owner)

    async def link_identity(self, customer_id: str, kind: str, value: str) -> Customer:
        """Attach an identity to a customer; when another customer owns it, merge the two (the older record
        survives, so the returned customer's id may differ from `customer_id`)."""
        key = normalise(kind, value, self.rules)
        for _ in range(3):
            try:
                async with self.db.write() as conn:
                    cid = await cust.resolve(conn, customer_id)
                    owner = await cust.find_identity(conn, kind, key)
                    now = utcnow()
                    if owner is None:
                        await cust.add_identity(conn, cid, kind, key, now)
                        await cust.record(conn, cid, "identity.linked", {"kind": kind}, now)
                        return await cust.load(conn, cid)
                    if owner == cid:
                        return await cust.load(conn, cid)
                    return await cust.merge(conn, min(owner, cid), max(owner, cid), now)
            except IntegrityError:
                continue
        raise Unavailable(f"could not link {kind} identity")

    async def merge_customers(self, keep_id: str, other_id: str) -> Customer:
        """Join `other` into `keep`, keeping all history of both; `other`'s id keeps resolving to `keep`."""
        async with self.db.write() as conn:
            return await cust.merge(conn, keep_id, other_id, utcnow())

    async def get_customer(self, customer_id: str) -> Customer:
        """The customer (any id it ever had resolves to the surviving record)."""
        async with self.db.read() as conn:
            return await cust.load(conn, customer_id)

    async def search_customers(self, q: str | None = None, phone: str | None = None, email: str | None = None,
                               limit: int = 50) -> list[Customer]:
        """Customers whose name, organisation, phone or email contains `q`, and/or with this phone / email."""
        phone_key = normalise("phone", phone, self.rules) if phone else None
        email_key = normalise("email", email, self.rules) if email else None
        q = q.strip() if isinstance(q, str) else None
        async with self.db.read() as conn:
            return await cust.search(conn, q=q or None, phone_key=phone_key, email_key=email_key,
                                     limit=_limit(limit))

    async def update_customer(self, customer_id: str, **fields: Any) -> Customer:
        """Change name, organisation, tags or attributes (attributes are replaced whole)."""
        async with self.db.write() as conn:
            return await cust.update_fields(conn, customer_id, fields, utcnow())

    async def record_customer_event(self, customer_id: str, type: str, data: Mapping[str, Any] | None = None,
                                    *, category: str | EventCategory | None = None,
                                    direction: str | None = None, agent_id: str | None = None) -> Event:
        """Record a fact about a customer outside any contact (a campaign touch, a mailing)."""
        data = _check_data(data)
        category = _check_category(category, type, data)
        direction = _check_direction(direction)
        async with self.db.write() as conn:
            cid = await cust.resolve(conn, customer_id)
            row = await cust.record(conn, cid, _check_type(type), data, utcnow(), category=category,
                                    direction=direction, agent_id=_check_agent(agent_id))
        return convert.event(row)

    async def profile(self, customer_id: str) -> Profile:
        """The relationship figures of a customer (docs/history.md defines each)."""
        async with self.db.read() as conn:
            ids = await cust.family(conn, customer_id)
            customer = await cust.load(conn, ids[0])
            return await compute_profile(conn, customer, ids, utcnow())

    async def agent_relations(self, customer_id: str) -> list[AgentRelation]:
        """The agents who handled the customer's contacts, most related first (the profile's order); one query,
        an empty list for an unknown customer (routing asks it for every new contact)."""
        async with self.db.read() as conn:
            return await agent_relations(conn, convert.parse_id(customer_id, "customer"))

    # -- contacts and events ----------------------------------------------------------------------------------

    async def open_contact(self, customer_id: str, channel: str, queue: str | None, *, subject: str | None = None,
                           external_id: str | None = None, direction: str = "in") -> Contact:
        """A new contact of the customer on `channel`, in state `new`."""
        if channel not in CHANNELS:
            raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}", code="bad_channel")
        direction = _check_direction(direction) or "in"
        async with self.db.write() as conn:
            cid = await cust.resolve(conn, customer_id)
            now = utcnow()
            row = (await conn.execute(insert(contacts).values(
                customer_id=cid, channel=channel, direction=direction, queue=_short(queue, "queue", 100),
                agent_id=None, state=ContactState.NEW.value, disposition=None, subject=_short(subject, "subject"),
                external_id=_short(external_id, "external_id", 200), created_at=now, updated_at=now,
                closed_at=None).returning(*contacts.c))).one()
        return convert.contact(row)

    async def find_open_contact(self, customer_id: str, channel: str, *,
                                external_id: str | None = None) -> Contact | None:
        """The customer's newest contact on `channel` that is not closed or abandoned (only one with this
        `external_id` when given)."""
        async with self.db.read() as conn:
            cid = await cust.resolve(conn, customer_id)
            stmt = select(contacts).where(
                contacts.c.customer_id == cid, contacts.c.channel == channel, contacts.c.state.in_(_OPEN_STATES))
            if external_id is not None:
                stmt = stmt.where(contacts.c.external_id == external_id)
            row = (await conn.execute(stmt.order_by(contacts.c.id.desc()).limit(1))).first()
        return None if row is None else convert.contact(row)

    async def open_contacts(self, limit: int = 10_000) -> list[Contact]:
        """Every contact not closed or abandoned, oldest first (crash recovery re-routes them at start)."""
        async with self.db.read() as conn:
            rows = (await conn.execute(select(contacts).where(contacts.c.state.in_(_OPEN_STATES))
                                       .order_by(contacts.c.id).limit(limit))).all()
        return [convert.contact(r) for r in rows]

    async def update_contact(self, contact_id: str, **fields: Any) -> Contact:
        """Change a contact's lifecycle fields (state, queue, agent_id, disposition, closed_at, ...)."""
        unknown = sorted(set(fields) - set(_CONTACT_FIELDS))
        if unknown:
            raise InvalidInput(f"cannot update contact field(s) {', '.join(unknown)}")
        values: dict[str, Any] = {}
        if "state" in fields:
            try:
                values["state"] = ContactState(fields["state"]).value
            except ValueError:
                raise InvalidInput(f"unknown contact state {fields['state']!r}", code="bad_state") from None
        for name, size in (("queue", 100), ("disposition", 100), ("external_id", 200), ("subject", 10_000)):
            if name in fields:
                values[name] = _short(fields[name], name, size)
        if "agent_id" in fields:
            values["agent_id"] = _check_agent(fields["agent_id"])
        if "closed_at" in fields:
            values["closed_at"] = _check_time(fields["closed_at"], "closed_at")
        cid = convert.parse_id(contact_id, "contact")
        now = utcnow()
        if values.get("state") in (ContactState.CLOSED.value, ContactState.ABANDONED.value) \
                and "closed_at" not in values:
            values["closed_at"] = now
        async with self.db.write() as conn:
            row = (await conn.execute(update(contacts).where(contacts.c.id == cid)
                                      .values(updated_at=now, **values).returning(*contacts.c))).first()
        if row is None:
            raise NotFound(f"no contact {contact_id}")
        return convert.contact(row)

    async def append_event(self, contact_id: str, type: str, data: Mapping[str, Any] | None = None, *,
                           direction: str | None = None, agent_id: str | None = None,
                           client_id: str | None = None, category: str | EventCategory | None = None) -> Event:
        """Record an event in a contact; durable when it returns; the same `client_id` twice → the same event."""
        data = _check_data(data)
        item = NewEvent(
            contact_id=convert.parse_id(contact_id, "contact"), type=_check_type(type),
            category=_check_category(category, type, data).value, at=utcnow(),
            direction=_check_direction(direction), agent_id=_check_agent(agent_id),
            client_id=_short(client_id, "client_id", 100), data=data)
        return await self.writer.append(item)

    async def get_contact(self, contact_id: str) -> tuple[Contact, list[Event]]:
        """A contact and all its events, oldest first."""
        cid = convert.parse_id(contact_id, "contact")
        async with self.db.read() as conn:
            row = (await conn.execute(select(contacts).where(contacts.c.id == cid))).first()
            if row is None:
                raise NotFound(f"no contact {contact_id}")
            rows = (await conn.execute(select(events).where(events.c.contact_id == cid)
                                       .order_by(events.c.id))).all()
        return convert.contact(row), [convert.event(r) for r in rows]

    async def list_contacts(self, customer_id: str, *, before: str | None = None, limit: int = 50) -> list[Contact]:
        """The customer's contacts, newest first (for "previous contacts" beside a conversation)."""
        async with self.db.read() as conn:
            cid = await cust.resolve(conn, customer_id)
            stmt = select(contacts).where(contacts.c.customer_id == cid)
            if before is not None:
                stmt = stmt.where(contacts.c.id < _cursor(before))
            rows = (await conn.execute(stmt.order_by(contacts.c.id.desc()).limit(_limit(limit)))).all()
        return [convert.contact(r) for r in rows]

    async def timeline(self, customer_id: str, before: str | None = None, limit: int = 50) -> list[Event]:
        """The customer's events across every channel and merged record, newest first; page with `before`
        (the id of the last event of the previous page)."""
        params = {"family_of": convert.parse_id(customer_id, "customer"), "limit": _limit(limit)}
        if before is not None:
            params["before"] = _cursor(before)
        async with self.db.read() as conn:
            # One statement per page (the family is a subquery): a page costs one round trip.
            rows = (await conn.execute(_TIMELINE_BEFORE if before is not None else _TIMELINE, params)).all()
            if not rows:
                await cust.resolve(conn, customer_id)  # an empty page: NotFound when there is no such customer
        return [convert.event(r) for r in rows]

    # -- users ------------------------------------------------------------------------------------------------

    async def create_user(self, username: str, role: str, password: str,
                          skills: Mapping[str, int] | None = None, queues: Sequence[str] | None = None,
                          capacity: Mapping[str, int] | None = None) -> User:
        """A new user with an argon2 password hash; a taken username is a Conflict. `capacity` ({channel: n},
        0 = not served) overrides the `[routing] capacity` defaults for the channels it names."""
        username = user_rules.check_username(username)
        role = user_rules.check_role(role)
        skill_levels = user_rules.check_skills(skills)
        queue_names = user_rules.check_queues(queues)
        capacity = user_rules.check_capacity(capacity)
        password_hash = await asyncio.to_thread(user_rules.hash_password, password)
        try:
            async with self.db.write() as conn:
                row = (await conn.execute(insert(users).values(
                    username=username, role=role, password_hash=password_hash, skills=skill_levels,
                    queues=queue_names, capacity=capacity, created_at=utcnow()).returning(*users.c))).one()
        except IntegrityError:
            raise Conflict(f"a user named {username!r} exists", code=USER_EXISTS) from None
        return convert.user(row)

    async def verify_password(self, username: str, password: str) -> User | None:
        """The user when the password is right, else None (same cost whether or not the user exists)."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(users).where(users.c.username == username))).first() \
                if isinstance(username, str) else None
        if not isinstance(password, str):
            return None
        ok, rehash = await asyncio.to_thread(user_rules.check_password,
                                             row.password_hash if row else user_rules.dummy_hash(), password)
        if not ok or row is None:
            return None
        if rehash:
            new_hash = await asyncio.to_thread(user_rules.hash_password, password)
            async with self.db.write() as conn:
                await conn.execute(update(users).where(users.c.id == row.id).values(password_hash=new_hash))
        return convert.user(row)

    async def get_user(self, user_id: str) -> User:
        """The user with this id, or NotFound."""
        uid = convert.parse_id(user_id, "user")
        async with self.db.read() as conn:
            row = (await conn.execute(select(users).where(users.c.id == uid))).first()
        if row is None:
            raise NotFound(f"no user {user_id}")
        return convert.user(row)

    async def get_user_by_username(self, username: str) -> User | None:
        """The user with this username, or None."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(users).where(users.c.username == username))).first()
        return None if row is None else convert.user(row)

    async def list_users(self) -> list[User]:
        """Every user, by username."""
        async with self.db.read() as conn:
            rows = (await conn.execute(select(users).order_by(users.c.username))).all()
        return [convert.user(r) for r in rows]

    async def update_user(self, user_id: str, **fields: Any) -> User:
        """Change a user's skills, queues or capacity (None = back to the `[routing] capacity` defaults); each is
        replaced whole. An unknown field is InvalidInput, an unknown user NotFound."""
        checks = {"skills": user_rules.check_skills, "queues": user_rules.check_queues,
                  "capacity": user_rules.check_capacity}
        unknown = sorted(set(fields) - set(checks))
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(unknown)} of a user (only skills, queues, capacity)",
                               code="bad_field")
        values = {name: checks[name](value) for name, value in fields.items()}
        uid = convert.parse_id(user_id, "user")
        async with self.db.write() as conn:
            if values:
                await conn.execute(update(users).where(users.c.id == uid).values(**values))
            row = (await conn.execute(select(users).where(users.c.id == uid))).first()
        if row is None:
            raise NotFound(f"no user {user_id}")
        return convert.user(row)


def _limit(limit: Any) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput(f"limit must be a positive whole number, not {limit!r}", code="bad_limit")
    return min(limit, MAX_PAGE)


def _cursor(before: Any) -> int:
    try:
        return convert.parse_id(before, "event")
    except NotFound:
        raise InvalidInput(f"before must be an event id, not {before!r}", code="bad_cursor") from None


def _short(value: Any, what: str, size: int = 10_000) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    if len(value) > size:
        raise InvalidInput(f"{what} is longer than {size} characters")
    return value


def _check_type(type_: Any) -> str:
    if not isinstance(type_, str) or not type_ or len(type_) > 64:
        raise InvalidInput("event type must be 1-64 characters", code="bad_event_type")
    return type_


def _check_direction(direction: Any) -> str | None:
    if direction is not None and direction not in DIRECTIONS:
        raise InvalidInput(f"direction must be 'in' or 'out', not {direction!r}", code="bad_direction")
    return direction


def _check_agent(agent_id: Any) -> str | None:
    if agent_id is None:
        return None
    return _short(str(agent_id), "agent_id", 64)


def _check_category(category: Any, type_: str, data: Mapping[str, Any]) -> EventCategory:
    if category is None:
        return category_for(type_, data)
    try:
        return EventCategory(category)
    except ValueError:
        raise InvalidInput(f"unknown event category {category!r}", code="bad_category") from None


def _check_data(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
        raise InvalidInput("event data must be a JSON object", code="bad_event_data")
    try:
        size = len(json.dumps(data, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise InvalidInput(f"event data is not JSON: {e}", code="bad_event_data") from e
    if size > _MAX_DATA_BYTES:
        raise InvalidInput(f"event data is larger than {_MAX_DATA_BYTES} bytes", code="too_large")
    return dict(data)


def _check_time(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{what} must be an ISO 8601 time") from None
    if not isinstance(value, datetime):
        raise InvalidInput(f"{what} must be a time")
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # naive times are taken as UTC
