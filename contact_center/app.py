"""The app assembly: `create_app(settings)` wires history, routing, lifecycle, channels and the agent console
into one aiohttp application; `serve(settings)` runs it.

Shared services hang off `web.AppKey`s (contact_center.keys); each is opened and closed by a `cleanup_ctx`, in
order history -> routing (with the lifecycle and the tick loop) -> channels -> demo, and closed in reverse, after
the websockets were told the server is going away.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator

import redis.asyncio
from aiohttp import WSCloseCode, web

import agent_console
import channels.webchat
from agent_console.pages import setup_pages
from channels.webchat.page import setup_page
from contact_center import ops
from contact_center.demo import ensure_demo_users, with_demo_queue
from contact_center.errors import json_errors
from contact_center.hub import Hub
from contact_center.identity import IdentityRules
from contact_center.intake import Intake
from contact_center.keys import (
    CHANNELS,
    DEMO_CREDENTIALS,
    HISTORY,
    HUB,
    INTAKE,
    LIFECYCLE,
    METRICS,
    RECOVERED,
    REDIS,
    ROUTER,
    SETTINGS,
    SOCKETS,
)
from contact_center.lifecycle import Lifecycle
from contact_center.metrics import Metrics
from contact_center.queue_settings import router_settings
from contact_center.recovery import abandon_unless_back, recover
from contact_center.settings import Settings
from contact_center.staffing import register_all
from routing import MemoryStore, RedisStore, Router, Store

log = logging.getLogger(__name__)

TICK_INTERVAL_S = 0.1  # how late an offer timeout or wrap-up timer may fire
REDIS_PREFIX = "cc:"


async def _history_ctx(app: web.Application) -> AsyncIterator[None]:
    from contact_center.history import History
    from contact_center.history.migrations import upgrade

    url = app[SETTINGS].database_url
    await asyncio.to_thread(upgrade, url)  # alembic is synchronous
    history = await History.connect(url, rules=IdentityRules.from_settings(app[SETTINGS]))
    app[HISTORY] = history
    yield
    await history.close()


def _store(settings: Settings) -> tuple[Store, redis.asyncio.Redis | None]:
    """The routing store the settings select, and the Redis client it uses (or None)."""
    if not settings.redis_url:
        return MemoryStore(), None
    client = redis.asyncio.from_url(settings.redis_url)
    return RedisStore(client, prefix=REDIS_PREFIX), client


async def _tick_loop(router: Router) -> None:
    while True:
        try:
            await router.tick()
        except Exception:  # keep ticking: one failure must not stop every timer
            log.exception("routing tick failed")
        await asyncio.sleep(TICK_INTERVAL_S)


async def _routing_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store, redis_client = _store(settings)
    app[REDIS] = redis_client
    router = Router(store, settings=router_settings(settings))
    lifecycle = Lifecycle(app[HISTORY], router, app[HUB], app[METRICS], settings, app[CHANNELS])
    router.subscribe(lifecycle.on_routing_event)
    lifecycle.start()
    app[ROUTER] = router
    app[LIFECYCLE] = lifecycle
    app[INTAKE] = Intake(app[HISTORY], router, app[HUB], lifecycle, app[METRICS], settings)
    await register_all(app[HISTORY], router, settings)
    # Before serving anyone: contacts a crash left open go back to routing (or are closed), oldest first.
    app[RECOVERED] = await recover(app[HISTORY], router, app[INTAKE])
    ticker = asyncio.get_running_loop().create_task(_tick_loop(router), name="routing-tick")
    yield
    ticker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ticker
    await lifecycle.stop()
    if isinstance(store, RedisStore):
        await store.close()  # sends its write-behind, closes its own connection and the client


async def _demo_ctx(app: web.Application) -> AsyncIterator[None]:
    if app[SETTINGS].demo:
        app[DEMO_CREDENTIALS] = await ensure_demo_users(app[HISTORY], app[ROUTER], app[SETTINGS])
    yield


async def _close_sockets(app: web.Application) -> None:
    """On shutdown: tell every websocket the server is going away (clients reconnect and resume), all at once so
    slow clients cost one close timeout, not one each."""
    app[HUB].close_all()
    sockets = app[SOCKETS]
    await asyncio.gather(*(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
                           for ws in list(sockets)), return_exceptions=True)


def create_app(settings: Settings) -> web.Application:
    """The whole platform as one aiohttp application (services open when the app starts)."""
    if settings.demo:
        settings = with_demo_queue(settings)
    app = web.Application(middlewares=[json_errors], client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[HUB] = Hub()
    app[METRICS] = Metrics()
    app[CHANNELS] = {}
    app[SOCKETS] = set()  # type: ignore[index]  # aiohttp types AppKey values loosely
    app[DEMO_CREDENTIALS] = []
    app.cleanup_ctx.append(_history_ctx)
    app.cleanup_ctx.append(_routing_ctx)
    channels.webchat.setup(app)
    agent_console.setup(app, settings)
    app.cleanup_ctx.append(_demo_ctx)
    ops.setup(app)
    setup_pages(app)
    setup_page(app)
    app.on_startup.append(abandon_unless_back)  # after every cleanup_ctx: the channels' adapters exist
    app.on_shutdown.append(_close_sockets)
    return app


def serve(settings: Settings) -> None:
    """Run the platform until SIGINT/SIGTERM, then shut down gracefully."""
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)

    async def announce(app: web.Application) -> None:
        for role, username, password in app[DEMO_CREDENTIALS]:
            print(f"demo {role}: username {username!r} password {password!r}", flush=True)

    app.on_startup.append(announce)
    url = f"http://{settings.host}:{settings.port}"

    def ready(_: str) -> None:
        print(f"contact center running at {url} (agent desktop {url}/, chat {url}/chat); Ctrl+C stops it",
              flush=True)

    web.run_app(app, host=settings.host, port=settings.port, print=ready, shutdown_timeout=10.0,
                access_log=None, handle_signals=True)
    sys.stdout.flush()
