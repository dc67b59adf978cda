"""`[routing]` and `[queues.NAME]` in the settings file: parsed, checked, turned into routing's configuration."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from contact_center.business_hours import DAYS, BusinessHoursError, parse_business_hours
from contact_center.queue_settings import describe, queue_config, queue_order, router_settings
from contact_center.settings import Settings, SettingsError
from routing import STRATEGIES, MemoryStore, Router

FULL = """
offer_timeout_s = 25

[routing]
offer_timeout_s = {voice = 20, chat = 30, email = 120}
capacity = {chat = 2, sms = 0}
blocking = ["voice", "chat"]
max_missed_offers = 2
skills = ["billing", "spanish", "sales"]
strategy = "least_occupied"

[queues.billing]
skills = "billing >= 3"
sl_threshold_s = 15
max_wait_s = 600
max_length = 50
overflow = "general"
when_empty = "refuse"
wrapup_s = 30
strategy = "best_skill"
ageing_per_s = 0.5
hours = "mon-fri 08:00-18:00"
timezone = "Europe/Berlin"
escalation = [{after_s = 60, skills = "billing >= 1"}, {after_s = 180, queue = "sales", priority_boost = 2}]

[queues.sales]
skills = "sales and spanish"
"""


def load(tmp_path, text: str, env: dict[str, str] | None = None) -> Settings:
    f = tmp_path / "cc.toml"
    f.write_text(text)
    return Settings.load(env or {}, config_file=f)


def test_a_full_file_becomes_routing_configuration(tmp_path):
    s = load(tmp_path, FULL)
    rs = router_settings(s)
    assert dict(rs.offer_timeout_s) == {"voice": 20.0, "chat": 30.0, "email": 120.0, "sms": 25.0}
    assert rs.default_offer_timeout_s == 25.0 and rs.max_missed_offers == 2 and rs.strategy == "least_occupied"
    assert rs.skills == frozenset({"billing", "spanish", "sales"})
    assert dict(s.routing.capacity) == {"voice": 1, "chat": 2, "email": 5, "sms": 0}
    assert s.routing.blocking == ("voice", "chat")

    billing = queue_config("billing", s)
    assert (billing.skill_expr, billing.sl_threshold_s, billing.max_wait_s, billing.max_length) == \
        ("billing >= 3", 15.0, 600.0, 50)
    assert (billing.overflow, billing.when_empty, billing.wrapup_s, billing.strategy, billing.ageing_per_s) == \
        ("general", "refuse", 30.0, "best_skill", 0.5)
    assert [(e.after_s, e.skill_expr, e.queue, e.priority_boost) for e in billing.escalation] == \
        [(60.0, "billing >= 1", None, 0), (180.0, None, "sales", 2)]
    berlin = ZoneInfo("Europe/Berlin")
    assert billing.business_hours is not None
    assert billing.business_hours(datetime(2026, 11, 23, 9, 0, tzinfo=berlin).timestamp())      # a Monday
    assert not billing.business_hours(datetime(2026, 11, 23, 18, 0, tzinfo=berlin).timestamp())
    assert not billing.business_hours(datetime(2026, 11, 28, 9, 0, tzinfo=berlin).timestamp())  # Saturday
    # Targets first: routing refuses an overflow or escalation to a queue it does not know yet.
    order = queue_order(s)
    assert set(order) == {"general", "billing", "sales"}
    assert order.index("general") < order.index("billing") and order.index("sales") < order.index("billing")


def test_without_tables_every_queue_keeps_the_defaults(tmp_path):
    s = load(tmp_path, "wrapup_timeout_s = 7\noffer_timeout_s = 12\n")
    config = queue_config("anything", s)
    assert (config.skill_expr, config.wrapup_s, config.overflow, config.business_hours) == ("", 7.0, None, None)
    assert dict(router_settings(s).offer_timeout_s) == {"voice": 12.0, "chat": 12.0, "email": 12.0, "sms": 12.0}
    assert router_settings(s).skills is None  # free-form skills
    assert queue_order(s) == ["general"]


def test_the_environment_offer_timeout_is_the_default_under_per_channel_values(tmp_path):
    s = load(tmp_path, "[routing]\noffer_timeout_s = {email = 90}\n", env={"CC_OFFER_TIMEOUT_S": "40"})
    assert dict(router_settings(s).offer_timeout_s) == {"voice": 40.0, "chat": 40.0, "email": 90.0, "sms": 40.0}


def test_tables_inside_a_contact_center_table_are_read_too(tmp_path):
    s = load(tmp_path, '[contact_center]\ndefault_queue = "front"\n[contact_center.queues.front]\nmax_length = 3\n')
    assert queue_config("front", s).max_length == 3


async def test_routing_accepts_what_the_settings_accept(tmp_path):
    s = load(tmp_path, FULL)
    router = Router(MemoryStore(), settings=router_settings(s))
    for name in queue_order(s):
        await router.add_queue(queue_config(name, s))


def test_describe_lists_the_effective_configuration(tmp_path):
    doc = describe(load(tmp_path, FULL))
    assert doc["routing"]["offer_timeout_s"]["sms"] == 25.0 and doc["routing"]["skills"] == ["billing", "sales",
                                                                                               "spanish"]
    billing = next(q for q in doc["queues"] if q["name"] == "billing")
    assert billing["hours"] == "mon-fri 08:00-18:00" and billing["timezone"] == "Europe/Berlin"
    general = next(q for q in doc["queues"] if q["name"] == "general")
    assert general["configured"] is False and general["strategy"] == "least_occupied"


@pytest.mark.parametrize("text, message", [
    ('[queues.billing]\nstrategy = "fastest"\n', r"queues\.billing\.strategy: unknown strategy 'fastest'"),
    ('[routing]\nstrategy = "fastest"\n', r"routing\.strategy: unknown strategy"),
    ('[queues.billing]\nskills = "billing >="\n', r"queues\.billing\.skills: .*skill expression"),
    ('[queues.billing]\nskills = 3\n', r"queues\.billing\.skills must be a skill expression"),
    ('[queues.billing]\noverflow = "nowhere"\n', r"queues\.billing\.overflow: unknown queue 'nowhere'"),
    ('[queues.billing]\nescalation = [{after_s = 5, queue = "nowhere"}]\n',
     r"queues\.billing\.escalation\[0\]\.queue: unknown queue 'nowhere'"),
    ('[queues.a]\noverflow = "b"\n[queues.b]\noverflow = "a"\n', r"queues: overflow/escalation cycle (a -> b -> a|b -> a -> b)"),
    ('[queues.a]\noverflow = "a"\n', r"cycle a -> a"),
    ('[queues.a]\nescalation = [{after_s = 5, queue = "b"}]\n[queues.b]\noverflow = "a"\n', r"cycle"),
    ('[queues.billing]\nhours = "weekdays 9-5"\n', r"queues\.billing\.hours: cannot read 'weekdays 9-5'"),
    ('[queues.billing]\nhours = "mon-fri 08:00-25:00"\n', r"queues\.billing\.hours: .*not a time of day"),
    ('[queues.billing]\nhours = "mon-fri 08:00-18:00"\ntimezone = "Mars/Olympus"\n',
     r"queues\.billing\.timezone: unknown time zone 'Mars/Olympus'"),
    ('[queues.billing]\ntimezone = "UTC"\n', r"queues\.billing\.timezone is given without hours"),
    ('[queues.billing]\nhours = "daily 09:00-17:00"\ntimezone = 1\n', r"queues\.billing\.timezone: unknown time zone 1"),
    ('[queues.billing]\nhours = ["daily 09:00-17:00", 3]\n', r"queues\.billing\.hours: hours must be a string or a list"),
    ('[queues.billing]\nwhen_empty = "wait"\n', r"queues\.billing\.when_empty must be 'join' or 'refuse'"),
    ('[queues.billing]\nmax_wait_s = 0\n', r"queues\.billing\.max_wait_s must be a positive number"),
    ('[queues.billing]\nmax_length = -1\n', r"queues\.billing\.max_length must be a whole number"),
    ('[queues.billing]\nsl_threshold_s = "fast"\n', r"queues\.billing\.sl_threshold_s must be a non-negative"),
    ('[queues.billing]\nwrapup = 30\n', r"queues\.billing: unknown key\(s\) wrapup"),
    ('[queues.billing]\nescalation = [{after_s = 90, priority_boost = 1}, {after_s = 30, priority_boost = 1}]\n',
     r"queues\.billing\.escalation: steps must be in increasing after_s order"),
    ('[queues.billing]\nescalation = [{after_s = 30}]\n', r"queues\.billing\.escalation\[0\] must change something"),
    ('[queues.billing]\nescalation = [{skills = "x"}]\n', r"queues\.billing\.escalation\[0\]\.after_s is missing"),
    ('[queues."bad name"]\n', r"queues\.bad name: a queue name is"),
    ('queues = 3\n', r"queues must be a table"),
    ('[routing]\noffer_timeout_s = {fax = 10}\n', r"routing\.offer_timeout_s: unknown channel 'fax'"),
    ('[routing]\noffer_timeout_s = {chat = 0}\n', r"routing\.offer_timeout_s\.chat must be a positive number"),
    ('[routing]\noffer_timeout_s = 20\n', r"routing\.offer_timeout_s must be a table of channel"),
    ('[routing]\ncapacity = {chat = 2.5}\n', r"routing\.capacity\.chat must be a whole number from 0 to 100"),
    ('[routing]\ncapacity = {voice = 0, chat = 0, email = 0, sms = 0}\n', r"routing\.capacity leaves no channel"),
    ('[routing]\nblocking = "voice"\n', r"routing\.blocking must be a list of channels"),
    ('[routing]\nblocking = ["fax"]\n', r"routing\.blocking: unknown channel 'fax'"),
    ('[routing]\nmax_missed_offers = -1\n', r"routing\.max_missed_offers must be a whole number"),
    ('[routing]\nskills = "billing"\n', r"routing\.skills must be a list of skill names"),
    ('[routing]\nskills = ["bad skill"]\n', r"routing\.skills: bad skill name 'bad skill'"),
    ('[routing]\nskills = ["billing"]\n[queues.billing]\nskills = "biling >= 3"\n',
     r"queues\.billing\.skills: unknown skill\(s\): biling \(not in routing\.skills\)"),
    ('[routing]\nskills = ["billing"]\n[queues.billing]\nescalation = [{after_s = 9, skills = "sales"}]\n',
     r"queues\.billing\.escalation\[0\]\.skills: unknown skill\(s\): sales"),
    ('[routing]\nretries = 3\n', r"routing: unknown key\(s\) retries"),
])
def test_every_bad_value_stops_the_start_naming_the_queue_and_key(tmp_path, text, message):
    with pytest.raises(SettingsError, match=message):
        load(tmp_path, text)


def test_a_bad_file_stops_the_cli_naming_the_setting(tmp_path, capsys):
    from contact_center.cli import main

    f = tmp_path / "cc.toml"
    f.write_text('[queues.billing]\noverflow = "nowhere"\n')
    assert main(["queues", "--config", str(f)]) == 2
    assert "queues.billing.overflow: unknown queue 'nowhere'" in capsys.readouterr().err


def test_every_registered_strategy_is_accepted(tmp_path):
    for name in STRATEGIES:
        assert queue_config("q", load(tmp_path, f'[queues.q]\nstrategy = "{name}"\n')).strategy == name


@pytest.mark.parametrize("text, open_at, closed_at", [
    ("mon-fri 08:00-18:00", ["2026-11-23 08:00", "2026-11-27 17:59"], ["2026-11-23 07:59", "2026-11-28 12:00"]),
    ("sat,sun 10:00-14:00; mon 09:00-10:00", ["2026-11-28 10:00", "2026-11-23 09:30"], ["2026-11-24 10:30"]),
    ("fri 22:00-06:00", ["2026-11-27 23:00", "2026-11-28 05:59"], ["2026-11-28 06:00", "2026-11-27 21:59"]),
    ("fri-mon 00:00-24:00", ["2026-11-29 03:00", "2026-11-23 23:59"], ["2026-11-24 12:00"]),
    ("daily 09:00-17:00", ["2026-11-26 09:00"], ["2026-11-26 17:00"]),
])
def test_business_hours(text, open_at, closed_at):
    hours = parse_business_hours(text, "America/New_York")
    tz = ZoneInfo("America/New_York")

    def at(s: str) -> float:
        return datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=tz).timestamp()

    assert all(hours(at(t)) for t in open_at), text
    assert not any(hours(at(t)) for t in closed_at), text


def test_business_hours_follow_daylight_saving_time():
    hours = parse_business_hours(["mon-fri 09:00-17:00"], "Europe/Berlin")
    summer = datetime(2026, 7, 6, 7, 30, tzinfo=ZoneInfo("UTC")).timestamp()   # 09:30 in Berlin (UTC+2)
    winter = datetime(2026, 12, 7, 7, 30, tzinfo=ZoneInfo("UTC")).timestamp()  # 08:30 in Berlin (UTC+1)
    assert hours(summer) and not hours(winter)


@pytest.mark.parametrize("text", ["", "mon", "mon 9:00", "moon 09:00-10:00", "mon 10:00-10:00", "mon 24:00-02:00"])
def test_unreadable_business_hours_are_refused(text):
    with pytest.raises(BusinessHoursError):
        parse_business_hours(text)


def test_the_example_in_the_operations_guide_is_a_working_file(tmp_path):
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    example = guide.split("## Queues and routing", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    s = load(tmp_path, example)
    assert set(s.queues) == {"general", "billing", "sales"}
    assert queue_config("billing", s).escalation[1].queue == "general"
    assert router_settings(s).skills == frozenset({"billing", "sales", "spanish"})


@given(days=st.sets(st.integers(0, 6), min_size=1), start=st.integers(0, 1439), end=st.integers(0, 1440),
       moment=st.integers(0, 7 * 1440 - 1))
def test_a_rule_is_open_exactly_inside_its_spans_of_the_week(days, start, end, moment):
    assume(start != end and not (start == 0 and end == 1440))
    text = f"{','.join(DAYS[d] for d in sorted(days))} {start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    hours = parse_business_hours(text, "UTC")
    # Independently: each listed day opens a span of the week's minutes (past midnight when end <= start).
    length = (end - start) % 1440 or 1440
    inside = any((moment - (d * 1440 + start)) % (7 * 1440) < length for d in days)
    monday = datetime(2026, 11, 23, tzinfo=ZoneInfo("UTC")).timestamp()
    assert hours(monday + moment * 60) == inside, text
