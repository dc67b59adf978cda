"""`contact-center queues` and `contact-center user add --capacity` in a subprocess, with a settings file."""
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from contact_center.history import History

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """
[routing]
skills = ["billing", "spanish"]
capacity = {chat = 2}
offer_timeout_s = {email = 120}
reject_cooldown_s = 4
away_reasons = ["break", "coaching"]

[queues.billing]
skills = "billing >= 3 and spanish"
overflow = "general"
hours = "mon-fri 08:00-18:00"
timezone = "Europe/Berlin"
"""


def cc(tmp_path, url, *args, config: str | None = CONFIG, **env: str):
    """`contact-center ARGS` with the settings file `config` (None: none) and CC_* variables `env`."""
    if config is not None:
        f = tmp_path / "cc.toml"
        f.write_text(config)
        args = (*args, "--config", str(f))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CC_")}, "CC_DATABASE_URL": url, **env}
    return subprocess.run([sys.executable, "-m", "contact_center", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_queues_prints_the_effective_configuration(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/unused.db"
    r = cc(tmp_path, url, "queues", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [q["name"] for q in doc["queues"]] == ["general", "billing"]  # targets first
    assert doc["queues"][1]["skills"] == "billing >= 3 and spanish"
    assert doc["routing"]["capacity"] == {"voice": 1, "chat": 2, "email": 5, "sms": 3}
    assert doc["routing"]["offer_timeout_s"]["email"] == 120.0
    assert doc["routing"]["reject_cooldown_s"] == 4.0 and doc["routing"]["away_reasons"] == ["break", "coaching"]
    r = cc(tmp_path, url, "queues")
    assert r.returncode == 0, r.stderr
    assert "queue billing" in r.stdout and "mon-fri 08:00-18:00 (Europe/Berlin)" in r.stdout
    assert "reject cooldown s  4.0" in r.stdout and "away reasons       break, coaching" in r.stdout
    assert "queue general (no [queues] table: defaults)" in r.stdout
    assert not (tmp_path / "unused.db").exists()  # checking a file touches no database

    r = cc(tmp_path, url, "queues", config='[queues.billing]\nskills = "billing >="\n')
    assert r.returncode == 2 and "queues.billing.skills" in r.stderr and "Traceback" not in r.stderr


def test_user_add_stores_a_capacity_and_keeps_to_the_skill_catalogue(tmp_path, empty_url):
    r = cc(tmp_path, empty_url, "user", "add", "ann", "--role", "agent", "--password", "pw-ann-1",
           "--skills", "billing:5,spanish", "--queues", "general,billing", "--capacity", "chat:1,voice:0")
    assert r.returncode == 0, r.stderr
    r = cc(tmp_path, empty_url, "user", "add", "bob", "--role", "agent", "--password", "pw-bob-1",
           "--skills", "biling:5")
    assert r.returncode == 1 and "unknown_skill" in r.stderr and "biling" in r.stderr and "Traceback" not in r.stderr
    for bad in ("fax:1", "chat:x", "chat:101", "voice:0,chat:0,email:0,sms:0"):
        r = cc(tmp_path, empty_url, "user", "add", "bob", "--role", "agent", "--password", "pw-bob-1",
               "--capacity", bad)
        assert r.returncode == 1 and "bad_capacity" in r.stderr, (bad, r.stderr)

    async def users():
        h = await History.connect(empty_url)
        try:
            return await h.list_users()
        finally:
            await h.close()

    stored = asyncio.run(users())
    assert [(u.username, dict(u.capacity or {})) for u in stored] == [("ann", {"chat": 1, "voice": 0})]

    r = cc(tmp_path, empty_url, "user", "set", "ann", "--capacity", "email:2", "--queues", "billing")
    assert r.returncode == 0, r.stderr
    assert "capacity email:2" in r.stdout and "['billing']" in r.stdout
    r = cc(tmp_path, empty_url, "user", "set", "ann", "--skills", "sales:3")
    assert r.returncode == 1 and "unknown_skill" in r.stderr
    r = cc(tmp_path, empty_url, "user", "set", "nobody", "--capacity", "chat:1")
    assert r.returncode == 1 and "not_found" in r.stderr
    (ann,) = asyncio.run(users())
    assert (ann.capacity, ann.queues, dict(ann.skills)) == ({"email": 2}, ("billing",), {"billing": 5, "spanish": 1})
    r = cc(tmp_path, empty_url, "user", "set", "ann", "--capacity", "default")
    assert r.returncode == 0 and "capacity the defaults" in r.stdout, r.stderr


def test_serve_with_a_bad_queue_table_stops_at_start_naming_it(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/cc.db"
    r = cc(tmp_path, url, "serve", "--port", "1", config='[queues.billing]\nhours = "weekdays"\n')
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "bad setting: config file" in r.stderr and "queues.billing.hours: cannot read 'weekdays'" in r.stderr
    assert not (tmp_path / "cc.db").exists()  # stopped before anything was written


def test_queues_piped_into_a_reader_that_stops_early_exits_cleanly(tmp_path):
    # `contact-center queues | head`: more output than a pipe holds, the reader gone after one line
    f = tmp_path / "many.toml"
    f.write_text("".join(f'[queues.q{i}]\nskills = "billing >= {i % 5}"\n' for i in range(400)))
    proc = subprocess.Popen([sys.executable, "-m", "contact_center", "queues", "--config", str(f)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and b"Traceback" not in err, err.decode()


def test_an_agents_queues_are_checked_against_the_effective_settings(tmp_path, empty_url):
    r = cc(tmp_path, empty_url, "user", "add", "ann", "--role", "agent", "--password", "pw-ann-1",
           "--queues", "general,biling")
    assert r.returncode == 1 and "unknown_queue" in r.stderr and "biling" in r.stderr and "Traceback" not in r.stderr
    r = cc(tmp_path, empty_url, "user", "add", "ann", "--role", "agent", "--password", "pw-ann-1",
           "--queues", "general,billing")
    assert r.returncode == 0, r.stderr
    r = cc(tmp_path, empty_url, "user", "set", "ann", "--queues", "sales")
    assert r.returncode == 1 and "unknown_queue" in r.stderr and "sales" in r.stderr
    # No settings file: the default queue only, or with the demo on (as serve runs it) the demo's billing too.
    r = cc(tmp_path, empty_url, "user", "set", "ann", "--queues", "billing", config=None)
    assert r.returncode == 1 and "unknown_queue" in r.stderr
    r = cc(tmp_path, empty_url, "user", "set", "ann", "--queues", "billing", config=None, CC_DEMO="true")
    assert r.returncode == 0 and "['billing']" in r.stdout, r.stderr
    r = cc(tmp_path, empty_url, "user", "add", "bob", "--role", "agent", "--password", "pw-bob-1",
           "--queues", "billing", config=None, CC_DEFAULT_QUEUE="billing")
    assert r.returncode == 0, r.stderr


def test_cc_config_names_the_settings_file_for_every_command(tmp_path, empty_url):
    f = tmp_path / "server.toml"
    f.write_text(CONFIG)
    r = cc(tmp_path, empty_url, "user", "add", "bob", "--role", "agent", "--password", "pw-bob-1",
           "--skills", "biling:5", config=None, CC_CONFIG=str(f))
    assert r.returncode == 1 and "unknown_skill" in r.stderr   # the server's catalogue, without --config
    r = cc(tmp_path, empty_url, "user", "add", "bob", "--role", "agent", "--password", "pw-bob-1",
           "--skills", "billing:5", "--queues", "billing", config=None, CC_CONFIG=str(f))
    assert r.returncode == 0, r.stderr
    r = cc(tmp_path, empty_url, "queues", "--json", config=None, CC_CONFIG=str(f))
    assert [q["name"] for q in json.loads(r.stdout)["queues"]] == ["general", "billing"]
    r = cc(tmp_path, empty_url, "queues", "--json", config="", CC_CONFIG=str(f))   # --config wins
    assert r.returncode == 0 and [q["name"] for q in json.loads(r.stdout)["queues"]] == ["general"]
