"""Durability across processes: an acknowledged event survives SIGKILL; idempotency holds between two stores."""
import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from contact_center.domain import Unavailable
from contact_center.history import History
from tests.contact_center.conftest import fresh_pg_database, pg_admin

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import asyncio, sys
from contact_center.history import History

async def main(url, contact_id):
    h = await History.connect(url)
    e = await h.append_event(contact_id, "message.in", {"text": "acked"}, direction="in", client_id="k1")
    print(e.id, flush=True)           # the acknowledgement: only after append_event returned
    await asyncio.sleep(3600)         # killed here, with the store still open

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_acknowledged_event_survives_sigkill(database_url, history):
    customer = await history.identify("chat", "tok-kill")
    contact = await history.open_contact(customer.id, "chat", "general")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, database_url, contact.id, cwd=ROOT, stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    acked = line.decode().strip()
    assert acked.isdigit()
    _, events = await history.get_contact(contact.id)
    assert [(e.id, e.data["text"]) for e in events] == [(acked, "acked")]


async def test_two_stores_appending_the_same_client_id_store_one_event(database_url, history):
    customer = await history.identify("email", "twice@example.com")
    contact = await history.open_contact(customer.id, "chat", "general")
    other = await History.connect(database_url)
    try:
        results = await asyncio.gather(*[
            store.append_event(contact.id, "message.in", {"text": f"retry {n}"}, client_id=f"m{n // 2}")
            for n in range(20) for store in (history, other)])
    finally:
        await other.close()
    by_client = {}
    for e in results:
        by_client.setdefault(e.client_id, set()).add(e.id)
    assert all(len(ids) == 1 for ids in by_client.values())
    _, events = await history.get_contact(contact.id)
    assert sorted(e.client_id for e in events) == sorted(by_client)


@pytest.mark.postgres
async def test_database_gone_is_unavailable_not_a_crash(postgres_url, pg_template):
    url = await asyncio.to_thread(fresh_pg_database, postgres_url, pg_template)
    history = await History.connect(url)
    try:
        customer = await history.identify("email", "gone@example.com")
        contact = await history.open_contact(customer.id, "chat", "general")
        await asyncio.to_thread(pg_admin, postgres_url, f"DROP DATABASE {url.rsplit('/', 1)[1]} WITH (FORCE)")
        with pytest.raises(Unavailable) as e:
            await history.append_event(contact.id, "message.in", {"text": "lost?"}, client_id="x")
        assert e.value.code == "unavailable" and e.value.status == 503
        with pytest.raises(Unavailable):
            await history.ping()
    finally:
        await history.close()
