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

from cells import C_ISO, injected_neuron, isolated, small_cell, water_cell
from conftest import balance, ledger_residual


def run(sc):
    return ionmc.simulate(sc, 0)[0]


def test_injected_ions_are_the_counted_ones():
    """1 fA of K+ from an electrode for 0.2 s: forward firings only, and the cell gains
    exactly the counted ions. (Their Poisson law, mean I t / e: verification,
    injection_counts_are_poisson.)"""
    sc = isolated()
    df = run(sc)
    assert len(df) == 201
    assert (df["stim.backward"] == 0).all()
    n = df["stim.forward"].iloc[-1]
    assert n > 0
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
    assert (df["stim.forward"] == 0).all()
    n = df["stim.backward"].iloc[-1]
    assert n > 0  # (the counts' Poisson law: verification, injection_counts_are_poisson)
    assert df["cell.Cl.count"].iloc[0] - df["cell.Cl.count"].iloc[-1] == n
    assert df["ecs.Cl.count"].iloc[-1] - df["ecs.Cl.count"].iloc[0] == n
    df = run(isolated(I=0.0, extra={"ions_per_s": 5000.0}))
    assert df["stim.forward"].iloc[-1] > 0 and (df["stim.backward"] == 0).all()


def test_charge_on_an_isolated_membrane_is_i_t_over_c():
    """dV = I t / C: under `ode` to rounding (0.5 pA for 0.2 s on 5 pF: 20 mV); under `ssa`
    V is e/C times the counted ions on every row. (The mean of dV over replicates:
    verification, injection_counts_are_poisson.)"""
    df = run(isolated(method="ode", I=0.5, frm="ecs", dt=0.01))
    dV = (df["pm.V_mV"] - df["pm.V_mV"].iloc[0]) * 1e-3
    assert np.allclose(dV, 0.5e-12 * df["time_s"] / C_ISO, rtol=1e-9, atol=1e-12)
    df = run(isolated(dt=0.01))
    dv = (df["pm.V_mV"] - df["pm.V_mV"].iloc[0]) * 1e-3
    assert df["stim.forward"].iloc[-1] > 0
    assert np.allclose(dv, df["stim.forward"] * E_CHARGE / C_ISO, rtol=1e-9, atol=1e-15)


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


    # (the count's Poisson mean I t / e: verification, injection_counts_are_poisson)


@pytest.mark.parametrize("method,tol", [("tau-leap", 1e-3), ("ode", 1e-5)])
def test_ledger_balances_under_tau_leap_and_ode(method, tol):
    """resting_neuron / 10 with its pump blocked (the reduced pump's own residual is not
    the injection's) and 100 pA of K+ for 1 s (6e7 ions, V -70 -> -48 mV): the balance
    within tau-leap's discretisation (measured 5.4e-6 of the scale with the ledger's sums
    at each leap's midpoint; 1.8e-3 with them at its start and the long leaps the damped
    V noise allows) and the ODE's (measured 4.2e-7: the leaks' entropy under ode carries the
    midpoint rule's e^2/2C per net ion, and here they carry the injected K+ back; the
    injection's own term is exact under ode, next test)."""
    df = run(injected_neuron(method, 100.0, 0.1, block=1.0))
    resid, scale = balance(df)
    assert np.abs(resid).max() < tol * scale
    assert df["thermo.stimulus_work_J"].iloc[-1] > 0.3 * scale


def test_events_switch_the_injection_on_and_off():
    """current_pA set to 2 fA at 0.05 s and back to 0 at 0.15 s: no firing before, none
    after, some between. (The count's Poisson law: verification,
    injection_counts_are_poisson.)"""
    ev = [(0.05, {"mechanisms.stim.current_pA": 2e-3}),
          (0.15, {"mechanisms.stim.current_pA": 0.0})]
    df = run(isolated(I=0.0, events=ev, dt=0.01))
    t, f = df["time_s"], df["stim.forward"]
    assert (f[t <= 0.05 + 1e-12] == 0).all()
    after = f[t >= 0.15 - 1e-12]
    assert after.nunique() == 1 and after.iloc[0] > 0


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
