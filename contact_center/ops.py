"""Operations endpoints: `/healthz` (database and Redis reachable), `/metrics` (Prometheus), `/api/openapi.json`."""
from __future__ import annotations

import asyncio
import json
import logging
from functools import lru_cache
from importlib import resources
from typing import Any

from aiohttp import web

from contact_center.keys import HISTORY, METRICS, REDIS, ROUTER
from contact_center.metrics import CONTENT_TYPE

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 2.0


async def _check(coro: Any) -> dict[str, Any]:
    try:
        await asyncio.wait_for(coro, CHECK_TIMEOUT_S)
    except Exception as e:  # noqa: BLE001  (any failure means "down"; the message says why)
        return {"ok": False, "error": str(e) or type(e).__name__}
    return {"ok": True}


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz: 200 when the database (and Redis, when configured) answer, else 503."""
    checks = {"database": await _check(request.app[HISTORY].ping())}
    redis = request.app[REDIS]
    if redis is not None:
        checks["redis"] = await _check(redis.ping())
    ok = all(c["ok"] for c in checks.values())
    return web.json_response({"status": "ok" if ok else "unavailable", "checks": checks},
                             status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics: Prometheus text format."""
    app = request.app
    m = app[METRICS]
    router = app[ROUTER]
    try:
        m.update_queues(await router.queue_stats())
        m.update_agents(await router.agent_stats())
    except Exception:  # the counters are still worth serving when routing stats fail
        log.exception("could not read routing stats for /metrics")
    return web.Response(body=m.render(), headers={"Content-Type": CONTENT_TYPE})


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document shipped with the package (contact_center/openapi.json)."""
    text = resources.files("contact_center").joinpath("openapi.json").read_text(encoding="utf-8")
    return json.loads(text)


async def openapi(request: web.Request) -> web.Response:
    """GET /api/openapi.json."""
    return web.json_response(openapi_document())


def setup(app: web.Application) -> None:
    """Add the operations routes."""
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/metrics", metrics, name="metrics")
    app.router.add_get("/api/openapi.json", openapi, name="openapi")
