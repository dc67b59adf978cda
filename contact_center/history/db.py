"""Engines and transactions: the one place that knows how SQLite and PostgreSQL differ.

SQLite (the embedded default) runs in WAL mode with `synchronous=FULL`, so a commit is on disk when it returns;
write transactions start with `BEGIN IMMEDIATE` (a read that later writes would otherwise fail with
SQLITE_BUSY when another writer got in first) and are serialised in-process by a lock, so writers queue in the
event loop instead of spinning in SQLite's busy handler. PostgreSQL keeps its defaults (`synchronous_commit=on`).
Reads run in autocommit on both.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from contact_center.domain import InvalidInput


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """Connection settings of the history store."""

    pool_size: int = 10            # PostgreSQL connections kept open
    max_overflow: int = 20         # extra PostgreSQL connections under load
    sqlite_busy_timeout_ms: int = 30_000  # how long SQLite waits for another process's write lock
    # Off by default: a ping is one more round trip on every checkout (timeline p99); a connection broken by a
    # database restart fails one statement and is then replaced by the pool.
    pool_pre_ping: bool = False
    echo: bool = False


class Database:
    """The engines of one history database and its read and write transactions."""

    def __init__(self, url: str, settings: DatabaseSettings = DatabaseSettings()):
        parsed = make_url(url)
        if parsed.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise InvalidInput(f"unsupported database URL scheme {parsed.drivername!r}; "
                               "use sqlite+aiosqlite:// or postgresql+asyncpg://", code="bad_database_url")
        self.url = url
        self.dialect = parsed.get_backend_name()
        self._write_lock: asyncio.Lock | None = None
        # Reads run in autocommit: no BEGIN/COMMIT round trips around a timeline page (the p99 target), and no
        # read needs a snapshot across its statements.
        if self.dialect == "sqlite":
            self.read_engine = self._sqlite_engine(url, settings, begin=None)
            self.write_engine = self._sqlite_engine(url, settings, begin="BEGIN IMMEDIATE")
            self._engines: tuple[AsyncEngine, ...] = (self.read_engine, self.write_engine)
        else:
            self.write_engine = create_async_engine(
                url, pool_size=settings.pool_size, max_overflow=settings.max_overflow,
                pool_pre_ping=settings.pool_pre_ping,
                echo=settings.echo)
            self.read_engine = self.write_engine.execution_options(isolation_level="AUTOCOMMIT")
            self._engines = (self.write_engine,)  # the read engine shares its pool

    @staticmethod
    def _sqlite_engine(url: str, settings: DatabaseSettings, *, begin: str | None) -> AsyncEngine:
        engine = create_async_engine(url, echo=settings.echo,
                                     connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000})

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit BEGIN is deferred).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")  # durable on return, even on power loss
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
            cursor.close()

        if begin is not None:
            @event.listens_for(engine.sync_engine, "begin")
            def _on_begin(conn: Any) -> None:
                conn.exec_driver_sql(begin)

        return engine

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection in autocommit: each statement sees everything committed before it."""
        async with self.read_engine.connect() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block ends without an error."""
        if self.dialect == "sqlite":
            if self._write_lock is None:
                self._write_lock = asyncio.Lock()
            async with self._write_lock, self.write_engine.begin() as conn:
                yield conn
        else:
            async with self.write_engine.begin() as conn:
                yield conn

    async def dispose(self) -> None:
        """Close every pooled connection."""
        for engine in self._engines:
            await engine.dispose()
