"""The second law as an invariant of a run, not only of each rate law's closed form.

Under ode, on an unclamped membrane, a cell's potential is the charge its mechanisms move,
and each mechanism's current turns sign at its own reversal (a leak's Nernst potential) or
stall potential (the pump's, where ATP no longer pays for 3 Na+ out and 2 K+ in). So at
every instant V must lie within the span of those potentials, every mechanism's entropy
production must only grow, and the ledger G(t) - G(0) = W - T S_prod must close. The
reference values are recomputed here from the run's own concentrations (Nernst; the pump
cycle's free energy, Lauger 1991), not read from ionmc.

Swept over six decades of pump density (the reduced and the per-molecule pump, each on the
resting_neuron cell): from a pump that can't hold the gradient (Na_i rises towards the
Donnan-like state, V depolarises) to one that over-pumps (K_o in the closed 250 um^3 ECS
depleted, E_K below -100 mV). A pump whose rates broke detailed balance would drive V past
its stall point or shrink its own entropy production somewhere in this sweep.
"""
import numpy as np
import pytest

import ionmc
from ionmc.constants import F, R
from ionmc.scenario import load_scenario

from pumps import with_pump

T = 310.0
DENSITIES = (0.2, 2.0, 20.0, 200.0, 2e3, 2e4, 2e5)  # per um^2: six decades, to the range's top
DURATION = 100.0  # s: long enough for Na_i to move 15 -> 39 mM at the lowest density
TOL_MV = 1e-3  # the ode's own error in V (rtol 1e-9 of the counts) is ~1e-6 mV


def _cell(pump_type, density):
    sc = load_scenario("resting_neuron", [("scenario.method", "ode"),
                                          ("scenario.duration_s", DURATION),
                                          ("scenario.record_interval_s", 0.5)])
    return with_pump(sc, pump_type, density)


def _span(df):
    """Per record: the lowest and highest of the leaks' Nernst potentials and the pump's
    stall potential (mV), from the free concentrations."""
    RT = R * T
    c = {f"{s}_{side}": df[f"{comp}.{s}.mM"].to_numpy()
         for s in ("Na", "K", "Cl") for side, comp in (("i", "neuron"), ("o", "ecs"))}
    E_Na = RT / F * np.log(c["Na_o"] / c["Na_i"])
    E_K = RT / F * np.log(c["K_o"] / c["K_i"])
    E_Cl = -RT / F * np.log(c["Cl_o"] / c["Cl_i"])
    # stall: dG_ATP + 3 RT ln(Na_o/Na_i) + 2 RT ln(K_i/K_o) - F V = 0 (one net charge out)
    dG_ATP = -57.0e3
    V_stall = (dG_ATP + 3 * RT * np.log(c["Na_o"] / c["Na_i"])
               + 2 * RT * np.log(c["K_i"] / c["K_o"])) / F
    E = 1e3 * np.vstack([E_Na, E_K, E_Cl, V_stall])
    return E.min(axis=0), E.max(axis=0)


@pytest.mark.parametrize("pump_type", ["nak_pump", "na_k_atpase"])
def test_second_law_holds_over_six_decades_of_pump_density(pump_type):
    seen_V = []
    for density in DENSITIES:
        df = ionmc.simulate(_cell(pump_type, density), 0)[0]
        where = f"{pump_type} at {density}/um^2"
        V = df["soma.V_mV"].to_numpy()
        lo, hi = _span(df)
        assert np.all(V >= lo - TOL_MV) and np.all(V <= hi + TOL_MV), where
        # every mechanism's own entropy production only grows (to the solver's noise: its
        # steps are ~1e-26 J/K at the fixed point, against totals of ~1e-12)
        for col in [c for c in df if c.endswith(".entropy_production_J_per_K")]:
            S = df[col].to_numpy()
            assert np.diff(S).min() >= -1e-9 * max(np.abs(S).max(), 1e-30), (where, col)
        # the ledger closes within 1% of its largest term (the docs' promise under ode)
        G = df["thermo.free_energy_J"] - df["thermo.free_energy_J"].iloc[0]
        TS = T * df["thermo.entropy_production_J_per_K"]
        scale = max(np.abs(G).max(), np.abs(df["thermo.atp_work_J"]).max(), np.abs(TS).max())
        assert np.abs(df["thermo.balance_residual_J"]).max() <= 0.01 * scale, where
        seen_V.append((V.min(), V.max()))
    # the sweep spans what it claims: a run-down cell that depolarises past -30 mV and an
    # over-pumped one that hyperpolarises past -72 mV
    assert max(v[1] for v in seen_V) > -30.0
    assert min(v[0] for v in seen_V) < -72.0
