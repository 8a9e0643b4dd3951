"""Transporters whose forward rate the scenario writes (mechanisms/user_transporter.py): the
reverse from detailed balance gives the thermodynamic equilibrium whatever the expression,
the ledger closes under ssa, ATP drives it to its stall point, and bad input is one line."""
import math

import numpy as np
import pytest

from ionmc.constants import F, R
from ionmc.errors import InputError
from ionmc.model import Model

from builder import Builder
from conftest import balance, run_df

SGLT_RATE = "k_per_s * (Na_o / K_Na_mM) * (glucose_o / K_g_mM) / (1 + Na_o / K_Na_mM + glucose_o / K_g_mM)"


def _sglt(method="ode", rate=SGLT_RATE, V=-70.0, duration=2000.0, dt=100.0, seed=1, volume=0.1,
          density=1000.0, **extra):
    """A cell with Na+ clamped (15/145 mM), clamped at V mV, glucose 0 inside and 1 mM in the
    bath, one user transporter moving 1 Na+ and 1 glucose in per forward turnover."""
    return (Builder("user_sglt", duration, dt, method, seed)
            .species(Na=1, K=1, glucose=0).impermeant(X=-1)
            .compartment("cell", volume, clamped=["Na"], Na=15.0, K=140.0, glucose=0.0)
            .compartment("bath", 10.0, bath=True, Na=145.0, K=5.0, glucose=1.0)
            .membrane("pm", "cell", "bath", 1.0, V0=V, clamp=V)
            .mechanism("transporter", "sglt", membrane="pm", density_per_um2=density,
                       stoichiometry={"Na": 1, "glucose": 1}, rate=rate,
                       parameters={"k_per_s": 50.0, "K_Na_mM": 10.0, "K_g_mM": 0.5}, **extra))


@pytest.mark.parametrize("rate", [SGLT_RATE, "k_per_s + 0 * K_Na_mM * K_g_mM",
                                  "k_per_s * exp(V / 50) * glucose_o / (K_g_mM + glucose_o) + 0 * K_Na_mM"])
def test_its_equilibrium_is_the_thermodynamic_one_whatever_the_rate(rate):
    """Under ode glucose_i/glucose_o settles at (Na_o/Na_i) exp(-F V/RT) (one charge in per
    turnover) = 132.8 at -70 mV, for a saturating, a constant and a voltage-dependent law."""
    df = run_df(_sglt(rate=rate, duration=20000.0, dt=1000.0).build())
    ratio = df["cell.glucose.mM"].iloc[-1] / df["bath.glucose.mM"].iloc[-1]
    na_i, na_o = df["cell.Na.mM"].iloc[-1], df["bath.Na.mM"].iloc[-1]
    want = na_o / na_i * math.exp(-F * -0.070 / (R * 310.0))
    assert ratio == pytest.approx(want, rel=1e-5)


def _small(rate, glucose_i, seed, **parameters):
    """A 0.001 um^3 cell at -70 mV (V free), glucose_i mM inside and 1 mM in the bath, a
    Na+:glucose symport under ssa: every turnover an event."""
    return (Builder("user_tr_ssa", 0.5, 0.05, "ssa", seed)
            .species(Na=1, K=1, glucose=0).impermeant(X=-1)
            .compartment("cell", 0.001, Na=15.0, K=140.0, glucose=glucose_i)
            .compartment("bath", 10.0, bath=True, Na=145.0, K=5.0, glucose=1.0)
            .membrane("pm", "cell", "bath", 0.05, V0=-70.0)
            .mechanism("transporter", "sglt", membrane="pm", density_per_um2=2000.0,
                       stoichiometry={"Na": 1, "glucose": 1}, rate=rate,
                       parameters=parameters)
            .build())


@pytest.mark.parametrize("rate, glucose_i, params", [
    (SGLT_RATE, 0.0, {"k_per_s": 50.0, "K_Na_mM": 10.0, "K_g_mM": 0.5}),
    # a law of the very counts each turnover moves: the reverse must read them at the
    # state before the forward jump (the shift), or the balance drifts
    ("k_per_s * (Na_i / 10) * (1 + 1e4 * glucose_i) / (1 + 50 * glucose_i)", 0.5,
     {"k_per_s": 50.0}),
])
def test_the_ledger_closes_under_ssa(rate, glucose_i, params):
    """The balance G - G0 = W - T S closes to rounding, both directions firing."""
    df = run_df(_small(rate, glucose_i, 3, **params))
    assert df["sglt.forward"].iloc[-1] > 100 and df["sglt.backward"].iloc[-1] > 10
    resid, scale = balance(df)
    assert np.max(np.abs(resid)) < 1e-9 * scale


def test_atp_drives_it_to_its_stall_point():
    """1 Ca2+ out per ATP (PMCA-like, a Hill uptake): Ca_o/Ca_i at stall is
    exp((-dG_ATP + 2 F V)/RT) (V the inside's potential, -70 mV), to the 1/n of the discrete
    law's fixed point (2e5 Ca2+ inside at stall)."""
    sc = (Builder("user_pmca", 5000.0, 500.0, "ode", 1)
          .species(Ca=2, K=1).impermeant(X=-1)
          .compartment("cell", 100.0, Ca=0.01, K=140.0)
          .compartment("bath", 1000.0, bath=True, Ca=2.0, K=5.0)
          .membrane("pm", "cell", "bath", 1.0, V0=-70.0, clamp=-70.0)
          .mechanism("transporter", "pmca", membrane="pm", density_per_um2=1e4,
                     stoichiometry={"Ca": -1}, rate="kcat_per_s * Ca_i**2 / (Kd_mM**2 + Ca_i**2)",
                     parameters={"kcat_per_s": 30.0, "Kd_mM": 3e-4}, ATP_per_turnover=1,
                     dG_ATP_kJ_per_mol=-30.0)
          .build())
    df = run_df(sc)
    ratio = df["bath.Ca.mM"].iloc[-1] / df["cell.Ca.mM"].iloc[-1]
    want = math.exp((30e3 + 2 * F * -0.070) / (R * 310.0))
    assert ratio == pytest.approx(want, rel=1e-4)
    assert df["thermo.atp_work_J"].iloc[-1] > 0  # from 10 uM, above the stall: ATP spent


@pytest.mark.parametrize("change, key, says", [
    (dict(rate="k_per_s * glucose_x"), "mechanisms.sglt.rate", "unknown name 'glucose_x'"),
    (dict(rate="k_per_s.real"), "mechanisms.sglt.rate", "attribute"),
    (dict(stoichiometry={"Na": 1, "sugar": 1}), "mechanisms.sglt.stoichiometry.sugar",
     "unknown species"),
    (dict(stoichiometry={"Na": 1.5}), "mechanisms.sglt.stoichiometry.Na", "integer"),
])
def test_bad_input_is_one_line_naming_the_key(change, key, says):
    b = _sglt()
    b.configure("sglt", **change)
    with pytest.raises(InputError) as e:
        b.build()
    assert key in str(e.value) and says in str(e.value) and "\n" not in str(e.value)


def test_a_negative_rate_is_refused_before_the_run():
    with pytest.raises(InputError, match=r"mechanisms\.sglt\.rate: gives -\S+ at V = -150 mV"):
        Model(_sglt(rate="k_per_s * (V + 100) / 100 + 0 * K_Na_mM * K_g_mM").build())


def _driven(method, rate="k_per_s * (Na_i - 10) + 0 * V", duration=0.2, dt=0.02, seed=5,
            volume=0.001):
    """A small cell at rest with a driven Na+ exchanger whose net rate changes sign with
    Na_i (out above 10 mM, in below): not a thermodynamic law."""
    return (Builder("user_driven", duration, dt, method, seed)
            .species(Na=1, K=1).impermeant(X=-1)
            .compartment("cell", volume, Na=15.0, K=140.0)
            .compartment("bath", 10.0, bath=True, Na=145.0, K=5.0)
            .membrane("pm", "cell", "bath", 0.05, V0=-70.0)
            .mechanism("transporter", "drv", membrane="pm", density_per_um2=200.0,
                       stoichiometry={"Na": -1, "K": 1}, rate=rate, energy="driven",
                       parameters={"k_per_s": 2.0}))


@pytest.mark.parametrize("method", ["ssa", "tau-leap", "ode"])
def test_a_driven_law_is_booked_as_work_from_outside(method):
    """energy = "driven": the rate is the net rate, either sign; no entropy of its own, its
    jumps' free energy in thermo.driven_work_J, and the balance closes (ssa to rounding,
    ode to its solver, tau-leap within its documented 1%)."""
    df = run_df(_driven(method).build())
    assert df["thermo.driven_work_J"].abs().max() > 0
    assert (df["drv.entropy_production_J_per_K"] == 0).all()
    resid, scale = balance(df)
    # ssa: exact; ode: the slopes of G integrated by its quadrature, which is not under the
    # solver's error control (docs/physics.md, "The ODE"; measured 7e-6); tau-leap: its 1%
    tol = {"ssa": 1e-9, "ode": 5e-5, "tau-leap": 1e-2}[method]
    assert np.max(np.abs(resid)) < tol * scale, (np.max(np.abs(resid)), scale)
    # it settles where its net rate is 0: Na_i = 10 mM
    if method == "ode":
        long = run_df(_driven("ode", duration=200.0, dt=20.0).build())
        assert long["cell.Na.mM"].iloc[-1] == pytest.approx(10.0, abs=0.01)


@pytest.mark.parametrize("method", ["ssa", "ode"])
def test_a_driven_law_with_a_clamped_side_closes_the_ledger(method):
    """Na+ clamped inside a voltage-clamped cell: the clamped ions' z e V is the bath term's,
    and the driven work must carry it too."""
    b = _sglt(method=method, duration=0.5, dt=0.05, volume=0.001, density=200.0,
              rate="k_per_s * (1 - 2 * glucose_i) + 0 * K_Na_mM * K_g_mM", energy="driven")
    df = run_df(b.build())
    assert df["sglt.forward"].iloc[-1] > 10
    resid, scale = balance(df)
    # ode: measured 2.0e-5 (its quadrature; 1.6e-4 with ln(n + 1/2) for the slope of ln n!
    # from an empty side, where psi(n + 1) differs)
    assert np.max(np.abs(resid)) < (1e-9 if method == "ssa" else 5e-5) * scale


def test_driven_refusals():
    """A driven law with a species clamped inside a membrane whose V is free, and any law
    on a species clamped at 0 mM, are refused in one line."""
    b = _sglt(energy="driven", rate="k_per_s + 0 * K_Na_mM * K_g_mM")
    b._d["membranes"]["pm"]["clamp_mV"] = None
    with pytest.raises(InputError, match="not voltage-clamped"):
        b.build()
    b = _sglt()
    b._d["compartments"]["bath"]["concentrations_mM"]["glucose"] = 0.0
    with pytest.raises(InputError, match="clamped at 0 mM"):
        b.build()


def test_a_model_with_user_laws_survives_pickling():
    """The laws' addresses are this process's: an unpickled model recompiles (or loads)
    them and refills its rows, and gives the same propensities."""
    import pickle

    from ionmc.engine.kernels import all_propensities, voltages

    model = Model(_sglt(method="ssa").build())
    other = pickle.loads(pickle.dumps(model))
    out = []
    for m in (model, other):
        M = m.kernel_args()
        V = np.zeros(len(m.mems))
        voltages(m.x0, V, M)
        a = np.zeros(m.nt)
        all_propensities(m.x0.astype(float), V, a, M)
        out.append(a)
    assert out[0][0] > 0 and np.array_equal(out[0], out[1])


def test_a_driven_law_may_start_negative():
    """A driven net rate of either sign is accepted before the run (NKCC1 runs inward at
    rest in edNEGmodel); NaN is still refused."""
    sc = _driven("ode", rate="k_per_s * (Na_i - 20) + 0 * V", duration=0.1, dt=0.05)
    df = run_df(sc.build())
    assert df["drv.backward"].iloc[-1] > 0 and df["drv.forward"].iloc[-1] == 0
    with pytest.raises(InputError, match="exprel"):
        Model(_driven("ode", rate="k_per_s * (V + 40) / (1 - exp(-(V + 40) / 10))").build())


@pytest.mark.parametrize("method", ["ssa", "tau-leap"])
def test_a_rate_that_turns_negative_in_the_run_stops_it_naming_the_mechanism(method):
    """A reversible law that is positive at the start and negative once the cell's Na+
    passed 16 mM (a Na+ leak takes it there). The exact methods once read a negative sum
    of propensities as a state nothing leaves: no event, no error."""
    import ionmc
    from ionmc.engine.checks import SimulationError

    sc = (Builder("goes_negative", 0.5, 0.05, method, 3)
          .species(Na=1, K=1).impermeant(X=-1)
          .compartment("cell", 0.001, Na=15.0, K=140.0)
          .compartment("bath", 10.0, bath=True, Na=145.0, K=5.0)
          .membrane("pm", "cell", "bath", 0.05, clamp=-70.0)
          .mechanism("transporter", "bad", membrane="pm", density_per_um2=2000.0,
                     stoichiometry={"Na": 1}, rate="k_per_s * (16 - Na_i) + 0 * V",
                     parameters={"k_per_s": 5e4})
          .leak("Na", 2e-5)
          .build())
    with pytest.raises(SimulationError, match="mechanism 'bad'"):
        ionmc.simulate(sc)
