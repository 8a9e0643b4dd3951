"""Closed forms under every method that applies (issue 3, 'What it must show' 2):
GHK potential, Gibbs-Donnan equilibrium, Ussing flux ratio and GHK efflux."""
import math

import numpy as np
import pytest

from ionmc.thermo.closed_forms import ghk_fluxes, ussing_ratio

from cells import donnan_check, ghk_mV, ussing
from conftest import make, run_df

T = 310.0


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


@pytest.mark.parametrize("method", ["ode", "tau-leap"])
def test_donnan_equilibrium(method):
    df = run_df(make("donnan", method=method))
    r = donnan_check(df, 299.0)
    assert 1.55 < r < 1.65  # Cl_i/Cl_o = 1/r ~ 0.63: "Donnan alone gives ~0.6"


@pytest.mark.parametrize("V", [-70.0, 0.0, 30.0])
def test_ussing_flux_ratio_and_ghk_efflux(V):
    # ode to 1e-6; ssa and tau-leap over seeds: verification, ussing_flux_ratio_and_ghk_efflux
    df = run_df(ussing("ode", V))
    t = df["time_s"].iloc[-1]
    out, inn = df["Na_leak.forward"].iloc[-1], df["Na_leak.backward"].iloc[-1]
    j_out, j_in = ghk_fluxes(1e-6, 1.0, 1, 15.0, 145.0, V * 1e-3, T)
    expect = ussing_ratio(1, 15.0, 145.0, V * 1e-3, T)
    assert math.isclose(inn / out, expect, rel_tol=1e-6)
    assert math.isclose(out / t, j_out, rel_tol=1e-6)
