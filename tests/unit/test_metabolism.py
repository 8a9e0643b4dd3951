"""The metabolic pool (docs/mechanisms/metabolism.md; issue 4): conservation, detailed
balance of oxphos and of the pump on the pool, the O2 budget, and the anoxia sequence."""
import math

import numpy as np
import pytest

from ionmc.mechanisms import metabolism
from ionmc.mechanisms import nka, nka_cycle
from ionmc.constants import R
from ionmc.mechanisms.design import metabolic_pool
from ionmc.errors import InputError
from ionmc.engine.kernels import all_propensities, voltages
from ionmc.model import Model
from ionmc.mechanisms.registry import kind
from ionmc.scenario import load_scenario

from conftest import make, run_df

T = 310.0


POOL = ["ATP", "ADP", "Pi", "PCr", "Cr", "O2"]


def counts(df, s, comp="neuron"):
    return df[f"{comp}.{s}.count"].to_numpy()


@pytest.mark.parametrize("method", ["ssa", "tau-leap"])
def test_pool_is_conserved_exactly(method):
    # a shrunk anoxia cell (0.01 um^3: 1.8e4 ATP, 18 O2) across the O2 cut
    sc = make("anoxia", 1e-5, method=method, duration=0.4, dt=0.02, seed=5,
              events=[(0.1, {"mechanisms.metab.O2_supply_mM": 0.0})],
              sets=[("mechanisms.metab.basal_load_mM_per_s", 20.0)])  # fast, to move the pool
    df = run_df(sc)
    atp, adp, pi, pcr, cr, o2 = (counts(df, s) for s in POOL)
    assert np.all(atp + adp == atp[0] + adp[0])                        # nucleotides
    assert np.all(3 * atp + 2 * adp + pi + pcr == 3 * atp[0] + 2 * adp[0] + pi[0] + pcr[0])
    assert np.all(pcr + cr == pcr[0] + cr[0])                          # creatine
    consumed = df["neuron.o2_consumed"].to_numpy()
    out = df["metab.O2.net_efflux"].to_numpy()
    assert np.all(o2 == o2[0] - consumed - out)                        # O2 molecules
    assert atp[-1] < atp[0] and consumed[-1] > 0
    assert np.all(df["ecs.ATP.count"] == 0)                            # the pool stays home


def test_oxphos_rates_obey_local_detailed_balance():
    sc = make("anoxia")
    m = Model(sc)
    mech = next(x for x in m.mechs if x.type == metabolism.TYPE)
    jf, jb = mech.ref[0][0], mech.ref[1][0]  # the n = 5 coupling
    assert (m.tr_kind[jf], m.tr_kind[jb]) == (kind("metabolism", "oxphos_fw"), kind("metabolism", "oxphos_bw"))
    spec = mech.spec
    n = int(spec["ATP_per_O2"])
    assert metabolism.couplings(spec["ATP_per_O2"]) == [(5, 1.0), (6, 0.0)]
    ix = m.pool_indices("neuron")
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = m.x0.astype(float)
        for s, lo, hi in (("ATP", 0.5, 5), ("ADP", 0.005, 2), ("Pi", 0.5, 10), ("O2", 1e-4, 0.1)):
            x[ix[s]] = rng.uniform(lo, hi) / m.inv_nvol[ix[s]]
        a = np.zeros(m.nt)
        V = np.zeros(len(m.mems))
        voltages(x, V, m.kernel_args())
        all_propensities(x, V, a, m.kernel_args())
        c = {s: x[i] * m.inv_nvol[i] for s, i in ix.items()}
        dg_atp = metabolism.dG_ATP(spec["dG0_ATP_kJ_per_mol"] * 1e3, T, c["ATP"], c["ADP"], c["Pi"])
        dg_ox = spec["dG_ox_kJ_per_mol_O2"] * 1e3 - R * T * math.log(c["O2"])
        dg_event = -n * dg_atp + dg_ox  # n ATP made, one O2 reduced
        assert math.log(a[jf] / a[jb]) == pytest.approx(-dg_event / (R * T), rel=1e-10)


def test_pump_on_the_pool_stalls_at_dG_ATP_and_reverses_beyond():
    sc = make("anoxia")
    m = Model(sc)
    mech = next(x for x in m.mechs if x.type == nka.TYPE)
    x = m.x0.copy()
    c = mech._conc(m, x)
    V = m.voltages(x)[0]
    need = nka_cycle.cycle_dG(c["Na_in"], c["K_in"], c["Na_out"], c["K_out"], V, T)  # J/mol
    atp, pi = 3.0, 3.0
    for dg, sign in ((-need - 2e3, 1), (-need, 0), (-need + 2e3, -1)):
        adp = atp / pi * 1e3 * math.exp((dg + 30.5e3) / (R * T))  # dG_ATP = dg
        turn = nka_cycle.steady_state(*mech.cycle_rates_at(m, x, V, c, (atp, adp, pi)))[1]
        if sign == 0:
            assert abs(turn) < 1e-9
        else:
            assert np.sign(turn) == sign
    # and in a run: a pool with ATP at -35 kJ/mol cannot pay for the +41 kJ/mol gradient,
    # so the pumps run backwards and make ATP
    adp = 1.0
    pi = 10.0
    atp_c = adp * pi * 1e-3 / math.exp((-35e3 + 30.5e3) / (R * T))
    sets = [(f"compartments.neuron.concentrations_mM.{s}", v)
            for s, v in (("ATP", atp_c), ("ADP", adp), ("Pi", pi), ("PCr", 0.0), ("O2", 0.0))]
    sets += [("mechanisms.metab.O2_supply_mM", 0.0), ("mechanisms.metab.basal_load_mM_per_s", 0.0)]
    df = run_df(make("anoxia", 1e-3, method="ssa", duration=0.2, dt=0.05, events=[], seed=3,
                     sets=sets))
    net = df["pump.forward"] - df["pump.backward"]
    assert net.iloc[-1] < -50
    # the high-energy phosphate made: ATP, and PCr, into which creatine kinase passes part
    # of it (the pool starts without PCr)
    made = counts(df, "ATP") + counts(df, "PCr")
    assert made[-1] > made[0]
    # ATP made by a reversed pump is negative ATP work (docs/physics.md)
    assert df["thermo.atp_work_J"].iloc[-1] < 0


def test_o2_consumption_is_atp_rate_over_atp_per_o2_at_steady_state():
    df = run_df(make("anoxia", method="ode", duration=20.0, dt=1.0, events=[]))
    dt = 10.0
    tail = df[df.time_s >= 10.0]
    o2_rate = (tail["neuron.o2_consumed"].iloc[-1] - tail["neuron.o2_consumed"].iloc[0]) / dt
    ox_atp = 5 * o2_rate
    pump_atp = ((tail["pump.forward"] - tail["pump.backward"]).iloc[-1]
                - (tail["pump.forward"] - tail["pump.backward"]).iloc[0]) / dt
    # the design: pumps are half of the ATP use, oxphos makes all of it
    assert ox_atp == pytest.approx(2.0 * pump_atp, rel=1e-4)
    influx = -(tail["metab.O2.net_efflux"].iloc[-1] - tail["metab.O2.net_efflux"].iloc[0]) / dt
    assert influx == pytest.approx(o2_rate, rel=1e-6)
    assert o2_rate == pytest.approx(1.156e7, rel=2e-3)
    # the pool does not drift: the given state is a fixed point
    for s in ("ATP", "PCr", "O2"):
        assert df[f"neuron.{s}.mM"].iloc[-1] == pytest.approx(df[f"neuron.{s}.mM"].iloc[0],
                                                             rel=1e-5)
    assert abs(df["soma.V_mV"].iloc[-1] + 70.0) < 1e-3


def test_design_helper_matches_the_scenario():
    sc = load_scenario("anoxia")
    spec = sc.mechanism("metab")
    pool = {s: v for s, v in sc["compartments"]["neuron"]["concentrations_mM"].items()
            if s in POOL}
    p = metabolic_pool(2.890661e7, 1000.0, 500.0, pool)
    for k in ("oxphos_Vmax_mM_per_s", "O2_permeability_cm_per_s", "basal_load_mM_per_s"):
        assert p[k] == pytest.approx(spec[k], rel=1e-5)


def test_a_pool_without_creatine_runs():
    base = load_scenario("anoxia")
    data = base.data
    import copy

    from ionmc.scenario import validate

    d = copy.deepcopy(data)
    del d["species"]["PCr"], d["species"]["Cr"]
    for s in ("PCr", "Cr"):
        d["compartments"]["neuron"]["concentrations_mM"].pop(s)
    d["scenario"].update(method="ode", duration_s=5.0, record_interval_s=1.0)
    d["events"] = [{"at_s": 1.0, "set": {"mechanisms.metab.O2_supply_mM": 0.0}}]
    df = run_df(validate(d, "test"))
    assert "neuron.PCr.count" not in df
    # without PCr, ATP falls right after the cut
    assert df["neuron.ATP.mM"].iloc[-1] < 0.95 * df["neuron.ATP.mM"].iloc[0]


@pytest.mark.parametrize("key,value,msg", [
    ("mechanisms.metab.ATP_per_O2", 0.5, "physical range \\[1, 10\\]"),
    ("species.ATP.charge", -2, "charge 0"),
    ("mechanisms.metab.O2_supply_mM", -1.0, "physical range"),
    ("mechanisms.metab.K_O2_mM", 0.0, "physical range"),
])
def test_bad_pool_input_is_one_clear_error(key, value, msg):
    with pytest.raises(InputError, match=msg):
        load_scenario("anoxia", [(key, value)])


@pytest.mark.parametrize("method,factor,duration,tol", [
    ("ssa", 1e-3, 0.2, 1e-2),  # the reduced pump's ~e^2/C residual (docs/physics.md), as without a pool
    ("tau-leap", 1.0, 30.0, 1e-3),
    ("ode", 1.0, 30.0, 1e-6),
])
def test_ledger_closes_with_the_pool(method, factor, duration, tol):
    # W_ATP booked at the pool's dG_ATP per firing; the pool's own chemistry stays outside
    df = run_df(make("anoxia", factor, method=method, duration=duration, dt=duration / 4,
                     seed=3, events=[]))
    w = df["thermo.atp_work_J"].iloc[-1]
    assert w > 0
    assert df["thermo.balance_residual_J"].abs().max() < tol * w
    # W_ATP per pump ATP is -dG_ATP of the pool (57.6 kJ/mol at rest)
    from ionmc.constants import N_A

    hyd = df["pump.forward"].iloc[-1] - df["pump.backward"].iloc[-1]  # ~ ATP hydrolysed
    per_atp = w / hyd * N_A / 1e3
    assert per_atp == pytest.approx(57.6, rel=0.05 if method == "ssa" else 1e-3)


def test_a_fractional_atp_per_o2_is_a_mixture_of_two_couplings():
    # 4.6 ATP per O2: couplings of 4 (weight 0.4) and 5 (weight 0.6), each in detailed
    # balance; the cell burns O2 at ATP use / 4.6 once the pool has settled
    assert metabolism.couplings(4.6) == [(4, pytest.approx(0.4)), (5, pytest.approx(0.6))]
    df = run_df(make("anoxia", method="ode", duration=60.0, dt=5.0, events=[],
                     sets=[("mechanisms.metab.ATP_per_O2", 4.6),
                           ("scenario.start", "steady_state")]))
    o2 = df["neuron.o2_consumed"]
    o2_rate = (o2.iloc[-1] - o2.iloc[-3]) / 10.0
    pump = df["pump.forward"] - df["pump.backward"]
    pump_atp = (pump.iloc[-1] - pump.iloc[-3]) / 10.0
    sc = make("anoxia")
    spec = sc.mechanism("metab")
    basal = metabolism.steady_rates(spec, T, 1000.0, 500.0, {
        s: df[f"neuron.{s}.mM"].iloc[-1] for s in POOL})["basal_load"]
    assert o2_rate == pytest.approx((pump_atp + basal) / 4.6, rel=1e-3)
    # and under ssa the O2 count stays whole and conserved
    d2 = run_df(make("anoxia", 1e-5, method="ssa", duration=0.2, dt=0.05, seed=2, events=[],
                     sets=[("mechanisms.metab.ATP_per_O2", 4.6)]))
    o2c = counts(d2, "O2")
    assert np.all(o2c == o2c[0] - d2["neuron.o2_consumed"] - d2["metab.O2.net_efflux"])
    atp, adp = counts(d2, "ATP"), counts(d2, "ADP")
    assert np.all(atp + adp == atp[0] + adp[0])


def test_atp_per_o2_cannot_change_during_a_run():
    with pytest.raises(InputError, match="cannot change during a run"):
        make("anoxia", events=[(10.0, {"mechanisms.metab.ATP_per_O2": 4.0})])
