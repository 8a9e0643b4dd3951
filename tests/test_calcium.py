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

from builder import Builder

from conftest import balance, se_of_mean

T = 310.0

def BUFFER(k_on, K_d, name="calbindin", compartment="spine"):
    return dict(type="buffer", name=name, compartment=compartment, k_on_per_M_per_s=k_on,
                K_d_uM=K_d)


def LEAK(P):
    return dict(type="leak", name="Ca_leak", membrane="pm", species="Ca",
                permeability_cm_per_s=P)


def PMCA(density, dG):
    return dict(type="cotransporter", name="pmca", membrane="pm", preset="PMCA",
                density_per_um2=density, dG_ATP_kJ_per_mol=dG)


def NCX(density):
    return dict(type="cotransporter", name="ncx", membrane="pm", preset="NCX",
                K_m_out_mM={"Ca": 1.3}, density_per_um2=density)


POOL = dict(type="metabolism", name="mito", membrane="pm", oxphos_Vmax_mM_per_s=0.0,
            O2_supply_mM=0.0)


def cell(mechs, method="ssa", duration=1.0, dt=0.01, seed=1, vol=0.1, area=1.0, ca=1e-4,
         b=0.04, cab=0.0, ca_o=1.2, vol_out=10.0, bath=True, clamp=None, clamped=("Na",),
         pool=None, ecs=None, events=(), build=True):
    """A spine-like compartment (Na clamped by default) behind one membrane, with the given
    mechanism tables; `pool`: (ATP, ADP, Pi) mM for a metabolic pool without supply; `ecs`:
    more concentrations (mM) outside."""
    bld = Builder("ca_test", duration, dt, method, seed).species(Na=1, Ca=2) \
        .impermeant(B=0, CaB=2, X=-1)
    spine = dict(Na=15.0, Ca=ca, B=b, CaB=cab)
    if pool is not None:
        bld.impermeant(ATP=0, ADP=0, Pi=0, O2=0)
        spine.update(ATP=pool[0], ADP=pool[1], Pi=pool[2], O2=0.0)
        mechs = list(mechs) + [POOL]
    bld.compartment("spine", vol, clamped=clamped, **spine) \
        .compartment("ecs", vol_out, bath=bath, Na=145.0, Ca=ca_o, **(ecs or {})) \
        .membrane("pm", "spine", "ecs", area, V0=-70.0, clamp=clamp).events(*events)
    for m in mechs:
        bld.mechanism(**m)
    return bld.build() if build else bld


def run(sc, replicate=0):
    return ionmc.simulate(sc, replicate)[0]


def batch_se(x, nb=20):
    """Standard error of a correlated time series' mean from `nb` batch means."""
    x = np.asarray(x, float)
    m = len(x) // nb
    return se_of_mean(x[:m * nb].reshape(nb, m).mean(axis=1))


# -- binding equilibrium -------------------------------------------------------------------

def test_stationary_distribution_of_binding_matches_the_discrete_closed_form():
    """Closed compartment (no transport): ssa's time-averaged bound count against the exact
    stationary law P(n) ~ K^n / (n! (Ca_tot - n)! (B_tot - n)!), mean within 4 SE (batch
    means); small counts, where it differs from the mass-action equilibrium."""
    vol, K_d = 0.01, 1.0  # um^3, uM: 1 uM is 6.02 ions
    sc = cell([BUFFER(k_on=1e8, K_d=K_d)], duration=200.0, dt=0.02, seed=7, vol=vol, ca=0.002,
              b=0.004, bath=True, clamped=())
    df = run(sc)
    x0 = df.iloc[0]
    ca_tot = int(x0["spine.Ca.count"] + x0["spine.CaB.count"])
    b_tot = int(x0["spine.B.count"] + x0["spine.CaB.count"])
    K = 1.0 / (K_d * 1e-3 * IONS_PER_MM_UM3 * vol)  # k_on / (k_off N_A vol)
    n, p = buffer.stationary_bound(ca_tot, b_tot, K)
    exact = float(n @ p)
    bound = df["spine.CaB.count"].to_numpy()[500:]
    assert np.all(df["spine.Ca.count"] + df["spine.CaB.count"] == ca_tot)
    se = batch_se(bound)
    assert abs(bound.mean() - exact) < 4 * se, (bound.mean(), exact, se)
    # the discrete law is not the mass-action one at these counts: the test can tell
    c_tot, b_c = ca_tot, b_tot
    ma = 0.5 * (c_tot + b_c + 1 / K - math.sqrt((c_tot + b_c + 1 / K) ** 2 - 4 * c_tot * b_c))
    assert abs(ma - exact) > 0.05
    # variance too (4 SE of the variance from batch variances)
    var_b = [np.var(c) for c in np.array_split(bound, 20)]
    exact_var = float((n - exact) ** 2 @ p)
    assert abs(np.mean(var_b) - exact_var) < 4 * se_of_mean(var_b) + 0.02 * exact_var


def test_ode_reaches_the_mass_action_equilibrium():
    K_d = 0.4  # uM
    sc = cell([BUFFER(k_on=8e7, K_d=K_d)], method="ode", duration=1.0, dt=0.1, ca=0.003,
              b=0.04, clamped=())
    df = run(sc)
    first, last = df.iloc[0], df.iloc[-1]
    ca, b, cab = (last[f"spine.{s}.mM"] * 1e3 for s in ("Ca", "B", "CaB"))
    assert ca * b / cab == pytest.approx(K_d, rel=1e-6)
    # totals (initial counts are whole ions: 3 uM in 0.1 um^3 is 181, not 180.7)
    assert ca + cab == pytest.approx(first["spine.Ca.mM"] * 1e3, rel=1e-9)
    assert b + cab == pytest.approx(first["spine.B.mM"] * 1e3, rel=1e-9)
    assert cab > 2.5


# -- buffered decay (Neher & Augustine 1992) -----------------------------------------------

def decay_cell(method, load_uM, vol=0.1, k_on=8e7, gamma=100.0, **kw):
    """A linear Ca extrusion of rate constant gamma (a leak to a bath at the resting
    Ca, at 0 mV) and a 50 uM buffer with K_d 0.4 uM; resting Ca 0.1 uM, buffer at
    equilibrium with it; a load of `load_uM` free Ca added at t = 0 with kappa_B times it
    bound (on the buffer's equilibrium line)."""
    rest, K_d, b_tot = 0.1, 0.4, 50.0
    kappa = buffer.buffering_capacity(b_tot, K_d, rest)
    cab = b_tot * rest / (K_d + rest) + kappa * load_uM
    area = 10.0 * vol
    P = gamma * vol * 1e-18 / (area * 1e-12) * 100.0  # cm/s: gamma = P A / vol at 0 mV
    mechs = [BUFFER(k_on=k_on, K_d=K_d), LEAK(P=P)]
    sc = cell(mechs, method=method, vol=vol, area=area, ca=(rest + load_uM) * 1e-3,
              b=(b_tot - cab) * 1e-3, cab=cab * 1e-3, ca_o=rest * 1e-3, vol_out=1e4 * vol,
              clamp=0.0, **kw)
    return sc, (1.0 + kappa) / gamma, rest


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


def test_ssa_mean_decay_follows_the_ode():
    """ssa ensemble (a few free ions on ~1000 bound) of a 5 uM total load: the mean total
    Ca in the spine (free + bound) at 0.2, 0.5 and 1 s within 4 SE of the ode."""
    load = 5.0 / 81.0  # uM free, and 80 times it bound: 5 uM (301 ions) in all
    times = (0.2, 0.5, 1.0)
    sc_o, _, _ = decay_cell("ode", load, duration=1.0, dt=0.1)
    do = run(sc_o).set_index("time_s")
    tot = lambda d: d["spine.Ca.count"] + d["spine.CaB.count"]  # noqa: E731
    sc, _, _ = decay_cell("ssa", load, duration=1.0, dt=0.1, seed=5)
    rows = np.array([[tot(run(sc, r).set_index("time_s").loc[list(times)]).to_numpy()]
                     for r in range(40)])[:, 0, :]
    # ode counts are rounded in the count columns: use the concentrations
    ode = np.array([(do.loc[t, "spine.Ca.mM"] + do.loc[t, "spine.CaB.mM"])
                    * IONS_PER_MM_UM3 * 0.1 for t in times])
    for k in range(len(times)):
        se = se_of_mean(rows[:, k])
        assert abs(rows[:, k].mean() - ode[k]) < 4 * se, (times[k], rows[:, k].mean(), ode[k])
    assert ode[0] - ode[-1] > 10 * max(se_of_mean(rows[:, k]) for k in range(3))


# -- PMCA ----------------------------------------------------------------------------------

def pmca_stall(V_mV, dG_kJ):
    """Ca_o/Ca_i at which PMCA stalls: exp((-dG_ATP + 2 F V)/RT)."""
    return math.exp((-dG_kJ * 1e3 + 2 * F * V_mV * 1e-3) / (R * T))


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
        sc = cell([PMCA(density=200, dG=dG)], method="ode", duration=50.0,
                  dt=5.0, ca=start, b=0.0, clamp=V, vol=1000.0,
                  area=10000.0, vol_out=1e5)
        df = run(sc)
        assert df["spine.Ca.mM"].iloc[-1] == pytest.approx(want, rel=1e-5), (start, want)
        atp = df["thermo.atp_work_J"].iloc[-1]
        assert (atp > 0) == (start > want)  # hydrolysis when pumping down, synthesis up
    # the ratio moves by exp(2 F dV / RT) with V: 30 mV gives x9.5
    assert pmca_stall(-40, dG) / pmca_stall(-70, dG) == pytest.approx(9.452, rel=1e-3)


def test_pmca_ssa_count_is_poisson_at_the_stall():
    """One ion per turnover against a clamped outside: the stationary count is Poisson
    with the stall's mean (detailed balance of a_f(n)/a_b(n-1) = n/lambda); time average
    within 4 SE (batch means)."""
    dG, V, vol = -30.0, -40.0, 0.1
    want = 1.2 / pmca_stall(V, dG) * IONS_PER_MM_UM3 * vol
    sc = cell([PMCA(density=200, dG=dG)], duration=100.0, dt=0.01, seed=3,
              vol=vol, area=1.0, ca=1.2 / pmca_stall(V, dG), b=0.0, clamp=V)
    n = run(sc)["spine.Ca.count"].to_numpy()[100:]
    assert 3 < want < 100
    assert abs(n.mean() - want) < 4 * batch_se(n), (n.mean(), want, batch_se(n))
    assert np.var(n) == pytest.approx(want, rel=0.2)


def test_pmca_on_a_metabolic_pool_stalls_at_the_pools_dG_ATP():
    """With a pool in the spine the PMCA uses the pool's dG_ATP (not its own parameter):
    stall ratio from the pool's final ATP, ADP, Pi; each Ca2+ pumped costs one ATP."""
    from ionmc.mechanisms.metabolism import dG_ATP

    V = -120.0
    sc = cell([PMCA(density=200, dG=-80.0)], method="ode", duration=50.0,
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


# -- conservation and the ledger -----------------------------------------------------------

def everything(method, pool=None, duration=0.2, seed=2, vol=0.05):
    """Buffer, Ca leak, PMCA and NCX in an unclamped spine (0.05 um^3, 0.5 um^2) with a
    finite, non-bath outside: every ion can be counted. At 0.05 um^3 tau-leap takes exact
    steps (a few hundred Ca2+ bind ~1e3 times a second); at 2 um^3 it leaps."""
    mechs = [BUFFER(k_on=8e7, K_d=0.4), LEAK(P=2e-5), PMCA(density=300, dG=-57.0),
             NCX(density=30)]
    return cell(mechs, method=method, duration=duration, dt=0.01, seed=seed,
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


# -- input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key,value,msg", [
    ("compartment", "nowhere", "unknown compartment"),
    ("bound_species", "X", "must be that of"),
    ("K_d_uM", -1.0, "must be positive"),
    ("ligand", "Zn", "unknown species"),
])
def test_bad_buffer_input_is_one_clear_line(key, value, msg):
    buf = BUFFER(k_on=8e7, K_d=0.4)
    buf.pop(key, None)
    buf[key] = value
    with pytest.raises(InputError) as e:
        cell([buf])
    assert f"mechanisms.calbindin.{key}" in str(e.value) and msg in str(e.value)


def test_buffer_sites_must_be_impermeant():
    sc = cell([BUFFER(k_on=8e7, K_d=0.4)])
    raw = sc.data
    raw["species"]["B"]["permeant"] = True
    from ionmc.scenario import validate

    with pytest.raises(InputError, match="permeant = false"):
        validate(raw, "x.toml")


# -- the built-in scenario -----------------------------------------------------------------

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


def test_spine_calcium_ssa_mean_follows_the_ode():
    """10 ssa replicates: mean total Ca in the spine (free + bound) 50 ms after the entry
    within 4 SE of the ode; free Ca at rest is a handful of ions."""
    from conftest import make

    ode = run(make("spine_calcium", method="ode", duration=0.3)).set_index("time_s")
    sc = make("spine_calcium", duration=0.3)
    tot, rest = [], []
    for r in range(10):
        d = run(sc, r).set_index("time_s")
        tot.append(d.loc[0.25, "spine.Ca.count"] + d.loc[0.25, "spine.CaB.count"])
        rest.append(d.loc[0.0:0.199, "spine.Ca.count"].mean())
    want = (ode.loc[0.25, "spine.Ca.mM"] + ode.loc[0.25, "spine.CaB.mM"]) * IONS_PER_MM_UM3 * 0.1
    assert abs(np.mean(tot) - want) < 4 * se_of_mean(tot), (np.mean(tot), want)
    assert 3.0 < np.mean(rest) < 7.0


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
    mechs = [BUFFER(k_on=8e7, K_d=0.4), LEAK(P=2e-5),
             BUFFER(k_on=5e7, K_d=2.0, name="ecs_buffer", compartment="ecs")]
    sc = cell(mechs, duration=0.2, seed=4, vol=0.05, area=0.5, ca=0.005, b=0.05, ca_o=0.01,
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
        cell([BUFFER(k_on=8e7, K_d=0.4)],
             events=[(0.1, {"mechanisms.calbindin.compartment": 1.0})])


def test_spine_calcium_from_the_cli_with_report_and_energetics(tmp_path, capsys):
    import json

    import pandas as pd

    from ionmc.cli import main

    assert main(["list"]) == 0
    assert "spine_calcium" in capsys.readouterr().out
    out = tmp_path / "sc"
    assert main(["run", "spine_calcium", "-o", str(out), "--replicates", "2",
                 "--duration", "0.25"]) == 0
    df = pd.read_parquet(out / "timeseries")
    assert set(df["replicate"]) == {0, 1}
    assert (df.groupby("replicate")["spine.CaB.count"].max() > 1000).all()  # the entry
    assert (df["calbindin.current_pA"].dropna() == 0).all()
    assert main(["report", str(out), "-o", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").stat().st_size > 10000
    capsys.readouterr()
    assert main(["energetics", "spine_calcium", "--json"]) == 0
    e = json.loads(capsys.readouterr().out)
    assert e["buffers"]["calbindin"]["compartment"] == "spine"
