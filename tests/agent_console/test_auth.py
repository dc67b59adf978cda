"""Logins: argon2 passwords, the session cookie's flags, roles, throttling, and the socket refusing strangers."""
from __future__ import annotations

import aiohttp
import pytest

from tests.harness import PASSWORD, add_user, logged_in


async def test_login_sets_an_httponly_samesite_cookie_and_me_answers(cc):
    await add_user(cc, "alice", skills={"billing": 5}, queues=["general"])
    resp = await cc.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert resp.status == 200
    body = await resp.json()
    assert body["user"]["username"] == "alice" and body["user"]["role"] == "agent"
    assert "password" not in str(body) and "hash" not in str(body)
    cookie = resp.headers["Set-Cookie"]
    assert "cc_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert PASSWORD not in cookie and "alice" not in cookie  # encrypted, not readable
    me = await cc.get("/api/me")
    assert me.status == 200
    body = await me.json()
    assert body["user"]["username"] == "alice" and body["state"] == "offline" and body["connected"] is False


@pytest.mark.parametrize("body, status, code", [
    ({"username": "alice", "password": "wrong"}, 401, "bad_credentials"),
    ({"username": "nobody", "password": PASSWORD}, 401, "bad_credentials"),
    ({"username": "alice"}, 400, "missing_field"),
    ({"username": 3, "password": "x"}, 400, "bad_field"),
])
async def test_bad_logins_get_the_documented_errors_and_no_cookie(cc, body, status, code):
    await add_user(cc, "alice")
    resp = await cc.post("/api/login", json=body)
    assert resp.status == status
    assert (await resp.json())["error"]["code"] == code
    assert "Set-Cookie" not in resp.headers
    assert (await cc.get("/api/me")).status == 401


async def test_a_body_that_is_not_json_is_a_400(cc):
    resp = await cc.post("/api/login", data=b"username=alice", headers={"Content-Type": "text/plain"})
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_json"


async def test_password_guessing_is_throttled(cc, aiohttp_client):
    await add_user(cc, "alice")
    for _ in range(10):
        assert (await cc.post("/api/login", json={"username": "alice", "password": "guess"})).status == 401
    resp = await cc.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert resp.status == 429 and (await resp.json())["error"]["code"] == "rate_limited"


async def test_logout_ends_the_session(cc, aiohttp_client):
    await add_user(cc, "alice")
    client = await logged_in(aiohttp_client, cc, "alice")
    assert (await client.post("/api/logout")).status == 204
    assert (await client.get("/api/me")).status == 401


async def test_a_forged_cookie_is_not_a_login(cc):
    await add_user(cc, "alice")
    cc.session.cookie_jar.update_cookies({"cc_session": "gAAAAAforged"})
    resp = await cc.get("/api/me")
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "not_logged_in"


async def test_the_agent_socket_refuses_unauthenticated_connections_before_upgrade(cc):
    with pytest.raises(aiohttp.WSServerHandshakeError) as e:
        await cc.ws_connect("/ws/agent")
    assert e.value.status == 401
    resp = await cc.get("/ws/agent")
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "not_logged_in"


@pytest.mark.parametrize("path", ["/api/me", "/api/queues", "/api/customers", "/api/customers/1",
                                  "/api/contacts/1", "/api/agents", "/api/users"])
async def test_every_api_needs_a_login(cc, path):
    resp = await cc.get(path)
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "not_logged_in"


async def test_supervisor_endpoints_refuse_agents(cc, aiohttp_client):
    await add_user(cc, "alice")
    agent = await logged_in(aiohttp_client, cc, "alice")
    for method, path in [("GET", "/api/agents"), ("GET", "/api/users"), ("POST", "/api/users"),
                         ("POST", "/api/customers/1/merge"), ("POST", "/api/agents/1/state")]:
        resp = await agent.request(method, path, json={})
        assert resp.status == 403, path
        assert (await resp.json())["error"]["code"] == "forbidden"


async def test_the_agent_socket_refuses_other_sites(cc, aiohttp_client):
    await add_user(cc, "alice")
    client = await logged_in(aiohttp_client, cc, "alice")
    with pytest.raises(aiohttp.WSServerHandshakeError) as e:
        await client.ws_connect("/ws/agent", headers={"Origin": "https://evil.example"})
    assert e.value.status == 403
    own = f"http://{client.host}:{client.port}"
    ws = await client.ws_connect("/ws/agent", headers={"Origin": own})
    assert (await ws.receive_json(timeout=5))["type"] == "state"
    await ws.close()


async def test_api_writes_from_another_site_are_refused(cc):
    await add_user(cc, "alice")
    resp = await cc.post("/api/login", json={"username": "alice", "password": PASSWORD},
                         headers={"Origin": "https://evil.example"})
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "bad_origin"
    assert "Set-Cookie" not in resp.headers
    own = f"http://{cc.host}:{cc.port}"
    resp = await cc.post("/api/login", json={"username": "alice", "password": PASSWORD}, headers={"Origin": own})
    assert resp.status == 200
