"""The metabolic pool (docs/mechanisms/metabolism.md; issue 4): conservation, detailed
balance of oxphos and of the pump on the pool, the O2 budget, and the anoxia sequence.
Here: the topic's runs longer than about a second and its command-line tests; the
rest is in tests/unit/test_metabolism.py."""
import math

import pytest

import ionmc
from ionmc.constants import R

from conftest import make, run_df

T = 310.0


CUT = 30.0  # anoxia.toml cuts O2 here


def onset(df, t_event, dv=10.0):
    """Seconds from t_event until V first stands dv above its value at t_event."""
    v0 = df.loc[df.time_s <= t_event, "soma.V_mV"].iloc[-1]
    after = df[(df.time_s > t_event) & (df["soma.V_mV"] >= v0 + dv)]
    return after.time_s.iloc[0] - t_event if len(after) else math.inf


def half_time(df, col, t_event):
    v0 = df.loc[df.time_s <= t_event, col].iloc[-1]
    after = df[(df.time_s > t_event) & (df[col] <= 0.5 * v0)]
    return after.time_s.iloc[0] - t_event


def test_oxphos_stalls_where_dG_ATP_pays_for_nothing_more():
    # a weak oxidant (dG_ox -300 kJ/mol O2) puts oxphos's equilibrium at a reachable
    # dG_ATP = dG_ox(O2)/n; no pumps, no load: the pool must settle there
    sc = make("anoxia", method="ode", duration=200.0, dt=10.0, events=[],
              sets=[("mechanisms.pump.block_fraction", 1.0),
                    ("mechanisms.metab.basal_load_mM_per_s", 0.0),
                    ("mechanisms.metab.dG_ox_kJ_per_mol_O2", -300.0),
                    ("mechanisms.metab.O2_permeability_cm_per_s", 1e-2)])
    df = run_df(sc)
    last = df.iloc[-1]
    o2 = last["neuron.O2.mM"]
    target = (-300e3 - R * T * math.log(o2)) / 5 / 1e3
    assert last["neuron.dG_ATP_kJ_per_mol"] == pytest.approx(target, abs=0.01)
    assert o2 == pytest.approx(0.05, rel=1e-3)  # nothing consumed any more
    rate = df["neuron.o2_consumed"].diff().iloc[-1] / 10.0
    assert abs(rate) < 1e-6 * df["neuron.o2_consumed"].iloc[-1]


@pytest.fixture(scope="module")
def anoxia_runs():
    a = run_df(make("anoxia", method="ode", dt=0.5))
    o = run_df(make("anoxia", method="ode", dt=0.5,
                    events=[(CUT, {"mechanisms.pump.block_fraction": 1.0})]))
    return a, o


def test_anoxia_sequence(anoxia_runs):
    df, _ = anoxia_runs
    pre = df[df.time_s <= CUT].iloc[-1]
    # O2 first (below oxphos's K_m of 1 uM within a second), then PCr, then ATP
    o2_gone = df[(df.time_s > CUT) & (df["neuron.O2.mM"] < 0.001)]
    assert o2_gone.time_s.iloc[0] - CUT <= 1.0
    t_pcr, t_atp = half_time(df, "neuron.PCr.mM", CUT), half_time(df, "neuron.ATP.mM", CUT)
    assert t_pcr < t_atp
    # the pumps stall (and end up slightly reversed), Na_i and K_o rise, V depolarises
    net = (df["pump.forward"] - df["pump.backward"]).diff() / df.time_s.diff()
    rest = net[df.time_s <= CUT].iloc[-1]
    assert abs(net.iloc[-1]) < 0.02 * rest
    late = df.iloc[-1]
    assert late["neuron.Na.mM"] > pre["neuron.Na.mM"] + 10
    assert late["ecs.K.mM"] > pre["ecs.K.mM"] + 20
    t_on = onset(df, CUT)
    print(f"anoxia: PCr half {t_pcr:.1f} s, ATP half {t_atp:.1f} s, V +10 mV at {t_on:.1f} s "
          "after the O2 cut")
    # 1-2 min in vivo (Hansen 1985), where glycolysis goes on making ATP; this cell has
    # none, and its alpha1 pumps run at ~90% of their maximum at rest, so sooner (46 s)
    assert 30.0 <= t_on <= 300.0
    assert t_pcr < t_on
    # O2 consumption stops at the cut
    o2 = df["neuron.o2_consumed"]
    assert o2.iloc[-1] - o2[df.time_s <= CUT + 1].iloc[-1] < 1e-2 * o2.iloc[-1]
    # the ledger still closes (W_ATP at the pool's dG_ATP)
    resid = df["thermo.balance_residual_J"].abs().max()
    assert resid < 0.01 * df["thermo.atp_work_J"].abs().max()


def test_anoxia_is_slower_than_ouabain_by_the_stores(anoxia_runs):
    a, o = anoxia_runs
    t_a, t_o = onset(a, CUT), onset(o, CUT)
    print(f"onset after the event: anoxia {t_a:.1f} s, ouabain {t_o:.1f} s")
    assert t_o < 30.0 < t_a
    # what the stores buy: the stores (ATP + PCr, 7 mM) at the resting ATP use
    use_mM_per_s = 5.781e7 / (1000.0 * 6.02214076e5)
    assert t_a - t_o > 0.5 * 7.0 / use_mM_per_s


def test_tau_leap_follows_the_ode_through_anoxia(anoxia_runs):
    ode, _ = anoxia_runs
    tl = run_df(make("anoxia", method="tau-leap", dt=0.5, duration=200.0))
    for t in (20.0, 60.0, 100.0, 150.0, 200.0):
        a, b = ode[ode.time_s == t].iloc[0], tl[tl.time_s == t].iloc[0]
        assert abs(a["soma.V_mV"] - b["soma.V_mV"]) < 1.0
        # abs: 0.1% of the 3 mM store (where ATP is nearly gone, ~5 uM, the last 2 uM)
        assert a["neuron.ATP.mM"] == pytest.approx(b["neuron.ATP.mM"], rel=0.02, abs=3e-3)
        assert a["neuron.PCr.mM"] == pytest.approx(b["neuron.PCr.mM"], rel=0.02, abs=2e-3)


def test_anoxia_is_a_builtin_and_runs_from_the_cli(tmp_path):
    from ionmc.cli import main

    assert "anoxia" in ionmc.scenario.builtins()
    assert main(["run", "anoxia", "-o", str(tmp_path / "a"), "--duration", "2",
                 "--method", "ode"]) == 0
    import pandas as pd

    df = pd.read_parquet(tmp_path / "a" / "timeseries")
    for col in ("neuron.o2_consumed", "neuron.ATP.count", "neuron.PCr.mM",
                "neuron.dG_ATP_kJ_per_mol", "metab.forward"):
        assert col in df
