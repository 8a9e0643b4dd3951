"""The SSA's lattice tables (lattice.py) must give exactly the propensities the generic
kernel computes: after many events the propensities the SSA maintained through its table
look-ups equal, bit for bit, a fresh evaluation of every transition."""
import numpy as np
import pytest

from ionmc.engine import lattice
from ionmc.engine.fastrand import new_state
from ionmc.engine.kernels import all_propensities, voltages
from ionmc.model import Model
from ionmc.engine.ssa import ssa_advance

from pumps import reduced
from conftest import make, run_df, shrink


def run_events(model, M, n_events, seed=3):
    """n_events of the SSA's loop; returns (x, the propensities it maintained, fresh ones)."""
    x = model.x0.copy()
    nt = model.nt
    F, S, VS = np.zeros(nt, np.int64), np.zeros(nt), np.zeros(nt)
    a, V = np.zeros(nt), np.zeros(len(model.mems))
    voltages(x, V, M)
    a0 = all_propensities(x.astype(float), V, a, M)
    rs = new_state(np.random.Generator(np.random.PCG64(seed)))
    t, a0, fired = ssa_advance(x, F, S, VS, 0.0, 1e9, a, V, a0, rs, M, n_events)
    assert fired == n_events
    fresh = np.zeros(nt)
    voltages(x, V, M)
    all_propensities(x.astype(float), V, fresh, M)
    return x, a, fresh


@pytest.mark.parametrize("pump", ["per-molecule", "reduced", "elementary"])
def test_table_lookups_equal_computed_propensities(pump):
    # a spine head with leaks and the pump (the built-in's per-molecule one; the reduced
    # one; the elementary test pump): one ion moves V by 4 mV, so V wanders over many
    # lattice points
    sc = make("spine_noise", 0.01)
    if pump != "per-molecule":
        sc = reduced(sc, elementary=float(pump == "elementary"))
    model = Model(sc)
    M = model.kernel_args()
    tabulated = M.lat_row >= 0
    assert tabulated.sum() == model.nt  # every transition is a leak or a pump step here
    x, a, fresh = run_events(model, M, 200_000)
    assert np.array_equal(a, fresh)
    assert np.count_nonzero(M.lat_tab) > 10 * model.nt  # the tables were really used


def test_window_recentres_and_forgets_stale_entries():
    model = Model(make("spine_noise", 0.01))
    M = model.kernel_args()
    tab, qlo = M.lat_tab, M.lat_qlo
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


# -- the kinds that must not be tabulated (couplings, Kir, channels, buffers, clamps) -------
def tabulated_kinds(kind):
    """Per transition: its type declares it LATTICE (leaks' GHK kinds, pump steps)."""
    from ionmc.mechanisms.registry import kind_flags

    return kind_flags(kind, "LATTICE")


@pytest.mark.parametrize("name,factor,events", [
    ("astrocyte_buffering", 1e-3, 100_000),  # couplings between compartments, Kir
    ("action_potential", 1e-2, 100_000),     # channel gating and conduction
    ("spine_calcium", 1.0, 100_000),         # buffer, PMCA/NCX on a voltage-clamped membrane
])
def test_other_kinds_take_the_generic_path_and_stay_exact(name, factor, events):
    model = Model(shrink(name, factor))
    M = model.kernel_args()
    row = M.lat_row
    kind = model.tr_kind
    clamped = model.mem_clamped[model.tr_mem]
    # only leaks and pumps on free membranes are looked up; everything else is computed
    tab = tabulated_kinds(kind)
    assert np.all(row[~tab] == -1)
    assert np.all(row[clamped] == -1)
    assert np.all(row[tab & ~clamped] >= 0)
    assert np.any(~tab)
    x, a, fresh = run_events(model, M, events)
    assert np.array_equal(a, fresh)
    if np.any(row >= 0):
        assert np.count_nonzero(M.lat_tab) > 0


def test_individual_agents_are_not_tabulated():
    # one block of pump transitions per agent: 2 x 4 x N table rows of W entries each would
    # be tens of MB, emptied at every advance; they take the generic propensity
    model = Model(make("spine_noise", 0.01, sets=[("mechanisms.pump.agents", "individual"),
                                                  ("mechanisms.pump.density_per_um2", 4000.0)]))
    M = model.kernel_args()
    agent = np.zeros(model.nt, bool)
    for mech in model.mechs:
        for mv in mech.agent_moves:
            agent[mv[0]] = True
    assert agent.sum() >= 8
    assert np.all(M.lat_row[agent] == -1)
    from ionmc.mechanisms.registry import kind_range

    lo, hi = kind_range("leak")
    assert np.all(M.lat_row[(model.tr_kind >= lo) & (model.tr_kind < hi)] >= 0)  # the leaks are
    x, a, fresh = run_events(model, M, 50_000)
    assert np.array_equal(a, fresh)


# -- water flow (volume.py) changes leak rates between advances -----------------------------
def _swelling(monkeypatch, tables=True, clear=True):
    """anoxic_swelling (osmotic water, Strang splitting around the ssa) run with or without
    the tables; `clear=False` keeps stale table entries across the water steps."""
    with monkeypatch.context() as mp:
        if not tables:
            mp.setattr(lattice, "rows", lambda kind, *a, **k: np.full(len(kind), -1, np.int64))
        if not clear:
            mp.setattr(lattice, "clear", lambda M: None)
        return run_df(make("anoxic_swelling", 1e-4, method="ssa", duration=1.0, dt=0.25,
                           seed=5, events=[(0.1, {"mechanisms.pump.block_fraction": 1.0})]))


def test_water_steps_empty_the_tables(monkeypatch):
    # every water half step changes the leaks' P*A/vol and the concentrations; the method
    # empties its tables at each advance, so the run is bit-identical to one without tables
    with_tables = _swelling(monkeypatch)
    vol = with_tables["neuron.volume_um3"]
    assert vol.iloc[-1] != vol.iloc[0]
    assert with_tables.equals(_swelling(monkeypatch, tables=False))
    # and the check can fail: stale entries (tables never emptied) change the trajectory
    assert not with_tables.equals(_swelling(monkeypatch, clear=False))
