"""Session-wide real servers. A test that needs PostgreSQL or Redis asks for `postgres_url` / `redis_url`."""
from __future__ import annotations

import os

import pytest

from tests.servers import ServerUnavailable, postgres_server, redis_server

# Whole-app fixtures (`cc`, `cc_settings`) for the contact_center, channels and agent_console tests.
pytest_plugins = ["tests.harness"]


def _server(factory):
    try:
        with factory() as url:
            yield url
    except ServerUnavailable as e:
        # Missing binaries on a developer machine are an error, not a skip: scripts/test installs them.
        pytest.fail(f"{e}; run scripts/test to install the test servers")


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a PostgreSQL server started for this test run (a fresh cluster)."""
    if os.environ.get("CC_TEST_POSTGRES_URL"):
        yield os.environ["CC_TEST_POSTGRES_URL"]
        return
    yield from _server(postgres_server)


@pytest.fixture(scope="session")
def redis_url():
    """URL of a Redis server started for this test run."""
    if os.environ.get("CC_TEST_REDIS_URL"):
        yield os.environ["CC_TEST_REDIS_URL"]
        return
    yield from _server(redis_server)
