"""Benchmark of the interaction history: durable event writes per second and customer timeline latency.

    python3 bench/history.py [--postgres-url URL] [--events 1000000] [--contacts 500] [--per-contact 20]

1. Writes: `--contacts` concurrent contacts each append `--per-contact` events one after another, every append
   awaiting its own durable commit (as a chat socket does before it acks); on SQLite (WAL, synchronous=FULL) and
   PostgreSQL. Target >= 5,000 events/s on PostgreSQL.
2. Timeline: `--events` events (default 1,000,000) are bulk-loaded (COPY on PostgreSQL, executemany on SQLite)
   over `--customers` customers, interleaved in time as real traffic is; then `History.timeline` is timed for
   random customers, first pages and `before` pages. Target p99 <= 20 ms per page.

Without --postgres-url a throw-away server is started the way tests/servers.py does it, but with PostgreSQL's
durability defaults (fsync, synchronous_commit, full_page_writes on: the test server turns them off for speed),
so the figures are those of a durable database.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg
from sqlalchemy.engine import make_url

from contact_center.history import History
from contact_center.history.migrations import upgrade


def _pg_dsn(url: str, database: str | None = None) -> str:
    u = make_url(url)
    if database:
        u = u.set(database=database)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_fresh(url: str, name: str) -> str:
    conn = await asyncpg.connect(_pg_dsn(url))
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def durable_postgres():
    """A throw-away PostgreSQL cluster with its durability defaults on (the test server turns fsync off)."""
    from tests.servers import postgres_server

    return postgres_server(durable=True)


async def _pg_settings(url: str) -> str:
    conn = await asyncpg.connect(_pg_dsn(url))
    try:
        return ", ".join([f"{s}={await conn.fetchval(f'SHOW {s}')}"
                          for s in ("fsync", "synchronous_commit", "full_page_writes")])
    finally:
        await conn.close()


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def bench_writes(url: str, contacts: int, per_contact: int) -> dict:
    """Concurrent contacts appending events, each append awaited until durable."""
    await asyncio.to_thread(upgrade, url)
    history = await History.connect(url)
    try:
        opened = []
        for n in range(contacts):
            customer = await history.identify("email", f"writer{n}@example.com")
            opened.append(await history.open_contact(customer.id, "chat", "general"))
        latencies: list[float] = []

        async def talk(contact) -> None:
            for i in range(per_contact):
                t = time.perf_counter()
                await history.append_event(contact.id, "message.in", {"text": f"message {i}"}, direction="in",
                                           client_id=f"{contact.id}-{i}")
                latencies.append(time.perf_counter() - t)

        batches0 = history.writer.batches
        t0 = time.perf_counter()
        await asyncio.gather(*(talk(c) for c in opened))
        elapsed = time.perf_counter() - t0
        total = contacts * per_contact
        return {"events": total, "seconds": round(elapsed, 2), "events_per_s": round(total / elapsed),
                "commits": history.writer.batches - batches0,
                "events_per_commit": round(total / max(1, history.writer.batches - batches0), 1),
                "append_p50_ms": round(_pct(latencies, 50) * 1000, 2),
                "append_p99_ms": round(_pct(latencies, 99) * 1000, 2)}
    finally:
        await history.close()


def _rows(events: int, customers: int, contacts_per_customer: int):
    """Customers, contacts and events for the bulk load, events interleaved across customers in time."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    customer_rows = [(c, f"Customer {c}", start) for c in range(1, customers + 1)]
    contact_rows = []
    for c in range(1, customers + 1):
        for k in range(contacts_per_customer):
            contact_rows.append(((c - 1) * contacts_per_customer + k + 1, c))
    rng = random.Random(7)

    def event_rows():
        for i in range(1, events + 1):
            c = rng.randint(1, customers)
            contact = (c - 1) * contacts_per_customer + rng.randrange(contacts_per_customer) + 1
            yield (i, c, contact, "message.in", "transactional", start + timedelta(seconds=i * 30), "in",
                   json.dumps({"text": f"message number {i} about my order"}))
    return customer_rows, contact_rows, event_rows


async def load_postgres(url: str, events: int, customers: int, per_customer: int) -> float:
    """COPY the rows in; returns seconds."""
    customer_rows, contact_rows, event_rows = _rows(events, customers, per_customer)
    t0 = time.perf_counter()
    conn = await asyncpg.connect(_pg_dsn(url))
    try:
        await conn.copy_records_to_table(
            "customers", columns=["id", "name", "tags", "attributes", "created_at", "updated_at"],
            records=[(i, n, "[]", "{}", at, at) for i, n, at in customer_rows])
        now = datetime.now(UTC)
        await conn.copy_records_to_table(
            "contacts", columns=["id", "customer_id", "channel", "direction", "state", "created_at", "updated_at"],
            records=[(i, c, "chat", "in", "closed", now, now) for i, c in contact_rows])
        chunk: list[tuple] = []
        for row in event_rows():
            chunk.append(row)
            if len(chunk) == 100_000:
                await conn.copy_records_to_table("events", columns=[
                    "id", "customer_id", "contact_id", "type", "category", "at", "direction", "data"], records=chunk)
                chunk = []
        if chunk:
            await conn.copy_records_to_table("events", columns=[
                "id", "customer_id", "contact_id", "type", "category", "at", "direction", "data"], records=chunk)
        for table in ("customers", "contacts", "events"):  # ids were given explicitly: move the sequences on
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        await conn.execute("VACUUM ANALYZE")  # what autovacuum does to a live table: statistics, hint bits
        with contextlib.suppress(asyncpg.PostgresError):  # needs a superuser; the bench's own server has one
            await conn.execute("CHECKPOINT")  # the load's dirty pages are written now, not during the timing
    finally:
        await conn.close()
    return time.perf_counter() - t0


def load_sqlite(path: str, events: int, customers: int, per_customer: int) -> float:
    """executemany the rows in one transaction; returns seconds."""
    customer_rows, contact_rows, event_rows = _rows(events, customers, per_customer)
    t0 = time.perf_counter()
    db = sqlite3.connect(path)
    try:
        def fmt(at: datetime) -> str:
            return at.replace(tzinfo=None).isoformat(sep=" ")
        with db:
            db.executemany("INSERT INTO customers (id, name, tags, attributes, created_at, updated_at) "
                           "VALUES (?, ?, '[]', '{}', ?, ?)", [(i, n, fmt(at), fmt(at)) for i, n, at in customer_rows])
            now = fmt(datetime.now(UTC))
            db.executemany("INSERT INTO contacts (id, customer_id, channel, direction, state, created_at, "
                           "updated_at) VALUES (?, ?, 'chat', 'in', 'closed', ?, ?)",
                           [(i, c, now, now) for i, c in contact_rows])
            db.executemany("INSERT INTO events (id, customer_id, contact_id, type, category, at, direction, data) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           ((i, c, k, t, cat, fmt(at), d, data) for i, c, k, t, cat, at, d, data in event_rows()))
        db.execute("ANALYZE")
    finally:
        db.close()
    return time.perf_counter() - t0


async def bench_timeline(url: str, customers: int, queries: int) -> dict:
    """p50/p99 of History.timeline pages (limit 50) for random customers: half first pages, half `before` pages."""
    history = await History.connect(url)
    try:
        rng = random.Random(11)
        first, paged = [], []
        for _ in range(20):  # warm the pool and the caches
            await history.timeline(str(rng.randint(1, customers)))
        for n in range(queries):
            cid = str(rng.randint(1, customers))
            t = time.perf_counter()
            page = await history.timeline(cid, limit=50)
            first.append(time.perf_counter() - t)
            if page:
                t = time.perf_counter()
                await history.timeline(cid, before=page[len(page) // 2].id, limit=50)
                paged.append(time.perf_counter() - t)
        both = first + paged
        ms = lambda v: round(v * 1000, 2)
        return {"queries": len(both), "p50_ms": ms(_pct(both, 50)), "p99_ms": ms(_pct(both, 99)),
                "first_page_p99_ms": ms(_pct(first, 99)), "before_page_p99_ms": ms(_pct(paged, 99)),
                "mean_ms": ms(statistics.mean(both))}
    finally:
        await history.close()


async def run(args: argparse.Namespace, postgres_url: str | None) -> dict:
    results: dict = {}
    work = tempfile.mkdtemp(prefix="ccbench-", dir=args.workdir)
    try:
        if not args.skip_writes:
            print(f"writes: {args.contacts} concurrent contacts x {args.per_contact} events, each durable")
            sqlite_url = f"sqlite+aiosqlite:///{work}/writes.db"
            results["sqlite_writes"] = await bench_writes(sqlite_url, args.contacts, args.per_contact)
            print("  sqlite    ", results["sqlite_writes"])
            if postgres_url:
                url = await _pg_fresh(postgres_url, "cc_bench_writes")
                results["postgres_writes"] = await bench_writes(url, args.contacts, args.per_contact)
                print("  postgresql", results["postgres_writes"])
        if args.skip_timeline:
            return results

        print(f"timeline: {args.events:,} events over {args.customers:,} customers")
        path = f"{work}/timeline.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        secs = await asyncio.to_thread(load_sqlite, path, args.events, args.customers, args.contacts_per_customer)
        print(f"  sqlite bulk load {secs:.1f} s")
        results["sqlite_timeline"] = await bench_timeline(f"sqlite+aiosqlite:///{path}", args.customers,
                                                          args.queries)
        print("  sqlite    ", results["sqlite_timeline"])
        if postgres_url:
            url = await _pg_fresh(postgres_url, "cc_bench_timeline")
            await asyncio.to_thread(upgrade, url)
            secs = await load_postgres(url, args.events, args.customers, args.contacts_per_customer)
            print(f"  postgresql bulk load (COPY) {secs:.1f} s")
            results["postgres_timeline"] = await bench_timeline(url, args.customers, args.queries)
            print("  postgresql", results["postgres_timeline"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--postgres-url", help="postgresql+asyncpg://... (default: start a throw-away server)")
    p.add_argument("--no-postgres", action="store_true", help="SQLite only")
    p.add_argument("--contacts", type=int, default=500, help="concurrent contacts writing")
    p.add_argument("--per-contact", type=int, default=20, help="events each contact writes")
    p.add_argument("--events", type=int, default=1_000_000, help="events in the timeline database")
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--contacts-per-customer", type=int, default=5)
    p.add_argument("--queries", type=int, default=1000, help="customers whose timeline is read (2 pages each)")
    p.add_argument("--workdir", default=os.environ.get("TMPDIR"), help="folder for the SQLite files")
    p.add_argument("--skip-writes", action="store_true", help="only the timeline part")
    p.add_argument("--skip-timeline", action="store_true", help="only the writes part")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object at the end")
    args = p.parse_args()

    with contextlib.ExitStack() as stack:
        postgres_url = args.postgres_url
        if not postgres_url and not args.no_postgres:
            postgres_url = stack.enter_context(durable_postgres())
        if postgres_url:
            print("postgresql:", asyncio.run(_pg_settings(postgres_url)))
        results = asyncio.run(run(args, postgres_url))

    targets = []
    if "postgres_writes" in results:
        targets.append(("postgres events/s >= 5000", results["postgres_writes"]["events_per_s"] >= 5000))
    for key in ("sqlite_timeline", "postgres_timeline"):
        if key in results:
            targets.append((f"{key} p99 <= 20 ms", results[key]["p99_ms"] <= 20))
    print("targets:", ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets))
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
