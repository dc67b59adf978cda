"""History fixtures: every history test runs on SQLite and on the real PostgreSQL, each test on a fresh database.

A migrated template is made once per session (a SQLite file, a PostgreSQL template database); each test gets a
copy (`CREATE DATABASE ... TEMPLATE`), so a test costs milliseconds, not a migration.
"""
from __future__ import annotations

import asyncio
import itertools
import shutil

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from contact_center.history import History
from contact_center.history.migrations import upgrade

_TEMPLATE = "cc_history_template"
_counter = itertools.count()


def pg_dsn(url: str, database: str | None = None) -> str:
    """A plain asyncpg DSN for a SQLAlchemy URL, optionally on another database."""
    u = make_url(url)
    if database is not None:
        u = u.set(database=database)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def pg_admin(url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE) on the server's `postgres` database."""
    async def run() -> None:
        conn = await asyncpg.connect(pg_dsn(url, "postgres"))
        try:
            for s in statements:
                await conn.execute(s)
        finally:
            await conn.close()
    asyncio.run(run())


def fresh_pg_database(postgres_url: str, template: str | None = None) -> str:
    """A new empty (or template-copied) database on the test server; returns its SQLAlchemy URL."""
    name = f"cc_test_{next(_counter)}"
    pg_admin(postgres_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
             f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template(postgres_url: str) -> str:
    pg_admin(postgres_url, f"DROP DATABASE IF EXISTS {_TEMPLATE} WITH (FORCE)", f"CREATE DATABASE {_TEMPLATE}")
    upgrade(make_url(postgres_url).set(database=_TEMPLATE).render_as_string(hide_password=False))
    return _TEMPLATE


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("history-template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return str(path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A freshly migrated database: a SQLite file or a PostgreSQL database of its own."""
    if request.param == "sqlite":
        path = tmp_path / "history.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    postgres_url = request.getfixturevalue("postgres_url")
    url = fresh_pg_database(postgres_url, request.getfixturevalue("pg_template"))
    yield url
    pg_admin(postgres_url, f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")


@pytest.fixture
async def history(database_url: str):
    """A History on a fresh database, closed after the test."""
    h = await History.connect(database_url)
    yield h
    await h.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path):
    """An empty database, not migrated: a SQLite file path or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/empty.db"
        return
    postgres_url = request.getfixturevalue("postgres_url")
    url = fresh_pg_database(postgres_url)
    yield url
    pg_admin(postgres_url, f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")

