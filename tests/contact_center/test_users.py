"""Users: argon2 hashes, roles, skills and queues; parsing of the CLI's skill and queue lists."""
import pytest
from sqlalchemy import select

from contact_center.domain import Conflict, InvalidInput, NotFound
from contact_center.history.models import users
from contact_center.users import parse_capacity, parse_queues, parse_skills


async def test_create_and_verify(history):
    u = await history.create_user("ann", "agent", "s3cret-pw", {"billing": 5, "spanish": 1}, ["general", "vip"])
    assert (u.username, u.role, dict(u.skills), u.queues) == ("ann", "agent", {"billing": 5, "spanish": 1},
                                                             ("general", "vip"))
    assert "password" not in str(u.to_json())
    async with history.db.read() as conn:
        stored = (await conn.execute(select(users.c.password_hash))).scalar()
    assert stored.startswith("$argon2id$") and "s3cret-pw" not in stored
    assert (await history.verify_password("ann", "s3cret-pw")).id == u.id
    assert await history.verify_password("ann", "wrong") is None
    assert await history.verify_password("nobody", "s3cret-pw") is None
    assert (await history.get_user(u.id)).username == "ann"
    assert (await history.get_user_by_username("ann")).id == u.id
    assert await history.get_user_by_username("nobody") is None
    assert [x.username for x in await history.list_users()] == ["ann"]


async def test_taken_username_is_a_conflict(history):
    await history.create_user("ann", "agent", "pw")
    with pytest.raises(Conflict) as e:
        await history.create_user("ann", "supervisor", "pw2")
    assert e.value.code == "user_exists"
    assert len(await history.list_users()) == 1


@pytest.mark.parametrize("args", [
    ("", "agent", "pw"), ("has space", "agent", "pw"), ("ann", "boss", "pw"), ("ann", "agent", ""),
    ("ann", "agent", "pw", {"billing": 11}), ("ann", "agent", "pw", {"bad skill": 1}),
    ("ann", "agent", "pw", None, ["no spaces allowed"]),
])
async def test_bad_users_are_refused(history, args):
    with pytest.raises(InvalidInput):
        await history.create_user(*args)
    assert await history.list_users() == []


def test_parse_skills_and_queues():
    assert parse_skills("billing:5, spanish") == {"billing": 5, "spanish": 1}
    assert parse_skills("") == {}
    assert parse_queues("", "general") == ["general"]
    assert parse_queues("sales, support,sales", "general") == ["sales", "support"]
    for bad in ("billing:five", "billing:99", "a b"):
        with pytest.raises(InvalidInput):
            parse_skills(bad)


async def test_capacity_is_stored_and_changed_with_skills_and_queues(history):
    ann = await history.create_user("ann", "agent", "pw", {"billing": 5}, ["general"], {"chat": 2, "voice": 0})
    assert ann.capacity == {"chat": 2, "voice": 0} and ann.to_json()["capacity"] == {"chat": 2, "voice": 0}
    assert (await history.create_user("bob", "agent", "pw")).capacity is None  # the defaults
    changed = await history.update_user(ann.id, capacity={"email": 1}, queues=["billing"])
    assert (changed.capacity, changed.queues, dict(changed.skills)) == ({"email": 1}, ("billing",), {"billing": 5})
    assert (await history.get_user(ann.id)).capacity == {"email": 1}
    assert (await history.update_user(ann.id, capacity=None)).capacity is None
    assert (await history.update_user(ann.id, skills={"sales": 2})).skills == {"sales": 2}


@pytest.mark.parametrize("fields", [{"capacity": {"fax": 1}}, {"capacity": {"chat": 101}}, {"capacity": {"chat": True}},
                                    {"skills": {"billing": 11}}, {"queues": ["a b"]}, {"role": "admin"}])
async def test_bad_user_changes_are_refused_and_change_nothing(history, fields):
    ann = await history.create_user("ann", "agent", "pw", {"billing": 5}, ["general"], {"chat": 2})
    with pytest.raises(InvalidInput):
        await history.update_user(ann.id, **fields)
    assert await history.get_user(ann.id) == ann


async def test_changing_an_unknown_user_is_not_found(history):
    with pytest.raises(NotFound):
        await history.update_user("424242", capacity={"chat": 1})


def test_parse_capacity():
    assert parse_capacity("chat:2, voice:0") == {"chat": 2, "voice": 0}
    assert parse_capacity("") is None
    for bad in ("chat", "chat:two", "fax:1", "chat:-1", "chat:101"):
        with pytest.raises(InvalidInput) as e:
            parse_capacity(bad)
        assert e.value.code == "bad_capacity"
