"""Crash recovery: at start, contacts the history still shows open are handed back to routing.

In-memory routing forgets every task when the process dies, while the history (durable) still shows contacts as
new, queued, offered, assigned or in wrap-up. Without this step those contacts would be stranded: in no queue,
offered to nobody, never abandoned. The rule per state (docs/internal-interfaces.md, "Crash recovery"):

- new, queued, offered: enqueued again, oldest first. Routing has no way to restore an enqueue time, but
  recovery runs before the server accepts anyone, so the recovered contacts keep their order among themselves and
  stay ahead of every contact that arrives later; the original time is kept in the `contact.recovered` event.
- assigned: a text conversation (chat, SMS, email) is enqueued again, preferring the agent it had, so that agent
  (or another one) picks it up; a call cannot outlive the server that held it, so voice is closed.
- wrapup: the conversation had ended, only the agent's wrap-up was missing: closed.

Every recovered contact gets a `contact.recovered` event saying what it was and what was done. With a shared
routing store (Redis) the tasks survived the crash: a contact routing still knows is left alone.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contact_center.intake import IntakeError
from contact_center.keys import CHANNELS, RECOVERED
from routing import RoutingError

if TYPE_CHECKING:
    from contact_center.domain import Contact
    from contact_center.history import History
    from contact_center.intake import Intake
    from routing import Router

log = logging.getLogger(__name__)

WAITING = ("new", "queued", "offered")
REQUEUE_WHEN_ASSIGNED = ("chat", "sms", "email")   # text conversations survive a restart; calls do not


@dataclass(slots=True)
class RecoveryReport:
    """What recovery did, by contact id."""

    requeued: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)      # routing still had them (a shared store)
    refused: list[str] = field(default_factory=list)   # the queue refused them: closed with queue.refused
    channel_of: dict[str, str] = field(default_factory=dict)


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else (None if value is None else str(value))


async def _known_to_routing(router: Router, contact_id: str) -> bool:
    try:
        await router.get_task(contact_id)
    except RoutingError:
        return False
    return True


async def recover(history: History, router: Router, intake: Intake) -> RecoveryReport:
    """Re-route or close every open contact that routing does not know; call once, before serving."""
    report = RecoveryReport()
    for contact in await history.open_contacts():
        cid = str(contact.id)
        if await _known_to_routing(router, cid):
            report.kept.append(cid)
            continue
        state = contact.state.value if hasattr(contact.state, "value") else str(contact.state)
        report.channel_of[cid] = contact.channel
        try:
            if state in WAITING or (state == "assigned" and contact.channel in REQUEUE_WHEN_ASSIGNED):
                await _requeue(history, router, intake, contact, state, report)
            else:
                await _close(history, contact, state, report)
        except Exception:
            # One contact that cannot be recovered must not keep the server from starting for every other one.
            log.exception("could not recover contact %s (state %s)", cid, state)
    # The re-queued contacts' routing events are written (and their states set) before anyone connects, so a
    # customer who resumes sees the recovered state, not its notifications arriving after their catch-up.
    await intake.lifecycle.drain()
    if report.requeued or report.closed or report.refused:
        log.warning("crash recovery: %d contact(s) re-queued, %d closed, %d refused by their queue",
                    len(report.requeued), len(report.closed), len(report.refused))
    return report


async def _requeue(history: History, router: Router, intake: Intake, contact: Contact, state: str,
                   report: RecoveryReport) -> None:
    cid = str(contact.id)
    previous_agent = str(contact.agent_id) if state == "assigned" and contact.agent_id else None
    await history.append_event(cid, "contact.recovered", {
        "was": state, "action": "requeued", "created_at": _iso(contact.created_at),
        **({"agent": previous_agent} if previous_agent else {})})
    preferred = previous_agent if previous_agent and await _known_agent(router, previous_agent) else None
    try:
        await intake.route(contact, preferred_agent=preferred)
    except IntakeError:   # intake closed it with a queue.refused event
        report.refused.append(cid)
        return
    report.requeued.append(cid)


async def _known_agent(router: Router, agent_id: str) -> bool:
    try:
        await router.agent_stats(agent_id)
    except RoutingError:
        return False
    return True


async def _close(history: History, contact: Contact, state: str, report: RecoveryReport) -> None:
    cid = str(contact.id)
    await history.append_event(cid, "contact.recovered", {"was": state, "action": "closed"})
    await history.update_contact(cid, state="closed")
    report.closed.append(cid)


async def abandon_unless_back(app: Any) -> None:
    """on_startup: a recovered chat's customer has no socket yet; like a dropped socket, they have the chat
    grace (`CC_CHAT_ABANDON_S`) to come back before the waiting chat counts as abandoned."""
    report = app.get(RECOVERED)
    if report is None:
        return
    for cid in report.requeued:
        adapter = app[CHANNELS].get(report.channel_of.get(cid, ""))
        socket_gone = getattr(adapter, "socket_gone", None)
        if socket_gone is not None:
            socket_gone(cid)
