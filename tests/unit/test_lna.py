"""ionmc.analysis.lna, the linear-noise approximation of any compiled model (docs/physics.md,
'Voltage noise'), against closed forms and an LNA written by hand for the reduced pump. No
stochastic runs: the SSA comparison is verification/checks_noise.py's."""
import math

import numpy as np
import pytest
from scipy import constants as sc
from scipy.linalg import solve_continuous_lyapunov

from ionmc.analysis import linear_noise
from ionmc.mechanisms import pump
from ionmc.model import Model
from ionmc.scenario import load_scenario
from ionmc.thermo.closed_forms import ghk_fluxes

from builder import Builder
from pumps import PER_MOLECULE, REDUCED, with_pump

T = 310.0


def leak_spine(area=0.05, P_K=2e-6):
    """A K+ leak at E_K on a small membrane, large ion pools (checks_noise.spine's cell)."""
    ek = sc.R * T / sc.physical_constants["Faraday constant"][0] * math.log(5 / 140) * 1e3
    return (Builder("v_noise", 1e-3, 1e-4, "ssa", 1, temperature_K=T)
            .species(Na=1, K=1).impermeant(X=-1)
            .compartment("cell", 100.0, Na=15.0, K=140.0)
            .compartment("bath", 1000.0, bath=True, Na=145.0, K=5.0)
            .membrane("m", "cell", "bath", area, V0=ek)
            .leaks(("K", P_K)).build())


def test_leak_at_equilibrium_is_thermal():
    """SD(V) = sqrt(k_B T / C) at equilibrium. To 1e-6 without the midpoint rule (each
    jump's rate taken at the potential halfway through it, engine's half_dv): the LNA
    keeps only the leading order in the charge one ion moves, e/C, against k_BT/e (1.2%
    here), and the midpoint rule, which makes the discrete chain's stationary law exactly
    Boltzmann, shifts the rates at that next order: with it the LNA is 3.1e-4 low at 0.05
    um^2 and 3.1e-5 at 0.5 um^2 (~1/C). (The cell's 8.4e9 K+ add their own 1/N, <1e-8.)"""
    C = 1e-2 * 0.05 * 1e-12
    model = Model(leak_spine())
    model.tr_half_dv[:] = 0.0
    res = linear_noise(model)
    assert res.v_sd["m"] == pytest.approx(math.sqrt(sc.k * T / C), rel=1e-6)
    for area, rel in ((0.05, 4e-4), (0.5, 4e-5)):
        res = linear_noise(leak_spine(area))
        thermal = math.sqrt(sc.k * T / (1e-2 * area * 1e-12))
        assert res.v_sd["m"] == pytest.approx(thermal, rel=rel)
    # the count table speaks the run output's column names and units
    assert res.table.loc["m.V_mV", "sd"] == pytest.approx(res.v_sd["m"] * 1e3)
    assert res.table.loc["cell.K.count", "sd"] > 0
    assert res.table.loc["bath.K.count", "sd"] == 0  # a bath is clamped
    assert res.table.loc["cell.K.mM", "mean"] == pytest.approx(140.0, rel=1e-3)


def test_clamped_membrane_has_no_v_noise():
    sc_ = leak_spine()
    sc_.data["membranes"]["m"]["clamp_mV"] = -80.0
    res = linear_noise(sc_)
    assert res.v_sd["m"] == 0.0 and res.V[0] == pytest.approx(-0.080)


def hand_lna_v_variance(leaks, z, cin, cout, V, area, Cm, p_row, n_pumps):
    """Var(V) (V^2) of the reduced pump's spine, written by hand (it was
    verification/checks_noise.py's): membrane charge q and the pump's 4 states, ion pools
    held fixed, rates from the closed-form GHK fluxes and the pump's cycle rates."""
    e = sc.e

    def transitions(y):
        q, m1, m2, m3 = y
        m0 = n_pumps - m1 - m2 - m3
        v = q * e / Cm
        fw, bw = pump.cycle_rates(p_row, cin["Na"], cin["K"], cout["Na"], cout["K"], v)
        out = [(fw[0] * m0, (0, 1, 0, 0)), (bw[0] * m1, (0, -1, 0, 0)),
               (fw[1] * m1, (-3, -1, 1, 0)), (bw[1] * m2, (3, 1, -1, 0)),   # 3 Na+ out
               (fw[2] * m2, (0, 0, -1, 1)), (bw[2] * m3, (0, 0, 1, -1)),
               (fw[3] * m3, (2, 0, 0, -1)), (bw[3] * m0, (-2, 0, 0, 1))]    # 2 K+ in
        for s_, P in leaks.items():
            j_out, j_in = ghk_fluxes(P, area, z[s_], cin[s_], cout[s_], v, T)
            out += [(j_out, (-z[s_], 0, 0, 0)), (j_in, (z[s_], 0, 0, 0))]
        return [(a, np.array(nu, float)) for a, nu in out]

    def drift(y):
        return sum(a * nu for a, nu in transitions(y))

    fw, bw = pump.cycle_rates(p_row, cin["Na"], cin["K"], cout["Na"], cout["K"], V)
    prob, _ = pump.king_altman(fw, bw)
    y0 = np.array([V * Cm / e, *(n_pumps * prob[1:])])
    A = np.zeros((4, 4))
    for k in range(4):
        dy = np.zeros(4)
        dy[k] = 0.03
        A[:, k] = (drift(y0 + dy) - drift(y0 - dy)) / 0.06
    B = sum(a * np.outer(nu, nu) for a, nu in transitions(y0))
    S = solve_continuous_lyapunov(A, -B)
    return S[0, 0] * (e / Cm) ** 2


def reduced_spine(volume_factor=1.0):
    base = with_pump(load_scenario("spine_noise"), REDUCED)
    if volume_factor != 1.0:
        base.data["compartments"]["spine"]["volume_um3"] *= volume_factor
    return base


@pytest.mark.parametrize("volume_factor, midpoint, rel", [(1e4, False, 1e-6), (1.0, False, 1e-3),
                                                      (1e4, True, 2e-4)])
def test_reduced_pump_matches_the_hand_written_lna(volume_factor, midpoint, rel):
    """The hand-written LNA holds the spine's ion pools fixed and takes each jump's rate at
    the potential before it; the generic one lets the pools drift (slow modes, ~1 /s, of
    Na+ and K+ exchanged by leaks and pump) and takes the model's rates, at the potential
    halfway through each jump (the midpoint rule, engine's half_dv). Evaluated at the
    generic LNA's own steady state (its V and the spine's concentrations there), without
    the midpoint rule and with a spine 1e4 times larger (the same membrane, pools too large
    to move), the two agree to 6e-8 (3e-9 at 1e6 times). The pools of spine_noise's
    0.02 um^3 lower SD(V) by 5.6e-4; the midpoint rule raises it by 1.1e-4 (a next-order
    term in the 3 charges one pump step moves, 120 uV, against k_BT/e)."""
    sc_ = reduced_spine(volume_factor)
    model = Model(sc_)
    if not midpoint:
        model.tr_half_dv[:] = 0.0
    res = linear_noise(model)
    d = sc_.data
    mem = d["membranes"]["head"]
    area, Cm = mem["area_um2"], 1e-2 * mem["area_um2"] * 1e-12
    cin = {s: res.table.loc[f"spine.{s}.mM", "mean"] for s in ("Na", "K", "Cl")}
    cout = dict(d["compartments"]["ecs"]["concentrations_mM"])
    leaks = {m["species"]: m["permeability_cm_per_s"] for m in d["mechanisms"]
             if m["type"] == "leak"}
    mech = next(m for m in model.mechs if m.type == pump.TYPE)
    p_row = model.tr_p[mech.transitions[0]]
    hand = math.sqrt(hand_lna_v_variance(leaks, {"Na": 1, "K": 1, "Cl": -1}, cin, cout,
                                         res.V[0], area, Cm, p_row, mech.n_agents))
    assert res.v_sd["head"] == pytest.approx(hand, rel=rel)
    assert 3 * math.sqrt(sc.k * T / Cm) < res.v_sd["head"] < 4 * math.sqrt(sc.k * T / Cm)


def test_per_molecule_pump():
    sc_ = with_pump(load_scenario("spine_noise"), PER_MOLECULE)
    model = Model(sc_)
    res = linear_noise(model)
    Cm = model.mem_C[0]
    thermal = math.sqrt(sc.k * T / Cm)
    assert 0.5 * thermal < res.v_sd["head"] < 2 * thermal
    assert res.V[0] == pytest.approx(-0.070, abs=2e-4)  # the designed fixed point
    mech = next(m for m in model.mechs if m.type == PER_MOLECULE)
    S = res.cov[np.ix_(mech.states, mech.states)]
    assert np.array_equal(S, S.T)
    assert np.linalg.eigvalsh(S).min() > -1e-9 * np.abs(S).max()
    # the pump molecules are conserved: their total does not fluctuate
    ones = np.ones(len(mech.states))
    assert abs(ones @ S @ ones) < 1e-8 * np.abs(S).max()
    assert res.table.loc["pump.E1Na3.count", "sd"] > 0
