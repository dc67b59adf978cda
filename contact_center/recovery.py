"""Crash recovery: at start, contacts the history still shows open are handed back to routing or taken up again.

In-memory routing forgets every task when the process dies, while the history (durable) still shows contacts as
new, queued, offered, assigned or in wrap-up. Without this step those contacts would be stranded: in no queue,
offered to nobody, never abandoned. The rule per state (docs/internal-interfaces.md, "Crash recovery"):

- new, queued, offered: enqueued again with the time they joined the queue (the last `queue.joined` event), so
  they keep their order, their wait (service level, ASA, position) and their ageing, escalation and max-wait
  timers; a max wait already passed fires at once.
- assigned: a text conversation (chat, SMS, email) is enqueued again, preferring the agent it had, so that agent
  (or another one) picks it up (a new wait: an answered contact must not overflow for its first wait); a call
  cannot outlive the server that held it, so voice is closed.
- wrapup: the conversation had ended, only the agent's wrap-up was missing: closed.

With a shared routing store (Redis) the tasks survived the crash: a contact routing still knows is not enqueued
again but adopted: the lifecycle takes up its queue, open offer or assignment (so its agent is served, not told
`not_your_contact`), and the history catches up with routing where the crash cut its writes short.

Every contact whose history changes gets a `contact.recovered` event saying what it was and what was done.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contact_center.intake import IntakeError
from contact_center.keys import CHANNELS, RECOVERED
from routing import RoutingError

if TYPE_CHECKING:
    from contact_center.domain import Contact
    from contact_center.history import History
    from contact_center.intake import Intake
    from contact_center.lifecycle import Lifecycle
    from routing import Router, TaskRecord

log = logging.getLogger(__name__)

WAITING = ("new", "queued", "offered")
REQUEUE_WHEN_ASSIGNED = ("chat", "sms", "email")   # text conversations survive a restart; calls do not
ENDED_IN_ROUTING = ("closed", "abandoned", "overflowed")


@dataclass(slots=True)
class RecoveryReport:
    """What recovery did, by contact id."""

    requeued: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)      # routing still had them (a shared store): adopted
    kept_waiting: list[str] = field(default_factory=list)  # of which queued or offered
    refused: list[str] = field(default_factory=list)   # the queue refused them: closed with queue.refused
    channel_of: dict[str, str] = field(default_factory=dict)


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else (None if value is None else str(value))


async def _routing_task(router: Router, contact_id: str) -> TaskRecord | None:
    try:
        return await router.get_task(contact_id)
    except RoutingError:
        return None


async def recover(history: History, router: Router, intake: Intake) -> RecoveryReport:
    """Re-route or close every open contact that routing does not know, adopt those it knows; call once, before
    serving."""
    report = RecoveryReport()
    for contact in await history.open_contacts():
        cid = str(contact.id)
        state = contact.state.value if hasattr(contact.state, "value") else str(contact.state)
        report.channel_of[cid] = contact.channel
        try:
            task = await _routing_task(router, cid)
            if task is not None:
                await _adopt(history, router, intake.lifecycle, contact, state, task, report)
            elif state in WAITING or (state == "assigned" and contact.channel in REQUEUE_WHEN_ASSIGNED):
                await _requeue(history, router, intake, contact, state, report)
            else:
                await _close(history, contact, state, report)
        except Exception:
            # One contact that cannot be recovered must not keep the server from starting for every other one.
            log.exception("could not recover contact %s (state %s)", cid, state)
    # The re-queued contacts' routing events are written (and their states set) before anyone connects, so a
    # customer who resumes sees the recovered state, not its notifications arriving after their catch-up.
    await intake.lifecycle.drain()
    if report.requeued or report.closed or report.refused or report.kept:
        log.warning("crash recovery: %d contact(s) re-queued, %d closed, %d refused by their queue, %d kept by "
                    "routing and taken up", len(report.requeued), len(report.closed), len(report.refused),
                    len(report.kept))
    return report


async def _requeue(history: History, router: Router, intake: Intake, contact: Contact, state: str,
                   report: RecoveryReport) -> None:
    cid = str(contact.id)
    previous_agent = str(contact.agent_id) if state == "assigned" and contact.agent_id else None
    await history.append_event(cid, "contact.recovered", {
        "was": state, "action": "requeued", "created_at": _iso(contact.created_at),
        **({"agent": previous_agent} if previous_agent else {})})
    preferred = previous_agent if previous_agent and await _known_agent(router, previous_agent) else None
    since = await _joined_at(history, cid) if state in WAITING else None
    if since is not None:
        since = min(since, router.clock())   # a wall clock stepped back since must not make it "future"
    try:
        await intake.route(contact, preferred_agent=preferred, enqueued_at=since)
    except IntakeError:   # intake closed it with a queue.refused event
        report.refused.append(cid)
        return
    report.requeued.append(cid)


async def _joined_at(history: History, contact_id: str) -> float | None:
    """When the contact first joined a queue (epoch seconds), from its last `queue.joined` event: routing puts
    the task's first enqueue time in each (`enqueued_at`); older events only have their own time."""
    _, events = await history.get_contact(contact_id)
    for event in reversed(events):
        if event.type == "queue.joined":
            recorded = event.data.get("enqueued_at")
            if isinstance(recorded, (int, float)) and not isinstance(recorded, bool) and math.isfinite(recorded):
                return float(recorded)
            return event.at.timestamp()
    return None


async def _adopt(history: History, router: Router, lifecycle: Lifecycle, contact: Contact, state: str,
                 task: TaskRecord, report: RecoveryReport) -> None:
    """Routing kept the task (a shared store): the lifecycle takes it up, the history catches up with routing."""
    cid = str(contact.id)
    report.kept.append(cid)
    if task.state in ENDED_IN_ROUTING:   # it ended in routing; the crash lost the history's last writes
        final = "abandoned" if task.state == "abandoned" else "closed"
        await history.append_event(cid, "contact.recovered", {"was": state, "action": final,
                                                              "routing": task.state})
        await history.update_contact(cid, state=final)
        return
    offer = await router.get_offer(task.offer_id) if task.state == "offered" and task.offer_id else None
    lifecycle.adopt(task, offer)
    if task.state in ("queued", "offered"):
        report.kept_waiting.append(cid)
    fields: dict[str, Any] = {}
    if state != task.state:      # routing's task states from queued to wrapup are contact states too
        fields["state"] = task.state
    if task.state in ("assigned", "wrapup") and task.agent_id and task.agent_id != str(contact.agent_id or ""):
        fields["agent_id"] = task.agent_id
    if task.queue != contact.queue:
        fields["queue"] = task.queue
    if fields:
        await history.append_event(cid, "contact.recovered", {"was": state, "action": "adopted",
                                                              "routing": task.state, **fields})
        await history.update_contact(cid, **fields)


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
    for cid in report.requeued + report.kept_waiting:
        adapter = app[CHANNELS].get(report.channel_of.get(cid, ""))
        socket_gone = getattr(adapter, "socket_gone", None)
        if socket_gone is not None:
            socket_gone(cid)
