"""Logins: argon2-checked passwords (through the history's users), an encrypted session cookie, roles.

The cookie is encrypted and authenticated with a key derived from CC_SECRET_KEY (aiohttp-session's
EncryptedCookieStorage, Fernet), HttpOnly and SameSite=Lax, Secure when the public URL is https.
"""
from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import aiohttp_session
from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from contact_center.errors import ApiError, read_json, require_str
from contact_center.keys import HISTORY, ROUTER, SETTINGS
from contact_center.settings import Settings
from contact_center.staffing import register_agent

COOKIE_NAME = "cc_session"
SESSION_MAX_AGE_S = 12 * 3600
ROLES = ("agent", "supervisor", "admin")

# Failed logins allowed per username and per client address within the window, before 429.
MAX_FAILURES = 10
FAILURE_WINDOW_S = 300.0

_THROTTLE: web.AppKey[LoginThrottle] = web.AppKey("login_throttle")


class LoginThrottle:
    """Counts recent failed logins so password guessing meets 429 (in-process; enough for one node)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = FAILURE_WINDOW_S) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        cutoff = time.monotonic() - self.window_s
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> bool:
        """True when any key has failed too often lately."""
        return any(len(self._recent(k)) >= self.max_failures for k in keys)

    def failed(self, *keys: str) -> None:
        """Record one failure for each key."""
        now = time.monotonic()
        for k in keys:
            self._recent(k).append(now)

    def succeeded(self, username_key: str) -> None:
        """A good password clears that username's failures."""
        self._failures.pop(username_key, None)


def session_key(settings: Settings) -> bytes:
    """The 32-byte cookie key: derived from CC_SECRET_KEY, or random per process when it is empty."""
    if settings.secret_key:
        return hashlib.sha256(b"contact-center session\0" + settings.secret_key.encode()).digest()
    return os.urandom(32)


def setup_sessions(app: web.Application, settings: Settings) -> None:
    """Install the session middleware (inside the JSON-errors middleware)."""
    storage = EncryptedCookieStorage(session_key(settings), cookie_name=COOKIE_NAME, httponly=True,
                                     samesite="Lax", max_age=SESSION_MAX_AGE_S,
                                     secure=settings.public_base_url.startswith("https:"))
    aiohttp_session.setup(app, storage)
    app.middlewares.append(same_origin_writes)
    app[_THROTTLE] = LoginThrottle()


async def current_user(request: web.Request) -> Any:
    """The logged-in user, or 401 `not_logged_in`."""
    session = await aiohttp_session.get_session(request)
    user_id = session.get("uid")
    user = await request.app[HISTORY].get_user(user_id) if user_id else None
    if user is None or getattr(user, "active", True) is False:
        raise ApiError(401, "not_logged_in", "log in first")
    return user


async def require_role(request: web.Request, *roles: str) -> Any:
    """The logged-in user if their role is one of `roles`, else 401/403."""
    user = await current_user(request)
    if user.role not in roles:
        raise ApiError(403, "forbidden", f"this needs the role {' or '.join(roles)}")
    return user


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_same_origin(request: web.Request) -> None:
    """403 `bad_origin` when a browser sends this request from another site (cross-site websocket hijacking:
    the cookie authenticates the agent socket, so only our own pages may open it)."""
    origin = request.headers.get("Origin")
    if origin is None:  # not a browser (scripts, tests): the cookie alone decides
        return
    allowed = {_origin_of(request.app[SETTINGS].public_base_url), f"{request.scheme}://{request.host}".lower()}
    if origin.lower() not in allowed:
        raise ApiError(403, "bad_origin", f"requests from {origin} are not allowed")


@web.middleware
async def same_origin_writes(request: web.Request, handler: Any) -> web.StreamResponse:
    """Refuse cross-site writes to the API (login CSRF and the like): SameSite=Lax already keeps the cookie off
    cross-site POSTs; this also stops a cross-site login and says why."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.path.startswith("/api/"):
        check_same_origin(request)
    return await handler(request)


async def login(request: web.Request) -> web.Response:
    """POST /api/login."""
    body = await read_json(request)
    username = require_str(body, "username", max_len=200)
    password = require_str(body, "password", max_len=1000)
    assert username is not None and password is not None
    throttle = request.app[_THROTTLE]
    keys = ("user:" + username.lower(), "addr:" + (request.remote or "?"))
    if throttle.blocked(*keys):
        raise ApiError(429, "rate_limited", "too many failed logins; wait a few minutes")
    user = await request.app[HISTORY].verify_password(username, password)
    if user is None:
        throttle.failed(*keys)
        raise ApiError(401, "bad_credentials", "wrong username or password")
    throttle.succeeded(keys[0])
    # A user added with `contact-center user add` while the server runs becomes routable at their login.
    await register_agent(request.app[ROUTER], user, request.app[SETTINGS])
    session = await aiohttp_session.new_session(request)  # a fresh session: no fixation
    session["uid"] = str(user.id)
    return web.json_response({"user": user.to_json()})


async def logout(request: web.Request) -> web.Response:
    """POST /api/logout."""
    session = await aiohttp_session.get_session(request)
    session.invalidate()
    return web.Response(status=204)
