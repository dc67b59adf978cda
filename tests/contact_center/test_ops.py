"""/healthz, /metrics, /api/openapi.json and JSON errors on unknown routes."""
from __future__ import annotations

import re

from aiohttp import web
from openapi_spec_validator import validate
from prometheus_client.parser import text_string_to_metric_families

from contact_center.keys import HISTORY
from tests.harness import add_user, agent_socket, chat, handle_one_then_hold_another, logged_in


async def test_healthz_is_ok_when_the_database_answers(cc):
    resp = await cc.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "checks": {"database": {"ok": True}}}


async def test_healthz_is_503_when_the_database_is_down(cc):
    history = cc.server.app[HISTORY]
    await history.db.dispose()
    real = history.db.read

    def broken():
        raise ConnectionError("database is gone")
    history.db.read = broken  # the next connection attempt fails, as with a dead server
    try:
        resp = await cc.get("/healthz")
    finally:
        history.db.read = real
    assert resp.status == 503
    body = await resp.json()
    assert body["status"] == "unavailable" and body["checks"]["database"]["ok"] is False
    assert "gone" in body["checks"]["database"]["error"]


async def test_healthz_checks_redis_when_configured(aiohttp_client, cc_settings, redis_url):
    from contact_center.app import create_app
    client = await aiohttp_client(create_app(cc_settings.replace(redis_url=redis_url)))
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert (await resp.json())["checks"]["redis"] == {"ok": True}


async def test_metrics_count_contacts_events_messages_and_show_queues(cc):
    customer, _started = await chat(cc)
    await customer.send({"type": "message", "text": "hi", "client_id": "1"})
    await customer.expect("ack")
    await customer.expect("status", state="queued")
    resp = await cc.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    text = await resp.text()
    assert 'cc_contacts_total{channel="chat"} 1.0' in text
    assert 'cc_messages_total{channel="chat",direction="in"} 1.0' in text
    assert 'cc_events_total{type="message.in"} 1.0' in text
    assert 'cc_queue_waiting{queue="general"} 1.0' in text
    assert 'cc_websockets{kind="chat"} 1.0' in text


async def test_unknown_routes_and_methods_are_json_errors(cc):
    resp = await cc.get("/api/nothing-here")
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
    resp = await cc.delete("/api/login")
    assert resp.status == 405 and (await resp.json())["error"]["code"] == "method_not_allowed"


async def test_openapi_describes_every_route(cc):
    resp = await cc.get("/api/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # a valid OpenAPI 3.1 document, not just JSON
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    for route in cc.server.app.router.routes():
        if route.method == "HEAD":
            continue
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or (info["prefix"].rstrip("/") + "/{path}")
        path = re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path)
        if isinstance(route.resource, web.StaticResource):
            assert (path, "GET") in documented, path
        else:
            assert (path, route.method) in documented, f"{route.method} {path} is not in openapi.json"


async def test_metrics_show_queue_figures_and_each_agents_state(cc, aiohttp_client):
    await add_user(cc, "alice")
    agent = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    await handle_one_then_hold_another(cc, agent)

    text = await (await cc.get("/metrics")).text()
    families = {f.name: f for f in text_string_to_metric_families(text)}   # valid Prometheus text format
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}

    def value(name, **labels):
        return samples[(name, tuple(sorted(labels.items())))]

    general = {"queue": "general"}
    for name in ("asa_seconds", "aht_seconds", "abandonment_ratio", "occupancy_ratio", "longest_wait_seconds",
                 "estimated_wait_seconds"):
        assert ("cc_queue_" + name, tuple(general.items())) in samples, name
    assert value("cc_queue_abandonment_ratio", **general) == 0.0
    assert value("cc_queue_asa_seconds", **general) >= 0.0
    assert {name: value(f"cc_queue_{name}", **general)
            for name in ("queued_total", "answered_total", "abandoned_total", "service_level_ratio",
                         "service_level_answered_ratio")} == {
        "queued_total": 2.0, "answered_total": 2.0, "abandoned_total": 0.0, "service_level_ratio": 1.0,
        "service_level_answered_ratio": 1.0}
    assert families["cc_queue_queued"].type == "counter" and families["cc_agent_handled"].type == "counter"
    assert "answered or abandoned within the threshold" in text   # the help says what service_level is
    assert value("cc_agent_state", agent="alice", state="busy") == 1.0
    assert value("cc_agent_state", agent="alice", state="available") == 0.0
    assert value("cc_agent_load", agent="alice") == 1.0
    assert value("cc_agent_handled_total", agent="alice") == 1.0
    assert value("cc_agents", state="busy") == 1.0
    # Prometheus's naming conventions: times in seconds, counts that only grow are counters (_total)
    for family in families.values():
        assert not re.search(r"_s$|_rate$", family.name), family.name
        if family.type == "counter":
            assert all(s.name == family.name + "_total" for s in family.samples), family.name


async def test_metrics_leave_out_a_figure_routing_no_longer_has(cc, aiohttp_client):
    await add_user(cc, "alice")
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    wait = 'cc_queue_estimated_wait_seconds{queue="general"}'
    assert f"{wait} 0.0" in await (await cc.get("/metrics")).text()   # alice is free: no wait
    await alice.send({"type": "state", "state": "away"})
    await alice.expect("state", state="away")
    # nobody can serve the queue: routing has no estimate, and the last one must not be shown as current
    assert wait not in await (await cc.get("/metrics")).text()
