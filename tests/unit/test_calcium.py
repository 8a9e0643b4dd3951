"""Calcium: a fast buffer (Ca + B <-> CaB), PMCA (1 Ca2+ out per ATP) and NCX in a small
compartment, against closed forms (buffer.py, cotransporter.py)."""
import math

import numpy as np
import pytest

import ionmc
from ionmc.mechanisms import buffer
from ionmc.constants import F, IONS_PER_MM_UM3, R
from ionmc.mechanisms.cotransporter import PRESETS, equilibrium_ratio
from ionmc.errors import InputError
from ionmc.scenario import load_scenario

from cells import BUFFER, CA_LEAK, NCX, PMCA, calcium_cell, decay_cell, pmca_stall
from conftest import balance

T = 310.0


def run(sc, replicate=0):
    return ionmc.simulate(sc, replicate)[0]


def test_ode_reaches_the_mass_action_equilibrium():
    K_d = 0.4  # uM
    sc = calcium_cell([BUFFER(k_on=8e7, K_d=K_d)], method="ode", duration=1.0, dt=0.1, ca=0.003,
              b=0.04, clamped=())
    df = run(sc)
    first, last = df.iloc[0], df.iloc[-1]
    ca, b, cab = (last[f"spine.{s}.mM"] * 1e3 for s in ("Ca", "B", "CaB"))
    assert ca * b / cab == pytest.approx(K_d, rel=1e-6)
    # totals (initial counts are whole ions: 3 uM in 0.1 um^3 is 181, not 180.7)
    assert ca + cab == pytest.approx(first["spine.Ca.mM"] * 1e3, rel=1e-9)
    assert b + cab == pytest.approx(first["spine.B.mM"] * 1e3, rel=1e-9)
    assert cab > 2.5


def slow_tau(k_on, gamma, rest=0.1, K_d=0.4, b_tot=50.0):
    """Exact decay time of the linearised two-variable system (free and bound Ca):
    d(dCa)/dt = -(gamma + a) dCa + c dCaB, d(dCaB)/dt = a dCa - c dCaB with a = k_on B,
    c = k_on Ca + k_off; its slow eigenvalue tends to gamma/(1 + kappa_B) when c >> gamma."""
    b = b_tot * K_d / (K_d + rest) * 1e-6
    a, c = k_on * b, k_on * rest * 1e-6 + k_on * K_d * 1e-6
    tr, det = gamma + a + c, gamma * c
    return 2.0 / (tr - math.sqrt(tr * tr - 4.0 * det))


@pytest.mark.parametrize("k_on,gamma,rel_na", [(4e8, 20.0, 0.01), (8e7, 100.0, 0.04)],
                         ids=["fast_buffer", "calbindin_slow_unbinding"])
def test_buffered_calcium_decays_with_tau_one_plus_kappa_over_gamma(k_on, gamma, rel_na):
    """A small load (1% of the free Ca) decays with tau = (1 + kappa_B)/gamma,
    kappa_B = B_tot K_d/(K_d + Ca)^2 = 80 (Neher & Augustine 1992), under ode (a 1000 um^3
    compartment, so that whole initial counts are 1e-5 of the load). That is the rapid-buffer
    limit: it holds within 1% when unbinding (k_off + k_on Ca = 200/s) is fast against
    extrusion (gamma = 20/s), and only within 4% with calbindin's k_on 8e7/M/s (k_off 32/s)
    against gamma = 100/s; the exact slow eigenvalue of the linearised system holds in both
    cases within 0.3%."""
    sc, tau, rest = decay_cell("ode", 1e-3, vol=1000.0, k_on=k_on, gamma=gamma,
                               duration=3.0 * tau_guess(gamma), dt=0.01)
    df = run(sc)
    excess = (df["spine.Ca.mM"] - df["ecs.Ca.mM"]).to_numpy() * 1e3
    t = df["time_s"].to_numpy()
    win = (t > 0.1 * tau) & (t < 2.0 * tau)
    fit = -1.0 / np.polyfit(t[win], np.log(excess[win]), 1)[0]
    assert fit == pytest.approx(tau, rel=rel_na), (fit, tau)
    assert fit == pytest.approx(slow_tau(k_on, gamma), rel=3e-3), (fit, slow_tau(k_on, gamma))
    assert tau == pytest.approx(81.0 / gamma, rel=1e-9)


def tau_guess(gamma):
    return 81.0 / gamma


@pytest.mark.parametrize("V", [-70.0, -40.0])
def test_pmca_stalls_at_the_closed_form_ratio(V):
    """Voltage clamp, Ca_o clamped (bath), PMCA alone with dG_ATP = -30 kJ/mol: Ca_i goes to
    Ca_o exp(-(-dG_ATP + 2FV)/RT) under ode, from below (PMCA reversed: ATP made) and
    from above. 1000 um^3, so that the ode's one-ion offset between the saturating
    denominators at x - 1/2 and x + 1/2 (exact under ssa) is below 1e-5."""
    dG, ca_o = -30.0, 1.2
    want = ca_o / pmca_stall(V, dG)
    st = PRESETS["PMCA"]["stoichiometry"]
    assert equilibrium_ratio(st, "Ca", {}, {}, {"Ca": 2}, V * 1e-3, T, dG * 1e3) \
        == pytest.approx(want / ca_o, rel=1e-12)
    for start in (want * 0.1, want * 10):
        sc = calcium_cell([PMCA(density=200, dG=dG)], method="ode", duration=50.0,
                  dt=5.0, ca=start, b=0.0, clamp=V, vol=1000.0,
                  area=10000.0, vol_out=1e5)
        df = run(sc)
        assert df["spine.Ca.mM"].iloc[-1] == pytest.approx(want, rel=1e-5), (start, want)
        atp = df["thermo.atp_work_J"].iloc[-1]
        assert (atp > 0) == (start > want)  # hydrolysis when pumping down, synthesis up
    # the ratio moves by exp(2 F dV / RT) with V: 30 mV gives x9.5
    assert pmca_stall(-40, dG) / pmca_stall(-70, dG) == pytest.approx(9.452, rel=1e-3)


def test_pmca_on_a_metabolic_pool_stalls_at_the_pools_dG_ATP():
    """With a pool in the spine the PMCA uses the pool's dG_ATP (not its own parameter):
    stall ratio from the pool's final ATP, ADP, Pi; each Ca2+ pumped costs one ATP."""
    from ionmc.mechanisms.metabolism import dG_ATP

    V = -120.0
    sc = calcium_cell([PMCA(density=200, dG=-80.0)], method="ode", duration=50.0,
              dt=5.0, ca=0.01, b=0.0, clamp=V, pool=(0.5, 0.5, 5.0),
              vol=100.0, area=1000.0, vol_out=1e4)
    df = run(sc)
    last = df.iloc[-1]
    dg = dG_ATP(-30.5e3, T, last["spine.ATP.mM"], last["spine.ADP.mM"], last["spine.Pi.mM"])
    want = 1.2 / pmca_stall(V, dg / 1e3)
    assert last["spine.Ca.mM"] == pytest.approx(want, rel=1e-4)
    moved = last["pmca.Ca.net_efflux"]
    atp_used = (df["spine.ATP.mM"].iloc[0] - last["spine.ATP.mM"]) * IONS_PER_MM_UM3 * 100.0
    assert moved == pytest.approx(atp_used, rel=1e-6)
    assert moved > 100


def everything(method, pool=None, duration=0.2, seed=2, vol=0.05):
    """Buffer, Ca leak, PMCA and NCX in an unclamped spine (0.05 um^3, 0.5 um^2) with a
    finite, non-bath outside: every ion can be counted. At 0.05 um^3 tau-leap takes exact
    steps (a few hundred Ca2+ bind ~1e3 times a second); at 2 um^3 it leaps."""
    mechs = [BUFFER(k_on=8e7, K_d=0.4), CA_LEAK(P=2e-5), PMCA(density=300, dG=-57.0),
             NCX(density=30)]
    return calcium_cell(mechs, method=method, duration=duration, dt=0.01, seed=seed,
                vol=vol, area=10 * vol, ca=0.005, b=0.05, cab=0.01, ca_o=1.2, vol_out=10 * vol,
                bath=False, clamped=(), pool=pool)


@pytest.mark.parametrize("method,vol", [("ssa", 0.05), ("tau-leap", 0.05), ("tau-leap", 2.0)])
def test_total_calcium_and_sodium_are_conserved_exactly(method, vol):
    df = run(everything(method, vol=vol, duration=0.2 if vol < 1 else 0.05))
    tot = df["spine.Ca.count"] + df["spine.CaB.count"] + df["ecs.Ca.count"]
    assert (tot == tot.iloc[0]).all()
    sites = df["spine.B.count"] + df["spine.CaB.count"]
    assert (sites == sites.iloc[0]).all()
    na = df["spine.Na.count"] + df["ecs.Na.count"]
    assert (na == na.iloc[0]).all()
    assert df["calbindin.forward"].iloc[-1] > 1000
    assert df["pmca.forward"].iloc[-1] > 10 and df["ncx.forward"].iloc[-1] > 10


@pytest.mark.parametrize("pool", [None, (3.0, 0.05, 2.0)], ids=["fixed_dG", "pool"])
def test_ledger_closes_to_rounding_under_ssa(pool):
    """Buffer + NCX + PMCA + Ca leak are all elementary: G(t) - G(0) = W - T S_prod to
    rounding on the trajectory, W_ATP counting PMCA's ATP (fixed dG_ATP or the pool's)."""
    df = run(everything("ssa", pool=pool))
    resid, scale = balance(df)
    assert np.abs(resid).max() <= 1e-9 * scale, (np.abs(resid).max(), scale)
    w_atp = df["thermo.atp_work_J"].iloc[-1]
    net = df["pmca.forward"].iloc[-1] - df["pmca.backward"].iloc[-1]
    if pool is None:
        assert w_atp == pytest.approx(net * 57e3 / 6.02214076e23, rel=1e-12)
    else:
        assert w_atp > 0.9 * net * 50e3 / 6.02214076e23
    s = sum(df[f"{n}.entropy_production_J_per_K"].iloc[-1]
            for n in ("calbindin", "Ca_leak", "pmca", "ncx"))
    assert df["thermo.entropy_production_J_per_K"].iloc[-1] == pytest.approx(s, rel=1e-12)


@pytest.mark.parametrize("method", ["tau-leap", "ode"])
def test_ledger_balances_within_one_percent(method):
    """At 2 um^3, where tau-leap leaps (measured 0.11% of W_ATP; ode 2e-5)."""
    df = run(everything(method, vol=2.0, duration=0.05))
    resid, scale = balance(df)
    w_atp = abs(df["thermo.atp_work_J"].iloc[-1])
    assert w_atp > 0
    assert np.abs(resid).max() < 0.01 * w_atp, (np.abs(resid).max(), w_atp)


@pytest.mark.parametrize("key,value,msg", [
    ("compartment", "nowhere", "unknown compartment"),
    ("bound_species", "X", "must be that of"),
    ("K_d_uM", -1.0, "physical range"),
    ("ligand", "Zn", "unknown species"),
])
def test_bad_buffer_input_is_one_clear_line(key, value, msg):
    buf = BUFFER(k_on=8e7, K_d=0.4)
    buf.pop(key, None)
    buf[key] = value
    with pytest.raises(InputError) as e:
        calcium_cell([buf])
    assert f"mechanisms.calbindin.{key}" in str(e.value) and msg in str(e.value)


def test_buffer_sites_must_be_impermeant():
    sc = calcium_cell([BUFFER(k_on=8e7, K_d=0.4)])
    raw = sc.data
    raw["species"]["B"]["permeant"] = True
    from ionmc.scenario import validate

    with pytest.raises(InputError, match="permeant = false"):
        validate(raw, "x.toml")


def test_spine_calcium_rests_takes_its_influx_and_recovers():
    """spine_calcium under ode: the given state is the fixed point (80 nM free, 401 bound
    sites, up to the whole ions it starts from), the 2 ms step lets in the GHK influx
    P A c_o N_A u/(e^u - 1) x 2 ms (~1000 ions), and Ca returns to rest by 1 s."""
    from conftest import make

    df = run(make("spine_calcium", method="ode")).set_index("time_s")
    ca = df["spine.Ca.mM"] * 1e6  # nM
    assert ca.loc[0.1:0.199].to_numpy() == pytest.approx(80.0, rel=2e-3)
    assert df.loc[0.199, "spine.CaB.mM"] * 1e3 == pytest.approx(6.667, rel=2e-3)
    u = 2 * F * -0.07 / (R * T)
    want = 8.0e-6 * 1e-2 * 1e-12 * 2.0 * 6.02214076e23 * u / math.expm1(u) * 0.002
    entered = df.loc[0.2, "Ca_leak.Ca.net_efflux"] - df.loc[0.202, "Ca_leak.Ca.net_efflux"]
    assert entered == pytest.approx(want, rel=2e-3)
    assert 900 < want < 1200
    assert ca.loc[0.202] > 3000.0  # a few uM at the end of the entry
    assert ca.loc[1.0] == pytest.approx(80.0, rel=1e-2)
    # W_ATP of the PMCA alone: -dG_ATP per net turnover
    net = df["pmca.forward"] - df["pmca.backward"]
    assert df["thermo.atp_work_J"].iloc[-1] == pytest.approx(
        net.iloc[-1] * 57e3 / 6.02214076e23, rel=1e-9)


def test_energetics_reports_pmca_ncx_and_the_buffer():
    """`ionmc energetics` on spine_calcium: the dG of a PMCA turnover is dG_ATP +
    RT ln(Ca_o/Ca_i) - 2FV (negative: it pumps), NCX's 3 RT ln(Na_i/Na_o) + RT ln(Ca_o/Ca_i)
    + FV (positive at rest: it runs backward), and the buffer's kappa_B."""
    from ionmc.thermo.energetics import energetics, table

    sc = load_scenario("spine_calcium")
    e = energetics(sc)
    head = e["membranes"]["head"]
    ca_i = 5 / (IONS_PER_MM_UM3 * 0.1)  # the 5 whole ions it starts from, mM
    RT, V = R * T, -0.07
    pmca = -57e3 + RT * math.log(2.0 / ca_i) - 2 * F * V
    ncx = 3 * RT * math.log(15.0 / 145.0) + RT * math.log(2.0 / ca_i) + F * V
    assert head["transporter_dG_kJ_per_mol"]["pmca"] == pytest.approx(pmca / 1e3, rel=1e-6)
    assert head["transporter_dG_kJ_per_mol"]["ncx"] == pytest.approx(ncx / 1e3, rel=1e-4)
    assert head["transporter_atp_per_s"]["pmca"] > 0
    b = e["buffers"]["calbindin"]
    assert b["kappa_B"] == pytest.approx(
        buffer.buffering_capacity(b["free_sites_uM"] + b["bound_sites_uM"], 0.4,
                                  b["free_ligand_uM"]), rel=1e-12)
    assert 60 < b["kappa_B"] < 75
    assert "buffer calbindin" in table(e)


def test_ledger_exact_with_a_buffer_outside_and_a_K_d_event():
    """Buffers in the spine and in the (finite, non-bath) outside, which is no membrane's
    inside (its potential 0), Ca2+ leaking between them, and an event that changes the
    spine buffer's K_d: the jump of G (its standard chemical potential g changes) is event
    work and the balance closes to rounding under ssa."""
    mechs = [BUFFER(k_on=8e7, K_d=0.4), CA_LEAK(P=2e-5),
             BUFFER(k_on=5e7, K_d=2.0, name="ecs_buffer", compartment="ecs")]
    sc = calcium_cell(mechs, duration=0.2, seed=4, vol=0.05, area=0.5, ca=0.005, b=0.05, ca_o=0.01,
              ecs={"B": 0.02}, vol_out=0.2, bath=False, clamped=(),
              events=[(0.1, {"mechanisms.calbindin.K_d_uM": 1.5})])
    df = run(sc)
    resid, scale = balance(df)
    assert np.abs(resid).max() <= 1e-9 * scale, (np.abs(resid).max(), scale)
    assert df["thermo.event_work_J"].iloc[-1] != 0.0
    assert df["ecs_buffer.forward"].iloc[-1] > 100 and df["Ca_leak.backward"].iloc[-1] > 50
    # the K_d step (0.4 -> 1.5 uM) raises the free Ca2+ about 3.75-fold
    d = df.set_index("time_s")["spine.Ca.count"]
    assert d.loc[0.12:0.2].mean() > 2.0 * d.loc[0.02:0.1].mean()


def test_buffer_structure_cannot_change_in_a_run():
    with pytest.raises(InputError, match="cannot change during a run"):
        calcium_cell([BUFFER(k_on=8e7, K_d=0.4)],
             events=[(0.1, {"mechanisms.calbindin.compartment": 1.0})])
