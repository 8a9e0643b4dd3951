"""FXYD phosphorylation (issue 5): the `fxyd` built-in. At the event the pump speeds up at
the same Na_i by the factor of the cycle's own steady-state flux; then Na_i settles lower,
where the pump balances the leak again (ode)."""
import numpy as np
import pytest

from ionmc.mechanisms import nka, nka_cycle
from ionmc.thermo.closed_forms import ghk_fluxes
from ionmc.model import Model
from ionmc.scenario import load_scenario

from conftest import run_df


def test_phosphorylation_speeds_the_pump_at_the_same_na_then_na_falls():
    sc = load_scenario("fxyd", ["scenario.method='ode'", "scenario.record_interval_s=0.05"])
    df = run_df(sc)
    t = df["time_s"].to_numpy()
    net = (df["pump.forward"] - df["pump.backward"]).to_numpy()
    model = Model(sc)
    mech = next(m for m in model.mechs if m.type == nka.TYPE)
    n = mech.n_agents
    specs = {f: dict(mech.spec, fxyd_phosphorylated=f) for f in (0.0, 1.0)}

    def turnover(f, nai, ki, nao, ko, V):
        return nka_cycle.turnover(specs[f], nai, ki, nao, ko, V, 310.0)

    def state(k):
        r = df.iloc[k]
        return (r["neuron.Na.mM"], r["neuron.K.mM"], r["ecs.Na.mM"], r["ecs.K.mM"],
                r["soma.V_mV"] * 1e-3)

    e = int(np.searchsorted(t, 30.0))  # the state at the event (recorded just before it)
    factor = turnover(1.0, *state(e)) / turnover(0.0, *state(e))
    assert factor > 1.1  # x1.14: the K0.5 shift at a resting Na_i, Vmax unchanged
    # 50-100 ms after the event (the pump states have re-equilibrated, Na_i has moved by
    # < 0.2 mM) the pump runs at the phosphorylated cycle's steady-state rate
    k = e + 1
    rate = (net[k + 1] - net[k]) / (t[k + 1] - t[k])
    assert abs(df["neuron.Na.mM"].iloc[k + 1] - df["neuron.Na.mM"].iloc[e]) < 0.2
    mid = tuple((a + b) / 2 for a, b in zip(state(k), state(k + 1)))
    assert rate == pytest.approx(n * turnover(1.0, *mid), rel=0.02)
    before = (net[e] - net[e - 1]) / (t[e] - t[e - 1])
    assert rate / before == pytest.approx(factor, rel=0.05)
    # then Na_i settles lower, where the pump again balances the leaks' net Na+ entry
    # (GHK at the final state; V and K_o have moved too, so not at the old rate)
    na = df["neuron.Na.mM"].to_numpy()
    assert na[-1] < na[0] - 0.3  # 15 -> 14.42 mM
    assert abs(na[-1] - na[-201]) < 0.02 * abs(na[-1] - na[0])  # settled (last 10 s)
    after = (net[-1] - net[-2]) / (t[-1] - t[-2])
    P = next(m["permeability_cm_per_s"] for m in sc.data["mechanisms"]
             if m["type"] == "leak" and m["species"] == "Na")
    r = df.iloc[-1]
    out, inn = ghk_fluxes(P, sc.data["membranes"]["soma"]["area_um2"], 1, r["neuron.Na.mM"],
                          r["ecs.Na.mM"], r["soma.V_mV"] * 1e-3, 310.0)
    assert after == pytest.approx((inn - out) / 3.0, rel=0.01)
    print(f"FXYD: turnover x{factor:.2f} at the event; Na_i {na[0]:.2f} -> {na[-1]:.2f} mM")
