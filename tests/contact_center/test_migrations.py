"""Migrations: from an empty database, idempotent, and the same schema as the models; on both databases."""
import asyncio
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from contact_center.domain import Unavailable
from contact_center.history import History
from contact_center.history.migrations import downgrade, upgrade
from contact_center.history.models import metadata


def _inspect(url):
    async def run():
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
                diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))
                return tables, diff
        finally:
            await engine.dispose()
    return asyncio.run(run())


def test_upgrade_from_empty_is_idempotent_and_matches_the_models(empty_url):
    upgrade(empty_url)
    upgrade(empty_url)  # a second run changes nothing and does not fail
    tables, diff = _inspect(empty_url)
    assert tables == {"alembic_version", "customers", "identities", "contacts", "events", "users"}
    assert diff == []


def test_downgrade_to_base_and_up_again(empty_url):
    upgrade(empty_url)
    downgrade(empty_url, "base")
    assert _inspect(empty_url)[0] == {"alembic_version"}
    upgrade(empty_url)
    assert "events" in _inspect(empty_url)[0]


async def test_upgrade_works_inside_a_running_event_loop(empty_url):
    upgrade(empty_url)  # as `serve` does on start
    h = await History.connect(empty_url)
    await h.close()


async def test_connect_before_upgrade_says_what_to_do(empty_url):
    with pytest.raises(Unavailable) as e:
        await History.connect(empty_url)
    assert e.value.code == "schema_missing" and "db upgrade" in e.value.message


async def test_connect_to_nothing_is_unavailable(tmp_path, postgres_url):
    from sqlalchemy.engine import make_url

    for url in (f"sqlite+aiosqlite:///{tmp_path}/no/such/folder/x.db",
                make_url(postgres_url).set(database="no_such_database").render_as_string(hide_password=False)):
        with pytest.raises(Unavailable) as e:
            await History.connect(url)
        assert e.value.code == "unavailable", url


async def test_0002_adds_user_capacity_and_keeps_existing_users(empty_url):
    upgrade(empty_url, "0001")  # a database from before per-user capacity, with a user in it
    engine = create_async_engine(empty_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO users (username, role, password_hash, skills, queues, created_at) "
                                    "VALUES ('old', 'agent', 'x', '{}', '[]', :at)"), {"at": datetime.now(UTC)})
    finally:
        await engine.dispose()
    upgrade(empty_url)
    h = await History.connect(empty_url)
    try:
        old = await h.get_user_by_username("old")
        assert old is not None and old.capacity is None  # the [routing] capacity defaults
        new = await h.create_user("new", "agent", "pw-new-1", {}, [], {"chat": 1})
        assert new.capacity == {"chat": 1} and (await h.get_user(new.id)).capacity == {"chat": 1}
    finally:
        await h.close()
    downgrade(empty_url, "0001")
    upgrade(empty_url)
    h = await History.connect(empty_url)
    try:
        assert [u.username for u in await h.list_users()] == ["new", "old"]
    finally:
        await h.close()
