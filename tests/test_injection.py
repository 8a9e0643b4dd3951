"""Current injection (injection.py): Poisson counts at I/(z e), conservation, charge on an
isolated membrane, the stimulator's work in the ledger, events, bad input."""
import copy
import math

import numpy as np
import pytest
from scipy.special import gammaln

import ionmc
from ionmc.constants import E_CHARGE, K_B
from ionmc.errors import InputError
from ionmc.model import Model
from ionmc.scenario import load_scenario, validate

from builder import Builder
from conftest import balance, ledger_residual, make, small_cell, water_cell

C_ISO = 1e-2 * 500e-12  # F


def isolated(method="ssa", I=1e-3, frm="electrode", species="K", duration=0.2, dt=0.001,
             seed=3, bath=False, extra=None, events=(), build=True):
    """An isolated cell: no leak, nothing but the injection; C = 1 uF/cm^2 x 500 um^2 =
    5 pF."""
    b = (Builder("isolated", duration, dt, method, seed)
         .species(K=1, Cl=-1).impermeant(X=-1)
         .compartment("cell", 1000.0, K=140.0, Cl=10.0)
         .compartment("ecs", 250.0, bath=bath, K=10.0, Cl=5.0)
         .membrane("pm", "cell", "ecs", 500.0, V0=-70.0)
         .mechanism("injection", "stim", species=species, compartment="cell",
                    **{"from": frm}, current_pA=I, **(extra or {}))
         .events(*events))
    return b.build() if build else b


def run(sc):
    return ionmc.simulate(sc, 0)[0]


def test_injected_count_is_poisson_with_mean_i_t_over_ze():
    """1 fA of K+ from an electrode: the counts in 200 disjoint 1 ms windows are iid
    Poisson with mean I dt / e = 6.24 (Poisson process of rate I/(z e)): their mean within 4
    SE, their variance/mean within 4 SE (sqrt(2/(n-1))) of 1, and the total within 4 SE."""
    sc = isolated()
    df = run(sc)
    k = np.diff(df["stim.forward"].to_numpy())
    mu = 1e-3 * 1e-12 * 0.001 / E_CHARGE
    assert len(k) == 200
    assert abs(k.mean() - mu) < 4 * math.sqrt(mu / len(k))
    assert abs(k.var(ddof=1) / mu - 1.0) < 4 * math.sqrt(2.0 / (len(k) - 1))
    assert (df["stim.backward"] == 0).all()
    n = df["stim.forward"].iloc[-1]
    assert abs(n - 200 * mu) < 4 * math.sqrt(200 * mu)
    # an electrode adds exactly the counted ions, and the column says so
    assert df["cell.K.count"].iloc[-1] - df["cell.K.count"].iloc[0] == n
    assert df["stim.K.net_efflux"].iloc[-1] == -n
    assert df["ecs.K.count"].nunique() == 1


@pytest.mark.parametrize("I,frm", [(0.5, "electrode"), (0.5, "ecs"), (-0.5, "ecs")])
def test_stimulus_work_is_g_change_under_ode(I, frm):
    """Under `ode` the stimulator books the mean-field slopes (V, and ln(n + 1/2) for
    d lnG(n+1)/dn; injection.ledger_rows): W_stim = G(t) - G(0) on an isolated cell to
    1e-8 (measured 3e-10, G's rounding) while 0.5 pA moves V by 20 mV."""
    df = run(isolated(method="ode", I=I, frm=frm, dt=0.02))
    G = df["thermo.free_energy_J"] - df["thermo.free_energy_J"].iloc[0]
    W = df["thermo.stimulus_work_J"]
    assert np.abs(G - W).max() < 1e-8 * np.abs(G).max()
    assert abs(df["pm.V_mV"].iloc[-1] - df["pm.V_mV"].iloc[0]) > 19.0


def test_negative_current_of_an_anion_and_explicit_rate():
    """A current into the cell carried by Cl-: Cl- leaves the cell (backward firings only),
    at |I|/e; `ions_per_s` adds a flux directly."""
    sc = isolated(species="Cl", I=2e-3, frm="ecs")
    df = run(sc)
    mu = 2e-3 * 1e-12 * 0.2 / E_CHARGE
    assert (df["stim.forward"] == 0).all()
    n = df["stim.backward"].iloc[-1]
    assert abs(n - mu) < 4 * math.sqrt(mu)
    assert df["cell.Cl.count"].iloc[0] - df["cell.Cl.count"].iloc[-1] == n
    assert df["ecs.Cl.count"].iloc[-1] - df["ecs.Cl.count"].iloc[0] == n
    df = run(isolated(I=0.0, extra={"ions_per_s": 5000.0}))
    assert abs(df["stim.forward"].iloc[-1] - 1000) < 4 * math.sqrt(1000)


def test_charge_on_an_isolated_membrane_is_i_t_over_c():
    """dV = I t / C: under `ode` to rounding (0.5 pA for 0.2 s on 5 pF: 20 mV), under `ssa`
    on the mean of 20 replicates of 1 fA (V is e/C times the count: 4 SE of the Poisson
    count)."""
    df = run(isolated(method="ode", I=0.5, frm="ecs", dt=0.01))
    dV = (df["pm.V_mV"] - df["pm.V_mV"].iloc[0]) * 1e-3
    assert np.allclose(dV, 0.5e-12 * df["time_s"] / C_ISO, rtol=1e-9, atol=1e-12)
    sc = isolated(dt=0.2)
    dv = np.array([(lambda d: d["pm.V_mV"].iloc[-1] - d["pm.V_mV"].iloc[0])(
        ionmc.simulate(sc, r)[0]) * 1e-3 for r in range(20)])
    mean_dv = 1e-3 * 1e-12 * 0.2 / C_ISO
    per_ion = E_CHARGE / C_ISO
    se = math.sqrt(1e-3 * 1e-12 * 0.2 / E_CHARGE / 20) * per_ion
    assert abs(dv.mean() - mean_dv) < 4 * se


def test_stimulus_work_is_the_exact_change_of_g_including_the_capacitor():
    """Electrode into an isolated cell, no other mechanism: W_stim = G(t) - G(0), and it is
    the closed form k_B T [lnG(n0+N+1) - lnG(n0+1) - N ln lam] + C (V_N^2 - V_0^2)/2 from the
    counts, to 1e-6 of W (G's own rounding: lnG of 8e10 ions carries ~2e-4 k_B T). Here
    the capacitor is nearly all of it (2500 K+ depolarise the 5 pF membrane from -70 mV by
    0.08 mV, W ~ -6000 k_B T, the chemical part ~1e-4 k_B T): booking the chemical part
    alone would miss it entirely."""
    sc = isolated(I=2e-3, dt=0.02)
    df = run(sc)
    model = Model(sc)
    T = 310.0
    kT = K_B * T
    n0 = df["cell.K.count"].iloc[0]
    N = df["cell.K.count"] - n0
    lam = float(n0)  # the reference: the cell's start (no transition joins it to the ECS)
    chem = kT * (gammaln(n0 + N + 1.0) - gammaln(n0 + 1.0) - N * math.log(lam))
    V = df["pm.V_mV"] * 1e-3
    elec = 0.5 * C_ISO * (V ** 2 - V.iloc[0] ** 2)
    W = df["thermo.stimulus_work_J"]
    assert model.nt == 2
    tol = 1e-6 * abs(W).max()
    assert np.allclose(W, chem + elec, rtol=0, atol=tol)
    assert np.allclose(W, df["thermo.free_energy_J"] - df["thermo.free_energy_J"].iloc[0],
                       rtol=0, atol=tol)
    assert abs(W.iloc[-1] - chem.iloc[-1]) > 1e3 * kT and abs(W.iloc[-1]) > 1e5 * tol
    assert (df["thermo.entropy_production_J_per_K"] == 0).all()
    assert (df["stim.entropy_production_J_per_K"] == 0).all()


@pytest.mark.parametrize("to,frm,bath,clamped", [
    ("cell", "electrode", False, False), ("cell", "bath", False, False),
    ("cell", "bath", True, False), ("bath", "cell", False, True)])
def test_ledger_balances_to_rounding_under_ssa(to, frm, bath, clamped):
    """The small cell with its leaks (they carry the injected K+ back, so the trajectory
    visits a wide range of V): G(t) - G(0) = W - T S_prod to rounding, the injection from an
    electrode, from a free compartment, from a bath, and out of a clamped K+ in a cell
    voltage-clamped at -50 mV (its ions' chemical potential, z e V, then in W_bath)."""
    # clamped: no K+ leak, so that the injection alone draws on the clamped K+
    extra = dict(clamped=["K"], clamp=-50.0, leaks=(("Na", 1e-6), ("Cl", 2e-6))) \
        if clamped else {}
    df = run(small_cell(method="ssa", duration=0.2, bath=bath, **extra)
             .mechanism("injection", "stim", species="K", compartment=to, **{"from": frm},
                        current_pA=0.5).build())
    resid, scale = balance(df)
    assert np.abs(resid).max() < 1e-9 * scale
    assert df["stim.forward"].iloc[-1] > 1e5
    W = df["thermo.stimulus_work_J"].iloc[-1]
    # the leaks dissipate what the stimulator supplies: both terms are of the scale
    assert abs(W) > 0.3 * scale and df["thermo.entropy_production_J_per_K"].iloc[-1] > 0
    if clamped:  # each K+ taken from the clamped cell brings z e V_clamp into the system
        n = df["stim.forward"].iloc[-1]
        assert df["thermo.bath_exchange_J"].iloc[-1] == pytest.approx(-0.05 * E_CHARGE * n,
                                                                      rel=1e-9)
        assert df["cell.K.count"].nunique() == 1


def _neuron(method, I, factor, block=0.0, duration=1.0):
    """resting_neuron shrunk by `factor` (volumes and areas): I pA x factor of K+ from the
    ECS into the neuron (edNEG's stimulus is ECS -> soma); `block` the pump's
    block_fraction."""
    sc = make("resting_neuron", factor=factor, method=method, duration=duration, dt=0.05,
              sets=[("mechanisms.pump.block_fraction", block)])
    data = copy.deepcopy(sc.data)
    data["mechanisms"].append({"type": "injection", "name": "stim", "species": "K",
                               "compartment": "neuron", "from": "ecs",
                               "current_pA": I * factor})
    return validate(data, sc.source)


@pytest.mark.parametrize("method,factor", [("ssa", 1e-3), ("tau-leap", 0.1)])
def test_compartment_to_compartment_conserves_every_species_exactly(method, factor):
    """ECS -> neuron, 50 pA per 500 um^2, with leaks and the pump: every species' total is
    constant on every row, and the injection's net efflux column is what it moved."""
    sc = _neuron(method, 50.0, factor)
    df = run(sc)
    model = Model(sc)
    for s in model.species:
        tot = sum(df[f"{c}.{s}.count"] for c in model.comps)
        assert (tot == tot.iloc[0]).all(), s
    n = df["stim.forward"].iloc[-1] - df["stim.backward"].iloc[-1]
    assert n > 1e5 and df["stim.K.net_efflux"].iloc[-1] == -n
    mu = 50.0 * factor * 1e-12 / E_CHARGE
    assert abs(n - mu) < 4 * math.sqrt(mu)


@pytest.mark.parametrize("method,tol", [("tau-leap", 1e-3), ("ode", 1e-5)])
def test_ledger_balances_under_tau_leap_and_ode(method, tol):
    """resting_neuron / 10 with its pump blocked (the reduced pump's own residual is not
    the injection's) and 100 pA of K+ for 1 s (6e7 ions, V -70 -> -48 mV): the balance
    within tau-leap's discretisation (measured 5.4e-6 of the scale with the ledger's sums
    at each leap's midpoint; 1.8e-3 with them at its start and the long leaps the damped
    V noise allows) and the ODE's (measured 4.2e-7: the leaks' entropy under ode carries the
    midpoint rule's e^2/2C per net ion, and here they carry the injected K+ back; the
    injection's own term is exact under ode, next test)."""
    df = run(_neuron(method, 100.0, 0.1, block=1.0))
    resid, scale = balance(df)
    assert np.abs(resid).max() < tol * scale
    assert df["thermo.stimulus_work_J"].iloc[-1] > 0.3 * scale


def test_events_switch_the_injection_on_and_off():
    """current_pA set to 2 fA at 0.05 s and back to 0 at 0.15 s: no firing before, none
    after, the count between within 4 SE of I dt / e."""
    ev = [(0.05, {"mechanisms.stim.current_pA": 2e-3}),
          (0.15, {"mechanisms.stim.current_pA": 0.0})]
    df = run(isolated(I=0.0, events=ev, dt=0.01))
    t, f = df["time_s"], df["stim.forward"]
    assert (f[t <= 0.05 + 1e-12] == 0).all()
    after = f[t >= 0.15 - 1e-12]
    assert after.nunique() == 1
    mu = 2e-3 * 1e-12 * 0.1 / E_CHARGE
    assert abs(after.iloc[0] - mu) < 4 * math.sqrt(mu)


@pytest.mark.parametrize("extra,key,msg", [
    ({"compartment": "soma"}, "stim.compartment", "unknown compartment"),
    ({"from": "cell"}, "stim.from", "is the compartment itself"),
    ({"from": "nowhere"}, "stim.from", "unknown compartment"),
    ({"species": "X", "current_pA": 0.0, "ions_per_s": 1.0}, None, None),
])
def test_bad_injection_tables_name_file_and_key(tmp_path, extra, key, msg):
    base = {"compartment": "cell", "from": "electrode", "species": "K", "current_pA": 1.0}
    p = isolated(duration=0.1, dt=0.01, seed=1, build=False).remove("stim") \
        .mechanism("injection", "stim", **dict(base, **extra)).write(tmp_path / "bad.toml")
    if key is None:  # an impermeant species may be injected at a set rate
        load_scenario(p)
        return
    with pytest.raises(InputError) as e:
        load_scenario(p)
    assert e.value.key == f"mechanisms.{key}" and msg in e.value.message
    assert str(p) in str(e.value)


def test_an_uncharged_species_needs_a_rate_and_structure_cannot_change():
    raw = isolated(I=1.0, species="G", duration=0.1, dt=0.01, seed=1, build=False).raw()
    raw["species"] = {"G": {"charge": 0}, **raw["species"]}
    with pytest.raises(InputError, match="carries no charge"):
        validate(raw, "z0")
    with pytest.raises(InputError, match="cannot change"):
        isolated(events=[(0.05, {"mechanisms.stim.from": 1.0})])


def test_a_clamped_species_at_a_free_potential_is_refused():
    """The ledger books a bath's ions at a fixed potential: a clamped species in a
    compartment whose membrane is not voltage-clamped cannot be a side."""
    b = small_cell(clamped=["K"], bath=False).mechanism(
        "injection", "stim", species="K", compartment="cell", **{"from": "bath"},
        current_pA=0.1)
    with pytest.raises(InputError) as e:
        b.build()
    assert e.value.key == "mechanisms.stim.compartment" and "not voltage-clamped" in \
        e.value.message


@pytest.mark.parametrize("method,tol", [("ssa", 1e-9), ("ode", 1e-4)])
def test_ledger_closes_with_water_flow(method, tol):
    """With water flow (volume.py) lam follows the volumes, and so does the injection's
    dG (it reads ln(n/(N_A vol)) from the current volumes): 0.2 pA of K+ from an electrode
    swells test_volume's small cell by 2%, and the balance with W_water and W_stim closes
    to rounding under ssa, and under ode within the leaks' midpoint self-energy (measured
    1.2e-5 in this 0.05 um^3 cell, whose leaks carry the injected charge back)."""
    sc = water_cell(method=method, duration=0.3, bath=False, vol_out=0.2).build()
    data = copy.deepcopy(sc.data)
    data["mechanisms"].append({"type": "injection", "name": "stim", "species": "K",
                               "compartment": "cell", "from": "electrode",
                               "current_pA": 0.2})
    df = run(validate(data, sc.source))
    assert "thermo.stimulus_work_J" in df
    resid, scale = ledger_residual(df)  # water and stimulus work both in the balance
    assert np.abs(resid).max() <= tol * scale
    assert df["thermo.water_work_J"].abs().max() > 1e-2 * scale
    assert df["cell.volume_um3"].iloc[-1] > 1.01 * df["cell.volume_um3"].iloc[0]
    assert df["thermo.stimulus_work_J"].abs().max() > 1e-2 * scale


def test_a_species_absent_everywhere_it_can_go_is_refused():
    """No reference concentration, no G_ion for it: refused when the run starts."""
    sc = isolated()
    data = copy.deepcopy(sc.data)
    data["species"]["D"] = {"charge": 1, "permeant": True}
    data["mechanisms"][0]["species"] = "D"
    with pytest.raises(InputError, match="no reference concentration"):
        run(validate(data, sc.source))


def test_current_step_scenario_from_the_command_line(tmp_path):
    """The built-in current_step (resting_neuron, 100 pA of K+ from an electrode from 5 s):
    `ionmc energetics` predicts the step's depolarisation through the input resistance
    (100 pA x 200 MOhm = 20 mV), and `ionmc run` shows it half a second into the step,
    before K+ piles up in the ECS (within 2 mV; the injected count within 4 SE)."""
    from ionmc.cli import main
    from ionmc.thermo.energetics import energetics
    import pandas as pd

    b = energetics(load_scenario("current_step"))["membranes"]["soma"]
    assert b["injected_current_pA"] == 0.0
    assert b["injection_peak_pA"] == pytest.approx(100.0)
    assert b["injection_dV_mV"] == pytest.approx(100e-12 * b["input_resistance_MOhm"] * 1e9)
    out = tmp_path / "out"
    assert main(["run", "current_step", "-o", str(out), "--duration", "5.5"]) == 0
    df = pd.read_parquet(out / "timeseries")
    v = df.set_index("time_s")["soma.V_mV"]
    dv = v.loc[5.5] - v.loc[5.0]
    assert abs(dv - b["injection_dV_mV"]) < 2.0
    n = df["electrode.forward"].iloc[-1]
    mu = 100e-12 * 0.5 / E_CHARGE
    assert abs(n - mu) < 4 * math.sqrt(mu)
    assert df["electrode.current_pA"].iloc[-1] == pytest.approx(-100.0, rel=1e-3)


def test_ednegs_stimulus_is_an_injection_from_the_ecs():
    """edNEG's "stimulus current" (Saetra et al. 2021) moves K+ from the somatic ECS into
    the soma at I/F: on compare.py's one-layer edNEG scenario, 36 pA from 10 to 20 s
    (two events) moves edNEG's own count of injected K+ (stimulus_36pA_summary.csv,
    2.247e9) to 1e-6 under `ode`, out of the ECS and into the neuron (K+ conserved). The
    pumps are blocked so that the ledger shows the injection's term: it balances to 1e-6
    (measured 5e-9; with the pumps running the reduced pump's own bounded residual,
    ~k_B T per pump over its 1.4e8 pumps, is 2e-4 of the scale)."""
    import importlib.util
    from pathlib import Path

    import pandas as pd

    here = Path(__file__).resolve().parents[1] / "results" / "ednegmodel"
    spec = importlib.util.spec_from_file_location("edneg_compare_inj", here / "compare.py")
    cmp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cmp)
    rest = pd.read_csv(here / "rest_300s.csv").iloc[-1]
    summ = dict(pd.read_csv(here / "stimulus_36pA_summary.csv").values)
    L, P, dens = cmp.derive(rest, "flux")[:3]
    raw = cmp.scenario_dict(L, P, dens, duration=21.0, record=1.0)
    for m in raw["mechanisms"]:
        if m["type"] == "nak_pump":
            m["block_fraction"] = 1.0
    raw["mechanisms"].append({"type": "injection", "name": "stim", "species": "K",
                              "compartment": "neuron", "from": "ecs"})
    raw["events"] = [{"at_s": 10.0, "set": {"mechanisms.stim.current_pA": 36.0}},
                     {"at_s": 20.0, "set": {"mechanisms.stim.current_pA": 0.0}}]
    df = run(validate(raw, "edneg-injection"))
    n = df["stim.forward"].iloc[-1]
    assert n == pytest.approx(summ["K_injected_ions"], rel=1e-6)
    assert df.loc[df.time_s <= 10.0, "stim.forward"].max() == 0
    tot = sum(df[f"{c}.K.count"] for c in ("neuron", "ecs", "glia"))
    assert np.abs(tot - tot.iloc[0]).max() <= 3  # ode counts are rounded per compartment
    resid, scale = balance(df, T=cmp.T)
    assert np.abs(resid).max() < 1e-6 * scale
    assert df["thermo.stimulus_work_J"].iloc[-1] > 1e-2 * scale
