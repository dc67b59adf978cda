"""Prometheus metrics of one app: counters of contacts, events and messages, and queue gauges from routing stats.

Each app has its own registry (tests build many apps in one process; the global registry would collide).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST

# routing's queue_stats() fields exported as gauges, with their help text.
_QUEUE_GAUGES = {
    "waiting": "Contacts waiting in the queue.",
    "longest_wait_s": "Seconds the longest-waiting contact has waited.",
    "agents_available": "Agents available to the queue.",
    "service_level": "Service level as Amazon Connect defines it: contacts answered or abandoned within the "
                     "threshold / contacts queued.",
    "service_level_answered": "Contacts answered within the service-level threshold / contacts queued "
                              "(Erlang C's P(wait <= threshold)).",
    "queued": "Contacts that joined the queue since routing's counters started.",
    "answered": "Contacts answered from the queue since routing's counters started.",
    "abandoned": "Contacts abandoned in the queue since routing's counters started.",
    "estimated_wait_s": "Estimated wait of a contact joining now, seconds.",
    "asa_s": "Average speed of answer: mean wait of answered contacts, seconds.",
    "aht_s": "Average handle time: mean talk plus wrap-up of handled contacts, seconds.",
    "abandonment_rate": "Share of the queue's contacts that were abandoned.",
    "occupancy": "Share of the queue's agents' signed-in time spent on contacts.",
}
# routing's refusal codes, exported at 0 until they happen so that rate() sees the first one.
REFUSALS = ("queue_full", "queue_closed", "queue_empty")
# routing's agent states; every agent has one gauge per state, 1 for the state it is in.
AGENT_STATES = ("available", "busy", "wrapup", "away", "offline")
# routing's agent_stats() fields exported per agent.
_AGENT_GAUGES = {
    "occupancy": "Share of the agent's available time spent on contacts.",
    "aht_s": "The agent's average handle time, seconds.",
    "handled": "Contacts the agent has handled.",
    "missed_in_a_row": "Offers the agent missed in a row.",
}


class Metrics:
    """The app's counters and gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.contacts = Counter("cc_contacts", "Contacts opened.", ["channel"], registry=self.registry)
        self.events = Counter("cc_events", "Interaction events recorded.", ["type"], registry=self.registry)
        self.messages = Counter("cc_messages", "Messages recorded.", ["channel", "direction"],
                                registry=self.registry)
        self.sockets = Gauge("cc_websockets", "Open websockets.", ["kind"], registry=self.registry)
        self.queue = {name: Gauge(f"cc_queue_{name}", help_, ["queue"], registry=self.registry)
                      for name, help_ in _QUEUE_GAUGES.items()}
        self.agents = Gauge("cc_agents", "Agents by routing state.", ["state"], registry=self.registry)
        self.agent_state = Gauge("cc_agent_state", "1 for the routing state each agent is in, else 0.",
                                 ["agent", "state"], registry=self.registry)
        self.agent_load = Gauge("cc_agent_load", "Contacts the agent holds now.", ["agent"],
                                registry=self.registry)
        self.agent = {name: Gauge(f"cc_agent_{name}", help_, ["agent"], registry=self.registry)
                      for name, help_ in _AGENT_GAUGES.items()}
        self.queue_counts = _QueueCounts()
        self.registry.register(self.queue_counts)

    def event(self, type_: str) -> None:
        """Count one recorded event."""
        self.events.labels(type_).inc()

    def update_queues(self, stats: dict[str, dict[str, Any]] | list[dict[str, Any]]) -> None:
        """Set the queue gauges from routing's queue_stats()."""
        rows = stats.values() if isinstance(stats, dict) else stats
        for row in rows:
            name = str(row.get("name") or row.get("queue"))
            for field, gauge in self.queue.items():
                value = row.get(field)
                if isinstance(value, (int, float)):
                    gauge.labels(name).set(value)
        self.queue_counts.rows = list(rows)

    def update_agents(self, counts: dict[str, int]) -> None:
        """Set the agents-by-state gauge."""
        for state in AGENT_STATES:
            self.agents.labels(state).set(counts.get(state, 0))

    def update_agent_figures(self, rows: list[dict[str, Any]]) -> None:
        """Set the per-agent gauges from routing's agent_stats() (labelled by the agent's name)."""
        for row in rows:
            name = str(row.get("name") or row.get("id"))
            current = row.get("state")
            for state in AGENT_STATES:
                self.agent_state.labels(name, state).set(1 if state == current else 0)
            load = row.get("load") or {}
            self.agent_load.labels(name).set(sum(v for v in load.values() if isinstance(v, (int, float))))
            for field, gauge in self.agent.items():
                value = row.get(field)
                if isinstance(value, (int, float)):
                    gauge.labels(name).set(value)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)


class _QueueCounts(Collector):
    """Refusals, overflows and escalation transfers per queue as Prometheus counters, read from routing's
    counters (which live in the routing store, so they outlast a restart with Redis routing, as the queue gauges
    do; a reset of routing's counters reads as a counter reset, which rate() allows for)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def collect(self) -> Iterator[Metric]:
        refused = CounterMetricFamily("cc_queue_refused", "Contacts the queue refused, by routing's code "
                                      "(queue_full, queue_closed, queue_empty).", labels=["queue", "reason"])
        overflowed = CounterMetricFamily("cc_queue_overflowed", "Contacts that overflowed out of the queue, by "
                                         "target queue (to=\"\": none, the contact ended).", labels=["queue", "to"])
        transferred = CounterMetricFamily("cc_queue_transferred_out", "Contacts an escalation step moved "
                                          "from the queue to another queue.", labels=["queue"])
        for row in self.rows:
            name = str(row.get("name") or row.get("queue"))
            codes = row.get("refused") or {}
            for code in dict.fromkeys([*REFUSALS, *codes]):
                refused.add_metric([name, code], codes.get(code, 0))
            targets = dict(row.get("overflowed_to") or {})
            ended = (row.get("overflowed") or 0) - sum(targets.values())
            if ended > 0:
                targets[""] = ended
            for to, n in targets.items():
                overflowed.add_metric([name, to], n)
            transferred.add_metric([name], row.get("transferred_out") or 0)
        yield refused
        yield overflowed
        yield transferred
