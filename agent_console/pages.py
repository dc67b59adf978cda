"""The agent and supervisor pages: `GET /` (agent desktop), `/login`, `/supervisor` and `/static/console/`.

Server-rendered shells plus ES modules. The pages learn who is logged in from the public API (`GET /api/me`) and
send the browser to `/login` when it answers 401, so they depend on nothing but the contract in docs/api.md.
"""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from contact_center.keys import DEMO_CREDENTIALS
from contact_center.web_pages import BASE_CSP, PageRenderer, app_settings, setup_common

HERE = Path(__file__).parent

_RENDERER = web.AppKey("console_page_renderer", PageRenderer)
PAGES = {"/": ("desktop.html", "agent_desktop"), "/login": ("login.html", "login_page"),
         "/supervisor": ("supervisor.html", "supervisor_board")}


def _handler(template: str):
    async def handler(request: web.Request) -> web.Response:
        settings = app_settings(request.app)
        # A demo server shows its demo logins on the login page, so a newcomer needs nothing from the terminal.
        demo = request.app.get(DEMO_CREDENTIALS, []) if settings.demo else []
        return request.app[_RENDERER].render(template, max_chars=settings.max_message_chars, demo=demo)
    handler.__doc__ = f"Serve {template}."
    return handler


def setup_pages(app: web.Application) -> None:
    """Register the agent desktop `/`, `/login`, `/supervisor` and the static files under `/static/console/`."""
    app[_RENDERER] = PageRenderer(HERE / "templates", HERE / "static", csp=BASE_CSP + "; frame-ancestors 'none'",
                                  extra_headers={"X-Frame-Options": "DENY"})
    for path, (template, name) in PAGES.items():
        app.router.add_get(path, _handler(template), name=name)
    setup_common(app)
    app.router.add_static("/static/console/", HERE / "static", name="console_static")
