"""The aiohttp `AppKey`s of the assembled application: typed handles on the shared services.

They live apart from `contact_center.app` so that channels and the agent console can reach the services without
importing the assembly (which imports them).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from contact_center.settings import Settings

if TYPE_CHECKING:
    from contact_center.channel import ChannelAdapter
    from contact_center.history import History
    from contact_center.hub import Hub
    from contact_center.intake import Intake
    from contact_center.lifecycle import Lifecycle
    from contact_center.metrics import Metrics
    from contact_center.recovery import RecoveryReport
    from routing import Router

SETTINGS = web.AppKey("settings", Settings)
HISTORY: web.AppKey[History] = web.AppKey("history")
ROUTER: web.AppKey[Router] = web.AppKey("router")
HUB: web.AppKey[Hub] = web.AppKey("hub")
INTAKE: web.AppKey[Intake] = web.AppKey("intake")
LIFECYCLE: web.AppKey[Lifecycle] = web.AppKey("lifecycle")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
REDIS: web.AppKey[Any] = web.AppKey("redis")  # a redis.asyncio client when CC_REDIS_URL is set, else None
CHANNELS: web.AppKey[dict[str, ChannelAdapter]] = web.AppKey("channels")  # channel name -> adapter
SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("sockets")  # open websockets, closed on shutdown
DEMO_CREDENTIALS: web.AppKey[list[tuple[str, str, str]]] = web.AppKey("demo_credentials")  # (role, user, pw)
RECOVERED: web.AppKey[RecoveryReport] = web.AppKey("recovered")  # what crash recovery did at start
