"""Prometheus metrics of one app: counters of contacts, events and messages, and queue gauges from routing stats.

Each app has its own registry (tests build many apps in one process; the global registry would collide).
"""
from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

CONTENT_TYPE = CONTENT_TYPE_LATEST

# routing's queue_stats() fields exported as gauges, with their help text.
_QUEUE_GAUGES = {
    "waiting": "Contacts waiting in the queue.",
    "longest_wait_s": "Seconds the longest-waiting contact has waited.",
    "agents_available": "Agents available to the queue.",
    "service_level": "Share of contacts answered within the service-level threshold.",
    "estimated_wait_s": "Estimated wait of a contact joining now, seconds.",
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

    def update_agents(self, counts: dict[str, int]) -> None:
        """Set the agents-by-state gauge."""
        for state in ("available", "away", "offline", "busy", "wrap-up"):
            self.agents.labels(state).set(counts.get(state, 0))

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
