"""Away reasons: the agent socket, the supervisor's API and the agents list; the list from `[routing]`."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contact_center.queue_settings import DEFAULT_AWAY_REASONS, parse_routing
from tests.harness import add_user, agent_socket, logged_in


async def test_an_agent_goes_away_for_a_reason_of_the_list(cc, aiohttp_client):
    await add_user(cc, "alice")
    http = await logged_in(aiohttp_client, cc, "alice")
    me = await (await http.get("/api/me")).json()
    assert me["away_reasons"] == list(DEFAULT_AWAY_REASONS) and me["reason"] is None
    sock = await agent_socket(http)
    other_tab = await agent_socket(http, state=None)

    await sock.send({"type": "state", "state": "away", "reason": "lunch"})
    await sock.expect("state", state="away", reason="lunch")
    await sock.send({"type": "state", "state": "away", "reason": "training"})   # a new reason, still away
    await other_tab.expect("state", state="away", reason="training")             # ...is news to every desktop
    assert (await (await http.get("/api/me")).json())["reason"] == "training"

    for frame in ({"state": "away", "reason": "nap"}, {"state": "available", "reason": "lunch"}):
        await sock.send({"type": "state", **frame})
        error = await sock.expect("error")
        assert error["code"] == "bad_reason" and "reason" in error["message"], frame
    assert (await (await http.get("/api/me")).json())["reason"] == "training"   # refused: nothing changed

    # A client older than reasons: away without one is away with no reason; available clears it.
    await sock.send({"type": "state", "state": "away"})
    await sock.expect("state", state="away", reason=None)
    await sock.send({"type": "state", "state": "available"})
    await sock.expect("state", state="available", reason=None)


async def test_a_supervisor_sets_a_reason_and_the_board_lists_it_with_the_time_in_state(cc, aiohttp_client):
    alice_user = await add_user(cc, "alice")
    await add_user(cc, "bob")
    await add_user(cc, "sam", role="supervisor")
    alice = await agent_socket(await logged_in(aiohttp_client, cc, "alice"))
    sam = await logged_in(aiohttp_client, cc, "sam")
    before = datetime.now(UTC)
    resp = await sam.post(f"/api/agents/{alice_user.id}/state", json={"state": "away", "reason": "meeting"})
    assert resp.status == 200 and await resp.json() == {"id": str(alice_user.id), "state": "away",
                                                        "reason": "meeting"}
    await alice.expect("state", state="away", reason="meeting")
    for body in ({"state": "away", "reason": "holiday"}, {"state": "offline", "reason": "break"},
                 {"state": "away", "reason": 3}):
        resp = await sam.post(f"/api/agents/{alice_user.id}/state", json=body)
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_reason", body

    items = {a["username"]: a for a in (await (await sam.get("/api/agents")).json())["items"]}
    alice_item, bob_item = items["alice"], items["bob"]
    assert (alice_item["state"], alice_item["presence"], alice_item["reason"]) == ("away", "away", "meeting")
    since = datetime.fromisoformat(alice_item["state_since"])
    assert before.replace(microsecond=0) <= since <= datetime.now(UTC)
    assert (bob_item["presence"], bob_item["reason"], bob_item["state"]) == ("offline", None, "offline")
    assert datetime.fromisoformat(bob_item["state_since"]) <= since   # offline since bob was registered


@pytest.mark.parametrize("cc_settings", [{"routing": parse_routing({"away_reasons": ["coaching", "outbound"]})}],
                         indirect=True)
async def test_the_settings_file_lists_the_reasons(cc, aiohttp_client):
    await add_user(cc, "alice")
    http = await logged_in(aiohttp_client, cc, "alice")
    assert (await (await http.get("/api/me")).json())["away_reasons"] == ["coaching", "outbound"]
    assert (await (await http.get("/api/queues")).json())["routing"]["away_reasons"] == ["coaching", "outbound"]
    sock = await agent_socket(http)
    await sock.send({"type": "state", "state": "away", "reason": "lunch"})   # a default, but not in this list
    assert (await sock.expect("error"))["code"] == "bad_reason"
    await sock.send({"type": "state", "state": "away", "reason": "coaching"})
    await sock.expect("state", state="away", reason="coaching")
