"""The HTTP API: queues, customers (search, timeline paging, merge), contacts, agents and users."""
from __future__ import annotations

from contact_center.keys import HISTORY
from tests.harness import (
    PASSWORD,
    add_user,
    agent_socket,
    chat,
    handle_one_then_hold_another,
    logged_in,
    settle,
)


async def test_queues_show_live_figures(cc, aiohttp_client):
    await add_user(cc, "alice")
    http = await logged_in(aiohttp_client, cc, "alice")
    customer, _ = await chat(cc)
    await customer.expect("status", state="queued")
    body = await (await http.get("/api/queues")).json()
    general = next(q for q in body["items"] if q["name"] == "general")
    assert general["waiting"] == 1 and general["agents_available"] == 0
    assert general["longest_wait_s"] >= 0 and "service_level" in general


async def test_agents_show_live_figures(cc, aiohttp_client):
    await add_user(cc, "alice")
    await add_user(cc, "sam", role="supervisor")
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    sam = await logged_in(aiohttp_client, cc, "sam")
    await handle_one_then_hold_another(cc, alice)

    row = next(a for a in (await (await sam.get("/api/agents")).json())["items"] if a["username"] == "alice")
    assert row["activity"] == "busy" and row["load"] == {"chat": 1} and row["capacity"]["chat"] >= 1
    assert (row["offered"], row["accepted"], row["rejected"], row["timeouts"], row["handled"]) == (2, 2, 0, 0, 1)
    assert row["missed_in_a_row"] == 0 and row["aht_s"] >= 0 and 0 < row["occupancy"] <= 1
    assert row["time_in_state_s"]["busy"] > 0


async def test_customer_search_and_timeline_paging(cc, aiohttp_client):
    await add_user(cc, "sam", role="supervisor")
    http = await logged_in(aiohttp_client, cc, "sam")
    customer, started = await chat(cc, name="Grace Hopper", email="grace@navy.mil")
    for i in range(5):
        await customer.send({"type": "message", "text": f"m{i}", "client_id": str(i)})
        await customer.expect("ack", client_id=str(i))

    for query in ("?email=GRACE@navy.mil", "?q=Hopper"):
        items = (await (await http.get("/api/customers" + query)).json())["items"]
        assert [c["id"] for c in items] == [started["customer_id"]], query
    assert (await (await http.get("/api/customers?email=nobody@x.org")).json())["items"] == []

    first = await (await http.get(f"/api/customers/{started['customer_id']}?limit=3")).json()
    assert len(first["timeline"]) == 3 and first["next_before"] == first["timeline"][-1]["id"]
    rest = await (await http.get(f"/api/customers/{started['customer_id']}?limit=50"
                                 f"&before={first['next_before']}")).json()
    ids = [e["id"] for e in first["timeline"] + rest["timeline"]]
    assert len(ids) == len(set(ids)) and "next_before" not in rest
    texts = [e["data"]["text"] for e in first["timeline"] + rest["timeline"] if e["type"] == "message.in"]
    assert texts == ["m4", "m3", "m2", "m1", "m0"]

    for path, code in (("/api/customers/999999", 404), ("/api/customers/abc", 404),
                       (f"/api/customers/{started['customer_id']}?limit=0", 400),
                       (f"/api/customers/{started['customer_id']}?before=xyz", 400)):
        resp = await http.get(path)
        assert resp.status == code, path
        assert "code" in (await resp.json())["error"]


async def test_a_supervisor_merges_two_customers_keeping_both_histories(cc, aiohttp_client):
    await add_user(cc, "sam", role="supervisor")
    http = await logged_in(aiohttp_client, cc, "sam")
    one, a = await chat(cc, name="Ann")
    await one.send({"type": "message", "text": "from a", "client_id": "a"})
    await one.expect("ack")
    two, b = await chat(cc, name="Ann B.")
    await two.send({"type": "message", "text": "from b", "client_id": "b"})
    await two.expect("ack")

    resp = await http.post(f"/api/customers/{a['customer_id']}/merge", json={"other_id": b["customer_id"]})
    assert resp.status == 200
    assert (await resp.json())["customer"]["id"] == a["customer_id"]
    timeline = (await (await http.get(f"/api/customers/{a['customer_id']}")).json())["timeline"]
    texts = {e["data"].get("text") for e in timeline if e["type"] == "message.in"}
    assert texts == {"from a", "from b"}

    resp = await http.post(f"/api/customers/{a['customer_id']}/merge", json={"other_id": a["customer_id"]})
    assert resp.status == 409
    resp = await http.post(f"/api/customers/{a['customer_id']}/merge", json={})
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "missing_field"


async def test_an_admin_adds_an_agent_who_is_routable_at_once(cc, aiohttp_client):
    await add_user(cc, "root", role="admin")
    admin = await logged_in(aiohttp_client, cc, "root")
    resp = await admin.post("/api/users", json={"username": "newbie", "role": "agent", "password": PASSWORD,
                                                "skills": {"billing": 3}, "queues": ["general"]})
    assert resp.status == 201
    user = (await resp.json())["user"]
    assert user["skills"] == {"billing": 3} and user["queues"] == ["general"]
    for body, status, code in (({"username": "newbie", "role": "agent", "password": PASSWORD}, 409, "user_exists"),
                               ({"username": "x", "role": "boss", "password": PASSWORD}, 400, "bad_field"),
                               ({"username": "x", "role": "agent", "password": "short"}, 400, "weak_password"),
                               ({"username": "x", "role": "agent", "password": PASSWORD, "skills": {"a": 99}},
                                400, "bad_field")):
        resp = await admin.post("/api/users", json=body)
        assert resp.status == status and (await resp.json())["error"]["code"] == code, body

    newbie = await agent_socket(await logged_in(aiohttp_client, cc, "newbie"))
    _customer, started = await chat(cc)
    assert (await newbie.expect("offer"))["contact"]["id"] == started["contact_id"]

    agents = (await (await admin.get("/api/agents")).json())["items"]
    row = next(a for a in agents if a["username"] == "newbie")
    assert row["state"] == "available" and row["connected"] is True and len(row["offers"]) == 1
    users = (await (await admin.get("/api/users")).json())["items"]
    assert {u["username"] for u in users} == {"root", "newbie"}


async def test_a_supervisor_sets_an_agent_away(cc, aiohttp_client):
    alice_user = await add_user(cc, "alice")
    await add_user(cc, "sam", role="supervisor")
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    sam = await logged_in(aiohttp_client, cc, "sam")
    resp = await sam.post(f"/api/agents/{alice_user.id}/state", json={"state": "away"})
    assert resp.status == 200
    await alice.expect("state", state="away")
    resp = await sam.post("/api/agents/424242/state", json={"state": "away"})
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "unknown_agent"
    resp = await sam.post(f"/api/agents/{alice_user.id}/state", json={"state": "gone"})
    assert resp.status == 400


async def test_the_history_records_the_customer_before_routing(cc):
    # a chat started with nobody to take it still lands in the history, queued
    customer, started = await chat(cc)
    await customer.expect("status", state="queued")
    contact, events = await cc.server.app[HISTORY].get_contact(started["contact_id"])
    assert contact.state.value == "queued" and [e.type for e in events] == ["queue.joined"]


async def test_an_agent_sees_only_customers_of_contacts_offered_or_assigned_to_them(cc, aiohttp_client):
    await add_user(cc, "alice")
    await add_user(cc, "sam", role="supervisor")
    alice = await logged_in(aiohttp_client, cc, "alice")
    sam = await logged_in(aiohttp_client, cc, "sam")
    secret, theirs = await chat(cc, name="Victor Secret", email="victor@example.com")
    await secret.send({"type": "message", "text": "my secret account number is 1234", "client_id": "s"})
    await secret.expect("ack")

    # alice was never offered Victor: no timeline, and search does not list him
    resp = await alice.get(f"/api/customers/{theirs['customer_id']}?limit=200")
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "not_your_customer"
    assert "1234" not in await resp.text()
    for query in ("?q=Victor", "?email=victor@example.com", ""):
        assert (await (await alice.get("/api/customers" + query)).json())["items"] == [], query
    # a supervisor sees everyone
    assert (await sam.get(f"/api/customers/{theirs['customer_id']}")).status == 200
    assert [c["id"] for c in (await (await sam.get("/api/customers?q=Victor")).json())["items"]] == \
        [theirs["customer_id"]]

    # once the contact is offered to alice, and while it is assigned, she may look him up
    agent = await agent_socket(alice)
    offer = await agent.expect("offer")
    assert (await alice.get(f"/api/customers/{theirs['customer_id']}")).status == 200
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    assert (await alice.get(f"/api/customers/{theirs['customer_id']}")).status == 200
    assert [c["id"] for c in (await (await alice.get("/api/customers?q=Victor")).json())["items"]] == \
        [theirs["customer_id"]]
    # after wrap-up it is no longer hers
    await agent.send({"type": "wrapup", "contact_id": theirs["contact_id"], "disposition": "done"})
    await secret.expect("status", state="closed")
    await settle(cc)
    assert (await alice.get(f"/api/customers/{theirs['customer_id']}")).status == 403
