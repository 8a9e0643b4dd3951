"""The SSA's lattice tables (lattice.py) must give exactly the propensities the generic
kernel computes: after many events the propensities the SSA maintained through its table
look-ups equal, bit for bit, a fresh evaluation of every transition."""
import numpy as np
import pytest

from ionmc import lattice
from ionmc.kernels import all_propensities, voltages
from ionmc.model import Model
from ionmc.ssa import ssa_advance

from conftest import make


def run_events(model, M, n_events, seed=3):
    """n_events of the SSA's loop; returns (x, the propensities it maintained, fresh ones)."""
    x = model.x0.copy()
    nt = model.nt
    F, S, VS = np.zeros(nt, np.int64), np.zeros(nt), np.zeros(nt)
    a, V = np.zeros(nt), np.zeros(len(model.mems))
    voltages(x, V, M)
    a0 = all_propensities(x.astype(float), V, a, M)
    rng = np.random.Generator(np.random.PCG64(seed))
    t, a0, fired = ssa_advance(x, F, S, VS, 0.0, 1e9, a, V, a0, rng, M, n_events)
    assert fired == n_events
    fresh = np.zeros(nt)
    voltages(x, V, M)
    all_propensities(x.astype(float), V, fresh, M)
    return x, a, fresh


@pytest.mark.parametrize("elementary", [0.0, 1.0])
def test_table_lookups_equal_computed_propensities(elementary):
    # a spine head with leaks and the pump (reduced, and the elementary test pump): one ion
    # moves V by 4 mV, so V wanders over many lattice points
    model = Model(make("spine_noise", 0.01, sets=[("mechanisms.pump.elementary", elementary)]))
    M = model.kernel_args()
    tabulated = M[20] >= 0
    assert tabulated.sum() == model.nt  # every transition is a leak or a pump step here
    x, a, fresh = run_events(model, M, 200_000)
    assert np.array_equal(a, fresh)
    assert np.count_nonzero(M[21]) > 10 * model.nt  # the tables were really used


def test_window_recentres_and_forgets_stale_entries():
    model = Model(make("spine_noise", 0.01))
    M = model.kernel_args()
    tab, qlo = M[21], M[22]
    # stale garbage in every entry, and a window far from the membrane's charge: the first
    # look-up must re-centre the window and empty it, or the garbage would be used
    tab[:] = 7.0
    qlo[0] = 10 * lattice.W
    x, a, fresh = run_events(model, M, 50_000)
    assert np.array_equal(a, fresh)
    assert abs(qlo[0]) < lattice.W
    assert not np.any(tab == 7.0)
    # `clear` empties the tables (the methods call it before each advance, for events
    # that change rate parameters)
    lattice.clear(M)
    assert not tab.any()
