"""Every rate that draws on a count goes to zero continuously with it.

A hard cut-off ("no Na+ moves when fewer than 3 are left", with a rate law that is not zero
there) is a jump of the propensity at a small count: under ode it makes the right-hand side
discontinuous, and under ssa it breaks the ratio a_f(x)/a_b(x') that detailed balance and
the ledger book per event. Checked here for every transition of every built-in, as the ode
sees its counts (floats): with the membranes' potentials held at their starting values, each
count a transition draws from is swept over [0, s + 2] (s the ions it takes), and the
propensity must be zero at and below s - 1 and have no jump — its largest step between
neighbouring points must halve when the grid's step halves, as a continuous function's does.
"""
import numpy as np
import pytest

from ionmc.engine.kernels import all_propensities, voltages
from ionmc.model.compiled import Model
from ionmc.scenario import load_scenario
from ionmc.scenario.load import builtins

from pumps import REDUCED, with_pump


def _sweep(model, M, V, j, i, grid):
    a = np.zeros(model.nt)
    x = model.x0.astype(float)
    out = np.empty(len(grid))
    for k, n in enumerate(grid):
        x[i] = n
        all_propensities(x, V, a, M)
        out[k] = a[j]
    return out


def _with_reduced(name):
    """The built-in with its per-molecule pumps replaced by the reduced cycle."""
    return with_pump(load_scenario(name), REDUCED)


CASES = [(name, load_scenario) for name in builtins()] + [
    ("resting_neuron", _with_reduced), ("anoxia", _with_reduced)]


@pytest.mark.parametrize("name, make", CASES, ids=[
    f"{n}-{'reduced' if m is _with_reduced else 'builtin'}" for n, m in CASES])
def test_every_rate_vanishes_continuously_with_the_count_it_draws_from(name, make):
    model = Model(make(name))
    M = model.kernel_args()
    V = np.zeros(len(model.mems))
    voltages(model.x0.astype(np.int64), V, M)
    nu = model.nu.toarray()
    draws = [(j, i) for j, i in zip(*np.nonzero(nu < 0))]
    assert draws, name
    for j, i in draws:
        s = -int(nu[j, i])
        mech = model.mechs[model.tr_mech[j]]
        where = f"{name}: {mech.name} ({mech.type}) transition {j}, count {i} (takes {s})"
        coarse = np.linspace(0.0, s + 2.0, 201)
        fine = np.linspace(0.0, s + 2.0, 401)
        a_c = _sweep(model, M, V, j, i, coarse)
        a_f = _sweep(model, M, V, j, i, fine)
        assert np.all(np.isfinite(a_f)) and np.all(a_f >= 0.0), where
        assert np.all(a_f[fine <= s - 1] == 0.0), where
        top = a_f.max()
        if top == 0.0:
            continue  # the rate is off at this state (a blocked pump, a closed gate)
        jump_c, jump_f = np.abs(np.diff(a_c)).max(), np.abs(np.diff(a_f)).max()
        assert jump_f <= 0.75 * jump_c + 1e-12 * top, (where, jump_c / top, jump_f / top)


@pytest.mark.parametrize("name", sorted(builtins()))
def test_every_rate_at_the_start_is_finite_and_not_negative_in_integer_counts(name):
    """The exact methods evaluate rate laws on int64 counts: a law that takes a count's
    power in integers overflows from ~2e6 ions at the third power (a 3 Na+ exchanger in a
    myocyte's 1.5e11 Na+ gave -7.8e30/s, and an SSA that read the negative sum as "nothing
    can happen" fired no event and reported success). Integer and float counts must give
    the same propensities."""
    model = Model(load_scenario(name))
    M = model.kernel_args()
    V = np.zeros(len(model.mems))
    voltages(model.x0.astype(np.int64), V, M)
    a_int, a_float = np.zeros(model.nt), np.zeros(model.nt)
    all_propensities(model.x0.astype(np.int64), V, a_int, M)
    all_propensities(model.x0.astype(float), V, a_float, M)
    assert np.all(np.isfinite(a_int)) and np.all(a_int >= 0.0), name
    assert np.allclose(a_int, a_float, rtol=1e-12, atol=0.0), name
