"""The settings file's queues and routing at work in the whole app: who is offered what, and what the API shows."""
from __future__ import annotations

import asyncio
import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from contact_center.business_hours import DAYS
from contact_center.intake import Inbound, IntakeError
from contact_center.keys import HISTORY, INTAKE, LIFECYCLE, ROUTER, SETTINGS
from contact_center.ops import openapi_document
from contact_center.queue_settings import parse_queues, parse_routing
from contact_center.staffing import register_agent
from tests.harness import PASSWORD, Socket, add_user, agent_socket, chat, logged_in


def configured(toml: str) -> dict[str, Any]:
    """`cc_settings` changes: the `[routing]` and `[queues.*]` tables of a settings file."""
    data = tomllib.loads(toml)
    return {"routing": parse_routing(data.get("routing", {})), "queues": parse_queues(data.get("queues", {}))}


def sms(number: str, queue: str | None = None, channel: str = "sms") -> Inbound:
    kind, value = ("email", f"c{number[-4:]}@example.com") if channel == "email" else ("phone", number)
    return Inbound(channel, kind, value, text="hello", queue=queue)


BILLING = configured("""
[queues.billing]
skills = "billing >= 3"
overflow = "general"
max_wait_s = 600
""")


@pytest.mark.parametrize("cc_settings", [BILLING], indirect=True)
async def test_a_queue_skill_expression_chooses_the_agent(cc, aiohttp_client):
    await add_user(cc, "bob", skills={"billing": 1}, queues=["general", "billing"])
    await add_user(cc, "alice", skills={"billing": 5}, queues=["general", "billing"])
    bob = await agent_socket(await logged_in(aiohttp_client, cc, "bob"))        # idle longest: first choice...
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    await cc.server.app[INTAKE].receive(sms("+14155550101", queue="billing"))
    offer = await alice.expect("offer")                                          # ...but only alice has billing >= 3
    assert offer["contact"]["queue"] == "billing"
    assert [m for m in await bob.quiet(0.3) if m["type"] == "offer"] == []
    await cc.server.app[INTAKE].receive(sms("+14155550102"))                   # the default queue asks for nothing
    assert (await bob.expect("offer"))["contact"]["queue"] == "general"


TIMEOUTS = configured("""
[routing]
offer_timeout_s = {email = 90, sms = 0.3}
""")


@pytest.mark.parametrize("cc_settings", [TIMEOUTS], indirect=True)
async def test_each_channel_has_its_own_offer_timeout(cc, aiohttp_client):
    await add_user(cc, "alice")
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    await cc.server.app[INTAKE].receive(sms("+14155550103", channel="email"))
    email = await alice.expect("offer")
    assert email["contact"]["channel"] == "email" and 85 < email["expires_in_s"] <= 90
    _customer, _started = await chat(cc)
    offer = await alice.expect("offer")
    assert offer["contact"]["channel"] == "chat" and offer["expires_in_s"] <= 5.0  # CC_OFFER_TIMEOUT_S (5 here)
    await cc.server.app[INTAKE].receive(sms("+14155550104"))
    offer = await alice.expect("offer")
    assert offer["contact"]["channel"] == "sms"
    cancelled = await alice.expect("offer_cancelled", offer_id=offer["offer_id"], timeout=2.0)
    assert cancelled["reason"] == "timeout"                                      # 0.3 s, long before 5 s


@pytest.mark.parametrize("cc_settings", [configured("[routing]\ncapacity = {chat = 2}\n")], indirect=True)
async def test_a_users_capacity_override_limits_their_chats(cc, aiohttp_client):
    app = cc.server.app
    one = await app[HISTORY].create_user("alice", "agent", PASSWORD, {}, [], {"chat": 1})
    await register_agent(app[ROUTER], one, app[SETTINGS])
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    await chat(cc, name="First")
    await alice.send({"type": "accept", "offer_id": (await alice.expect("offer"))["offer_id"]})
    await alice.expect("assigned")
    await chat(cc, name="Second")
    assert [m for m in await alice.quiet(0.4) if m["type"] == "offer"] == []   # her one chat is taken
    await add_user(cc, "bob")                                                   # [routing] capacity: 2 chats
    bob = await agent_socket(await logged_in(aiohttp_client, cc, "bob"))
    await bob.send({"type": "accept", "offer_id": (await bob.expect("offer"))["offer_id"]})
    await bob.expect("assigned")
    await chat(cc, name="Third")
    await bob.expect("offer")
    stats = await app[ROUTER].agent_stats(str(one.id))
    assert stats["load"] == {"chat": 1}


def _whole_day(day: datetime) -> str:
    return f"{DAYS[day.weekday()]} 00:00-24:00"


_NOW = datetime.now(UTC)
HOURS = configured(f"""
[queues.general]
hours = "{_whole_day(_NOW + timedelta(days=2))}"
[queues.open]
hours = "{_whole_day(_NOW - timedelta(days=1))}; {_whole_day(_NOW)}; {_whole_day(_NOW + timedelta(days=1))}"
""")


@pytest.mark.parametrize("cc_settings", [HOURS], indirect=True)
async def test_business_hours_close_a_queue(cc, aiohttp_client):
    await add_user(cc, "alice", queues=["general", "open"])
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    customer, started = await chat(cc)                                          # general opens the day after next
    assert (await customer.expect("error"))["code"] == "queue_closed"
    contact, events = await cc.server.app[HISTORY].get_contact(started["contact_id"])
    assert contact.state.value == "closed" and [e.type for e in events] == ["queue.refused"]
    with pytest.raises(IntakeError) as e:
        await cc.server.app[INTAKE].receive(sms("+14155550105"))
    assert e.value.code == "queue_closed"
    await cc.server.app[INTAKE].receive(sms("+14155550106", queue="open"))
    assert (await alice.expect("offer"))["contact"]["queue"] == "open"


@pytest.mark.parametrize("cc_settings", [configured("""
[routing]
skills = ["billing", "spanish"]
offer_timeout_s = {email = 90}
[queues.billing]
skills = "billing >= 3"
overflow = "general"
hours = "mon-fri 08:00-18:00"
timezone = "Europe/Berlin"
""")], indirect=True)
async def test_the_api_shows_queue_configuration_and_keeps_users_in_the_catalogue(cc, aiohttp_client):
    await add_user(cc, "root", role="admin")
    admin = await logged_in(aiohttp_client, cc, "root")
    resp = await admin.post("/api/users", json={"username": "ann", "role": "agent", "password": PASSWORD,
                                                "skills": {"biling": 5}, "queues": ["billing"]})
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "unknown_skill"
    assert await cc.server.app[HISTORY].get_user_by_username("ann") is None      # nothing half-made
    for capacity in ({"fax": 1}, {"chat": -1}, {"chat": "two"}, {"voice": 0, "chat": 0, "email": 0, "sms": 0}):
        resp = await admin.post("/api/users", json={"username": "ann", "role": "agent", "password": PASSWORD,
                                                    "capacity": capacity})
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_capacity", capacity
    resp = await admin.post("/api/users", json={"username": "ann", "role": "agent", "password": PASSWORD,
                                                "skills": {"billing": 5}, "queues": ["billing"],
                                                "capacity": {"chat": 1, "voice": 0}})
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["user"]["capacity"] == {"chat": 1, "voice": 0}
    users = (await (await admin.get("/api/users")).json())["items"]
    assert {u["username"]: u["capacity"] for u in users} == {"root": None, "ann": {"chat": 1, "voice": 0}}
    stats = await cc.server.app[ROUTER].agent_stats(next(u["id"] for u in users if u["username"] == "ann"))
    assert stats is not None

    body = await (await admin.get("/api/queues")).json()
    by_name = {q["name"]: q for q in body["items"]}
    assert by_name["billing"]["config"]["skills"] == "billing >= 3"
    assert by_name["billing"]["config"]["overflow"] == "general"
    assert by_name["billing"]["config"]["hours"] == "mon-fri 08:00-18:00"
    assert by_name["general"]["config"]["configured"] is False and "waiting" in by_name["general"]
    assert body["routing"]["skills"] == ["billing", "spanish"]
    assert body["routing"]["offer_timeout_s"] == {"voice": 5.0, "chat": 5.0, "email": 90.0, "sms": 5.0}
    # The answers are what the OpenAPI document says they are.
    components = openapi_document()["components"]
    for item in body["items"]:
        jsonschema.validate(item, {"$ref": "#/components/schemas/QueueStats", "components": components})
    jsonschema.validate(body["routing"], {"$ref": "#/components/schemas/RoutingConfig", "components": components})
    for user in users:
        jsonschema.validate(user, {"$ref": "#/components/schemas/User", "components": components})


@pytest.mark.parametrize("cc_settings", [configured('[routing]\nskills = ["billing"]\n')], indirect=True)
async def test_a_stored_agent_outside_the_catalogue_cannot_log_in_to_routing_but_the_server_runs(cc,
                                                                                                 aiohttp_client):
    app = cc.server.app
    await app[HISTORY].create_user("old", "agent", PASSWORD, {"french": 3}, [])  # stored before the catalogue
    resp = await cc.post("/api/login", json={"username": "old", "password": PASSWORD})
    assert resp.status == 400
    assert (await resp.json())["error"] == {
        "code": "unknown_skill", "message": "user old cannot be routed: unknown skill(s): french"}
    await add_user(cc, "new", skills={"billing": 2})
    await agent_socket(await logged_in(aiohttp_client, cc, "new"))


async def test_an_admin_changes_an_agents_capacity_while_they_work(cc, aiohttp_client):
    await add_user(cc, "root", role="admin")
    admin = await logged_in(aiohttp_client, cc, "root")
    alice_user = await add_user(cc, "alice")
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    await chat(cc, name="First")
    await alice.send({"type": "accept", "offer_id": (await alice.expect("offer"))["offer_id"]})
    await alice.expect("assigned")

    resp = await admin.patch(f"/api/users/{alice_user.id}", json={"capacity": {"chat": 1}})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["user"]["capacity"] == {"chat": 1}
    await chat(cc, name="Second")
    assert [m for m in await alice.quiet(0.4) if m["type"] == "offer"] == []   # full at one chat now
    resp = await admin.patch(f"/api/users/{alice_user.id}", json={"capacity": None})   # back to the defaults
    assert resp.status == 200 and (await resp.json())["user"]["capacity"] is None
    assert (await alice.expect("offer"))["contact"]["customer"]["name"] == "Second"

    for body, status, code in (({"capacity": {"fax": 1}}, 400, "bad_capacity"),
                               ({"role": "admin"}, 400, "bad_field"),
                               ({"queues": "general"}, 400, "bad_field"),
                               ({"capacity": {"voice": 0, "chat": 0, "email": 0, "sms": 0}}, 400, "bad_capacity")):
        resp = await admin.patch(f"/api/users/{alice_user.id}", json=body)
        assert (resp.status, (await resp.json())["error"]["code"]) == (status, code), body
    resp = await admin.patch("/api/users/424242", json={"capacity": {"chat": 1}})
    assert resp.status == 404
    agent_client = await logged_in(aiohttp_client, cc, "alice")
    resp = await agent_client.patch(f"/api/users/{alice_user.id}", json={"capacity": {"chat": 9}})
    assert resp.status == 403
    assert (await cc.server.app[HISTORY].get_user(alice_user.id)).capacity is None  # refusals changed nothing


@pytest.mark.parametrize("cc_settings", [configured("[routing]\nmax_missed_offers = 1\noffer_timeout_s = {chat = 0.3}\n"),
                                         configured("[routing]\nmax_missed_offers = 0\noffer_timeout_s = {chat = 0.3}\n")],
                         indirect=True)
async def test_max_missed_offers_sets_an_agent_away(cc, aiohttp_client):
    await add_user(cc, "alice")
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    await chat(cc)
    offer = await alice.expect("offer")
    await alice.expect("offer_cancelled", offer_id=offer["offer_id"], timeout=2.0)
    await alice.quiet(0.5)
    after_offer = alice.seen[alice.seen.index(offer) + 1:]
    states = [m["state"] for m in after_offer if m["type"] == "state"]
    if cc.server.app[SETTINGS].routing.max_missed_offers == 1:
        assert states[-1:] == ["away"]             # autopause after one missed offer
    else:
        assert "away" not in states                # 0 = never


@pytest.mark.parametrize("cc_settings", [BILLING], indirect=True)
async def test_a_chat_widget_asks_for_a_configured_queue(cc, aiohttp_client):
    await add_user(cc, "gina", queues=["general", "internal"])
    await add_user(cc, "alice", skills={"billing": 5}, queues=["billing"])
    gina = await agent_socket(await logged_in(aiohttp_client, cc, "gina"))
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    customer = Socket(await cc.ws_connect("/ws/chat"))
    await customer.send({"type": "start", "name": "Bill", "queue": "billing"})
    started = await customer.expect("started")
    offer = await alice.expect("offer")
    assert offer["contact"]["id"] == started["contact_id"] and offer["contact"]["queue"] == "billing"
    assert [m for m in await gina.quiet(0.3) if m["type"] == "offer"] == []
    # Only the settings' queues and the default one: not a queue that merely an agent serves, nor a made-up one.
    for queue in ("internal", "nowhere", 7):
        other = Socket(await cc.ws_connect("/ws/chat"))
        await other.send({"type": "start", "name": "Eve", "queue": queue})
        assert (await other.expect("error"))["code"] == ("bad_field" if queue == 7 else "unknown_queue")
    assert [c.name for c in await cc.server.app[HISTORY].search_customers(q="Eve")] == []
    general = Socket(await cc.ws_connect("/ws/chat"))
    await general.send({"type": "start", "name": "Gus", "queue": "general"})
    await general.expect("started")
    assert (await gina.expect("offer"))["contact"]["queue"] == "general"
    assert [c.name for c in await cc.server.app[HISTORY].search_customers(q="Gus")] == ["Gus"]  # the search finds


@pytest.mark.parametrize("cc_settings", [configured("[routing]\nreject_cooldown_s = 0\n"), {}], indirect=True)
async def test_reject_cooldown_is_the_settings_files(cc, aiohttp_client):
    await add_user(cc, "alice")
    http = await logged_in(aiohttp_client, cc, "alice")
    alice = await agent_socket(http)
    cooldown = (await (await http.get("/api/queues")).json())["routing"]["reject_cooldown_s"]
    assert cooldown == cc.server.app[SETTINGS].routing.reject_cooldown_s
    await chat(cc)
    offer = await alice.expect("offer")
    await alice.send({"type": "reject", "offer_id": offer["offer_id"]})
    await alice.expect("offer_cancelled", offer_id=offer["offer_id"])
    again = [m for m in await alice.quiet(0.5) if m["type"] == "offer"]
    if cooldown == 0:   # nobody else to take it, and no cool-down: back to her at once
        assert [m["contact"]["id"] for m in again] == [offer["contact"]["id"]]
    else:               # the default 10 s: not offered to her again meanwhile
        assert cooldown == 10.0 and again == []


@pytest.mark.parametrize("cc_settings", [BILLING], indirect=True)
async def test_an_agents_queues_must_be_queues_contacts_can_reach(cc, aiohttp_client):
    await add_user(cc, "root", role="admin")
    admin = await logged_in(aiohttp_client, cc, "root")
    resp = await admin.post("/api/users", json={"username": "ann", "role": "agent", "password": PASSWORD,
                                                "queues": ["general", "biling"]})
    error = (await resp.json())["error"]
    assert resp.status == 400 and error["code"] == "unknown_queue" and "biling" in error["message"]
    assert await cc.server.app[HISTORY].get_user_by_username("ann") is None
    resp = await admin.post("/api/users", json={"username": "ann", "role": "agent", "password": PASSWORD,
                                                "queues": ["general", "billing"]})
    assert resp.status == 201, await resp.text()
    ann = (await resp.json())["user"]
    resp = await admin.patch(f"/api/users/{ann['id']}", json={"queues": ["sales"]})
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "unknown_queue"
    assert (await cc.server.app[HISTORY].get_user(ann["id"])).queues == ("general", "billing")
    resp = await admin.patch(f"/api/users/{ann['id']}", json={"queues": ["billing"]})
    assert resp.status == 200 and (await resp.json())["user"]["queues"] == ["billing"]
    # A supervisor serves no queue, so theirs are not checked; an agent without queues serves the default one.
    resp = await admin.post("/api/users", json={"username": "sue", "role": "supervisor", "password": PASSWORD,
                                                "queues": ["anything"]})
    assert resp.status == 201


OVERFLOWS = configured(f"""
[queues.vip]
max_length = 0
overflow = "general"
[queues.full]
max_length = 0
[queues.night]
hours = "{_whole_day(_NOW + timedelta(days=2))}"
[queues.staffed]
when_empty = "refuse"
""")


@pytest.mark.parametrize("cc_settings", [OVERFLOWS], indirect=True)
async def test_refusals_and_overflows_are_counted_per_queue(cc, aiohttp_client):
    await add_user(cc, "sam", role="supervisor")
    sam = await logged_in(aiohttp_client, cc, "sam")
    intake = cc.server.app[INTAKE]
    outcomes = []
    for i, queue in enumerate(("vip", "vip", "full", "full", "full", "staffed", "night")):
        try:
            await intake.receive(sms(f"+1415555{i:04d}", queue=queue))
            outcomes.append("queued")
        except IntakeError as e:
            outcomes.append(e.code)
    assert outcomes == ["queued"] * 2 + ["queue_full"] * 3 + ["queue_empty", "queue_closed"]
    body = await (await sam.get("/api/queues")).json()
    by_name = {q["name"]: q for q in body["items"]}
    assert (by_name["vip"]["overflowed"], by_name["vip"]["overflowed_to"]) == (2, {"general": 2})
    assert by_name["full"]["refused"] == {"queue_full": 3} and by_name["staffed"]["refused"] == {"queue_empty": 1}
    assert by_name["night"]["refused"] == {"queue_closed": 1}
    assert by_name["general"]["refused"] == {} and by_name["general"]["overflowed_to"] == {}
    components = openapi_document()["components"]
    for item in body["items"]:
        jsonschema.validate(item, {"$ref": "#/components/schemas/QueueStats", "components": components})

    metrics = await (await cc.get("/metrics")).text()
    assert 'cc_queue_refused_total{queue="full",reason="queue_full"} 3.0' in metrics
    assert 'cc_queue_refused_total{queue="full",reason="queue_closed"} 0.0' in metrics
    assert 'cc_queue_refused_total{queue="staffed",reason="queue_empty"} 1.0' in metrics
    assert 'cc_queue_overflowed_total{queue="vip",to="general"} 2.0' in metrics
    assert "# TYPE cc_queue_refused_total counter" in metrics


ESCALATION = configured("""
[queues.backup]
[queues.billing]
skills = "billing >= 3"
escalation = [{after_s = 0.2, skills = "billing >= 1"}, {after_s = 0.4, queue = "backup", priority_boost = 1}]
""")


@pytest.mark.parametrize("cc_settings", [ESCALATION], indirect=True)
async def test_escalation_steps_reach_the_history_the_api_and_the_metrics(cc, aiohttp_client):
    app = cc.server.app
    await add_user(cc, "sam", role="supervisor")
    sam = await logged_in(aiohttp_client, cc, "sam")
    contact, _event, _new = await app[INTAKE].receive(sms("+14155550190", queue="billing"))
    for _ in range(60):   # both steps, on routing's own timers (the real clock)
        if (await app[ROUTER].get_task(contact.id)).queue == "backup":
            break
        await asyncio.sleep(0.05)
    await app[LIFECYCLE].drain()
    body = await (await sam.get(f"/api/contacts/{contact.id}")).json()
    steps = [(e["data"]["queue"], e["data"]["step"], e["data"]["requirement"], e["data"].get("from_queue"))
             for e in body["events"] if e["type"] == "queue.escalated"]
    assert steps == [("billing", 0, "billing >= 1", None), ("backup", 1, "", "billing")]
    assert body["contact"]["queue"] == "backup"
    queues = {q["name"]: q for q in (await (await sam.get("/api/queues")).json())["items"]}
    assert (queues["billing"]["transferred_out"], queues["backup"]["queued"]) == (1, 1)
    metrics = await (await cc.get("/metrics")).text()
    assert 'cc_queue_transferred_out_total{queue="billing"} 1.0' in metrics
    assert 'cc_queue_transferred_out_total{queue="backup"} 0.0' in metrics
