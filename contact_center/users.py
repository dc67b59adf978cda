"""Users (agent identity): roles, argon2 password hashes, skills with levels, queues; `contact-center user add`.

The rows live in the history database (`History.create_user` and friends); this module holds the rules.
"""
from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from contact_center.domain import ROLES, InvalidInput, NotFound, User
from routing import CHANNELS

if TYPE_CHECKING:
    from contact_center.settings import Settings

DEFAULT_SKILL_LEVEL = 1  # a skill named without a level ("spanish")
MIN_SKILL_LEVEL, MAX_SKILL_LEVEL = 0, 10
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # skills and queues (also in the settings file)
_HASHER = PasswordHasher()  # argon2id with the RFC 9106 low-memory parameters; stateless, safe to share
_MAX_PASSWORD = 1024
MAX_CAPACITY = 100  # contacts of one channel at once; far above any real desk


def check_username(username: Any) -> str:
    """A valid username (letters, digits, `._@-`, at most 100 characters)."""
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise InvalidInput("username must be 1-100 letters, digits or ._@- and start with a letter or digit",
                           code="bad_username")
    return username


def check_role(role: Any) -> str:
    """One of agent, supervisor, admin."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not {role!r}", code="bad_role")
    return role


def check_skills(skills: Mapping[str, Any] | None) -> dict[str, int]:
    """Skill name → level (0-10)."""
    out: dict[str, int] = {}
    for name, level in (skills or {}).items():
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise InvalidInput(f"bad skill name {name!r}", code="bad_skills")
        if isinstance(level, bool) or not isinstance(level, int) or not MIN_SKILL_LEVEL <= level <= MAX_SKILL_LEVEL:
            raise InvalidInput(f"skill {name} level must be a whole number {MIN_SKILL_LEVEL}-{MAX_SKILL_LEVEL}, "
                               f"not {level!r}", code="bad_skills")
        out[name] = level
    return out


def check_queues(queues: Iterable[str] | None) -> list[str]:
    """Distinct queue names, order kept."""
    out = list(dict.fromkeys(queues or ()))
    for q in out:
        if not isinstance(q, str) or not NAME_RE.match(q):
            raise InvalidInput(f"bad queue name {q!r}", code="bad_queues")
    return out


def check_capacity(capacity: Mapping[str, Any] | None) -> dict[str, int] | None:
    """Channel → contacts at once (0-100, 0 = not served); None or empty = the `[routing] capacity` defaults."""
    if not capacity:
        return None
    if not isinstance(capacity, Mapping):
        raise InvalidInput("capacity must map channels to whole numbers, such as {\"chat\": 2}",
                           code="bad_capacity")
    out: dict[str, int] = {}
    for channel, n in capacity.items():
        if channel not in CHANNELS:
            raise InvalidInput(f"capacity: unknown channel {channel!r} (channels: {', '.join(CHANNELS)})",
                               code="bad_capacity")
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_CAPACITY:
            raise InvalidInput(f"capacity for {channel} must be a whole number 0-{MAX_CAPACITY}, not {n!r}",
                               code="bad_capacity")
        out[channel] = n
    return out


def check_routable(settings: Settings, skills: Mapping[str, Any], queues: Iterable[str],
                   capacity: Mapping[str, int] | None) -> None:
    """Refuse what routing would refuse or never use for an agent: skills outside the `[routing] skills` catalogue
    (when one is configured), a queue no contact can reach (neither the default queue nor a `[queues.NAME]`
    table: a typo would leave the agent waiting on an empty queue), a capacity override that leaves no channel."""
    catalogue = settings.routing.skills
    unknown = sorted(set(skills) - catalogue) if catalogue is not None else []
    if unknown:
        raise InvalidInput(f"unknown skill(s) {', '.join(unknown)}; the settings file's [routing] skills allows "
                           f"{', '.join(sorted(catalogue or ()))}", code="unknown_skill")
    known = settings.known_queues()
    unknown = [q for q in queues if q not in known]
    if unknown:
        raise InvalidInput(f"unknown queue(s) {', '.join(unknown)}; the settings define "
                           f"{', '.join(sorted(known))} (a queue is the default queue or a [queues.NAME] table)",
                           code="unknown_queue")
    if not any({**settings.routing.capacity, **(capacity or {})}.values()):
        raise InvalidInput("capacity leaves no channel to serve: give one channel 1 or more", code="bad_capacity")


def _name_number_pairs(text: str) -> Iterator[tuple[str, str, str]]:
    """`"a:5, b"` → ("a", ":", "5"), ("b", "", ""): the comma-separated `name[:number]` items of a CLI flag."""
    for part in (p.strip() for p in (text or "").split(",")):
        if part:
            name, sep, number = part.partition(":")
            yield name.strip(), sep, number.strip()


def parse_capacity(text: str) -> dict[str, int] | None:
    """`"chat:2,voice:1"` → `{"chat": 2, "voice": 1}`; nothing → None (the defaults)."""
    capacity: dict[str, Any] = {}
    for channel, _, n in _name_number_pairs(text):
        try:
            capacity[channel] = int(n)
        except ValueError:
            raise InvalidInput(f"capacity {channel}:{n}: write channel:number, such as chat:2",
                               code="bad_capacity") from None
    return check_capacity(capacity)


def parse_skills(text: str) -> dict[str, int]:
    """`"billing:5,spanish"` → `{"billing": 5, "spanish": 1}`."""
    skills: dict[str, Any] = {}
    for name, sep, level in _name_number_pairs(text):
        try:
            skills[name] = int(level) if sep else DEFAULT_SKILL_LEVEL
        except ValueError:
            raise InvalidInput(f"skill {name!r}: level {level!r} is not a whole number", code="bad_skills") from None
    return check_skills(skills)


def parse_queues(text: str, default_queue: str) -> list[str]:
    """`"sales,support"` → `["sales", "support"]`; nothing → `[default_queue]`."""
    queues = [q.strip() for q in (text or "").split(",") if q.strip()]
    return check_queues(queues or [default_queue])


def hash_password(password: Any) -> str:
    """An argon2id hash of `password`."""
    if not isinstance(password, str) or not password:
        raise InvalidInput("password must not be empty", code="bad_password")
    if len(password) > _MAX_PASSWORD:
        raise InvalidInput(f"password is longer than {_MAX_PASSWORD} characters", code="bad_password")
    return _HASHER.hash(password)


def check_password(password_hash: str, password: str) -> tuple[bool, bool]:
    """(matches, needs a new hash) — the second is true when the hashing parameters have since changed."""
    try:
        _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    return True, _HASHER.check_needs_rehash(password_hash)


@functools.cache
def dummy_hash() -> str:
    """A hash to verify against when the username is unknown, so a wrong name costs what a wrong password does
    (made on first use: hashing is deliberately slow, and most processes never need it)."""
    return _HASHER.hash("not a real password")


async def add_user_from_cli(settings: Settings, name: str, role: str, password: str, skills: str = "",
                            queues: str = "", capacity: str = "") -> User:
    """`contact-center user add`: parse "billing:5,spanish", "q1,q2" (none = the default queue) and
    "chat:2,voice:1" (none = the defaults), check the skills against the settings' catalogue, store."""
    from contact_center.history import History
    from contact_center.history.migrations import upgrade

    parsed_skills = parse_skills(skills)
    parsed_queues = parse_queues(queues, settings.default_queue)
    parsed_capacity = parse_capacity(capacity)
    if role == "agent":
        check_routable(settings, parsed_skills, parsed_queues, parsed_capacity)
    await asyncio.to_thread(upgrade, settings.database_url)  # a fresh install can add its first user at once
    history = await History.connect(settings.database_url)
    try:
        return await history.create_user(name, role, password, parsed_skills, parsed_queues, parsed_capacity)
    finally:
        await history.close()


async def set_user_from_cli(settings: Settings, name: str, skills: str | None = None, queues: str | None = None,
                            capacity: str | None = None) -> User:
    """`contact-center user set`: replace what is given (`capacity` "default" = back to the `[routing] capacity`
    defaults), checked as `user add` checks it. A running server applies it at the agent's next login."""
    from contact_center.history import History
    from contact_center.history.migrations import upgrade

    changes: dict[str, Any] = {}
    if skills is not None:
        changes["skills"] = parse_skills(skills)
    if queues is not None:
        changes["queues"] = parse_queues(queues, settings.default_queue)
    if capacity is not None:
        changes["capacity"] = None if capacity.strip() == "default" else parse_capacity(capacity)
    await asyncio.to_thread(upgrade, settings.database_url)
    history = await History.connect(settings.database_url)
    try:
        user = await history.get_user_by_username(name)
        if user is None:
            raise NotFound(f"no user named {name!r}")
        if user.role == "agent":
            check_routable(settings, changes.get("skills", user.skills), changes.get("queues", ()),
                           changes.get("capacity", user.capacity))
        return await history.update_user(user.id, **changes)
    finally:
        await history.close()
