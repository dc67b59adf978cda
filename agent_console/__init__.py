"""The agent desktop and supervisor board: pages, HTTP/WS API, auth and roles."""
from __future__ import annotations

from aiohttp import web

from agent_console import api, auth, ws
from contact_center.settings import Settings

__all__ = ["setup"]


def setup(app: web.Application, settings: Settings) -> None:
    """Sessions, the HTTP API and /ws/agent (the pages are agent_console.pages')."""
    auth.setup_sessions(app, settings)
    r = app.router
    r.add_post("/api/login", auth.login, name="login")
    r.add_post("/api/logout", auth.logout, name="logout")
    r.add_get("/api/me", api.me, name="me")
    r.add_get("/api/queues", api.queues, name="queues")
    r.add_get("/api/customers", api.customers, name="customers")
    r.add_get("/api/customers/{id}", api.customer, name="customer")
    r.add_post("/api/customers/{id}/merge", api.merge_customer, name="merge_customer")
    r.add_get("/api/contacts/{id}", api.contact, name="contact")
    r.add_get("/api/agents", api.agents, name="agents")
    r.add_post("/api/agents/{id}/state", api.set_agent_state, name="agent_state")
    r.add_get("/api/users", api.users, name="users")
    r.add_post("/api/users", api.add_user, name="add_user")
    r.add_patch("/api/users/{id}", api.update_user, name="update_user")
    r.add_get("/ws/agent", ws.agent_socket, name="agent_socket")
    app.cleanup_ctx.append(ws.grace_ctx)
