"""The thermodynamic ledger (docs/physics.md; issue 4, 'What it must show' 2):
G(t) - G(0) = W_ATP + W_clamp + W_bath + W_event - T S_prod."""
import numpy as np
import pytest

from cells import small_cell
from conftest import balance, make, run_df

CASES = {
    # free potential, a bath outside, Na clamped inside (bath term at the moving V)
    "bath+clamped species": (dict(clamped=["Na"]),
                             [(0.2, {"compartments.bath.concentrations_mM.K": 20.0})]),
    # voltage clamp with a step, and a bath change
    "clamp": (dict(clamp=-60.0), [(0.15, {"membranes.pm.clamp_mV": -30.0}),
                                  (0.3, {"compartments.bath.concentrations_mM.Na": 100.0})]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_ledger_exact_under_ssa_leaks_baths_clamps(case):
    kw, events = CASES[case]
    df = run_df(small_cell(**kw).events(*events).build())
    resid, scale = balance(df)
    assert scale > 0
    assert np.abs(resid).max() <= 1e-9 * scale, (np.abs(resid).max(), scale)
    for col in ("thermo.bath_exchange_J",) + (("thermo.clamp_work_J",) if case == "clamp" else ()):
        assert df[col].abs().max() > 1e-3 * scale  # the term is really exercised


def test_ledger_exact_under_ssa_closed_cell_free_potential():
    # leaks only (pumps blocked from the start), no bath: G_ion + capacitor energy
    sc = make("resting_neuron", 1e-4, method="ssa", duration=0.3, dt=0.01, seed=2,
              sets=[("mechanisms.pump.block_fraction", 1.0)])
    df = run_df(sc)
    resid, scale = balance(df)
    assert np.abs(resid).max() <= 1e-9 * scale
    assert df["thermo.free_energy_J"].iloc[-1] < df["thermo.free_energy_J"].iloc[0]


@pytest.mark.parametrize("method", ["ode", "tau-leap"])
@pytest.mark.parametrize("name,duration", [("resting_neuron", 30.0), ("pump_block", 60.0)])
def test_ledger_closes_within_1pct_of_atp_work(method, name, duration):
    df = run_df(make(name, method=method, duration=duration, dt=1.0))
    resid, _ = balance(df)
    assert np.abs(resid).max() <= 0.01 * df["thermo.atp_work_J"].iloc[-1]
