"""Group commit: concurrent `append_event` calls share one transaction, each caller awaiting its own future.

One writer task drains whatever is queued (up to `max_batch`) into a single INSERT and a single COMMIT, so N
contacts talking at once cost about one disk flush, not N — the throughput of batching without giving up
"durable when it returns": no caller's future resolves before the COMMIT that holds its event has returned.
Idempotency is checked inside the same transaction: an append whose `(contact_id, client_id)` is already stored
(or earlier in the same batch) resolves to the stored event instead of inserting a second one.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, select, tuple_
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from contact_center.domain import Event, EventCategory, NotFound, Unavailable
from contact_center.history import convert
from contact_center.history.db import Database
from contact_center.history.models import contacts, events

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event waiting to be written (validated already)."""

    contact_id: int
    type: str
    category: str
    at: datetime
    direction: str | None = None
    agent_id: str | None = None
    client_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


_Pending = tuple[NewEvent, "asyncio.Future[Event]"]


class GroupCommitWriter:
    """The single writer of contact events for one Database."""

    def __init__(self, db: Database, *, max_batch: int = 500):
        self._db = db
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0  # how many transactions were committed (the bench reports events per batch)
        self.written = 0

    async def append(self, item: NewEvent) -> Event:
        """Queue `item`; return the stored event once its transaction has committed."""
        if self._closed:
            raise Unavailable("the history store is closed")
        if self._task is None or self._task.done():  # first append, or the task was cancelled with its loop
            self._task = asyncio.get_running_loop().create_task(self._run(), name="history-group-commit")
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        # shield: a caller that gives up must not cancel the write others share; the event may still be stored,
        # which is why appends carry client ids.
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Write what is queued, then stop the writer task."""
        self._closed = True
        if self._task is not None and not self._task.done():
            self._queue.put_nowait(None)
            await self._task
        self._task = None

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        for attempt in (1, 2):
            try:
                results = await self._write([item for item, _ in batch])
                break
            except IntegrityError as e:
                # Another process stored one of these client ids between our check and our insert: the
                # retry's check finds it. A second clash is a real error.
                if attempt == 2:
                    results = [Unavailable(f"could not record the event: {e.orig}")] * len(batch)
            except (DBAPIError, OSError) as e:
                log.error("group commit of %d events failed: %s", len(batch), e)
                results = [Unavailable(f"could not record the event: {e}")] * len(batch)
                break
            except Exception as e:  # never leave a caller waiting forever
                log.exception("group commit of %d events failed", len(batch))
                results = [e] * len(batch)
                break
        for (_, future), result in zip(batch, results):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _write(self, items: list[NewEvent]) -> list[Event | Exception]:
        results: list[Event | Exception | None] = [None] * len(items)
        async with self._db.write() as conn:
            contact_ids = sorted({i.contact_id for i in items})
            owner = dict((await conn.execute(
                select(contacts.c.id, contacts.c.customer_id).where(contacts.c.id.in_(contact_ids)))).all())
            stored: dict[tuple[int, str], Event] = {}
            keys = sorted({(i.contact_id, i.client_id) for i in items if i.client_id is not None})
            if keys:
                wanted = set(keys)
                for row in await conn.execute(select(events).where(_stored_keys(conn, keys))):
                    if (row.contact_id, row.client_id) in wanted:
                        stored[(row.contact_id, row.client_id)] = convert.event(row)
            to_insert: list[dict[str, Any]] = []
            slots: list[int] = []
            first_in_batch: dict[tuple[int, str], int] = {}
            duplicates: list[tuple[int, int]] = []  # (index, index of the first append with the same key)
            for n, item in enumerate(items):
                if item.contact_id not in owner:
                    results[n] = NotFound(f"no contact {item.contact_id}")
                    continue
                key = (item.contact_id, item.client_id) if item.client_id is not None else None
                if key is not None and key in stored:
                    results[n] = stored[key]
                    continue
                if key is not None and key in first_in_batch:
                    duplicates.append((n, first_in_batch[key]))
                    continue
                if key is not None:
                    first_in_batch[key] = n
                slots.append(n)
                to_insert.append({
                    "customer_id": owner[item.contact_id], "contact_id": item.contact_id, "type": item.type,
                    "category": item.category, "at": item.at, "direction": item.direction,
                    "agent_id": item.agent_id, "client_id": item.client_id, "data": item.data})
            if to_insert:
                new_ids = await _insert(conn, to_insert)
                for n, new_id, v in zip(slots, new_ids, to_insert):
                    results[n] = Event(
                        id=str(new_id), contact_id=str(v["contact_id"]), customer_id=str(v["customer_id"]),
                        type=v["type"], category=EventCategory(v["category"]), at=v["at"],
                        direction=v["direction"], agent_id=v["agent_id"], client_id=v["client_id"],
                        data=v["data"])
            for n, first in duplicates:
                results[n] = results[first]
        self.batches += 1
        self.written += len(to_insert)
        return [r if r is not None else NotFound("event not written") for r in results]


def _stored_keys(conn: AsyncConnection, keys: list[tuple[int, str]]) -> ColumnElement[bool]:
    """WHERE clause finding stored events with these (contact_id, client_id) keys (a superset on PostgreSQL)."""
    if conn.dialect.name == "sqlite":
        # Row-value IN: one probe of the unique index per key; two IN lists would make SQLite probe every
        # contact x client id combination.
        return tuple_(events.c.contact_id, events.c.client_id).in_(keys)
    # PostgreSQL plans a long row-value IN as an OR of hundreds of terms; two `= ANY` lists are one index scan.
    return and_(events.c.contact_id.in_(sorted({k[0] for k in keys})),
                events.c.client_id.in_(sorted({k[1] for k in keys})))


async def _insert(conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows into `events`; their new ids, in order."""
    if conn.dialect.name != "sqlite":
        # Only the ids come back: the rest of each event is what we sent (no JSON round trip).
        result = await conn.execute(insert(events).returning(events.c.id, sort_by_parameter_order=True), rows)
        return list(result.scalars())
    # SQLite cannot promise the order of RETURNING rows, so SQLAlchemy would insert row by row. Instead: this
    # transaction holds the write lock (BEGIN IMMEDIATE), and SQLite gives each new row of a rowid table the
    # largest rowid + 1, so one executemany yields last+1 .. last+n; checked before the commit.
    last = (await conn.execute(select(func.max(events.c.id)))).scalar() or 0
    await conn.execute(insert(events), rows)
    if (await conn.execute(select(func.max(events.c.id)))).scalar() != last + len(rows):
        raise RuntimeError("SQLite assigned event ids out of sequence")  # rolls back; nothing is half-written
    return list(range(last + 1, last + 1 + len(rows)))
