"""The contact lifecycle: routing's events become history events, contact states and socket notifications; the
agent's actions on a contact (accept, reject, reply, end, wrap-up) go through here.

States: new -> queued -> offered -> assigned -> wrapup -> closed, and abandoned from queued or offered.

Routing calls `on_routing_event` synchronously and in order; the events are queued and written by one worker per
contact, so each contact's history has routing's order, contacts do not wait on one another's database writes
(the history's group commit batches them), and routing never waits on the database.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contact_center.hub import Hub, agent_topic, contact_topic
from contact_center.intake import OutboundMessage, message_json
from contact_center.metrics import Metrics
from contact_center.settings import Settings
from routing import RoutingError

if TYPE_CHECKING:
    from contact_center.channel import ChannelAdapter
    from contact_center.domain import Event
    from contact_center.history import History
    from routing import OfferRecord, Router, RoutingEvent, TaskRecord

log = logging.getLogger(__name__)

# routing's event type -> (history event type, contact state it leaves the contact in, or None)
_TRANSLATION: dict[str, tuple[str, str | None]] = {
    "task.queued": ("queue.joined", "queued"),
    "offer.made": ("offer.made", "offered"),
    "offer.accepted": ("offer.accepted", None),
    "offer.rejected": ("offer.rejected", "queued"),
    "offer.timeout": ("offer.timeout", "queued"),
    "offer.revoked": ("offer.revoked", "queued"),
    "task.assigned": ("contact.assigned", "assigned"),
    "task.wrapup": ("contact.ended", "wrapup"),
    "task.wrapped_up": ("contact.wrapped_up", "closed"),
    "task.abandoned": ("contact.abandoned", "abandoned"),
    "task.escalated": ("queue.escalated", None),
    "task.overflowed": ("queue.overflowed", None),
}
WAITING_STATES = ("new", "queued", "offered")


def presence_of(activity: str) -> str:
    """What the agent chose (available, away, offline) behind routing's derived state (busy, wrapup, ...)."""
    return "available" if activity in ("available", "busy", "wrapup") else activity


class LifecycleError(Exception):
    """An agent action that cannot be done; `.code` is stable, `.status` the matching HTTP status."""

    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(slots=True)
class Offer:
    """An offer routing made and nobody has answered yet."""

    offer_id: str
    contact_id: str
    agent_id: str
    expires_at: float


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class Lifecycle:
    """Keeps contacts' states in step with routing and tells the sockets."""

    def __init__(self, history: History, router: Router, hub: Hub, metrics: Metrics, settings: Settings,
                 channels: dict[str, ChannelAdapter]) -> None:
        self.history = history
        self.router = router
        self.hub = hub
        self.metrics = metrics
        self.settings = settings
        self.channels = channels
        self._inbox: asyncio.Queue[RoutingEvent] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._lanes: dict[str, deque[RoutingEvent]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._offers: dict[str, Offer] = {}
        self._assigned: dict[str, str] = {}          # contact id -> agent id, from assignment to wrap-up done
        self._ended: set[str] = set()                # contacts whose conversation ended (agent in wrap-up)
        self._queue_of: dict[str, str] = {}          # waiting (queued or offered) contact id -> its queue
        self._wrapups: dict[str, dict[str, Any]] = {}  # contact id -> disposition and note the agent gave
        self._names: dict[str, str] = {}             # agent id -> display name

    # --- running -------------------------------------------------------------------------------------------

    def on_routing_event(self, event: RoutingEvent) -> None:
        """Routing's subscriber: keep the event for the writers (never blocks routing)."""
        self._inbox.put_nowait(event)

    def start(self) -> None:
        """Start the dispatcher."""
        self._task = asyncio.get_running_loop().create_task(self._dispatch(), name="lifecycle")

    async def stop(self) -> None:
        """Write what is queued, then stop the dispatcher and the writers."""
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._inbox.join(), timeout=5)
        except TimeoutError:
            log.warning("stopping with %d routing events unwritten", self._inbox.qsize())
        for task in [self._task, *self._workers.values()]:
            task.cancel()
        for task in [self._task, *self._workers.values()]:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._task = None
        self._workers.clear()

    async def drain(self) -> None:
        """Wait until every routing event so far is written and notified."""
        await self._inbox.join()

    async def _dispatch(self) -> None:
        while True:
            event = await self._inbox.get()
            # One lane per contact keeps its events in order; agent state changes have a lane per agent.
            lane = f"c:{event.task_id}" if event.task_id else f"a:{event.agent_id}"
            self._lanes.setdefault(lane, deque()).append(event)
            if lane not in self._workers:
                self._workers[lane] = asyncio.get_running_loop().create_task(self._work(lane))

    async def _work(self, lane: str) -> None:
        pending = self._lanes[lane]
        try:
            while pending:
                event = pending.popleft()
                try:
                    await self._handle(event)
                except Exception:
                    # One bad event must not stop the lifecycle of this or any other contact.
                    log.exception("could not handle routing event %s for %s", event.type, event.task_id)
                finally:
                    self._inbox.task_done()
        finally:
            del self._lanes[lane]
            del self._workers[lane]

    # --- what the sockets and the API ask --------------------------------------------------------------------

    def agent_of(self, contact_id: str) -> str | None:
        """The agent a contact is assigned to now, if any."""
        return self._assigned.get(contact_id)

    async def routing_state(self, contact_id: str) -> str | None:
        """Routing's own state of the contact's task (queued, offered, assigned, wrapup, closed, abandoned,
        overflowed), or None when routing does not know it (e.g. after a restart). Routing is ahead of this
        lifecycle's view, which lags by the history writes still queued."""
        try:
            return (await self.router.get_task(contact_id)).state
        except RoutingError:
            return None

    async def is_waiting(self, contact_id: str) -> bool:
        """True while the contact waits in a queue (queued or offered)."""
        return await self.routing_state(contact_id) in ("queued", "offered")

    async def position(self, contact_id: str) -> int | None:
        """1-based place of a waiting contact in its queue (routing's order), None when not queued."""
        try:
            place = await self.router.position(contact_id)
        except RoutingError:
            return None
        return None if place is None else place + 1

    def offers_for(self, agent_id: str) -> list[Offer]:
        """The agent's unanswered offers."""
        return [o for o in self._offers.values() if o.agent_id == agent_id]

    def adopt(self, task: TaskRecord, offer: OfferRecord | None) -> None:
        """Take up a task routing kept across a restart (a shared store): its queue, its open offer, its agent."""
        cid = task.id
        if task.state in ("queued", "offered"):
            self._queue_of[cid] = task.queue
        if offer is not None and offer.task_id == cid:
            self._offers[offer.id] = Offer(offer.id, cid, offer.agent_id, offer.expires_at)
        if task.state in ("assigned", "wrapup") and task.agent_id:
            self._assigned[cid] = task.agent_id
        if task.state == "wrapup":
            self._ended.add(cid)

    def contacts_of(self, agent_id: str) -> list[str]:
        """Ids of the contacts assigned to the agent now (including those in wrap-up)."""
        return [c for c, a in self._assigned.items() if a == agent_id]

    def is_ended(self, contact_id: str) -> bool:
        """True once the conversation ended (the agent may still be wrapping up)."""
        return contact_id in self._ended

    def may_see(self, agent_id: str, contact: Any) -> bool:
        """An agent sees a contact offered or assigned to them (now or before)."""
        cid = str(contact.id)
        return (self._assigned.get(cid) == agent_id or getattr(contact, "agent_id", None) == agent_id
                or any(o.contact_id == cid for o in self.offers_for(agent_id)))

    async def agent_name(self, agent_id: str) -> str:
        """The agent's display name (their username), cached."""
        if agent_id not in self._names:
            try:
                self._names[agent_id] = (await self.history.get_user(agent_id)).username
            except LookupError:  # a user removed since: show the id rather than fail the message
                return agent_id
        return self._names[agent_id]

    async def offer_message(self, offer: Offer) -> dict[str, Any]:
        """The `offer` message of the agent websocket."""
        contact, _ = await self.history.get_contact(offer.contact_id)
        customer = await self.history.get_customer(contact.customer_id)
        return {"type": "offer", "offer_id": offer.offer_id,
                "contact": {"id": str(contact.id), "channel": contact.channel, "queue": contact.queue,
                            "customer": customer.to_json() if customer else None},
                "expires_in_s": round(max(0.0, offer.expires_at - time.time()), 1)}

    async def assigned_message(self, contact_id: str) -> dict[str, Any]:
        """The `assigned` message: the contact, its customer, this conversation and the customer's history."""
        contact, events = await self.history.get_contact(contact_id)
        customer = await self.history.get_customer(contact.customer_id)
        timeline = await self.history.timeline(contact.customer_id, limit=100)
        body = contact.to_json()
        body["customer"] = customer.to_json() if customer else None
        messages = [message_json(e, await self.agent_name(e.agent_id) if e.agent_id else None)
                    for e in events if e.type in ("message.in", "message.out")]
        return {"type": "assigned", "contact": body, "messages": messages,
                "history": [e.to_json() for e in timeline]}

    # --- the agent's actions ---------------------------------------------------------------------------------

    async def accept(self, agent_id: str, offer_id: str) -> None:
        """Accept an offer; the `assigned` message follows on the agent's sockets."""
        try:
            await self.router.accept(offer_id, agent_id)
        except RoutingError as e:
            raise LifecycleError(e.code, str(e) or e.code) from e

    async def reject(self, agent_id: str, offer_id: str) -> None:
        """Reject an offer; routing offers the contact to someone else."""
        try:
            await self.router.reject(offer_id, agent_id)
        except RoutingError as e:
            raise LifecycleError(e.code, str(e) or e.code) from e

    def _own(self, agent_id: str, contact_id: str) -> None:
        if self._assigned.get(contact_id) != agent_id:
            raise LifecycleError("not_your_contact", f"contact {contact_id} is not assigned to you", 403)

    async def reply(self, agent_id: str, contact_id: str, text: str) -> Event:
        """Record the agent's reply, send it out through the contact's channel, show it on the agent's sockets."""
        self._own(agent_id, contact_id)
        if contact_id in self._ended:
            raise LifecycleError("contact_ended", "the conversation has ended; wrap it up")
        if not isinstance(text, str) or not text.strip():
            raise LifecycleError("empty", "reply text is empty", 400)
        if len(text) > self.settings.max_message_chars:
            raise LifecycleError("too_large", f"reply is {len(text)} characters; the limit is "
                                              f"{self.settings.max_message_chars}", 413)
        contact, _ = await self.history.get_contact(contact_id)
        event = await self.history.append_event(contact_id, "message.out", {"text": text}, direction="out",
                                                agent_id=agent_id)
        self.metrics.event("message.out")
        self.metrics.messages.labels(contact.channel, "out").inc()
        name = await self.agent_name(agent_id)
        self.hub.publish(agent_topic(agent_id), {"type": "message", "contact_id": contact_id,
                                                 "message": message_json(event, name)})
        adapter = self.channels.get(contact.channel)
        if adapter is None:
            log.error("no adapter for channel %s; reply %s recorded but not sent", contact.channel, event.id)
        else:
            await adapter.send(contact, OutboundMessage(str(event.id), text, event.at, agent_id, name))
        return event

    async def end(self, agent_id: str, contact_id: str) -> None:
        """End the conversation: the customer is told, the agent goes into wrap-up for it."""
        self._own(agent_id, contact_id)
        if contact_id not in self._ended:
            await self.router.complete(contact_id)

    async def wrap_up(self, agent_id: str, contact_id: str, disposition: str | None, note: str | None) -> None:
        """Finish after-contact work with a disposition (ending the conversation first if needed)."""
        self._own(agent_id, contact_id)
        self._wrapups[contact_id] = {"disposition": disposition, "note": note}
        if contact_id not in self._ended:
            await self.router.complete(contact_id)
        await self.router.wrapup_done(contact_id)

    async def customer_left(self, contact_id: str) -> None:
        """The customer is gone: abandoned while waiting; while assigned, the agent is told and wraps up."""
        state = await self.routing_state(contact_id)
        if state in ("queued", "offered"):
            try:
                await self.router.abandon(contact_id)
            except RoutingError as e:  # it was assigned or ended meanwhile: nothing to abandon
                log.info("chat %s left but could not be abandoned: %s", contact_id, e.code)
        elif state == "assigned":
            agent_id = str((await self.router.get_task(contact_id)).agent_id)
            await self.history.append_event(contact_id, "contact.customer_left", {})
            self.metrics.event("contact.customer_left")
            self.hub.publish(agent_topic(agent_id), {"type": "customer_left", "contact_id": contact_id})

    # --- routing's events ------------------------------------------------------------------------------------

    async def _handle(self, event: RoutingEvent) -> None:
        if event.type == "agent.state":
            if event.agent_id:
                activity = str((event.data or {}).get("state"))
                # routing says busy during a call even when the agent chose away: show what they chose
                presence = str((event.data or {}).get("presence") or presence_of(activity))
                self.hub.publish(agent_topic(event.agent_id), {"type": "state", "state": presence,
                                                               "activity": activity,
                                                               "reason": (event.data or {}).get("reason")})
            return
        translation = _TRANSLATION.get(event.type)
        if translation is None or not event.task_id:
            return
        history_type, state = translation
        cid = str(event.task_id)
        data: dict[str, Any] = {"queue": event.queue}
        if event.offer_id:
            data["offer_id"] = event.offer_id
        data.update({k: v for k, v in (event.data or {}).items() if k not in data})
        if event.type == "task.wrapped_up":
            data.update(self._wrapups.pop(cid, {}))
        await self.history.append_event(cid, history_type, data, agent_id=event.agent_id)
        self.metrics.event(history_type)
        if state is not None:
            await self.history.update_contact(cid, **self._contact_fields(event, state, data))
        await getattr(self, "_on_" + event.type.replace(".", "_"), self._ignore)(event, cid)

    def _contact_fields(self, event: RoutingEvent, state: str, data: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {"state": state}
        if event.type == "task.assigned":
            fields["agent_id"] = event.agent_id
        if event.type == "task.queued" and event.queue:
            fields["queue"] = event.queue
        if event.type == "task.wrapped_up" and data.get("disposition"):
            fields["disposition"] = data["disposition"]
        return fields

    async def _ignore(self, event: RoutingEvent, cid: str) -> None:
        return None

    def _status(self, cid: str, state: str, **extra: Any) -> None:
        self.hub.publish(contact_topic(cid), {"type": "status", "state": state, "contact_id": cid, **extra})

    async def queued_status(self, cid: str) -> dict[str, Any]:
        """The customer's `status` message while waiting: position and estimated wait when routing knows them."""
        message: dict[str, Any] = {"type": "status", "state": "queued", "contact_id": cid}
        position = await self.position(cid)
        if position is not None:
            message["position"] = position
            try:
                task = await self.router.get_task(cid)
                wait = await self.router.estimated_wait(task.queue, cid)
            except RoutingError:
                wait = None
            if wait is not None:
                message["estimated_wait_s"] = round(wait)
        return message

    async def _queued_status(self, cid: str) -> None:
        self.hub.publish(contact_topic(cid), await self.queued_status(cid))

    async def _leave_queue(self, cid: str) -> None:
        queue = self._queue_of.pop(cid, None)
        if queue is None:
            return
        for other in [c for c, q in self._queue_of.items() if q == queue]:  # everyone behind moves up
            await self._queued_status(other)

    async def _on_task_queued(self, event: RoutingEvent, cid: str) -> None:
        self._queue_of[cid] = event.queue or self.settings.default_queue
        await self._queued_status(cid)

    async def _on_task_overflowed(self, event: RoutingEvent, cid: str) -> None:
        if (event.data or {}).get("to"):
            return  # moved to another queue: its task.queued follows
        # waited past the queue's max wait with nowhere to go: the contact ends here
        await self._leave_queue(cid)
        await self.history.update_contact(cid, state="closed")
        self._status(cid, "closed", reason="overflowed")

    async def _on_offer_made(self, event: RoutingEvent, cid: str) -> None:
        expires_at = float((event.data or {}).get("expires_at") or time.time() + self.settings.offer_timeout_s)
        offer = Offer(str(event.offer_id), cid, str(event.agent_id), expires_at)
        self._offers[offer.offer_id] = offer
        self.hub.publish(agent_topic(offer.agent_id), await self.offer_message(offer))

    def _offer_ended(self, event: RoutingEvent, reason: str) -> None:
        offer = self._offers.pop(str(event.offer_id), None) if event.offer_id else None
        if offer is None and event.task_id:  # abandonment names the task, not always the offer
            for o in [o for o in self._offers.values() if o.contact_id == str(event.task_id)]:
                offer = self._offers.pop(o.offer_id)
        if offer is not None and reason != "accepted":
            self.hub.publish(agent_topic(offer.agent_id), {"type": "offer_cancelled", "offer_id": offer.offer_id,
                                                           "contact_id": offer.contact_id, "reason": reason})

    async def _on_offer_accepted(self, event: RoutingEvent, cid: str) -> None:
        self._offer_ended(event, "accepted")

    async def _on_offer_rejected(self, event: RoutingEvent, cid: str) -> None:
        self._offer_ended(event, "rejected")
        await self._queued_status(cid)

    async def _on_offer_timeout(self, event: RoutingEvent, cid: str) -> None:
        self._offer_ended(event, "timeout")
        await self._queued_status(cid)

    async def _on_offer_revoked(self, event: RoutingEvent, cid: str) -> None:
        # the customer left during the offer (task.abandoned follows): the agent is told they left
        self._offer_ended(event, "abandoned" if (event.data or {}).get("reason") == "abandoned" else "revoked")

    async def _on_task_assigned(self, event: RoutingEvent, cid: str) -> None:
        agent_id = str(event.agent_id)
        self._offer_ended(event, "accepted")
        await self._leave_queue(cid)
        self._assigned[cid] = agent_id
        self.hub.publish(agent_topic(agent_id), await self.assigned_message(cid))
        self._status(cid, "assigned", agent_name=await self.agent_name(agent_id))

    async def _on_task_wrapup(self, event: RoutingEvent, cid: str) -> None:
        self._ended.add(cid)
        if event.agent_id or cid in self._assigned:
            agent_id = str(event.agent_id or self._assigned[cid])
            self.hub.publish(agent_topic(agent_id), {"type": "ended", "contact_id": cid})
        self._status(cid, "closed")

    async def _on_task_wrapped_up(self, event: RoutingEvent, cid: str) -> None:
        agent_id = self._assigned.pop(cid, None) or event.agent_id
        if cid not in self._ended:
            self._status(cid, "closed")
        self._ended.discard(cid)
        if agent_id:
            self.hub.publish(agent_topic(str(agent_id)), {"type": "closed", "contact_id": cid})

    async def _on_task_abandoned(self, event: RoutingEvent, cid: str) -> None:
        self._offer_ended(event, "abandoned")
        await self._leave_queue(cid)
        self._status(cid, "closed", reason="abandoned")
