"""The Na+/K+ pump (issue 3, 'What it must show' 3): stall where dG_ATP pays exactly for
the gradient, direction on either side, King-Altman steady-state flux, FXYD consistency,
and the resting_neuron fixed point."""
import math

import numpy as np
import pytest

from ionmc.mechanisms import pump
from ionmc.scenario import load_scenario

from cells import pump_cell
from conftest import make, run_df

T = 310.0


def clamped(method="ssa", nai=15.0, dg=-57.0, density=1000.0, duration=2.0, dt=0.1, seed=1,
            events=()):
    return pump_cell(method=method, nai=nai, dg=dg, density=density, duration=duration,
                     dt=dt, seed=seed).events(*events).build()


def defaults():
    return {k: v for k, (v, *_) in pump.PARAMS.items() if v is not None}


def test_king_altman_matches_linear_algebra():
    row = pump.param_row(defaults(), T)
    fw, bw = pump.cycle_rates(row, 20.0, 140.0, 145.0, 5.0, -0.06)
    Q = np.zeros((4, 4))
    for i in range(4):
        j = (i + 1) % 4
        Q[j, i] += fw[i]
        Q[i, i] -= fw[i]
        Q[i, j] += bw[i]
        Q[j, j] -= bw[i]
    w, v = np.linalg.eig(Q)
    p = np.real(v[:, np.argmin(np.abs(w))])
    p /= p.sum()
    probs, flux = pump.king_altman(fw, bw)
    assert np.allclose(probs, p, rtol=1e-10)
    for i in range(4):  # the same net flux through every step
        assert math.isclose(probs[i] * fw[i] - probs[(i + 1) % 4] * bw[i], flux, rel_tol=1e-9)


def test_cycle_obeys_thermodynamic_constraint_and_fxyd_keeps_it():
    for f in (0.0, 1.0):
        p = dict(defaults(), fxyd_phosphorylated=f)
        row = pump.param_row(p, T)
        for V in (-0.09, -0.07, 0.0, 0.03):
            fw, bw = pump.cycle_rates(row, 15.0, 140.0, 145.0, 5.0, V)
            lhs = math.log(np.prod(fw) / np.prod(bw))
            rhs = -(p["dG_ATP_kJ_per_mol"] * 1e3 + pump.cycle_dG(15, 140, 145, 5, V, T)) / (
                8.314462618 * T)
            assert math.isclose(lhs, rhs, rel_tol=1e-10)


def test_textbook_cycle_free_energy():
    assert math.isclose(pump.cycle_dG(15, 140, 145, 5, -0.07, T) / 1e3, 41.47, abs_tol=0.05)


def test_reduced_cycle_turnover_as_references_say():
    # docs/mechanisms/pumps.md: a few cycles/s at Na_i 15 mM; apparent K0.5 for Na_i ~ 42 mM, moved
    # to ~31 mM by FXYD phosphorylation (s = 0.72)
    def k_half(f):
        row = pump.param_row(dict(defaults(), fxyd_phosphorylated=f), T)
        jmax = pump.turnover(row, 1000.0, 140.0, 145.0, 5.0, -0.07)
        lo, hi = 1.0, 1000.0
        for _ in range(60):
            mid = math.sqrt(lo * hi)
            if pump.turnover(row, mid, 140.0, 145.0, 5.0, -0.07) < jmax / 2:
                lo = mid
            else:
                hi = mid
        return mid

    row = pump.param_row(defaults(), T)
    assert 1.0 < pump.turnover(row, 15.0, 140.0, 145.0, 5.0, -0.07) < 5.0
    assert 35 < k_half(0.0) < 50
    assert 25 < k_half(1.0) < 36


@pytest.mark.parametrize("nai", [5.0, 15.0, 40.0])
def test_steady_state_rate_matches_king_altman(nai):
    # start at Na_i 15 mM, switch the clamped Na_i at 0.1 s: the cycle states relax to the
    # new steady state, whose net flux must be the King-Altman flux
    ev = [(0.1, {"compartments.cell.concentrations_mM.Na": nai})]
    row = pump.param_row(defaults(), T)
    expect = pump.turnover(row, nai, 140.0, 145.0, 5.0, -0.07)
    df = run_df(clamped(method="ode", nai=15.0, events=ev, duration=3.0, dt=0.5))
    n = 1000
    net = (df["pump.forward"] - df["pump.backward"]).to_numpy()
    t = df["time_s"].to_numpy()
    rate = (net[-1] - net[-3]) / (t[-1] - t[-3]) / n
    assert math.isclose(rate, expect, rel_tol=0.02)
    # (ssa over seeds: verification, pump_steady_state_rate_is_king_altman)


def test_pump_stalls_where_atp_pays_for_the_gradient_under_ode():
    # under the ODE, to solver precision (after the ~ms relaxation of the integer initial
    # placement of the pumps); ssa over seeds: verification, pump_stalls_where_atp_pays_...
    stall = -pump.cycle_dG(15.0, 140.0, 145.0, 5.0, -0.07, T) / 1e3  # -41.47 kJ/mol
    df = run_df(clamped(method="ode", dg=stall, dt=0.5))
    net = (df["pump.forward"] - df["pump.backward"]).to_numpy()
    gross = df["pump.forward"].iloc[-1] - df["pump.forward"].iloc[2]
    assert abs(net[-1] - net[2]) < 1e-6 * gross


@pytest.mark.parametrize("key,value,rng", [
    ("MgATP_mM", 0.0, "(0, 100]"), ("Pi_mM", 0.0, "(0, 100]"), ("H_mM", 0.0, "(0, 1]"),
    ("k3_minus_per_mM2_s", 0.0, "(0, 1e+12]"), ("K_Nao0_mM", 0.0, "[1e-09, 10000]"),
    ("density_per_um2", -1.0, "[0, 200000]"), ("block_fraction", 1.5, "[0, 1]"),
])
def test_a_value_outside_its_range_names_the_key_and_the_range(key, value, rng):
    # ATP, Pi and H enter b1's thermodynamic constraint (a zero would make it 0 or divide
    # by zero): refused by their ranges, as the rate and dissociation constants are (the
    # built-in with the reduced pump in place of its per-molecule one)
    import copy

    from ionmc.errors import InputError
    from ionmc.scenario import validate
    from pumps import REDUCED, with_pump

    data = copy.deepcopy(with_pump(load_scenario("resting_neuron"), REDUCED).data)
    next(m for m in data["mechanisms"] if m["name"] == "pump")[key] = value
    with pytest.raises(InputError) as e:
        validate(data, "resting_neuron with nak_pump")
    assert e.value.key == f"mechanisms.pump.{key}"
    assert f"physical range {rng}" in e.value.message


def test_resting_neuron_is_a_fixed_point_under_ode():
    df = run_df(make("resting_neuron", method="ode", duration=60.0, dt=1.0))
    assert abs(df["soma.V_mV"].iloc[-1] - df["soma.V_mV"].iloc[0]) < 1.0
    assert abs(df["neuron.Na.mM"].iloc[-1] - 15.0) < 0.05


def test_builtin_matches_its_design():
    from ionmc.mechanisms.design import resting_state

    sc = load_scenario("resting_neuron")
    d = resting_state({"Na": 15.0, "K": 140.0}, {"Na": 145.0, "K": 5.0, "Cl": 120.0}, -0.07,
                      T, 500.0, 200e6)
    for m in sc["mechanisms"]:
        if m["type"] == "leak":
            assert math.isclose(m["permeability_cm_per_s"], d["P_cm_per_s"][m["species"]],
                                rel_tol=1e-9)
        else:
            assert math.isclose(m["density_per_um2"], d["pump_density_per_um2"], rel_tol=1e-9)
    assert math.isclose(sc["compartments"]["neuron"]["concentrations_mM"]["Cl"],
                        d["Cl_in_mM"], rel_tol=1e-9)


def test_pump_block_runs_down_the_gradients():
    df = run_df(make("pump_block", method="ode", duration=60.0, dt=1.0))
    before = df[df["time_s"] == 10.0].iloc[0]
    end = df.iloc[-1]
    assert end["neuron.Na.mM"] > before["neuron.Na.mM"] + 5
    assert end["neuron.K.mM"] < before["neuron.K.mM"] - 3
    assert end["soma.V_mV"] > before["soma.V_mV"] + 2
    assert end["pump.blocked.count"] > 0


def test_steady_state_start_relaxes_to_the_fixed_point():
    # off the designed state (Na_i 25 mM), start = "steady_state" first relaxes the ODE:
    # from t = 0 the run stays at that fixed point, under ode and (to noise) tau-leap
    sets = [("compartments.neuron.concentrations_mM.Na", 25.0),
            ("scenario.start", "steady_state")]
    ode = run_df(make("resting_neuron", method="ode", duration=20.0, dt=5.0, sets=sets))
    assert abs(ode["soma.V_mV"].iloc[-1] - ode["soma.V_mV"].iloc[0]) < 0.01
    assert abs(ode["neuron.Na.mM"].iloc[-1] - ode["neuron.Na.mM"].iloc[0]) < 1e-4
    # it did relax somewhere else (24.0 mM: the alpha1 pump, near saturation at 25 mM, gains
    # little on the leaks there)
    assert abs(ode["neuron.Na.mM"].iloc[0] - 25.0) > 0.5
    tl = run_df(make("resting_neuron", method="tau-leap", duration=20.0, dt=5.0, sets=sets))
    assert abs(tl["neuron.Na.mM"].iloc[-1] / ode["neuron.Na.mM"].iloc[-1] - 1) < 0.005
    assert abs(tl["soma.V_mV"].iloc[-1] - ode["soma.V_mV"].iloc[-1]) < 0.5
    # the pump population stays whole after rounding the relaxed state to integers
    n = sum(tl[c].iloc[0] for c in tl.columns if c.startswith("pump.") and c.endswith(".count"))
    d = load_scenario("resting_neuron").data
    pump_spec = next(m for m in d["mechanisms"] if m["name"] == "pump")
    assert n == round(pump_spec["density_per_um2"] * d["membranes"]["soma"]["area_um2"])


def test_q10_scales_rates_and_keeps_thermodynamics():
    from ionmc.model import Model

    warm = Model(load_scenario("resting_neuron"))
    cold = Model(load_scenario("resting_neuron", [("scenario.temperature_K", 300.0)]))
    leak = warm.mechs[0].transitions[0]
    assert math.isclose(cold.tr_p[leak, 0] / warm.tr_p[leak, 0], 1.3 ** -1.0, rel_tol=1e-12)
    j = warm.mechs[-1].transitions[0]
    assert math.isclose(cold.tr_p[j, pump.P_K1P] / warm.tr_p[j, pump.P_K1P], 3.0 ** -1.0,
                        rel_tol=1e-12)
    # the cycle still stalls where ATP pays for the gradient at the new temperature
    p = dict(defaults(), dG_ATP_kJ_per_mol=-pump.cycle_dG(15, 140, 145, 5, -0.07, 300.0) / 1e3)
    row = pump.param_row(p, 300.0)
    assert abs(pump.turnover(row, 15, 140, 145, 5, -0.07)) < 1e-12
