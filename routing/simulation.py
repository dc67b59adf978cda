"""A discrete-event simulation that drives the REAL engine (`Router` on a `MemoryStore`) with a virtual clock.

Poisson arrivals into one voice queue served by N identical agents, exponential (or lognormal) handle times,
optional exponential patience (abandonment). Agents accept every offer at once and end wrap-up at once, so the
system is M/M/N (Erlang C) or M/M/N+M (Erlang A) and `routing.erlang` predicts its figures. Measured contacts
are those arriving after a warm-up; after the last arrival the queue is drained, so every measured contact is
answered or abandoned. Standard errors come from batch means over the measured arrivals (for occupancy,
over equal spells of the measured window).
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
import statistics
import time
from dataclasses import dataclass
from typing import Any, Literal

from routing.engine import Router
from routing.erlang import ErlangA, ErlangC
from routing.memory_store import MemoryStore
from routing.model import AgentConfig, QueueConfig, RouterSettings, RoutingEvent, Task

_BATCHES = 10
MAX_CONTACTS = 5_000_000   # 6-20 minutes of wall time and 3.5 GB (every contact is kept to the end)


@dataclass(frozen=True)
class SimulationConfig:
    """One simulation run; `hours` of arrivals after `warmup_hours`."""
    agents: int
    arrival_rate: float                   # contacts per second
    aht_s: float                          # mean handle time
    patience_s: float | None = None       # mean patience (exponential); None = nobody abandons
    hours: float = 8.0
    seed: int = 1
    sl_threshold_s: float = 20.0
    handle_time: Literal["exponential", "lognormal"] = "exponential"
    lognormal_sigma: float = 0.8          # shape of lognormal handle times (mean stays aht_s)
    warmup_hours: float | None = None     # None = 10% of `hours`

    def validate(self) -> None:
        """Raise ValueError, saying which input, on a config that cannot run or has no Erlang steady state."""
        if not isinstance(self.agents, int) or self.agents < 1:
            raise ValueError(f"agents must be a whole number >= 1, got {self.agents!r}")
        for name, value in (("arrival rate", self.arrival_rate), ("AHT", self.aht_s), ("hours", self.hours),
                            ("patience", self.patience_s)):
            if value is not None and not (math.isfinite(value) and value > 0):   # nan would run forever
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        for name, value in (("service-level threshold", self.sl_threshold_s), ("warm-up hours", self.warmup_hours),
                            ("lognormal sigma", self.lognormal_sigma)):   # sigma 0: every handle time is the AHT
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.handle_time not in ("exponential", "lognormal"):
            raise ValueError(f"unknown handle-time distribution {self.handle_time!r}")
        load = self.arrival_rate * self.aht_s
        if self.patience_s is None and load >= self.agents:
            raise ValueError(f"offered load {load:g} Erlangs >= {self.agents} agents and nobody abandons: the queue "
                             "grows without end, there is no steady state (Erlang C needs load < agents); "
                             "add agents or give a patience")
        contacts = self.arrival_rate * 3600.0 * (self.hours + self._warmup_hours)
        if contacts > MAX_CONTACTS:
            raise ValueError(f"about {contacts:,.0f} contacts to simulate, more than {MAX_CONTACTS:,}: fewer hours")

    @property
    def _warmup_hours(self) -> float:
        return self.hours * 0.1 if self.warmup_hours is None else self.warmup_hours


@dataclass(frozen=True)
class SimulationResult:
    """Figures of the measured contacts (Erlang C/A comparable) and the run's cost. Rates are per offered
    (queued) contact; each `*_se` is a batch-means standard error, None with too few contacts for batches."""
    offered: int
    answered: int
    abandoned: int
    service_level: float                  # answered within the threshold / offered (the simulate figure)
    service_level_se: float | None
    service_level_removed: float          # left the queue (answered or abandoned) within the threshold / offered:
    service_level_removed_se: float | None   # Amazon Connect's, the engine's queue metric `service_level`
    asa_s: float | None                   # mean wait of answered contacts; None when nobody was answered
    asa_s_se: float | None
    abandonment_rate: float
    abandonment_rate_se: float | None
    occupancy: float                      # the engine's agent occupancy over the measured window
    occupancy_se: float | None
    decisions: int                        # offers the engine made (whole run)
    simulated_hours: float
    wall_s: float
    # What queueing theory predicts for the same parameters (Erlang C, or Erlang A with patience); None where
    # it does not apply (lognormal handle times).
    erlang_service_level: float | None = None
    erlang_service_level_removed: float | None = None
    erlang_asa_s: float | None = None
    erlang_abandonment_rate: float | None = None
    erlang_occupancy: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, rounded for printing."""
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def erlang_prediction(config: SimulationConfig) -> dict[str, float | None]:
    """Erlang C (or A, with patience) figures for a simulation config; empty when the model does not apply."""
    if config.handle_time != "exponential":
        return {}
    t = config.sl_threshold_s
    if config.patience_s is not None:
        a = ErlangA(config.agents, config.arrival_rate, config.aht_s, config.patience_s)
        return {"erlang_service_level": a.service_level(t),
                "erlang_service_level_removed": a.service_level_removed(t), "erlang_asa_s": a.asa,
                "erlang_abandonment_rate": a.p_abandon, "erlang_occupancy": a.occupancy}
    c = ErlangC(config.agents, config.arrival_rate, config.aht_s)
    return {"erlang_service_level": c.service_level(t), "erlang_service_level_removed": c.service_level(t),
            "erlang_asa_s": c.asa, "erlang_abandonment_rate": 0.0, "erlang_occupancy": c.occupancy}


def _handle_time(config: SimulationConfig, rng: random.Random) -> float:
    if config.handle_time == "lognormal":
        sigma = config.lognormal_sigma
        return rng.lognormvariate(math.log(config.aht_s) - sigma * sigma / 2.0, sigma)
    return rng.expovariate(1.0 / config.aht_s)


def simulate(config: SimulationConfig) -> SimulationResult:
    """Run one simulation (blocking; use `simulate_async` inside an event loop)."""
    return asyncio.run(simulate_async(config))


async def simulate_async(config: SimulationConfig) -> SimulationResult:
    """Run one simulation on the current event loop."""
    config.validate()
    wall = time.perf_counter()
    rng = random.Random(config.seed)
    now = [0.0]
    router = Router(MemoryStore(), clock=lambda: now[0], settings=RouterSettings(max_missed_offers=0),
                    seed=config.seed)
    await router.add_queue(QueueConfig("sim", sl_threshold_s=config.sl_threshold_s))
    for i in range(config.agents):
        await router.add_agent(AgentConfig(f"agent{i:04d}", queues=("sim",), capacity={"voice": 1}))
        await router.set_agent_state(f"agent{i:04d}", "available")

    offers: list[RoutingEvent] = []
    router.subscribe(lambda e: offers.append(e) if e.type == "offer.made" else None)
    warmup = 3600.0 * config._warmup_hours
    end = warmup + 3600.0 * config.hours
    # occupancy is read from the engine at these instants: the measured window cut in _BATCHES equal batches
    boundaries = [warmup + (end - warmup) * i / _BATCHES for i in range(_BATCHES + 1)]
    snapshots: list[tuple[float, float]] = []
    # simulation events: (time, seq, kind, task id)
    events: list[tuple[float, int, str, str]] = []
    seq = 0

    def push(at: float, kind: str, ref: str) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (at, seq, kind, ref))

    async def busy_and_available() -> tuple[float, float]:
        busy = avail = 0.0
        for stats in await router.agent_stats():
            times = stats["time_in_state_s"]
            busy += times.get("busy", 0.0) + times.get("wrapup", 0.0)
            avail += times.get("available", 0.0)
        return busy, avail

    arrived_at: dict[str, float] = {}
    waits: dict[str, float] = {}          # answered: wait
    left_after: dict[str, float] = {}     # answered or abandoned: time in queue
    decisions = 0
    push(rng.expovariate(config.arrival_rate), "arrival", "")
    n = 0
    while events:
        next_timer = await router.store.next_due()
        upcoming = events[0][0] if next_timer is None else min(next_timer, events[0][0])
        if len(snapshots) < len(boundaries) and upcoming >= boundaries[len(snapshots)]:
            now[0] = boundaries[len(snapshots)]   # nothing happens before it any more: the clock never goes back
            snapshots.append(await busy_and_available())
            continue
        if next_timer is not None and next_timer <= events[0][0]:
            now[0] = max(now[0], next_timer)
            await router.tick()
            continue
        at, _, kind, ref = heapq.heappop(events)
        now[0] = at
        if kind == "arrival":
            if at > end:
                continue   # stop arrivals; drain what is queued
            n += 1
            task_id = f"c{n}"
            arrived_at[task_id] = at
            push(at + rng.expovariate(config.arrival_rate), "arrival", "")
            if config.patience_s is not None:
                push(at + rng.expovariate(1.0 / config.patience_s), "patience", task_id)
            await router.enqueue(Task(task_id, "sim", "voice"))
        elif kind == "done":
            await router.complete(ref)
            await router.wrapup_done(ref)
        elif kind == "patience":
            task = await router.store.get_task(ref)
            if task is not None and task.state == "queued":
                await router.abandon(ref)
                left_after[ref] = at - arrived_at[ref]
        while offers:   # every agent answers at once: accept, then talk for a handle time
            offer = offers.pop(0)
            decisions += 1
            assignment = await router.accept(offer.offer_id or "", offer.agent_id or "")
            waits[assignment.task_id] = left_after[assignment.task_id] = assignment.waited_s
            push(now[0] + _handle_time(config, rng), "done", assignment.task_id)

    measured = [c for c, a in arrived_at.items() if a >= warmup]   # in arrival order (dicts keep it)
    threshold = config.sl_threshold_s
    sl = _mean_se([float(left_after[c] <= threshold) for c in measured])
    sl_answered = _mean_se([float(waits.get(c, math.inf) <= threshold) for c in measured])
    asa = _mean_se([waits[c] for c in measured if c in waits])
    abandoned = [float(c not in waits) for c in measured]
    abandonment = _mean_se(abandoned)
    occupancy = _mean_se([(b1 - b0) / ((b1 - b0) + (a1 - a0))
                          for (b0, a0), (b1, a1) in itertools.pairwise(snapshots)])
    return SimulationResult(
        offered=len(measured), answered=len(measured) - int(sum(abandoned)), abandoned=int(sum(abandoned)),
        service_level=sl_answered[0] or 0.0, service_level_se=sl_answered[1],
        service_level_removed=sl[0] or 0.0, service_level_removed_se=sl[1],
        asa_s=asa[0], asa_s_se=asa[1],
        abandonment_rate=abandonment[0] or 0.0, abandonment_rate_se=abandonment[1],
        occupancy=occupancy[0] or 0.0, occupancy_se=occupancy[1],
        decisions=decisions, simulated_hours=config.hours, wall_s=time.perf_counter() - wall,
        **erlang_prediction(config))


def _mean_se(values: list[float]) -> tuple[float | None, float | None]:
    """Mean (None without values) and its batch-means standard error (None with fewer values than batches):
    consecutive batches absorb the autocorrelation."""
    if not values:
        return None, None
    mean = sum(values) / len(values)
    size = len(values) // _BATCHES
    if size < 1:
        return mean, None
    batches = [sum(values[i * size:(i + 1) * size]) / size for i in range(_BATCHES)]
    return mean, statistics.stdev(batches) / math.sqrt(_BATCHES)
