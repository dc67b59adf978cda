"""The HTTP API of the agent desktop and the supervisor board (docs/api.md): me, queues, customers, contacts,
agents, users. Every handler checks the session first; agents see only the contacts offered or assigned to them."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from agent_console.auth import ROLES, current_user, require_role
from contact_center.domain import InvalidInput
from contact_center.errors import ApiError, read_json, require_str
from contact_center.history.codes import SAME_CUSTOMER, USER_EXISTS
from contact_center.hub import agent_topic
from contact_center.keys import HISTORY, HUB, LIFECYCLE, ROUTER, SETTINGS
from contact_center.queue_settings import queue_json, routing_json
from contact_center.settings import Settings
from contact_center.staffing import register_agent
from contact_center.users import check_capacity, check_routable
from routing import RoutingError

SUPERVISORS = ("supervisor", "admin")
STATES = ("available", "away", "offline")  # what an agent (or a supervisor for them) may choose
TIMELINE_PAGE = 50
MAX_PAGE = 200


def _stats_rows(stats: Any) -> list[dict[str, Any]]:
    """routing's stats as a list of dicts, whichever shape it returns (one dict, dict by name, list)."""
    if stats is None:
        return []
    if isinstance(stats, dict) and stats and all(isinstance(v, dict) for v in stats.values()):
        return [{"name": k, **v} for k, v in stats.items()]
    if isinstance(stats, dict):
        return [stats]
    return [s if isinstance(s, dict) else getattr(s, "__dict__", {}) for s in stats]


# routing's real-time figures of an agent (docs/routing.md, "Metrics") that GET /api/agents carries.
AGENT_FIGURES = ("load", "capacity", "offered", "accepted", "rejected", "timeouts", "missed_in_a_row", "handled",
                 "aht_s", "occupancy", "time_in_state_s")


async def _agent_stats(router: Any, agent_id: str) -> dict[str, Any] | None:
    try:
        return await router.agent_stats(agent_id)
    except RoutingError:
        return None


def _status(stats: dict[str, Any] | None) -> dict[str, Any]:
    if stats is None:
        return {"state": "offline", "activity": "offline", "reason": None, "state_since": None}
    since = stats.get("state_since")
    return {"state": str(stats.get("presence", "offline")), "activity": str(stats.get("state", "offline")),
            "reason": stats.get("reason"),
            "state_since": datetime.fromtimestamp(since, UTC).isoformat().replace("+00:00", "Z") if since else None}


async def agent_status(router: Any, agent_id: str) -> dict[str, Any]:
    """An agent's `state` (the presence they chose), `activity` (routing's derived state), the `reason` of an
    away (or of routing's own change: `missed_offers`, `disconnected`) and since when the activity holds
    (`state_since`, ISO 8601); offline when routing does not know them."""
    return _status(await _agent_stats(router, agent_id))


def check_presence(settings: Settings, state: Any, reason: Any) -> tuple[str, str | None]:
    """A state to set, with its reason: away takes one of `[routing] away_reasons` or none (clients older than
    reasons send none); available and offline take none. InvalidInput `bad_field` / `bad_reason`."""
    if state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(STATES)}", code="bad_field")
    if reason is None:
        return state, None
    reasons = settings.routing.away_reasons
    if state != "away":
        raise InvalidInput(f"only away takes a reason, not {state}", code="bad_reason")
    if reason not in reasons:
        raise InvalidInput(f"unknown away reason {str(reason)[:40]!r}; the reasons are "
                           f"{', '.join(reasons) or 'none (the settings list no away_reasons)'}", code="bad_reason")
    return state, reason


def _int_param(request: web.Request, name: str, default: int, maximum: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_field", f"{name} must be a whole number") from None
    if not 0 < value <= maximum:
        raise ApiError(400, "bad_field", f"{name} must be between 1 and {maximum}")
    return value


async def me(request: web.Request) -> web.Response:
    """GET /api/me."""
    user = await current_user(request)
    app = request.app
    status = await agent_status(app[ROUTER], str(user.id))
    return web.json_response({"user": user.to_json(), "state": status["state"], "activity": status["activity"],
                              "reason": status["reason"], "away_reasons": list(app[SETTINGS].routing.away_reasons),
                              "connected": app[HUB].listeners(agent_topic(str(user.id))) > 0})


async def queues(request: web.Request) -> web.Response:
    """GET /api/queues: live figures of every queue, each with its configuration, and the routing settings."""
    await current_user(request)
    settings = request.app[SETTINGS]
    items = _stats_rows(await request.app[ROUTER].queue_stats())
    for item in items:
        if "name" in item:
            item["config"] = queue_json(str(item["name"]), settings)
    return web.json_response({"items": items, "routing": routing_json(settings)})


async def visible_customers(request: web.Request, agent_id: str) -> set[str]:
    """Ids of the customers an agent may look up: those with a contact offered or assigned to them now."""
    app = request.app
    lifecycle = app[LIFECYCLE]
    contact_ids = {o.contact_id for o in lifecycle.offers_for(agent_id)} | set(lifecycle.contacts_of(agent_id))
    seen: set[str] = set()
    for contact_id in contact_ids:
        try:
            the_contact, _ = await app[HISTORY].get_contact(contact_id)
            # Resolve through merges: the contact may name a customer merged into another since.
            seen.add(str((await app[HISTORY].get_customer(str(the_contact.customer_id))).id))
        except (KeyError, LookupError, ValueError):
            continue
    return seen


async def customers(request: web.Request) -> web.Response:
    """GET /api/customers?q=&phone=&email= (agents: only customers of contacts offered or assigned to them)."""
    user = await current_user(request)
    limit = _int_param(request, "limit", 50, MAX_PAGE)
    q = request.query
    try:
        found = await request.app[HISTORY].search_customers(q=q.get("q") or None, phone=q.get("phone") or None,
                                                            email=q.get("email") or None, limit=limit)
    except ValueError as e:  # an unparseable phone or email
        raise ApiError(400, "bad_field", str(e)) from e
    if user.role == "agent":
        allowed = await visible_customers(request, str(user.id))
        found = [c for c in found if str(c.id) in allowed]
    return web.json_response({"items": [c.to_json() for c in found]})


async def _customer_or_404(request: web.Request, customer_id: str) -> Any:
    try:
        customer = await request.app[HISTORY].get_customer(customer_id)
    except (KeyError, LookupError, ValueError):
        customer = None
    if customer is None:
        raise ApiError(404, "not_found", f"no customer {customer_id}")
    return customer


async def customer(request: web.Request) -> web.Response:
    """GET /api/customers/{id}: the customer and their timeline, newest first (?before= pages back); agents
    only for a customer with a contact offered or assigned to them."""
    user = await current_user(request)
    customer_id = request.match_info["id"]
    found = await _customer_or_404(request, customer_id)
    if user.role == "agent" and str(found.id) not in await visible_customers(request, str(user.id)):
        raise ApiError(403, "not_your_customer", "this customer has no contact offered or assigned to you")
    limit = _int_param(request, "limit", TIMELINE_PAGE, MAX_PAGE)
    events = await request.app[HISTORY].timeline(str(found.id), before=request.query.get("before"), limit=limit)
    body: dict[str, Any] = {"customer": found.to_json(), "timeline": [e.to_json() for e in events]}
    if len(events) == limit:
        body["next_before"] = body["timeline"][-1]["id"]
    return web.json_response(body)


async def merge_customer(request: web.Request) -> web.Response:
    """POST /api/customers/{id}/merge {"other_id"}: join another customer into this one (supervisors, admins)."""
    await require_role(request, *SUPERVISORS)
    keep = await _customer_or_404(request, request.match_info["id"])
    other_id = require_str(await read_json(request), "other_id", max_len=100)
    other = await _customer_or_404(request, str(other_id))
    if str(other.id) == str(keep.id):
        raise ApiError(409, SAME_CUSTOMER, "a customer cannot be merged into itself")
    merged = await request.app[HISTORY].merge_customers(str(keep.id), str(other.id))
    return web.json_response({"customer": merged.to_json()})


async def contact(request: web.Request) -> web.Response:
    """GET /api/contacts/{id}: the contact and its events (agents: only contacts offered or assigned to them)."""
    user = await current_user(request)
    contact_id = request.match_info["id"]
    try:
        found = await request.app[HISTORY].get_contact(contact_id)
    except (KeyError, LookupError, ValueError):
        found = None
    if found is None or found[0] is None:
        raise ApiError(404, "not_found", f"no contact {contact_id}")
    the_contact, events = found
    if user.role == "agent" and not request.app[LIFECYCLE].may_see(str(user.id), the_contact):
        raise ApiError(403, "not_your_contact", "this contact is not offered or assigned to you")
    return web.json_response({"contact": the_contact.to_json(), "events": [e.to_json() for e in events]})


async def agents(request: web.Request) -> web.Response:
    """GET /api/agents: every agent with live state, connection, current contacts and routing's real-time figures
    (supervisors, admins)."""
    await require_role(request, *SUPERVISORS)
    app = request.app
    lifecycle = app[LIFECYCLE]
    items = []
    for user in await app[HISTORY].list_users():
        if user.role != "agent":
            continue
        uid = str(user.id)
        stats = await _agent_stats(app[ROUTER], uid)
        status = _status(stats)
        figures = {k: stats[k] for k in AGENT_FIGURES} if stats else {}
        items.append({"id": uid, "username": user.username, **status, "presence": status["state"],
                      "connected": app[HUB].listeners(agent_topic(uid)) > 0,
                      "contacts": lifecycle.contacts_of(uid),
                      "offers": [o.offer_id for o in lifecycle.offers_for(uid)], **figures})
    return web.json_response({"items": items})


async def set_agent_state(request: web.Request) -> web.Response:
    """POST /api/agents/{id}/state {"state","reason"?}: a supervisor changes an agent's state."""
    await require_role(request, *SUPERVISORS)
    body = await read_json(request)
    state, reason = check_presence(request.app[SETTINGS], require_str(body, "state", max_len=20), body.get("reason"))
    agent_id = request.match_info["id"]
    try:
        await request.app[ROUTER].set_agent_state(agent_id, state, reason)
    except RoutingError as e:
        raise ApiError(404 if e.code == "unknown_agent" else 409, e.code, str(e) or e.code) from e
    return web.json_response({"id": agent_id, "state": state, "reason": reason})


async def users(request: web.Request) -> web.Response:
    """GET /api/users (supervisors, admins)."""
    await require_role(request, *SUPERVISORS)
    return web.json_response({"items": [u.to_json() for u in await request.app[HISTORY].list_users()]})


def _skills(raw: Any) -> dict[str, int]:
    if raw is None:
        return {}
    if isinstance(raw, dict) and all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
                                     and 1 <= v <= 10 for k, v in raw.items()):
        return raw
    raise ApiError(400, "bad_field", "skills must be an object of skill name to level 1..10")


def _queues(raw: Any) -> list[str]:
    queues = raw or []
    if not isinstance(queues, list) or not all(isinstance(q, str) and q for q in queues):
        raise ApiError(400, "bad_field", "queues must be a list of queue names")
    return queues


async def update_user(request: web.Request) -> web.Response:
    """PATCH /api/users/{id} {"skills"?,"queues"?,"capacity"?} (admins): each given field is replaced whole
    (`"capacity": null` = back to the defaults); an agent's routing changes at once, their contacts stay."""
    await require_role(request, "admin")
    body = await read_json(request)
    unknown = sorted(set(body) - {"skills", "queues", "capacity"})
    if unknown:
        raise ApiError(400, "bad_field", f"cannot change {', '.join(unknown)} (only skills, queues, capacity)")
    history = request.app[HISTORY]
    user = await history.get_user(request.match_info["id"])  # NotFound: 404
    changes: dict[str, Any] = {}
    if "skills" in body:
        changes["skills"] = _skills(body["skills"])
    if "queues" in body:
        changes["queues"] = _queues(body["queues"])
    if "capacity" in body:
        changes["capacity"] = check_capacity(body["capacity"])
    if user.role == "agent":
        check_routable(request.app[SETTINGS], changes.get("skills", user.skills), changes.get("queues", ()),
                       changes.get("capacity", user.capacity))
    user = await history.update_user(user.id, **changes)
    await register_agent(request.app[ROUTER], user, request.app[SETTINGS])
    return web.json_response({"user": user.to_json()})


async def add_user(request: web.Request) -> web.Response:
    """POST /api/users {"username","role","password","skills"?,"queues"?,"capacity"?} (admins); agents become
    routable at once."""
    await require_role(request, "admin")
    body = await read_json(request)
    username = require_str(body, "username", max_len=100)
    role = require_str(body, "role", max_len=20)
    password = require_str(body, "password", max_len=1000)
    assert username and role and password is not None
    if role not in ROLES:
        raise ApiError(400, "bad_field", f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise ApiError(400, "weak_password", "a password needs at least 8 characters")
    queues = _queues(body.get("queues"))
    skills = _skills(body.get("skills"))
    capacity = check_capacity(body.get("capacity"))  # InvalidInput: 400 bad_capacity
    if role == "agent":
        check_routable(request.app[SETTINGS], skills, queues, capacity)  # 400 unknown_skill / unknown_queue / ...
    history = request.app[HISTORY]
    if await history.get_user_by_username(username) is not None:
        raise ApiError(409, USER_EXISTS, f"a user named {username!r} exists")
    try:
        user = await history.create_user(username, role, password, skills, queues, capacity)
    except ValueError as e:
        raise ApiError(400, "bad_field", str(e)) from e
    await register_agent(request.app[ROUTER], user, request.app[SETTINGS])
    return web.json_response({"user": user.to_json()}, status=201)
