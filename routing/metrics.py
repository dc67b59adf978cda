"""Real-time metrics from the store's counters, with Amazon Connect's definitions.

Queue counters (scope `queue:<name>`): queued, answered, answered_in_sl, abandoned, abandoned_in_sl,
answer_wait_s (sum of waits of answered contacts), abandon_wait_s, handled, talk_s, wrapup_s, overflowed,
`overflowed_to:<queue>` (those of the overflowed that moved to that queue), `refused:<code>` (contacts the
queue's rules refused: queue_closed, queue_empty, queue_full, business_hours_failed), transferred_out.
Agent counters (scope `agent:<id>`): offered, accepted, rejected, timeouts, handled, talk_s, wrapup_s, and
seconds spent in each state (`time_available`, `time_busy`, `time_wrapup`, `time_away`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routing.model import QueueConfig
    from routing.store import Store


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def queue_metrics(name: str, counters: Mapping[str, float], *, waiting: int, longest_wait_s: float,
                  sl_threshold_s: float, signed_in: int, available: int, busy_time: float,
                  staffed_time: float, default_aht_s: float, serving: int | None = None) -> dict[str, Any]:
    """The queue figures the API and the supervisor board show.

    service_level: contacts removed from the queue (answered or abandoned) within the threshold / contacts
    queued (Connect "Service level X"); service_level_answered: answered within the threshold / queued (the
    simulator's and Erlang C's P(wait <= t)); asa_s: mean wait of answered contacts; aht_s: mean talk + wrap-up
    of handled contacts; abandonment_rate: abandoned / queued; occupancy: time agents of the queue spent on
    contacts / time they were available or on contacts; estimated_wait_s: see `estimated_wait`, over the
    `serving` agents (available, busy or in wrap-up; default: `signed_in`).
    """
    c = counters.get
    queued = c("queued", 0.0)
    aht = _ratio(c("talk_s", 0.0) + c("wrapup_s", 0.0), c("handled", 0.0))
    serving = signed_in if serving is None else serving
    return {
        "name": name,
        "waiting": waiting,
        "longest_wait_s": longest_wait_s,
        "agents_signed_in": signed_in,
        "agents_available": available,
        "agents_serving": serving,
        "queued": int(queued),
        "answered": int(c("answered", 0.0)),
        "abandoned": int(c("abandoned", 0.0)),
        "overflowed": int(c("overflowed", 0.0)),
        "overflowed_to": _by_suffix(counters, "overflowed_to:"),
        "refused": _by_suffix(counters, "refused:"),
        "transferred_out": int(c("transferred_out", 0.0)),
        "handled": int(c("handled", 0.0)),
        "sl_threshold_s": sl_threshold_s,
        "service_level": _ratio(c("answered_in_sl", 0.0) + c("abandoned_in_sl", 0.0), queued),
        "service_level_answered": _ratio(c("answered_in_sl", 0.0), queued),
        "asa_s": _ratio(c("answer_wait_s", 0.0), c("answered", 0.0)),
        "aht_s": aht,
        "abandonment_rate": _ratio(c("abandoned", 0.0), queued),
        "occupancy": _ratio(busy_time, staffed_time),
        "estimated_wait_s": estimated_wait(waiting, serving, available, aht or default_aht_s),
    }


def _by_suffix(counters: Mapping[str, float], prefix: str) -> dict[str, int]:
    """The counters named `prefix` + something, by that something."""
    return {name[len(prefix):]: int(n) for name, n in sorted(counters.items()) if name.startswith(prefix)}


def estimated_wait(ahead: int, serving: int, available: int, aht_s: float) -> float | None:
    """Expected wait of a contact with `ahead` contacts before it: 0 with a free agent, else the time for the
    agents who can serve (available, busy or in wrap-up: not away) to work through the line
    ((ahead + 1) * AHT / agents); None when nobody can serve."""
    if available > 0 and ahead == 0:
        return 0.0
    if serving <= 0:
        return None
    return (ahead + 1) * aht_s / serving


def agent_metrics(agent: Any, counters: Mapping[str, float], now: float) -> dict[str, Any]:
    """The figures of one agent: state with its timestamp, load, offers and answers, AHT and occupancy."""
    c = dict(counters)
    # Count the time in the current state up to now, so figures are live between state changes.
    c["time_" + agent.state] = c.get("time_" + agent.state, 0.0) + max(0.0, now - agent.state_since)
    on_contacts = c.get("time_busy", 0.0) + c.get("time_wrapup", 0.0)
    return {
        "id": agent.id,
        "name": agent.config.name,
        "state": agent.state,
        "state_since": agent.state_since,
        "reason": agent.reason,
        "presence": agent.presence,
        "load": {ch: n for ch, n in agent.load.items() if n},
        "capacity": dict(agent.config.capacity),
        "queues": list(agent.config.queues),
        "skills": dict(agent.config.skills),
        "missed_in_a_row": agent.missed,
        "offered": int(c.get("offered", 0.0)),
        "accepted": int(c.get("accepted", 0.0)),
        "rejected": int(c.get("rejected", 0.0)),
        "timeouts": int(c.get("timeouts", 0.0)),
        "handled": int(c.get("handled", 0.0)),
        "aht_s": _ratio(c.get("talk_s", 0.0) + c.get("wrapup_s", 0.0), c.get("handled", 0.0)),
        "occupancy": _ratio(on_contacts, on_contacts + c.get("time_available", 0.0)),
        "time_in_state_s": {k[5:]: v for k, v in c.items() if k.startswith("time_")},
    }


async def collect_queue_stats(store: Store, queue: QueueConfig, now: float, *, default_aht_s: float) -> dict[str, Any]:
    """Read what `queue_metrics` needs from a store: the queue's counters, its waiting line and its agents."""
    name = queue.name
    oldest = await store.oldest_waiting(name)
    signed_in = [a for a in await store.list_agents() if name in a.config.queues and a.presence != "offline"]
    busy = staffed = 0.0
    for agent in signed_in:
        figures = agent_metrics(agent, await store.counters("agent:" + agent.id), now)["time_in_state_s"]
        on = figures.get("busy", 0.0) + figures.get("wrapup", 0.0)
        busy, staffed = busy + on, staffed + on + figures.get("available", 0.0)
    return queue_metrics(name, await store.counters("queue:" + name), waiting=await store.waiting_count(name),
                         longest_wait_s=now - oldest.queued_at if oldest else 0.0,
                         sl_threshold_s=queue.sl_threshold_s, signed_in=len(signed_in),
                         available=sum(1 for a in signed_in if a.state == "available"),
                         serving=sum(1 for a in signed_in if a.state in ("available", "busy", "wrapup")),
                         busy_time=busy, staffed_time=staffed, default_aht_s=default_aht_s)
