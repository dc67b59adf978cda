"""Prometheus metrics of one app: counters of contacts, events and messages, and routing's figures per queue and
agent, read at each scrape.

Each app has its own registry (tests build many apps in one process; the global registry would collide). Names
follow Prometheus's conventions: times in `_seconds`, shares of 1 in `_ratio`, cumulative counts as counters
(`_total`).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST

# routing's queue_stats() fields exported as gauges: field -> (metric name, help).
_QUEUE_GAUGES = {
    "waiting": ("cc_queue_waiting", "Contacts waiting in the queue."),
    "longest_wait_s": ("cc_queue_longest_wait_seconds", "Time the longest-waiting contact has waited."),
    "agents_available": ("cc_queue_agents_available", "Agents available to the queue."),
    "service_level": ("cc_queue_service_level_ratio", ("Service level as Amazon Connect defines it: contacts "
                      "answered or abandoned within the threshold / contacts queued.")),
    "service_level_answered": ("cc_queue_service_level_answered_ratio", ("Contacts answered within the "
                               "service-level threshold / contacts queued (Erlang C's P(wait <= threshold)).")),
    "estimated_wait_s": ("cc_queue_estimated_wait_seconds", "Estimated wait of a contact joining now."),
    "asa_s": ("cc_queue_asa_seconds", "Average speed of answer: mean wait of answered contacts."),
    "aht_s": ("cc_queue_aht_seconds", "Average handle time: mean talk plus wrap-up of handled contacts."),
    "abandonment_rate": ("cc_queue_abandonment_ratio", "Contacts abandoned / contacts queued."),
    "occupancy": ("cc_queue_occupancy_ratio", "Share of the queue's agents' signed-in time spent on contacts."),
}
# routing's queue counts, counters since routing's counters started (a reset of routing's counters reads as a
# counter reset, which rate() allows for): field -> (metric name without _total, help).
_QUEUE_COUNTS = {
    "queued": ("cc_queue_queued", "Contacts that joined the queue."),
    "answered": ("cc_queue_answered", "Contacts answered from the queue."),
    "abandoned": ("cc_queue_abandoned", "Contacts abandoned in the queue."),
}
# routing's refusal codes, exported at 0 until they happen so that rate() sees the first one.
REFUSALS = ("queue_full", "queue_closed", "queue_empty")
# routing's agent states; every agent has one gauge per state, 1 for the state it is in.
AGENT_STATES = ("available", "busy", "wrapup", "away", "offline")
# routing's agent_stats() fields exported per agent as gauges.
_AGENT_GAUGES = {
    "occupancy": ("cc_agent_occupancy_ratio", "Share of the agent's available time spent on contacts."),
    "aht_s": ("cc_agent_aht_seconds", "The agent's average handle time."),
    "missed_in_a_row": ("cc_agent_missed_in_a_row", "Offers the agent missed in a row."),
}


class Metrics:
    """The app's counters, and routing's figures as of the last `update_*`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.contacts = Counter("cc_contacts", "Contacts opened.", ["channel"], registry=self.registry)
        self.events = Counter("cc_events", "Interaction events recorded.", ["type"], registry=self.registry)
        self.messages = Counter("cc_messages", "Messages recorded.", ["channel", "direction"],
                                registry=self.registry)
        self.sockets = Gauge("cc_websockets", "Open websockets.", ["kind"], registry=self.registry)
        self.routing = _RoutingFigures()
        self.registry.register(self.routing)

    def event(self, type_: str) -> None:
        """Count one recorded event."""
        self.events.labels(type_).inc()

    def update_queues(self, stats: list[dict[str, Any]]) -> None:
        """Take routing's queue_stats() for the next scrape."""
        self.routing.queues = list(stats)

    def update_agents(self, rows: list[dict[str, Any]]) -> None:
        """Take routing's agent_stats() for the next scrape (agents labelled by name)."""
        self.routing.agents = list(rows)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)


class _RoutingFigures(Collector):
    """Routing's queue and agent figures, built afresh from its stats at each scrape: a queue or agent routing no
    longer knows, or a figure it has no data for (an AHT before any contact was handled), is left out rather
    than kept at its last value."""

    def __init__(self) -> None:
        self.queues: list[dict[str, Any]] = []
        self.agents: list[dict[str, Any]] = []

    def collect(self) -> Iterator[Metric]:
        yield from self._queue_figures()
        yield from self._agent_figures()

    def _queue_figures(self) -> Iterator[Metric]:
        gauges = {f: GaugeMetricFamily(n, h, labels=["queue"]) for f, (n, h) in _QUEUE_GAUGES.items()}
        counts = {f: CounterMetricFamily(n, h, labels=["queue"]) for f, (n, h) in _QUEUE_COUNTS.items()}
        refused = CounterMetricFamily("cc_queue_refused", "Contacts the queue refused, by routing's code "
                                      "(queue_full, queue_closed, queue_empty).", labels=["queue", "reason"])
        overflowed = CounterMetricFamily("cc_queue_overflowed", "Contacts that overflowed out of the queue, by "
                                         "target queue (to=\"\": none, the contact ended).", labels=["queue", "to"])
        transferred = CounterMetricFamily("cc_queue_transferred_out", "Contacts an escalation step moved "
                                          "from the queue to another queue.", labels=["queue"])
        for row in self.queues:
            name = str(row["name"])
            for families in (gauges, counts):
                for field, family in families.items():
                    if isinstance(row.get(field), (int, float)):
                        family.add_metric([name], row[field])
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
        yield from gauges.values()
        yield from counts.values()
        yield refused
        yield overflowed
        yield transferred

    def _agent_figures(self) -> Iterator[Metric]:
        by_state = GaugeMetricFamily("cc_agents", "Agents by routing state.", labels=["state"])
        state = GaugeMetricFamily("cc_agent_state", "1 for the routing state each agent is in, else 0.",
                                  labels=["agent", "state"])
        load = GaugeMetricFamily("cc_agent_load", "Contacts the agent holds now.", labels=["agent"])
        handled = CounterMetricFamily("cc_agent_handled", "Contacts the agent has handled.", labels=["agent"])
        gauges = {f: GaugeMetricFamily(n, h, labels=["agent"]) for f, (n, h) in _AGENT_GAUGES.items()}
        counts = dict.fromkeys(AGENT_STATES, 0)
        for row in self.agents:
            name = str(row.get("name") or row["id"])
            current = str(row.get("state", "offline"))
            counts[current] = counts.get(current, 0) + 1
            for s in AGENT_STATES:
                state.add_metric([name, s], 1 if s == current else 0)
            load.add_metric([name], sum((row.get("load") or {}).values()))
            handled.add_metric([name], row.get("handled") or 0)
            for field, family in gauges.items():
                if isinstance(row.get(field), (int, float)):
                    family.add_metric([name], row[field])
        for s, n in counts.items():
            by_state.add_metric([s], n)
        yield by_state
        yield state
        yield load
        yield handled
        yield from gauges.values()
