"""Queueing formulas to check the engine against: Erlang B, Erlang C (M/M/N) and Erlang A (M/M/N+M, Palm).

Units: `traffic` A = arrival rate x mean handle time (Erlangs); times in the unit of `aht` (seconds here).
Erlang A is computed from its birth-death chain (Palm 1943; Garnett, Mandelbaum & Reiman 2002): states k =
customers in system, births at rate lambda, deaths at min(k, N) mu + max(k - N, 0) theta. Time figures come from
the tagged-customer chain: with j customers ahead, the place ahead frees at rate N mu + j theta, and the customer
itself abandons at rate theta.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of M/M/N/N (Erlang B), by the stable recursion B(n) = A B(n-1) / (n + A B(n-1))."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must be >= 0")
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that an arrival waits in M/M/N (Erlang C); 1 when the load is not below the agents."""
    if traffic >= agents:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1.0 - b))


@dataclass(frozen=True)
class ErlangC:
    """Erlang C figures for N agents, arrival rate per second and mean handle time."""
    agents: int
    arrival_rate: float
    aht: float

    @property
    def traffic(self) -> float:
        return self.arrival_rate * self.aht

    @property
    def occupancy(self) -> float:
        return min(1.0, self.traffic / self.agents)

    @property
    def p_wait(self) -> float:
        return erlang_c(self.agents, self.traffic)

    def service_level(self, t: float) -> float:
        """P(wait <= t) = 1 - C e^{-(N - A) t / AHT} (nobody abandons: answered and left the queue are one)."""
        if self.traffic >= self.agents:
            return 0.0
        return 1.0 - self.p_wait * math.exp(-(self.agents - self.traffic) * t / self.aht)

    @property
    def asa(self) -> float:
        """Mean wait of all calls: C AHT / (N - A)."""
        if self.traffic >= self.agents:
            return math.inf
        return self.p_wait * self.aht / (self.agents - self.traffic)


@dataclass(frozen=True)
class ErlangA:
    """Erlang A (M/M/N+M) figures: exponential patience with mean `patience`."""
    agents: int
    arrival_rate: float
    aht: float
    patience: float
    tail: float = 1e-12   # the chain is cut where state probabilities fall below this

    def __post_init__(self) -> None:
        if self.agents < 1 or self.arrival_rate <= 0 or self.aht <= 0 or self.patience <= 0:
            raise ValueError("agents >= 1 and positive rates are required")
        mu, theta, lam, n = 1.0 / self.aht, 1.0 / self.patience, self.arrival_rate, self.agents
        # Log weights: beyond ~700 Erlangs the plain ones (A^k / k!) overflow to inf, and inf never falls below
        # the tail, so the loop would never end.
        logs = [0.0]
        peak = 0.0
        k = 0
        while True:
            k += 1
            death = min(k, n) * mu + max(k - n, 0) * theta
            logs.append(logs[-1] + math.log(lam / death))
            peak = max(peak, logs[-1])
            if k > n and logs[-1] < peak + math.log(self.tail) and lam < death:
                break
        weights = [math.exp(x - peak) for x in logs]
        total = sum(weights)
        object.__setattr__(self, "_pi", [w / total for w in weights])

    @property
    def _chain(self) -> list[float]:
        return self._pi  # type: ignore[attr-defined,no-any-return]

    def _rates(self, j: int) -> tuple[float, float]:
        """(rate the place ahead frees, total leaving rate) with j customers ahead."""
        ahead = self.agents / self.aht + j / self.patience
        return ahead, ahead + 1.0 / self.patience

    @property
    def p_wait(self) -> float:
        """Probability an arrival finds every agent busy (PASTA)."""
        return sum(self._chain[self.agents:])

    def _served(self) -> tuple[list[float], list[float]]:
        """Per j ahead: P(served), E[wait; served]."""
        s: list[float] = []
        m: list[float] = []
        for j in range(len(self._chain) - self.agents):
            r, q = self._rates(j)
            s_prev, m_prev = (s[-1], m[-1]) if j else (1.0, 0.0)
            s.append(r / q * s_prev)
            m.append(s[-1] / q + r / q * m_prev)
        return s, m

    @property
    def p_abandon(self) -> float:
        """Fraction of arrivals that abandon."""
        s, _ = self._served()
        return sum(p * (1.0 - s[j]) for j, p in enumerate(self._chain[self.agents:]))

    @property
    def mean_queue(self) -> float:
        """Mean number waiting (Little: p_abandon = theta E[Lq] / lambda)."""
        return sum((k - self.agents) * p for k, p in enumerate(self._chain) if k > self.agents)

    @property
    def asa(self) -> float:
        """Mean wait of answered contacts (those served without waiting count as 0)."""
        s, m = self._served()
        waiting = self._chain[self.agents:]
        answered = (1.0 - self.p_wait) + sum(p * s[j] for j, p in enumerate(waiting))
        return sum(p * m[j] for j, p in enumerate(waiting)) / answered

    @property
    def occupancy(self) -> float:
        """Busy agents / agents."""
        return sum(min(k, self.agents) * p for k, p in enumerate(self._chain)) / self.agents

    def service_level(self, t: float) -> float:
        """Fraction of arrivals answered within t (the simulator's `service_level`; the engine's
        `service_level_answered`)."""
        return self._within(t)[0]

    def service_level_removed(self, t: float) -> float:
        """Fraction of arrivals that left the queue (answered or abandoned) within t: P(W <= t), Amazon Connect's
        service level (the engine's queue metric `service_level`; the simulator's `service_level_removed`)."""
        return self._within(t)[1]

    def _within(self, t: float) -> tuple[float, float]:
        """(answered within t, left the queue within t), by uniformisation of the tagged-customer chain."""
        waiting = self._chain[self.agents:]
        jmax = len(waiting) - 1
        uni = self._rates(jmax)[1]
        # probability mass per j ahead; absorbed "served" mass accumulates in `served`
        mass = list(waiting)
        by_steps = [(0.0, sum(mass))]   # (served, still queued) after n steps
        served = 0.0
        poisson_mean = uni * t
        steps = int(poisson_mean + 10.0 * math.sqrt(poisson_mean) + 20)
        for _ in range(steps):
            new = [0.0] * len(mass)
            for j, p in enumerate(mass):
                if p == 0.0:
                    continue
                r, q = self._rates(j)
                if j == 0:
                    served += p * r / uni
                else:
                    new[j - 1] += p * r / uni
                new[j] += p * (1.0 - q / uni)
            mass = new
            by_steps.append((served, sum(mass)))
        # P(... by t) = sum_n Poisson(n; uni t) * P(... within n steps); Poisson weights in log space: no underflow
        answered = queued = 0.0
        for n, (s, left) in enumerate(by_steps):
            weight = (math.exp(n * math.log(poisson_mean) - poisson_mean - math.lgamma(n + 1)) if poisson_mean > 0
                      else float(n == 0))
            answered += s * weight
            queued += left * weight
        return (1.0 - self.p_wait) + answered, 1.0 - queued
