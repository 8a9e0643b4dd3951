"""Runs with a nested compartment (an SR inside the cytosol; tests/unit/test_nested.py
for the model): the ledger, the potentials and the equilibrium across both membranes."""
import math

import numpy as np
from conftest import balance, run_df
from cells import sr_cell
from ionmc.constants import E_CHARGE, F, R
from ionmc.model import Model


def test_ssa_ledger_closes_and_inner_jumps_leave_the_cell_potential_alone():
    sc = (sr_cell("ssa", duration=0.05, dt=0.001, seed=4)
          .configure("Ca_leak", permeability_cm_per_s=1e-5)
          .configure("K_leak", permeability_cm_per_s=1e-5).build())
    df = run_df(sc)
    resid, scale = balance(df)
    assert np.abs(resid).max() <= 1e-9 * scale, (np.abs(resid).max(), scale)
    # only the SR membrane has mechanisms: its V moves, the cell's stays to the bit
    assert df["srm.V_mV"].std() > 0.1
    assert (df["pm.V_mV"] == df["pm.V_mV"].iloc[0]).all()
    # and the SR's Ca2+ ran out into the cytosol, the ions conserved
    assert df["sr.Ca.count"].iloc[-1] < 0.7 * df["sr.Ca.count"].iloc[0]
    tot = df["sr.Ca.count"] + df["cyto.Ca.count"]
    assert (tot == tot.iloc[0]).all()


def test_ode_reaches_equilibrium_across_both_membranes():
    # K+ and Ca2+ on the SR membrane, K+ on the cell's: at the fixed point each species is
    # at its Nernst potential across each membrane it crosses, with the potentials from
    # the enclosed charges. To within what one jump's change of V does to the ode's
    # midpoint rates, z^2 (e/C) / (RT/F) (the Nernst ratio is the limit C -> infinity;
    # measured: 1.4e-4 of a bound 6e-4 on the cell, 1e-5 of 5e-3 for Ca2+ on the SR)
    sc = (sr_cell("ode", duration=200.0, dt=50.0)
          .leak("K", 1e-7, membrane="pm", name="K_pm").build())
    m = Model(sc)
    df = run_df(sc)
    last = df.iloc[-1]
    RT_F = R * 310.0 / F
    for mem, inside, outside, s, z in (("srm", "sr", "cyto", "K", 1), ("srm", "sr", "cyto", "Ca", 2),
                                       ("pm", "cyto", "ecs", "K", 1)):
        bound = z * z * E_CHARGE / m.mem_C[m.mems.index(mem)] / RT_F
        nernst = math.exp(-z * last[f"{mem}.V_mV"] * 1e-3 / RT_F)
        ratio = last[f"{inside}.{s}.mM"] / last[f"{outside}.{s}.mM"]
        assert abs(ratio / nernst - 1) < bound, (mem, s, ratio / nernst - 1, bound)
