"""Closed forms under every method that applies (issue 3, 'What it must show' 2):
GHK potential, Gibbs-Donnan equilibrium, Ussing flux ratio and GHK efflux."""
import math

import numpy as np
import pytest

from ionmc.thermo.closed_forms import donnan_potential, donnan_ratio, ghk_fluxes, ghk_voltage, \
    ussing_ratio
from builder import Builder
from conftest import make, run_df, se_of_mean

T = 310.0


def ghk_mV(df, sc, cell, comp_out):
    P = {m["species"]: (m["permeability_cm_per_s"], sc["species"][m["species"]]["charge"])
         for m in sc["mechanisms"] if m["type"] == "leak"}
    out = []
    for _, r in df.iterrows():
        cin = {s: r[f"{cell}.{s}.mM"] for s in P}
        cout = {s: r[f"{comp_out}.{s}.mM"] for s in P}
        out.append(ghk_voltage(P, cin, cout, T) * 1e3)
    return np.array(out)


@pytest.mark.parametrize("method", ["ode", "tau-leap"])
def test_no_pump_settles_to_ghk_whole_cell(method):
    # pumps blocked from the start: V leaves -70 mV and settles to the GHK potential of the
    # current concentrations within a few membrane time constants (RC = 1 ms here)
    sc = make("resting_neuron", method=method, duration=0.02, dt=0.001,
              sets=[("mechanisms.pump.block_fraction", 1.0)])
    df = run_df(sc)
    ref = ghk_mV(df, sc, "neuron", "ecs")
    late = df["time_s"] >= 0.005
    assert abs(df["soma.V_mV"].iloc[0] - ref[0]) > 2.0  # it really had to move
    assert np.all(np.abs(df["soma.V_mV"][late] - ref[late]) < 0.5)


def test_no_pump_settles_to_ghk_ssa():
    # shrunk 1000x (0.5 um^2, C = 5 fF): V fluctuates by mV, its time average sits on GHK
    sc = make("resting_neuron", 1e-3, method="ssa", duration=0.4, dt=0.001, seed=7,
              sets=[("mechanisms.pump.block_fraction", 1.0)])
    df = run_df(sc)
    ref = ghk_mV(df, sc, "neuron", "ecs")
    late = (df["time_s"] >= 0.005).to_numpy()
    diff = df["soma.V_mV"].to_numpy()[late] - ref[late]
    assert abs(diff.mean()) < 0.5
    assert abs(diff.mean()) < 4 * se_of_mean(diff) + 0.1


def _donnan_check(df, window, tol_ratio=0.02, tol_mV=1.0):
    tail = df[df["time_s"] >= window]
    A = tail["cell.X.mM"].mean()
    r = donnan_ratio(A, 150.0, 150.0)
    assert math.isclose(tail["cell.Na.mM"].mean() / 145.0, r, rel_tol=tol_ratio)
    assert math.isclose(tail["cell.K.mM"].mean() / 5.0, r, rel_tol=tol_ratio)
    assert math.isclose(150.0 / tail["cell.Cl.mM"].mean(), r, rel_tol=tol_ratio)
    assert abs(tail["pm.V_mV"].mean() - donnan_potential(r, T) * 1e3) < tol_mV
    return r


@pytest.mark.parametrize("method", ["ode", "tau-leap"])
def test_donnan_equilibrium(method):
    df = run_df(make("donnan", method=method))
    r = _donnan_check(df, 299.0)
    assert 1.55 < r < 1.65  # Cl_i/Cl_o = 1/r ~ 0.63: "Donnan alone gives ~0.6"


@pytest.mark.slow
def test_donnan_equilibrium_ssa():
    # shrunk 1e5 x (0.01 um^3): time averages over the last 100 s of an exact trajectory
    df = run_df(make("donnan", 1e-5, method="ssa", dt=0.05, seed=11))
    _donnan_check(df, 200.0)


def ussing(method, V):
    """Na+ leaking between fixed concentrations (15 mM clamped inside, a bath of 145 mM)
    across a membrane clamped at V mV."""
    return (Builder("ussing", 2.0, 0.5, method, seed=5)
            .species(Na=1).impermeant(X=-1)
            .compartment("cell", 1.0, Na=15.0, clamped=["Na"])
            .compartment("bath", 100.0, Na=145.0, bath=True)
            .membrane("pm", "cell", "bath", 1.0, clamp=V)
            .leak("Na", 1e-6).build())


@pytest.mark.parametrize("method", ["ssa", "tau-leap", "ode"])
@pytest.mark.parametrize("V", [-70.0, 0.0, 30.0])
def test_ussing_flux_ratio_and_ghk_efflux(method, V):
    df = run_df(ussing(method, V))
    t = df["time_s"].iloc[-1]
    out, inn = df["Na_leak.forward"].iloc[-1], df["Na_leak.backward"].iloc[-1]
    j_out, j_in = ghk_fluxes(1e-6, 1.0, 1, 15.0, 145.0, V * 1e-3, T)
    expect = ussing_ratio(1, 15.0, 145.0, V * 1e-3, T)
    if method == "ode":
        assert math.isclose(inn / out, expect, rel_tol=1e-6)
        assert math.isclose(out / t, j_out, rel_tol=1e-6)
        return
    se_log = math.sqrt(1.0 / out + 1.0 / inn)
    assert abs(math.log(inn / out) - math.log(expect)) < 4 * se_log
    assert abs(out / t / j_out - 1.0) < 0.03
    assert abs(out / t / j_out - 1.0) < 4 / math.sqrt(out) + 1e-3
