"""Pumps one agent at a time (`agents = "individual"`, agents.py): the same physics as the
counts per state, single-pump statistics against the cycle's closed form, the ledger."""
import numpy as np
import pytest

import ionmc
from ionmc.mechanisms import pump
from ionmc.thermo.closed_forms import cycle_statistics
from ionmc.errors import InputError
from ionmc.model import Model

from cells import free_pump_cell, pump_agents, pump_cell


# -- the closed form first, on cycles whose answer is known ------------------------------
def test_cycle_statistics_trivial_cycles():
    v, r = cycle_statistics([3.0], [0.0])  # one irreversible step: a Poisson process
    assert v == pytest.approx(3.0) and r == pytest.approx(1.0)
    for n in (2, 4, 7):  # n equal irreversible steps: Erlang(n), r = 1/n
        v, r = cycle_statistics([5.0] * n, [0.0] * n)
        assert v == pytest.approx(5.0 / n) and r == pytest.approx(1.0 / n)
    # unequal steps: sum of exponentials, r = sum(1/k^2) / (sum 1/k)^2
    k = np.array([1.0, 2.0, 3.0])
    v, r = cycle_statistics(k, [0.0] * 3, edge=2)
    assert v == pytest.approx(1 / np.sum(1 / k)) and \
        r == pytest.approx(np.sum(1 / k**2) / np.sum(1 / k)**2)
    # a biased walk on a 2-ring: steps +-1 at 2/s and 1/s, cycles = steps / 2
    v, r = cycle_statistics([2.0, 2.0], [1.0, 1.0])
    assert v == pytest.approx(0.5) and r == pytest.approx(1.5)


def test_cycle_statistics_velocity_is_king_altman_on_every_edge():
    row = Model(pump_cell(nai=40.0, density=10.0).build()).tr_p[0]
    fw, bw = pump.cycle_rates(row, 40.0, 140.0, 145.0, 5.0, -0.07)
    flux = pump.king_altman(fw, bw)[1]
    for edge in range(4):  # in a single cycle every edge carries the same net flux and D
        v, r = cycle_statistics(fw, bw, edge)
        assert v == pytest.approx(flux, rel=1e-10)
        assert r == pytest.approx(cycle_statistics(fw, bw, 0)[1], rel=1e-8)


# -- (2) single pumps ---------------------------------------------------------------------
def test_single_pump_agent_table_adds_up():
    """20 individual pumps at clamped V and concentrations, dwell times recorded: the
    per-agent turnover table adds up to the mechanism's counts. (The completion intervals
    against the cycle's closed form: verification, single_pump_cycle_times.)"""
    sc = pump_agents(pump_cell(nai=40.0, density=20.0, duration=100.0, dt=10.0, seed=11),
                     dwell=True).build()
    df, info = ionmc.simulate(sc, 0)
    ag = info["agents"]
    assert len(ag) == 20 and ag["turnover"].sum() == \
        df["pump.forward"].iloc[-1] - df["pump.backward"].iloc[-1]
    assert ag["forward"].sum() == df["pump.forward"].iloc[-1]
    assert df["pump.forward"].iloc[-1] > 30000  # it cycled (>30000 completions before)


def test_dwell_times_tile_each_agents_run():
    sc = pump_agents(pump_cell(nai=40.0, density=3.0, duration=2.0, dt=0.5, seed=2),
                 dwell=True).build()
    df, info = ionmc.simulate(sc, 0)
    dw = info["dwell_times"]
    assert set(dw["state"]) <= {"P1", "P2", "P3", "P4"}
    for _, g in dw.groupby("agent"):
        g = g.sort_values("entered_s", na_position="first")
        assert np.isnan(g["entered_s"].iloc[0]) and np.isnan(g["left_s"].iloc[-1])
        # contiguous: each dwell starts when the previous one ends, states change
        assert np.array_equal(g["entered_s"].to_numpy()[1:], g["left_s"].to_numpy()[:-1])
        assert (g["state"].to_numpy()[1:] != g["state"].to_numpy()[:-1]).all()
    # the open dwells' states are the final state counts
    last = dw[dw["left_s"].isna()]["state"].value_counts()
    for k in range(1, 5):
        assert last.get(f"P{k}", 0) == df[f"pump.P{k}.count"].iloc[-1]


def test_same_state_columns_as_counts():
    sc = free_pump_cell("individual", 3)
    df, info = ionmc.simulate(sc, 0)
    cnt = df[[f"pump.P{k}.count" for k in range(1, 5)]].sum(axis=1) + df["pump.blocked.count"]
    assert (cnt == 20).all()
    assert (df["pump.Na.net_efflux"] == 3 * (df["pump.forward"] - df["pump.backward"])).all()
    assert "dwell_times" not in info and len(info["agents"]) == 20


# -- input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("change,key", [
    ({"pump": {"agents": "each"}}, "agents"),
    ({"scenario": {"method": "tau-leap"}}, "agents"),
    ({"scenario": {"method": "ode"}}, "agents"),
    ({"pump": {"density_per_um2": 300.0}}, "agents"),
    ({"pump": {"agents": "counts"}}, "record_dwell_times"),
    ({"scenario": {"random_streams": "per_transition"}}, "record_dwell_times"),
])
def test_bad_agent_input(change, key):
    cell = pump_agents(pump_cell(density=20.0), dwell=True)
    cell.scenario(**change.get("scenario", {})).configure("pump", **change.get("pump", {}))
    with pytest.raises(InputError) as e:
        cell.build()
    assert key in str(e.value)
