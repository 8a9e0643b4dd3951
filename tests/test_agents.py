"""Pumps one agent at a time (`agents = "individual"`, agents.py): the same physics as the
counts per state, single-pump statistics against the cycle's closed form, the ledger."""
import numpy as np
import pandas as pd
import pytest

import ionmc
from conftest import balance, pump_cell, small_cell
from ionmc.mechanisms import pump
from ionmc.thermo.closed_forms import cycle_statistics
from ionmc.errors import InputError
from ionmc.model import Model
from ionmc.runs.replicate import simulate

def _agents(cell, agents="individual", dwell=False):
    """pump_cell with the pump's agents mode."""
    return cell.configure("pump", agents=agents, record_dwell_times=dwell)


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


# -- (2) single-pump cycle times ---------------------------------------------------------
def _completion_intervals(dw):
    """Per agent, the times at which its winding number (net forward Na+ steps, P2 -> P3)
    reaches a new maximum: renewal times (the pump is then in P3). Their intervals, the
    first one (from the start, not a renewal) dropped."""
    out = []
    for _, g in dw.sort_values(["agent", "left_s"]).groupby("agent"):
        g = g[g["left_s"].notna()]
        cur = g["state"].to_numpy()
        nxt = np.append(cur[1:], "")
        step = np.where((cur == "P2") & (nxt == "P3"), 1,
                        np.where((cur == "P3") & (nxt == "P2"), -1, 0))
        w = np.cumsum(step)
        new_max = (step == 1) & (w > np.maximum.accumulate(np.r_[0, w[:-1]]))
        t = g["left_s"].to_numpy()[new_max]
        out.append(np.diff(t))
    return np.concatenate(out)


def test_single_pump_cycle_times_match_the_rate_matrix():
    # clamped V and concentrations: constant rates, each pump a renewal process whose
    # completion intervals have mean 1/v and squared CV r (closed_forms.cycle_statistics)
    sc = _agents(pump_cell(nai=40.0, density=20.0, duration=100.0, dt=10.0, seed=11),
                 dwell=True).build()
    df, info = ionmc.simulate(sc, 0)
    row = Model(sc).tr_p[0]
    v, r = cycle_statistics(*pump.cycle_rates(row, 40.0, 140.0, 145.0, 5.0, -0.07), edge=1)
    dt = _completion_intervals(info["dwell_times"])
    n = len(dt)
    assert n > 30000
    mean, r_sim = dt.mean(), dt.var(ddof=1) / dt.mean() ** 2
    se_mean = dt.std(ddof=1) / np.sqrt(n)
    print(f"cycles {n}: mean {mean:.5f} s vs 1/v {1 / v:.5f} s (SE {se_mean:.1e}); "
          f"r {r_sim:.4f} vs {r:.4f}")
    assert abs(mean * v - 1.0) < 0.02 and abs(mean - 1 / v) < 4 * se_mean
    assert abs(r_sim / r - 1.0) < 0.05
    # and the per-agent turnover table adds up to the mechanism's counts
    ag = info["agents"]
    assert len(ag) == 20 and ag["turnover"].sum() == \
        df["pump.forward"].iloc[-1] - df["pump.backward"].iloc[-1]
    assert ag["forward"].sum() == df["pump.forward"].iloc[-1]


def test_dwell_times_tile_each_agents_run():
    sc = _agents(pump_cell(nai=40.0, density=3.0, duration=2.0, dt=0.5, seed=2),
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


# -- (1) individual agents and counts per state: the same process ---------------------
def _free_cell(agents, seed):
    """20 pumps on a 0.05 um^2 membrane with weak leaks, V free: the pumps interact through
    V (0.32 mV per charge) and the cell's Na+."""
    return small_cell(duration=1.0, dt=0.5, seed=seed,
                      leaks=(("K", 5e-7), ("Na", 1e-7), ("Cl", 2e-7))) \
        .pump(density_per_um2=400.0, agents=agents).build()


@pytest.mark.slow
def test_individual_and_counts_agree_in_distribution():
    R = 300
    net = {}
    for mode in ("counts", "individual"):
        sc = _free_cell(mode, 5)
        root = np.random.SeedSequence(99 if mode == "counts" else 100).spawn(R)
        net[mode] = np.array([
            (lambda d: d["pump.forward"].iloc[-1] - d["pump.backward"].iloc[-1])(
                simulate(sc, k, root[k])[0]) for k in range(R)], float)
    a, b = net["counts"], net["individual"]
    se_mean = np.sqrt(a.var(ddof=1) / R + b.var(ddof=1) / R)

    def se_var(x):  # SE of the sample variance: sqrt((m4 - s^4) / n)
        return np.sqrt((np.mean((x - x.mean()) ** 4) - x.var() ** 2) / len(x))

    se_v = np.hypot(se_var(a), se_var(b))
    print(f"net cycles: counts {a.mean():.2f} +- {a.std():.2f}, individual "
          f"{b.mean():.2f} +- {b.std():.2f}; mean diff {(a.mean() - b.mean()) / se_mean:.2f} "
          f"SE, var diff {(a.var(ddof=1) - b.var(ddof=1)) / se_v:.2f} SE")
    assert a.mean() > 20  # the pumps really cycle
    assert abs(a.mean() - b.mean()) < 4 * se_mean
    assert abs(a.var(ddof=1) - b.var(ddof=1)) < 4 * se_v


def test_same_state_columns_as_counts():
    sc = _free_cell("individual", 3)
    df, info = ionmc.simulate(sc, 0)
    cnt = df[[f"pump.P{k}.count" for k in range(1, 5)]].sum(axis=1) + df["pump.blocked.count"]
    assert (cnt == 20).all()
    assert (df["pump.Na.net_efflux"] == 3 * (df["pump.forward"] - df["pump.backward"])).all()
    assert "dwell_times" not in info and len(info["agents"]) == 20


# -- (3) the ledger ----------------------------------------------------------------------
def test_ledger_exact_with_individual_elementary_pumps_and_ouabain():
    # distinguishable agents: G_agents without ln(m_i!), ln(a_f/a_b) without count factors;
    # the balance telescopes to rounding as for the counts (test_ledger), through a block
    # and an unblock (agents picked and released at random, booked as event work)
    sc = small_cell(duration=0.3, dt=0.025, seed=8) \
        .pump(density_per_um2=800.0, agents="individual", elementary=1.0) \
        .events((0.1, {"mechanisms.pump.block_fraction": 0.5}),
                (0.2, {"mechanisms.pump.block_fraction": 0.0})).build()
    df, info = ionmc.simulate(sc, 0)
    resid, scale = balance(df)
    print(f"{info['method_events']} events, W_ATP {df['thermo.atp_work_J'].iloc[-1]:.3g} J, "
          f"largest term {scale:.3g} J, |residual| {np.abs(resid).max():.2g} J")
    assert df["thermo.atp_work_J"].iloc[-1] > 0.05 * scale
    assert np.abs(resid).max() <= 1e-9 * scale, (np.abs(resid).max(), scale)
    blocked = df["pump.blocked.count"].to_numpy()
    assert blocked[np.argmin(abs(df["time_s"] - 0.15))] == 20 and blocked[-1] == 0
    assert df["thermo.event_work_J"].abs().iloc[-1] > 0  # the block moved G


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
    cell = _agents(pump_cell(density=20.0), dwell=True)
    cell.scenario(**change.get("scenario", {})).configure("pump", **change.get("pump", {}))
    with pytest.raises(InputError) as e:
        cell.build()
    assert key in str(e.value)


def test_cli_writes_agent_tables_beside_the_timeseries(tmp_path):
    from ionmc.cli import main

    p = _agents(pump_cell(nai=40.0, density=4.0, duration=1.0, dt=0.5), dwell=True) \
        .write(tmp_path / "s.toml")
    out = tmp_path / "out"
    assert main(["run", str(p), "-o", str(out), "--replicates", "2", "--workers", "1"]) == 0
    ts = pd.read_parquet(out / "timeseries")
    ag = pd.read_parquet(out / "agents")
    dw = pd.read_parquet(out / "dwell_times")
    assert sorted(ag["replicate"].unique()) == [0, 1] and len(ag) == 8
    last = ts[ts["time_s"] == ts["time_s"].max()].set_index("replicate")
    tot = ag.groupby("replicate")["forward"].sum()
    assert (tot == last["pump.forward"]).all()
    assert set(dw["replicate"]) == {0, 1}


def test_sweep_writes_agent_tables_per_point(tmp_path):
    from ionmc.cli import main

    p = _agents(pump_cell(nai=40.0, density=4.0, duration=0.5, dt=0.25), dwell=True) \
        .sweep(**{"mechanisms.pump.fxyd_phosphorylated": [0.0, 1.0]}).write(tmp_path / "s.toml")
    out = tmp_path / "out"
    assert main(["run", str(p), "-o", str(out), "--replicates", "1", "--workers", "1"]) == 0
    for kind in ("agents", "dwell_times"):
        assert sorted(f.parent.name for f in (out / kind).rglob("*.parquet")) == \
            ["point=0000", "point=0001"]
    ag = pd.read_parquet(out / "agents")
    assert sorted(ag["sweep.mechanisms.pump.fxyd_phosphorylated"].unique()) == [0.0, 1.0]
    assert not list(out.rglob("*.tmp"))
