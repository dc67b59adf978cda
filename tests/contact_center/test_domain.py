"""The domain objects' JSON matches docs/api.md: string ids, ISO 8601 UTC times."""
from datetime import UTC, datetime, timedelta, timezone

from contact_center.domain import (
    Contact,
    ContactState,
    Customer,
    Event,
    EventCategory,
    Identity,
    NotFound,
    User,
    category_for,
)

T = datetime(2026, 11, 23, 6, 0, 0, 123000, tzinfo=UTC)


def test_customer_json():
    c = Customer(id="1", name="Ann", organisation=None, tags=("vip",), attributes={"plan": "gold"},
                 identities=(Identity("phone", "+14155550100"), Identity("email", "a@example.com"),
                             Identity("chat", "sha256:ab")), created_at=T, updated_at=T)
    j = c.to_json()
    assert j["id"] == "1" and j["phones"] == ["+14155550100"] and j["emails"] == ["a@example.com"]
    assert j["created_at"] == "2026-11-23T06:00:00.123000Z" and j["chat_identities"] == 1
    assert "sha256" not in str(j)


def test_contact_and_event_json():
    local = T.astimezone(timezone(timedelta(hours=2)))
    c = Contact(id="5", customer_id="1", channel="chat", direction="in", queue="general", agent_id="7",
                state=ContactState.WRAPUP, disposition=None, subject=None, external_id=None, created_at=local,
                updated_at=T, closed_at=None)
    j = c.to_json()
    assert {k: j[k] for k in ("id", "channel", "state", "queue", "agent", "customer_id", "closed_at")} == {
        "id": "5", "channel": "chat", "state": "wrapup", "queue": "general", "agent": "7", "customer_id": "1",
        "closed_at": None}
    assert j["created_at"] == "2026-11-23T06:00:00.123000Z"  # converted to UTC
    e = Event(id="9", contact_id="5", customer_id="1", type="message.in", category=EventCategory.TRANSACTIONAL,
              at=T, direction="in", data={"text": "hi"})
    assert e.to_json()["data"] == {"text": "hi"} and e.to_json()["at"].endswith("Z")


def test_user_json_has_no_secret():
    u = User(id="3", username="ann", role="agent", skills={"billing": 5}, queues=("general",), created_at=T)
    assert set(u.to_json()) == {"id", "username", "role", "skills", "queues", "capacity", "created_at"}


def test_categories_and_errors():
    assert category_for("message.in") is EventCategory.TRANSACTIONAL
    assert category_for("campaign.touch") is EventCategory.PROMOTIONAL
    assert category_for("note", {"promise": True}) is EventCategory.PROMOTIONAL
    assert category_for("customer.merged") is EventCategory.DESCRIPTIVE
    assert NotFound("no contact 1").to_json() == {"error": {"code": "not_found", "message": "no contact 1"}}
    assert not ContactState.CLOSED.is_open and ContactState.OFFERED.is_open
