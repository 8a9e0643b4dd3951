"""The generated tissue (ionmc.mechanisms.tissue): it validates, has the compartments,
membranes and couplings its layout says, and a local pump block raises K+ in the blocked
unit's ECS more than in a distant unit's."""
import numpy as np
import pytest

import ionmc
from ionmc.model import Model
from ionmc.scenario import validate
from ionmc.mechanisms.tissue import corner_units, grid_shape, neighbours, tissue_scenario


def _count(sc, type_):
    return sum(m["type"] == type_ for m in sc.data["mechanisms"])


@pytest.mark.parametrize("layout, units, rows, shape, pairs", [
    ("chain", 5, None, None, 4),
    ("grid", 12, None, (3, 4), 3 * 3 + 4 * 2),  # rows x (cols - 1) + cols x (rows - 1)
    ("grid", 12, 2, (2, 6), 2 * 5 + 6 * 1),
])
def test_layout_has_the_expected_compartments_and_couplings(layout, units, rows, shape, pairs):
    sc = validate(tissue_scenario(units, layout=layout, rows=rows), "tissue")
    assert len(sc.data["compartments"]) == 2 * units
    assert len(sc.data["membranes"]) == units
    assert _count(sc, "leak") == 3 * units
    assert _count(sc, "na_k_atpase") == units
    assert _count(sc, "coupling") == pairs == len(neighbours(units, layout, rows))
    if shape:
        assert grid_shape(units, rows) == shape
    couplings = [m for m in sc.data["mechanisms"] if m["type"] == "coupling"]
    assert all(m["compartments"][0].startswith("ecs_") for m in couplings)
    # one event blocks the pump of unit 0 only
    (ev,) = sc.data["events"]
    assert ev["set"] == {"mechanisms.pump_0.block_fraction": 1.0}


def test_astrocytes_add_a_compartment_membrane_and_gap_junctions_per_unit():
    sc = validate(tissue_scenario(4, layout="grid", astrocyte=True, block_units=2), "tissue")
    assert len(sc.data["compartments"]) == 3 * 4
    assert len(sc.data["membranes"]) == 2 * 4
    assert _count(sc, "kir") == 4
    assert _count(sc, "coupling") == 2 * 4  # ECS and gap junctions on a 2 x 2 grid's 4 edges
    assert set(sc.data["events"][0]["set"]) == {"mechanisms.pump_0.block_fraction",
                                                "mechanisms.pump_1.block_fraction"}


def test_corner_units_are_the_nearest_to_unit_0():
    assert corner_units(10, 3) == [0, 1, 2]
    # 4 x 4 grid: distance 0: unit 0; distance 1: units 1 and 4
    assert corner_units(16, 3, layout="grid") == [0, 1, 4]


def test_bad_layouts_are_refused():
    with pytest.raises(ValueError):
        tissue_scenario(4, layout="ring")
    with pytest.raises(ValueError):
        tissue_scenario(10, layout="grid", rows=3)


def test_each_unit_rests_and_the_model_grows_linearly_in_states():
    """Without a block every unit sits at its fixed point (K_o stays 5 mM), and the state
    has 22 variables per unit."""
    sc = validate(tissue_scenario(3, block_units=0, method="ode", duration_s=2.0,
                                  record_interval_s=1.0), "tissue")
    assert Model(sc).nx == 3 * 22
    df, _ = ionmc.simulate(sc)
    for i in range(3):
        assert df[f"ecs_{i}.K.mM"].iloc[-1] == pytest.approx(5.0, abs=1e-3)


def test_a_local_pump_block_raises_K_in_its_own_ecs_more_than_far_away():
    """A chain of 3 under ode, the pump of unit 0 blocked at 1 s: by 6 s K+ has risen in
    ecs_0 more than in ecs_2 (which it reaches only by diffusion through ecs_1)."""
    sc = validate(tissue_scenario(3, block_at_s=1.0, method="ode", duration_s=6.0,
                                  record_interval_s=1.0), "tissue")
    df, _ = ionmc.simulate(sc)
    before = df[df["time_s"] <= 1.0].iloc[-1]
    after = df.iloc[-1]
    rise = [after[f"ecs_{i}.K.mM"] - before[f"ecs_{i}.K.mM"] for i in range(3)]
    assert rise[0] > 0.5
    assert rise[0] > rise[1] > rise[2] >= 0.0
    assert abs(before["ecs_0.K.mM"] - 5.0) < 1e-3  # at rest until the block


def test_an_excitable_unit_still_rests_at_its_fixed_point():
    """NaP's resting Na+ influx is taken out of the Na+ leak: without a block the units of
    the excitable variant stay at -70 mV and K_o 5 mM."""
    sc = validate(tissue_scenario(2, block_units=0, method="ode", duration_s=5.0,
                                  record_interval_s=1.0, excitable=True), "tissue")
    assert _count(sc, "channel") == 2
    df, _ = ionmc.simulate(sc)
    for i in range(2):
        assert df[f"soma_{i}.V_mV"].iloc[-1] == pytest.approx(-70.0, abs=0.01)
        assert df[f"ecs_{i}.K.mM"].iloc[-1] == pytest.approx(5.0, abs=1e-3)


def test_spreading_depolarisation_travels_at_a_measured_speed_where_the_plain_spread_decays():
    """A pump block in unit 0 of a 12-unit chain under ode: with NaP every unit depolarises
    in turn (past -40 mV) at a constant speed within the 2-5 mm/min measured for SD; without
    it units 2 to 11 stay within 3 mV of rest in the same time."""
    kw = dict(layout="chain", method="ode", duration_s=5.0, record_interval_s=0.05,
              block_at_s=0.2)
    df, _ = ionmc.simulate(validate(tissue_scenario(12, excitable=True, **kw), "sd"))
    t = df["time_s"].to_numpy()
    crossed = [t[np.argmax(df[f"soma_{i}.V_mV"].to_numpy() > -40.0)] for i in range(12)]
    assert all(df[f"soma_{i}.V_mV"].iloc[-1] > -40.0 for i in range(12))
    assert np.all(np.diff(crossed[2:]) > 0)  # in order, once the front has formed
    side_um = (1000.0 + 250.0) ** (1 / 3)  # the unit's cube (module docstring)
    slope = np.polyfit(np.arange(3, 11), crossed[3:11], 1)[0]  # s per unit
    speed_mm_per_min = side_um * 1e-3 / slope * 60.0
    assert 2.0 < speed_mm_per_min < 5.0, speed_mm_per_min
    plain, _ = ionmc.simulate(validate(tissue_scenario(12, **kw), "plain"))
    assert all(abs(plain[f"soma_{i}.V_mV"].iloc[-1] + 70.0) < 3.0 for i in range(2, 12))


def test_a_large_tissue_solves_banded_and_agrees_with_the_dense_solve(monkeypatch):
    """A 20-unit chain (440 counts) has a band of ~50 in reverse Cuthill-McKee order, so the
    ode solves its Newton systems banded; its Jacobian is the dense one permuted, entry for
    entry, and 1 s after a pump block its concentrations and potentials agree with the dense
    LU's to the solver's tolerance (rtol 1e-9; measured ~1e-9 relative)."""
    import numpy as np

    from ionmc.engine import meanfield
    from ionmc.engine.ode import ODE

    def scenario():
        return validate(tissue_scenario(20, layout="chain", method="ode", duration_s=1.0,
                                        record_interval_s=0.25, block_at_s=0.1), "tissue")

    sc = scenario()
    model = Model(sc)
    js = meanfield.jac_structure(model)
    kl, ku, banded = js.band
    assert banded == 1 and 0 < kl < 60 and 0 < ku < 60, js.band
    x = ODE(model, model.x0.astype(float)).y[:model.nx]
    J = meanfield.count_jac(x, js, model.kernel_args())
    B = meanfield.count_jac_band(x, js, model.kernel_args())
    P = J[np.ix_(js.perm, js.perm)]  # the permuted dense Jacobian
    for r in range(model.nx):
        for c in range(max(0, r - kl), min(model.nx, r + ku + 1)):
            assert B[r, c - r + kl] == P[r, c]
    assert np.count_nonzero(P) == np.count_nonzero(B)  # nothing outside the band
    band = ionmc.simulate(sc, 0)[0]
    monkeypatch.setattr(meanfield, "BAND_MIN_STATES", 10 ** 9)
    dense = ionmc.simulate(scenario(), 0)[0]
    cols = [c for c in band if c.endswith(".mM") or c.endswith(".V_mV")]
    assert len(cols) > 100
    for c in cols:
        a, b = band[c].to_numpy(), dense[c].to_numpy()
        assert np.all(np.abs(a - b) <= 1e-7 * np.abs(b) + 1e-9), c


def test_tau_leap_fast_unknowns_fall_into_one_block_per_unit_and_solve_as_the_dense_system():
    """implicit.FastBlocks of a 6-unit chain: one block per unit (its membrane's V and its
    pump's states; coupling moves only slow ECS ions); the block solve of a block-diagonal
    system equals numpy's dense solve of the same matrix."""
    from ionmc.engine.implicit import solve_blocks
    from ionmc.engine.tauleap import TauLeap
    sc = validate(tissue_scenario(6, layout="chain", method="tau-leap", duration_s=0.01,
                                  record_interval_s=0.005, block_at_s=0.005), "t")
    model = Model(sc)
    tl = TauLeap(model, model.x0, np.random.default_rng(0))
    B = tl.blocks
    n = len(tl.fmem) + len(tl.fidx)
    sizes = np.diff(B.ptr)
    assert len(sizes) == 6 and np.all(sizes == sizes[0]) and B.width == sizes[0] > 1
    assert sorted(B.idx.tolist()) == list(range(n))
    # a transition that reads fast unknowns reads one block; what it moves lies in it
    for j in range(model.nt):
        moved = B.mv_row[B.mv_ptr[j]:B.mv_ptr[j + 1]]
        if B.rd[j] >= 0 and len(moved):
            assert set(moved) <= set(B.idx[B.ptr[B.rd[j]]:B.ptr[B.rd[j] + 1]])
    rng = np.random.default_rng(1)
    J = rng.normal(size=(n, B.width))
    dense = np.zeros((n, n))
    for b in range(len(sizes)):
        us = B.idx[B.ptr[b]:B.ptr[b + 1]]
        for r in us:
            J[r, B.pos[r]] += 5.0  # well conditioned
            dense[r, us] = J[r, :len(us)]
    res = rng.normal(size=n)
    assert np.allclose(solve_blocks(J, res, B), -np.linalg.solve(dense, res), rtol=1e-12,
                       atol=1e-12)


def test_tau_leap_blocks_give_the_dense_implicit_step_to_the_bit():
    """The implicit step with the tissue's blocks against the same step with all fast
    unknowns in one block and every propensity re-evaluated for every column (the dense
    Newton matrix, differenced column by column, as before blocks and before reader lists):
    equal backward-Euler values, derivatives, noise answer and relaxation rates, bit for
    bit, in a state away from rest (after a pump block)."""
    from ionmc.engine.implicit import FastBlocks, damp_noise, solve_fast
    from ionmc.engine.kernels import all_propensities, voltages
    from ionmc.engine.tauleap import TauLeap

    sc = validate(tissue_scenario(5, layout="chain", method="tau-leap", duration_s=0.2,
                                  record_interval_s=0.1, block_at_s=0.02), "t")
    model = Model(sc)
    tl = TauLeap(model, model.x0, np.random.default_rng(0))
    tl.advance(np.array([0.1, 0.2]))  # the block's K+ spreading
    B = tl.blocks
    n = len(tl.fmem) + len(tl.fidx)
    assert len(B.ptr) - 1 == 5
    every = np.tile(np.arange(model.nt), n)  # each unknown "read" by every transition
    one = FastBlocks(np.array([0, n]), np.arange(n), np.arange(n),
                     np.where(B.rd >= 0, 0, -1), n, B.mv_ptr, B.mv_row, B.mv_coef, B.mv_q,
                     np.arange(n + 1) * model.nt, every)
    x = tl.x.copy()
    V = np.zeros(len(model.mems))
    voltages(x, V, tl.M)
    out = {}
    for name, blocks in (("blocks", B), ("one", one)):
        a = np.zeros(model.nt)
        all_propensities(x.astype(float), V, a, tl.M)
        dA = np.zeros((model.nt, blocks.width))
        ok, y = solve_fast(x, V, 2e-3, tl.fmem, tl.fidx, a, tl.M, dA, blocks)
        K = np.random.default_rng(3).poisson(a * 2e-3)
        relax = np.zeros(len(model.mems))
        damp_noise(K, a, dA, 2e-3, tl.fmem, tl.fidx, np.random.default_rng(4), relax, blocks)
        full = np.zeros((model.nt, n))  # dA by unknown
        for j in range(model.nt):
            b = blocks.rd[j]
            if b >= 0:
                us = blocks.idx[blocks.ptr[b]:blocks.ptr[b + 1]]
                full[j, us] = dA[j, :len(us)]
        out[name] = (ok, y, full, K, relax)
    (ok1, y1, d1, K1, r1), (ok2, y2, d2, K2, r2) = out["blocks"], out["one"]
    assert ok1 and ok2
    assert np.array_equal(y1, y2) and np.array_equal(d1, d2)
    assert np.array_equal(K1, K2) and np.array_equal(r1, r2)
    assert np.any(d1 != 0.0) and np.any(K1 != np.random.default_rng(3).poisson(a * 2e-3))
