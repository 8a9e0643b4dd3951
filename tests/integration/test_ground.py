"""Extracellular spaces with a potential of their own (a membrane to "ground": a
capacitance to ground; docs/physics.md "A potential for the extracellular space"), joined
across layers by couplings whose potential sums the membranes between their sides."""
import numpy as np
from conftest import balance, run_df
from cells import two_layers
from ionmc.constants import F, N_A, R
from ionmc.mechanisms.coupling import D_FREE_UM2_PER_S

CHARGE = {"Na": 1, "K": 1, "Cl": -1}


def _knp(df, where, area, length=20.0, T=310.0):
    """The coupling `axial_{where}` linearised (Nernst-Planck with the mean concentrations,
    as edNEGmodel's KNP): its drift conductance G (e/s per V) and diffusion current (e/s,
    layer a -> b) at each record."""
    g = i_diff = 0.0
    for s, z in CHARGE.items():
        pa = D_FREE_UM2_PER_S[s] * 1e-12 / (length * 1e-6) * area * 1e-12
        ca, cb = (df[f"{where}_{L}.{s}.mM"].values * N_A for L in "ab")
        g = g + z * z * pa * 0.5 * (ca + cb) * F / (R * T)
        i_diff = i_diff + z * pa * (ca - cb)
    return g, i_diff


def test_small_capacitances_to_ground_give_the_electroneutral_potential():
    """The stimulus drives current along the cells and back through the extracellular
    spaces. With capacitances to ground 1/1000 of the cell membranes', each layer stays
    neutral and the extracellular potential difference is the one that makes the axial
    currents cancel, edNEGmodel's phi_se (Saetra et al. 2021, from the states:
    dphi = -(G_c (V_a - V_b) + I_c,diff + I_e,diff)/(G_c + G_e)), to 1%; it is gone with the
    stimulus. (One ion moves such a capacitance by e/C = 16 uV, whose midpoint correction
    to the drift, (e/C)/(3 RT/F), is 2e-4.)"""
    vol = 1e4
    area = 2.0 * vol ** (2.0 / 3.0)
    df = run_df(two_layers("ode", duration=0.02, dt=0.0005, vol=vol, c_ground_pF=1e-2,
                           ecs_area_fraction=0.01)
                .event(0.01, **{"mechanisms.stim.current_pA": 0.0}).build())
    g_c, d_c = _knp(df, "cell", area)
    g_e, d_e = _knp(df, "ecs", 0.01 * area)
    dv = (df["pm_a.V_mV"] - df["pm_b.V_mV"]).values * 1e-3
    want = -(g_c * dv + d_c + d_e) / (g_c + g_e)
    got = (df["ground_a.V_mV"] - df["ground_b.V_mV"]).values * 1e-3
    on = (df.time_s > 0.001).values & (df.time_s <= 0.01).values
    assert np.abs(got[on]).min() > 5e-6, got[on]  # V
    assert np.allclose(got[on], want[on], rtol=0.01, atol=0), (got[on], want[on])
    assert np.abs(got[(df.time_s > 0.019).values]).max() < 0.02 * np.abs(got[on]).max()


def test_ssa_ledger_closes_across_layers():
    """Couplings between nested compartments of two layers, each layer's extracellular space
    charged against ground, and an injection across one membrane: every jump's midpoint
    potential sums the right membranes, so the exact ledger closes to rounding."""
    df = run_df(two_layers("ssa", duration=0.002, dt=0.0002, vol=0.5, c_ground_pF=1e-2,
                           stim_pA=0.5).build())
    resid, scale = balance(df)
    assert np.abs(resid).max() <= 1e-9 * scale, (np.abs(resid).max(), scale)
    assert df["ground_a.V_mV"].std() > 0 and df["axial_ecs.K.net_efflux"].abs().max() > 0
