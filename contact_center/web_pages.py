"""Serving server-rendered page shells: Jinja2 templates (autoescaped), a cache-busting asset version, the
scripts every page shares (`/static/common/`) and the caching rules of static files.

Used by the chat page (`channels.webchat.page`) and the console pages (`agent_console.pages`), which own their
templates and static folders; this module only knows how to serve them safely.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from contact_center.keys import SETTINGS
from contact_center.settings import Settings

COMMON_STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/"

# Scripts and styles only from this origin: even a rendering bug could not run injected markup.
BASE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'")


def asset_version(*folders: Path) -> str:
    """A short hash of every file in the static folders, appended to asset URLs so a deploy busts browser caches."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


class PageRenderer:
    """Renders the templates of one folder, with the asset version of its static folder and safe headers."""

    def __init__(self, templates: Path, static: Path, *, csp: str = BASE_CSP,
                 extra_headers: Mapping[str, str] | None = None) -> None:
        self._env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=True,
                                       undefined=jinja2.StrictUndefined)
        # The pages link /static/common/ files with the same ?v=, so the shared folder counts too.
        self.version = asset_version(static, COMMON_STATIC)
        self._headers = {"Content-Security-Policy": csp, "Cache-Control": "no-cache",
                         "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff",
                         **(extra_headers or {})}

    def render(self, template: str, **context: Any) -> web.Response:
        """An HTML response for `template`, with `version` in its context and the security headers."""
        html = self._env.get_template(template).render(version=self.version, **context)
        return web.Response(text=html, content_type="text/html", headers=self._headers)


def app_settings(app: web.Application) -> Settings:
    """The app's Settings, or the defaults for a bare app (the page tests mount the pages alone)."""
    return app.get(SETTINGS) or Settings()


async def _static_cache_headers(request: web.Request, response: web.StreamResponse) -> None:
    # A URL with ?v=<hash> never changes, so it may be cached for good; a module's own imports carry no version,
    # so those are revalidated (a cheap 304) on every load and a deploy never mixes old and new modules.
    if request.path.startswith(STATIC_PREFIX) and "Cache-Control" not in response.headers:
        immutable = "v" in request.query and response.status == 200
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")


def setup_common(app: web.Application) -> None:
    """Serve `/static/common/` and set the caching headers of static files; safe to call more than once."""
    if "common_static" in app.router.named_resources():
        return
    app.router.add_static("/static/common/", COMMON_STATIC, name="common_static")
    app.on_response_prepare.append(_static_cache_headers)
