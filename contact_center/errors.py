"""Errors a client can see: one exception with a stable code, and the middleware that renders every error as JSON.

Every HTTP error the app answers, including aiohttp's own 404/405 for unknown routes, leaves as
`{"error": {"code": ..., "message": ...}}` with the matching status (docs/api.md).
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from contact_center.domain import DomainError

log = logging.getLogger(__name__)

# The code of each plain HTTP status when no more specific code is given.
_STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 415: "unsupported_media_type", 429: "rate_limited",
    500: "internal_error", 503: "unavailable",
}


class ApiError(Exception):
    """An error for the client: HTTP status, stable code, human-readable message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_json(self) -> dict[str, Any]:
        """The error body of docs/api.md."""
        return {"error": {"code": self.code, "message": self.message}}


def error_response(status: int, code: str, message: str) -> web.Response:
    """A JSON error response."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn ApiError, aiohttp's HTTP exceptions and unexpected failures into JSON errors."""
    try:
        return await handler(request)
    except ApiError as e:
        return error_response(e.status, e.code, e.message)
    except DomainError as e:  # the history's errors carry their own status and code
        if e.status >= 500:
            log.error("%s %s: %s", request.method, request.path, e.message)
        return error_response(e.status, e.code, e.message)
    except web.HTTPException as e:
        if e.status < 400:  # redirects and 204s pass through untouched
            raise
        if e.content_type == "application/json":
            raise  # already a JSON error body
        code = _STATUS_CODES.get(e.status, "http_error")
        message = e.reason if e.status != 404 else f"no such resource: {request.method} {request.path}"
        return error_response(e.status, code, message)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "internal_error", "the server failed; the error was logged")


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 with code `bad_json`."""
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "bad_json", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    return body


def require_str(body: dict[str, Any], name: str, *, max_len: int = 1000, optional: bool = False) -> str | None:
    """A string field of a JSON body, or a 400 with code `missing_field` / `bad_field`."""
    value = body.get(name)
    if value is None:
        if optional:
            return None
        raise ApiError(400, "missing_field", f"field {name!r} is required")
    if not isinstance(value, str):
        raise ApiError(400, "bad_field", f"field {name!r} must be a string")
    if len(value) > max_len:
        raise ApiError(400, "bad_field", f"field {name!r} is longer than {max_len} characters")
    return value
