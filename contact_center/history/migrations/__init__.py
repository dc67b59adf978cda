"""Schema migrations of the interaction history (alembic, driven programmatically: no alembic.ini needed)."""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    """An alembic Config for this package's migrations against `database_url` (an async SQLAlchemy URL)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    # Passed as an attribute, not a main option: ConfigParser would choke on a '%' in a password.
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at `database_url` up to `revision` (idempotent; safe on an empty database)."""
    _run(lambda: command.upgrade(alembic_config(database_url), revision))


def downgrade(database_url: str, revision: str) -> None:
    """Step the schema back to `revision` (`base` drops every table)."""
    _run(lambda: command.downgrade(alembic_config(database_url), revision))


def _run(fn) -> None:
    # env.py drives the async driver with asyncio.run; inside a running loop (e.g. `serve` starting up) that is
    # not allowed, so the work moves to a short-lived thread with a loop of its own.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn()
        return
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(e)

    t = threading.Thread(target=target, name="history-migrations")
    t.start()
    t.join()
    if errors:
        raise errors[0]
