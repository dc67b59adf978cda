"""Customers and identity resolution in the history store, on SQLite and PostgreSQL."""
import asyncio

import pytest
from sqlalchemy import select

from contact_center.domain import Conflict, InvalidInput, NotFound
from contact_center.history.models import events
from contact_center.identity import InvalidIdentity


async def test_identify_creates_once_and_normalises_phones(history):
    first = await history.identify("phone", "(415) 555-0100", name="Ann Lee")
    again = await history.identify("phone", "+1 415-555-0100")
    assert again.id == first.id
    assert first.phones == ["+14155550100"]
    assert first.name == "Ann Lee"


async def test_emails_are_case_and_space_insensitive(history):
    a = await history.identify("email", "  Ann.Lee@Example.COM ")
    b = await history.identify("email", "ann.lee@example.com")
    assert a.id == b.id and a.emails == ["ann.lee@example.com"]


async def test_name_is_filled_in_later_but_never_overwritten(history):
    a = await history.identify("email", "x@example.com")
    assert a.name is None
    b = await history.identify("email", "x@example.com", name="Xavier")
    c = await history.identify("email", "x@example.com", name="Someone Else")
    assert (b.name, c.name) == ("Xavier", "Xavier")


@pytest.mark.parametrize("kind, value", [("phone", "not a number"), ("phone", "12"), ("email", "nobody"),
                                         ("email", ""), ("fax", "123"), ("chat", "  ")])
async def test_bad_identities_are_refused_and_create_nothing(history, kind, value):
    with pytest.raises(InvalidIdentity):
        await history.identify(kind, value)
    assert await history.search_customers() == []


async def test_concurrent_identify_of_a_new_identity_makes_one_customer(history):
    found = await asyncio.gather(*[history.identify("phone", "+442071838750") for _ in range(20)])
    assert len({c.id for c in found}) == 1


async def test_chat_visitor_by_token_then_by_email(history):
    visitor = await history.identify("chat", "tok-123", name="Bo")
    assert (await history.identify("chat", "tok-123")).id == visitor.id
    linked = await history.link_identity(visitor.id, "email", "Bo@Example.com")
    assert linked.id == visitor.id and linked.emails == ["bo@example.com"]
    # The token is a secret: its value is never shown, only that one exists.
    assert linked.to_json()["chat_identities"] == 1
    assert "tok-123" not in str(linked.to_json())
    # A later visit from the same person on email finds the same customer.
    assert (await history.identify("email", "bo@example.com")).id == visitor.id


async def test_same_person_on_two_channels_is_one_customer(history):
    by_phone = await history.identify("phone", "+14155550111", name="Cy")
    contact = await history.open_contact(by_phone.id, "sms", "general")
    await history.append_event(contact.id, "message.in", {"text": "hi by sms"}, direction="in")
    by_chat = await history.identify("chat", "visitor-9")
    chat = await history.open_contact(by_chat.id, "chat", "general")
    await history.append_event(chat.id, "message.in", {"text": "hi by chat"}, direction="in")
    await history.link_identity(by_phone.id, "email", "cy@example.com")
    # The chat visitor gives the same email: the two records become one, the older survives.
    merged = await history.link_identity(by_chat.id, "email", "cy@example.com")
    assert merged.id == by_phone.id
    assert merged.phones == ["+14155550111"] and merged.emails == ["cy@example.com"]
    assert (await history.identify("chat", "visitor-9")).id == by_phone.id
    texts = [e.data.get("text") for e in await history.timeline(by_chat.id) if e.type == "message.in"]
    assert texts == ["hi by chat", "hi by sms"]


async def test_merge_keeps_all_history_and_old_ids_resolve(history):
    keep = await history.identify("email", "keep@example.com", name="Keep")
    other = await history.identify("phone", "+14155550122", name="Other")
    await history.update_customer(other.id, tags=["vip"], attributes={"plan": "gold"})
    contacts = []
    for customer, channel in ((keep, "email"), (other, "voice"), (other, "sms")):
        c = await history.open_contact(customer.id, channel, "general")
        await history.append_event(c.id, "message.in", {"text": channel}, direction="in")
        contacts.append(c)
    async with history.db.read() as conn:
        before = (await conn.execute(select(events).order_by(events.c.id))).all()

    merged = await history.merge_customers(keep.id, other.id)

    assert merged.id == keep.id
    assert merged.name == "Keep" and merged.tags == ("vip",) and merged.attributes == {"plan": "gold"}
    assert set(merged.phones) == {"+14155550122"} and merged.emails == ["keep@example.com"]
    assert (await history.get_customer(other.id)).id == keep.id
    assert (await history.identify("phone", "+14155550122")).id == keep.id
    for c in contacts:
        contact, _ = await history.get_contact(c.id)
        assert contact.customer_id == keep.id
    timeline = await history.timeline(keep.id)
    assert timeline[0].type == "customer.merged" and timeline[0].category.value == "descriptive"
    assert timeline[0].data["merged"] == other.id and timeline[0].data["contacts_moved"] == 2
    assert {e.data.get("text") for e in timeline if e.type == "message.in"} == {"email", "voice", "sms"}
    assert [e.id for e in await history.timeline(other.id)] == [e.id for e in timeline]
    # Append-only: every event that existed before the merge is byte-for-byte unchanged.
    async with history.db.read() as conn:
        after = (await conn.execute(select(events).where(events.c.id <= before[-1].id)
                                    .order_by(events.c.id))).all()
    assert after == before
    assert [c.id for c in await history.search_customers()] == [keep.id]


async def test_merge_chains_resolve_to_the_last_survivor(history):
    a, b, c = [await history.identify("email", f"{n}@example.com") for n in "abc"]
    await history.merge_customers(b.id, a.id)
    await history.merge_customers(c.id, b.id)
    assert (await history.get_customer(a.id)).id == c.id
    assert sorted((await history.get_customer(a.id)).emails) == ["a@example.com", "b@example.com",
                                                                "c@example.com"]
    # Merging what is already one is a no-op, not an error.
    assert (await history.merge_customers(c.id, a.id)).id == c.id


async def test_merge_errors(history):
    a = await history.identify("email", "a@example.com")
    with pytest.raises(Conflict) as e:
        await history.merge_customers(a.id, a.id)
    assert e.value.code == "same_customer"
    with pytest.raises(NotFound):
        await history.merge_customers(a.id, "999999")
    with pytest.raises(NotFound):
        await history.merge_customers("abc", a.id)


async def test_search_by_text_phone_and_email(history):
    ann = await history.identify("phone", "+14155550100", name="Ann Lee")
    await history.update_customer(ann.id, organisation="Acme_Corp")
    bob = await history.identify("email", "bob@acme.example", name="Bob")
    assert [c.id for c in await history.search_customers(q="ann")] == [ann.id]
    assert [c.id for c in await history.search_customers(q="ACME")] == [bob.id, ann.id]  # newest change first
    assert [c.id for c in await history.search_customers(q="_c")] == [ann.id]  # `_` is literal, not a wildcard
    assert [c.id for c in await history.search_customers(phone="(415) 555-0100")] == [ann.id]
    assert [c.id for c in await history.search_customers(email="BOB@acme.example")] == [bob.id]
    assert await history.search_customers(q="ann", email="bob@acme.example") == []
    assert len(await history.search_customers(limit=1)) == 1
    with pytest.raises(InvalidInput):
        await history.search_customers(limit=0)


async def test_update_customer_records_a_descriptive_event(history):
    c = await history.identify("email", "u@example.com")
    updated = await history.update_customer(c.id, name=" Uma ", tags=["vip", "vip", "b2b"],
                                            attributes={"value": 1200})
    assert (updated.name, updated.tags, updated.attributes) == ("Uma", ("vip", "b2b"), {"value": 1200})
    [event] = await history.timeline(c.id)
    assert event.type == "customer.updated" and event.data["name"] == "Uma"
    for bad in ({"password": "x"}, {"tags": "vip"}, {"attributes": {"x": float("nan")}}, {"name": 5}):
        with pytest.raises(InvalidInput):
            await history.update_customer(c.id, **bad)
    assert (await history.get_customer(c.id)).name == "Uma"


async def test_merges_racing_appends_lose_nothing(history):
    people = [await history.identify("email", f"p{n}@example.com") for n in range(6)]
    contacts = [await history.open_contact(p.id, "chat", "general") for p in people]

    async def talk(contact):
        for i in range(15):
            await history.append_event(contact.id, "message.in", {"i": i}, client_id=f"{contact.id}-{i}")

    async def merge_all():
        for p in people[1:]:
            await history.merge_customers(people[0].id, p.id)
            await asyncio.sleep(0)

    await asyncio.gather(merge_all(), *(talk(c) for c in contacts))
    events = []
    before = None
    while page := await history.timeline(people[3].id, before=before, limit=20):
        events += page
        before = page[-1].id
    assert sum(e.type == "message.in" for e in events) == 6 * 15
    assert sum(e.type == "customer.merged" for e in events) == 5
    assert {(await history.get_customer(p.id)).id for p in people} == {people[0].id}
