"""Erlang B, C and A against textbook values and against each other."""
from __future__ import annotations

import math

import pytest

from routing.erlang import ErlangA, ErlangC, erlang_b, erlang_c


@pytest.mark.parametrize("agents, traffic, expected", [
    (1, 1.0, 0.5), (5, 2.0, 0.036697), (10, 5.0, 0.018385), (20, 15.0, 0.045593), (0, 3.0, 1.0)])
def test_erlang_b_table_values(agents, traffic, expected):
    assert erlang_b(agents, traffic) == pytest.approx(expected, abs=2e-6)


def test_erlang_c_closed_forms():
    assert erlang_c(1, 0.7) == pytest.approx(0.7)                   # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)                 # M/M/2: 2 rho^2 / (1 + rho)
    assert erlang_c(3, 3.0) == 1.0


def test_erlang_c_textbook_example():
    """100 calls per half hour, AHT 180 s, 14 agents: P(wait) 17.4 %, SL(20 s) 88.8 %, ASA 7.8 s."""
    e = ErlangC(14, 100 / 1800, 180)
    assert e.traffic == pytest.approx(10.0)
    assert e.p_wait == pytest.approx(0.1741, abs=1e-4)
    assert e.service_level(20) == pytest.approx(0.8884, abs=1e-4)
    assert e.asa == pytest.approx(7.84, abs=0.01)
    assert e.occupancy == pytest.approx(10 / 14)


def test_erlang_a_tends_to_erlang_c_with_endless_patience():
    a, c = ErlangA(14, 100 / 1800, 180, patience=1e7), ErlangC(14, 100 / 1800, 180)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-4)
    assert a.asa == pytest.approx(c.asa, rel=1e-3)
    assert a.service_level(20) == pytest.approx(c.service_level(20), abs=1e-4)
    assert a.p_abandon < 1e-5


def test_erlang_a_is_consistent_with_littles_law_and_mm1_m():
    a = ErlangA(50, 50 / 180, 180, patience=120)   # 100 % offered load: only abandonment keeps it stable
    assert a.p_abandon == pytest.approx(a.mean_queue / a.patience / a.arrival_rate, rel=1e-9)
    assert a.occupancy == pytest.approx(a.arrival_rate * (1 - a.p_abandon) * a.aht / a.agents, rel=1e-9)
    # M/M/1+M with mu = theta is M/M/infinity-like: states are Poisson(lambda/mu)
    b = ErlangA(1, 1.0, 1.0, patience=1.0)
    assert b.p_wait == pytest.approx(1 - math.exp(-1.0), rel=1e-9)
    assert 0 < b.service_level(0.5) < b.service_level(5.0) <= 1 - b.p_abandon + 1e-9


def test_erlang_a_service_level_matches_tagged_chain_limits():
    a = ErlangA(20, 0.1, 180, patience=60)
    assert a.service_level_removed(0) == a.service_level(0) == pytest.approx(1 - a.p_wait, abs=1e-9)
    assert a.service_level(3000) == pytest.approx(1 - a.p_abandon, abs=1e-6)
    assert a.service_level_removed(3000) == pytest.approx(1.0, abs=1e-9)   # by then everyone has left the queue


@pytest.mark.parametrize("t, answered, left", [(10, 0.814001269, 0.848488543), (30, 0.901195550, 0.963377593)])
def test_erlang_a_service_levels_answered_and_left_the_queue(t, answered, left):
    """The engine's two service levels (answered within t / queued, and Amazon Connect's answered or abandoned
    within t / queued) against the tagged-customer chain solved by a matrix exponential (scipy, out of tree)."""
    a = ErlangA(20, 0.1, 180, patience=60)
    assert a.service_level(t) == pytest.approx(answered, abs=1e-8)
    assert a.service_level_removed(t) == pytest.approx(left, abs=1e-8)
    # who left the queue within t and was not answered abandoned within t: at rate theta while still waiting
    assert a.service_level_removed(t) - a.service_level(t) < a.p_abandon


@pytest.mark.parametrize("rate, p_wait, p_abandon, asa, sl20, left20", [
    (5.0, 0.000533648, 6.56184e-06, 0.000778366, 0.999993438, 0.999999999999),
    (5.8, 0.861661453, 0.0441324149, 5.34452249, 0.955103769, 0.999227667)])
def test_erlang_a_with_a_thousand_agents(rate, p_wait, p_abandon, asa, sl20, left20):
    """900 and 1,044 Erlangs (AHT 180 s, patience 120 s): the chain's weights A^k / k! exceed a float. Expected
    values from Mandelbaum & Zeltyn's closed forms (1F1 by mpmath) and the tagged chain by a matrix exponential."""
    a = ErlangA(1000, rate, 180, patience=120)
    assert a.p_wait == pytest.approx(p_wait, rel=1e-6)
    assert a.p_abandon == pytest.approx(p_abandon, rel=1e-5)
    assert a.asa == pytest.approx(asa, rel=1e-6)
    assert a.service_level(20) == pytest.approx(sl20, abs=1e-8)
    assert a.service_level_removed(20) == pytest.approx(left20, abs=1e-8)
