"""Customers and their identities inside one transaction: resolve (through merge aliases), load, merge, search.

A merged customer keeps its row with `merged_into` pointing at the survivor; chains are flattened on every merge,
so one lookup resolves any old id. Events are never rewritten: the survivor's timeline reads the events recorded
under its own id and under every id merged into it (its "family").
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, bindparam, func, insert, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contact_center.domain import Conflict, Customer, EventCategory, InvalidInput, NotFound
from contact_center.history import convert
from contact_center.history.codes import SAME_CUSTOMER
from contact_center.history.models import contacts, customers, events, identities

EDITABLE = ("name", "organisation", "tags", "attributes")
_MAX_TEXT = 200
_MAX_TAGS = 100
_MAX_ATTRIBUTES_BYTES = 64 * 1024


async def resolve(conn: AsyncConnection, customer_id: Any) -> int:
    """The surviving customer's id for any id it ever had, or NotFound."""
    cid = convert.parse_id(customer_id, "customer")
    row = (await conn.execute(select(customers.c.id, customers.c.merged_into)
                              .where(customers.c.id == cid))).first()
    if row is None:
        raise NotFound(f"no customer {customer_id}")
    return row.merged_into if row.merged_into is not None else row.id


async def family(conn: AsyncConnection, customer_id: Any) -> list[int]:
    """The surviving customer's id followed by every id merged into it, for any id it ever had (one query
    unless `customer_id` is itself an alias)."""
    cid = convert.parse_id(customer_id, "customer")
    rows = (await conn.execute(select(customers.c.id, customers.c.merged_into).where(
        or_(customers.c.id == cid, customers.c.merged_into == cid)))).all()
    own = next((r for r in rows if r.id == cid), None)
    if own is None:
        raise NotFound(f"no customer {customer_id}")
    if own.merged_into is not None:
        return await family(conn, own.merged_into)
    return [cid, *sorted(r.id for r in rows if r.id != cid)]


def _family_query() -> CompoundSelect[Any]:
    survivor = select(func.coalesce(customers.c.merged_into, customers.c.id).label("id")) \
        .where(customers.c.id == bindparam("family_of")).cte("survivor")
    alias = customers.alias("alias")
    return union_all(select(survivor.c.id),
                     select(alias.c.id).join(survivor, alias.c.merged_into == survivor.c.id))


# The ids of `family(:family_of)` (none for an unknown id) as one subquery: the survivor, then every alias of it,
# each found through an index. Built once: the timeline runs it on every page.
FAMILY_QUERY = _family_query()


async def load(conn: AsyncConnection, customer_id: Any) -> Customer:
    """The customer (resolved through merges) with its identities."""
    cid = await resolve(conn, customer_id)
    row = (await conn.execute(select(customers).where(customers.c.id == cid))).one()
    ids = (await conn.execute(select(identities).where(identities.c.customer_id == cid)
                              .order_by(identities.c.id))).all()
    return convert.customer(row, ids)


async def load_many(conn: AsyncConnection, ids: list[int]) -> list[Customer]:
    """Surviving customers by id, in the order given, in two queries."""
    if not ids:
        return []
    rows = {r.id: r for r in await conn.execute(select(customers).where(customers.c.id.in_(ids)))}
    owned: dict[int, list[Any]] = {i: [] for i in ids}
    for i in await conn.execute(select(identities).where(identities.c.customer_id.in_(ids))
                                .order_by(identities.c.id)):
        owned[i.customer_id].append(i)
    return [convert.customer(rows[i], owned[i]) for i in ids if i in rows]


async def find_identity(conn: AsyncConnection, kind: str, key: str) -> int | None:
    """The surviving customer an identity belongs to, or None."""
    owner = (await conn.execute(select(identities.c.customer_id).where(
        identities.c.kind == kind, identities.c.value == key))).scalar()
    return None if owner is None else await resolve(conn, owner)


async def create(conn: AsyncConnection, *, name: str | None, now: datetime) -> int:
    """A new empty customer's id."""
    return (await conn.execute(insert(customers).values(
        name=check_text(name, "name"), organisation=None, tags=[], attributes={}, created_at=now,
        updated_at=now).returning(customers.c.id))).scalar_one()


async def add_identity(conn: AsyncConnection, customer_id: int, kind: str, key: str, now: datetime) -> None:
    """Attach an identity (the caller made sure nobody owns it; the unique index catches a race)."""
    await conn.execute(insert(identities).values(customer_id=customer_id, kind=kind, value=key, created_at=now))


async def record(conn: AsyncConnection, customer_id: int, type_: str, data: Mapping[str, Any], now: datetime,
                 *, category: EventCategory = EventCategory.DESCRIPTIVE, agent_id: str | None = None,
                 direction: str | None = None, contact_id: int | None = None) -> Any:
    """Append an event in this transaction (customer-level facts: merges, edits, campaign touches)."""
    return (await conn.execute(insert(events).values(
        customer_id=customer_id, contact_id=contact_id, type=type_, category=category.value, at=now,
        direction=direction, agent_id=agent_id, client_id=None, data=dict(data)).returning(*events.c))).one()


async def lock(conn: AsyncConnection, ids: list[int]) -> None:
    """Lock customer rows in id order (PostgreSQL; SQLite writers are already serialised)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(customers.c.id).where(customers.c.id.in_(sorted(ids)))
                           .order_by(customers.c.id).with_for_update())


async def merge(conn: AsyncConnection, keep_id: Any, other_id: Any, now: datetime) -> Customer:
    """Join `other` into `keep`: identities and contacts move, `other` becomes an alias, a `customer.merged`
    event records it. Merging customers that are already one is a no-op."""
    keep = await resolve(conn, keep_id)
    other = await resolve(conn, other_id)
    if keep == other:
        if convert.parse_id(keep_id, "customer") == convert.parse_id(other_id, "customer"):
            raise Conflict("cannot merge a customer with itself", code=SAME_CUSTOMER)
        return await load(conn, keep)
    await lock(conn, [keep, other])
    # Re-resolve under the lock: a concurrent merge may have moved either one.
    keep, other = await resolve(conn, keep), await resolve(conn, other)
    if keep == other:
        return await load(conn, keep)
    k = (await conn.execute(select(customers).where(customers.c.id == keep))).one()
    o = (await conn.execute(select(customers).where(customers.c.id == other))).one()
    tags = list(k.tags or []) + [t for t in (o.tags or []) if t not in (k.tags or [])]
    attributes = {**(o.attributes or {}), **(k.attributes or {})}  # the survivor's values win
    moved_identities = (await conn.execute(update(identities).where(identities.c.customer_id == other)
                                           .values(customer_id=keep))).rowcount
    moved_contacts = (await conn.execute(update(contacts).where(contacts.c.customer_id == other)
                                         .values(customer_id=keep))).rowcount
    await conn.execute(update(customers).where(customers.c.merged_into == other).values(merged_into=keep))
    await conn.execute(update(customers).where(customers.c.id == other).values(merged_into=keep, updated_at=now))
    await conn.execute(update(customers).where(customers.c.id == keep).values(
        name=k.name or o.name, organisation=k.organisation or o.organisation, tags=tags[:_MAX_TAGS],
        attributes=attributes, updated_at=now))
    await record(conn, keep, "customer.merged", {
        "kept": str(keep), "merged": str(other), "merged_name": o.name,
        "contacts_moved": moved_contacts, "identities_moved": moved_identities}, now)
    return await load(conn, keep)


async def update_fields(conn: AsyncConnection, customer_id: Any, fields: Mapping[str, Any],
                        now: datetime) -> Customer:
    """Change descriptive fields (name, organisation, tags, attributes) and record `customer.updated`."""
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"cannot update customer field(s) {', '.join(unknown)}; editable: {', '.join(EDITABLE)}")
    values: dict[str, Any] = {}
    if "name" in fields:
        values["name"] = check_text(fields["name"], "name")
    if "organisation" in fields:
        values["organisation"] = check_text(fields["organisation"], "organisation")
    if "tags" in fields:
        values["tags"] = check_tags(fields["tags"])
    if "attributes" in fields:
        values["attributes"] = check_attributes(fields["attributes"])
    cid = await resolve(conn, customer_id)
    if values:
        await conn.execute(update(customers).where(customers.c.id == cid).values(updated_at=now, **values))
        await record(conn, cid, "customer.updated", values, now)
    return await load(conn, cid)


async def search(conn: AsyncConnection, *, q: str | None, phone_key: str | None, email_key: str | None,
                 limit: int) -> list[Customer]:
    """Surviving customers matching every given filter, most recently changed first."""
    stmt = select(customers.c.id).where(customers.c.merged_into.is_(None))
    for kind, key in (("phone", phone_key), ("email", email_key)):
        if key is not None:
            stmt = stmt.where(customers.c.id.in_(select(identities.c.customer_id).where(
                identities.c.kind == kind, identities.c.value == key)))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(
            customers.c.name.ilike(pattern, escape="\\"),
            customers.c.organisation.ilike(pattern, escape="\\"),
            customers.c.id.in_(select(identities.c.customer_id).where(
                identities.c.kind != "chat", func.lower(identities.c.value).like(pattern.lower(), escape="\\")))))
    stmt = stmt.order_by(customers.c.updated_at.desc(), customers.c.id.desc()).limit(limit)
    ids = (await conn.execute(stmt)).scalars().all()
    return await load_many(conn, list(ids))


def check_text(value: Any, what: str) -> str | None:
    """A short optional text field, stripped; empty becomes None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    value = value.strip()
    if len(value) > _MAX_TEXT:
        raise InvalidInput(f"{what} is longer than {_MAX_TEXT} characters")
    return value or None


def check_tags(value: Any) -> list[str]:
    """A list of distinct short tags, order kept."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(t, str) and 0 < len(t.strip()) <= 50
                                                       for t in value):
        raise InvalidInput("tags must be a list of non-empty texts of at most 50 characters")
    tags = list(dict.fromkeys(t.strip() for t in value))
    if len(tags) > _MAX_TAGS:
        raise InvalidInput(f"at most {_MAX_TAGS} tags")
    return tags


def check_attributes(value: Any) -> dict[str, Any]:
    """A JSON object of free attributes, at most 64 KiB."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidInput("attributes must be a JSON object")
    try:
        size = len(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise InvalidInput(f"attributes are not JSON: {e}") from e
    if size > _MAX_ATTRIBUTES_BYTES:
        raise InvalidInput(f"attributes are larger than {_MAX_ATTRIBUTES_BYTES} bytes")
    return dict(value)
