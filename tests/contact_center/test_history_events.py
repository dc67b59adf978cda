"""Contacts and append-only events: durability, idempotency, group commit, timeline paging; both databases."""
import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text

from contact_center.domain import ContactState, InvalidInput, NotFound
from contact_center.history import History


@pytest.fixture
async def contact(history):
    customer = await history.identify("phone", "+14155550100", name="Ann")
    return await history.open_contact(customer.id, "chat", "general", subject="billing question")


async def test_contact_lifecycle_fields(history, contact):
    assert contact.state is ContactState.NEW and contact.queue == "general" and contact.closed_at is None
    assert (await history.find_open_contact(contact.customer_id, "chat")).id == contact.id
    assert await history.find_open_contact(contact.customer_id, "sms") is None
    c = await history.update_contact(contact.id, state="assigned", agent_id="7")
    assert (c.state, c.agent_id) == (ContactState.ASSIGNED, "7")
    c = await history.update_contact(contact.id, state="closed", disposition="resolved")
    assert c.closed_at is not None and c.disposition == "resolved"
    assert await history.find_open_contact(contact.customer_id, "chat") is None
    assert c.to_json()["state"] == "closed" and c.to_json()["agent"] == "7"


async def test_contact_bad_input(history, contact):
    with pytest.raises(InvalidInput):
        await history.update_contact(contact.id, state="sleeping")
    with pytest.raises(InvalidInput):
        await history.update_contact(contact.id, customer_id="2")
    with pytest.raises(NotFound):
        await history.update_contact("424242", state="closed")
    with pytest.raises(InvalidInput):
        await history.open_contact(contact.customer_id, "pigeon", "general")
    with pytest.raises(NotFound):
        await history.open_contact("424242", "chat", "general")
    assert (await history.get_contact(contact.id))[0].state is ContactState.NEW


async def test_append_returns_the_stored_event(history, contact):
    e = await history.append_event(contact.id, "message.in", {"text": "hello"}, direction="in", client_id="m1")
    assert (e.contact_id, e.customer_id, e.type, e.direction, e.data) == (
        contact.id, contact.customer_id, "message.in", "in", {"text": "hello"})
    j = e.to_json()
    assert j["id"] == e.id and j["at"].endswith("Z") and j["category"] == "transactional"
    _c, evs = await history.get_contact(contact.id)
    assert [x.id for x in evs] == [e.id]


async def test_durable_when_append_returns(database_url, contact, history):
    e = await history.append_event(contact.id, "message.in", {"text": "keep me"}, direction="in")
    # Another History (another process's view) sees it at once: it was committed before append returned.
    other = await History.connect(database_url)
    try:
        _, evs = await other.get_contact(contact.id)
        assert [x.id for x in evs] == [e.id]
    finally:
        await other.close()
    if history.db.dialect == "sqlite":
        async with history.db.write() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 2  # FULL


async def test_idempotent_on_client_id(history, contact):
    a = await history.append_event(contact.id, "message.in", {"text": "once"}, client_id="abc")
    b = await history.append_event(contact.id, "message.in", {"text": "once"}, client_id="abc")
    concurrent = await asyncio.gather(*[history.append_event(contact.id, "message.in", {"text": "twice"},
                                                             client_id="xyz") for _ in range(10)])
    assert a.id == b.id
    assert len({e.id for e in concurrent}) == 1
    _, evs = await history.get_contact(contact.id)
    assert [e.client_id for e in evs] == ["abc", "xyz"]
    # The same client id in another contact is another message.
    other = await history.open_contact(contact.customer_id, "sms", "general")
    c = await history.append_event(other.id, "message.in", {"text": "once"}, client_id="abc")
    assert c.id != a.id


async def test_concurrent_appends_are_group_committed_in_order(history):
    contacts = []
    for n in range(40):
        customer = await history.identify("email", f"c{n}@example.com")
        contacts.append(await history.open_contact(customer.id, "chat", "general"))
    batches_before = history.writer.batches

    async def talk(contact):
        return [await history.append_event(contact.id, "message.in", {"n": i}, client_id=f"{contact.id}-{i}")
                for i in range(10)]

    results = await asyncio.gather(*[talk(c) for c in contacts])
    ids = [int(e.id) for per in results for e in per]
    assert len(set(ids)) == 400
    assert history.writer.batches - batches_before < 400 / 4  # many appends shared a commit
    for contact, per in zip(contacts, results):
        _, evs = await history.get_contact(contact.id)
        assert [e.data["n"] for e in evs] == list(range(10))  # each contact's order kept


async def test_one_bad_append_does_not_spoil_its_batch(history, contact):
    good, bad = await asyncio.gather(
        history.append_event(contact.id, "message.in", {"text": "fine"}),
        history.append_event("999999", "message.in", {"text": "nowhere"}),
        return_exceptions=True)
    assert isinstance(bad, NotFound)
    assert (await history.get_contact(contact.id))[1][0].id == good.id


@pytest.mark.parametrize("kwargs", [
    {"type": ""}, {"type": "x" * 65}, {"data": ["not", "an", "object"]}, {"data": {"x": object()}},
    {"data": {"x": float("inf")}}, {"direction": "sideways"}, {"category": "gossip"},
    {"data": {"big": "x" * 300_000}}, {"client_id": "c" * 101},
])
async def test_bad_events_are_refused_before_anything_is_written(history, contact, kwargs):
    args = {"type": "message.in", "data": {"text": "ok"}, **kwargs}
    with pytest.raises(InvalidInput):
        await history.append_event(contact.id, args.pop("type"), args.pop("data"), **args)
    assert (await history.get_contact(contact.id))[1] == []


async def test_unknown_contact_ids(history):
    for bad in ("999999", "abc", "", "-1", "1e3"):
        with pytest.raises(NotFound):
            await history.get_contact(bad)
        with pytest.raises(NotFound):
            await history.append_event(bad, "note", {})


async def test_timeline_pages_newest_first_across_contacts(history, contact):
    other = await history.open_contact(contact.customer_id, "sms", "general")
    written = []
    for i in range(60):
        target = contact if i % 2 else other
        written.append(await history.append_event(target.id, "message.in", {"i": i}))
    pages, before = [], None
    while True:
        page = await history.timeline(contact.customer_id, before=before, limit=25)
        if not page:
            break
        pages.append(page)
        before = page[-1].id
    assert [len(p) for p in pages] == [25, 25, 10]
    assert [e.id for p in pages for e in p] == [e.id for e in reversed(written)]
    with pytest.raises(InvalidInput):
        await history.timeline(contact.customer_id, before="yesterday")
    with pytest.raises(NotFound):
        await history.timeline("424242")


async def test_promotional_and_transactional_events_are_told_apart(history, contact):
    await history.append_event(contact.id, "message.out", {"text": "your order shipped"}, direction="out")
    await history.append_event(contact.id, "note", {"text": "will call back Friday", "promise": True},
                               agent_id="7")
    await history.record_customer_event(contact.customer_id, "campaign.touch",
                                        {"campaign": "spring-sale", "channel": "email"}, direction="out")
    kinds = {e.type: e.category.value for e in await history.timeline(contact.customer_id)}
    assert kinds == {"message.out": "transactional", "note": "promotional", "campaign.touch": "promotional"}


async def test_profile_figures(history):
    ann = await history.identify("phone", "+14155550100")
    agent = await history.create_user("jo", "agent", "pw-jo-123")
    for n in range(3):
        c = await history.open_contact(ann.id, "chat", "general")
        await history.update_contact(c.id, state="assigned", agent_id=agent.id if n < 2 else "other")
        await history.append_event(c.id, "survey.response", {"score": [5, 3, 4][n]})
        await history.update_contact(c.id, state="closed" if n < 2 else "abandoned")
    await history.record_customer_event(ann.id, "campaign.touch", {"campaign": "x"})
    p = await history.profile(ann.id)
    assert (p.contacts, p.resolved_contacts, p.value, p.value_source) == (3, 2, 2.0, "resolved_contacts")
    assert p.satisfaction == 4.0 and p.survey_responses == 3
    assert p.most_related_agent["agent_id"] == agent.id and p.most_related_agent["username"] == "jo"
    assert p.most_related_agent["contacts"] == 2
    assert p.frequency_per_30d == 3.0 and p.contacts_last_30d == 3
    assert p.events_by_category == {"transactional": 3, "promotional": 1}
    await history.update_customer(ann.id, attributes={"value": 950.5})
    p = await history.profile(ann.id)
    assert (p.value, p.value_source) == (950.5, "attribute")
    assert p.to_json()["channels"] == {"chat": 3}


async def test_agent_relations_rank_agents_as_the_profile_does(history):
    ann = await history.identify("phone", "+14155550100")
    # (agent, seconds from opened to closed; None = still open), oldest contact first
    for agent_id, seconds in [("a", 100), ("b", 30), ("c", 300), ("b", 30), ("e", 100), ("d", None), (None, 5)]:
        c = await history.open_contact(ann.id, "chat", "general")
        if agent_id:
            await history.update_contact(c.id, state="assigned", agent_id=agent_id)
        if seconds is not None:
            await history.update_contact(c.id, state="closed", closed_at=c.created_at + timedelta(seconds=seconds))
    relations = await history.agent_relations(ann.id)
    # most contacts, then the longer handling time, then the newer contact (e before a: both 100 s, e newer)
    assert [r.agent_id for r in relations] == ["b", "c", "e", "a", "d"]
    assert [(r.contacts, r.handled_s) for r in relations] == [(2, 60.0), (1, 300.0), (1, 100.0), (1, 100.0),
                                                               (1, 0.0)]
    assert max(relations, key=lambda r: r.last_contact_id).agent_id == "d"   # the last agent
    profile = await history.profile(ann.id)
    assert profile.most_related_agent == {"agent_id": "b", "contacts": 2, "handled_s": 60.0, "username": None}
    ben = await history.identify("email", "ben@example.com")
    await history.update_contact((await history.open_contact(ben.id, "email", "general")).id, agent_id="f")
    await history.merge_customers(ann.id, ben.id)
    assert [r.agent_id for r in await history.agent_relations(ben.id)] == ["b", "c", "e", "a", "f", "d"]
    assert await history.agent_relations("424242") == []


async def test_list_contacts_newest_first_and_ping(history, contact):
    await history.ping()
    later = await history.open_contact(contact.customer_id, "email", "general", subject="invoice")
    assert [c.id for c in await history.list_contacts(contact.customer_id)] == [later.id, contact.id]
    assert [c.id for c in await history.list_contacts(contact.customer_id, before=later.id)] == [contact.id]
