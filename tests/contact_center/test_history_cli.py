"""The history's command line in a subprocess: db upgrade, user add, customer merge (SQLite and PostgreSQL)."""
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from contact_center.history import History

ROOT = Path(__file__).resolve().parents[2]


def cc(url, *args):
    env = {**os.environ, "CC_DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "contact_center", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_upgrade_user_add_and_merge(empty_url):
    for _ in range(2):
        r = cc(empty_url, "db", "upgrade")
        assert r.returncode == 0, r.stderr
        assert "up to date" in r.stdout

    r = cc(empty_url, "user", "add", "ann", "--role", "agent", "--password", "pw-ann-1", "--skills",
           "billing:5,spanish")
    assert r.returncode == 0, r.stderr
    r = cc(empty_url, "user", "add", "ann", "--role", "agent", "--password", "x")
    assert r.returncode == 1 and "user_exists" in r.stderr and "Traceback" not in r.stderr

    async def seed():
        h = await History.connect(empty_url)
        try:
            user = await h.get_user_by_username("ann")
            a = await h.identify("email", "a@example.com", name="A")
            b = await h.identify("phone", "+14155550100")
            contact = await h.open_contact(b.id, "sms", "general")
            await h.append_event(contact.id, "message.in", {"text": "hi"}, direction="in")
            return user, a.id, b.id
        finally:
            await h.close()

    user, keep, other = asyncio.run(seed())
    assert (dict(user.skills), user.queues) == ({"billing": 5, "spanish": 1}, ("general",))

    r = cc(empty_url, "customer", "merge", keep, other)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["customer"]["id"] == keep and out["customer"]["phones"] == ["+14155550100"]
    assert out["profile"]["contacts"] == 1

    r = cc(empty_url, "customer", "merge", keep, "424242")
    assert r.returncode == 1 and "not_found" in r.stderr and "Traceback" not in r.stderr
