"""Exact bookkeeping under the stochastic methods (issue 3, 'What it must show' 1)."""
import numpy as np
import pytest

from ionmc.constants import E_CHARGE
from ionmc.model import Model

from conftest import ions, make, run_df
from pumps import PER_MOLECULE, REDUCED, with_pump


@pytest.mark.parametrize("pump", [PER_MOLECULE, REDUCED])
@pytest.mark.parametrize("method", ["ssa", "tau-leap"])
def test_exact_conservation_and_bookkeeping(method, pump):
    # the pump_block cell shrunk 1e4 x (same volume-to-area ratio), pumps blocked at 0.2 s;
    # with the built-in's per-molecule pump, which holds ions, and the reduced one
    sc = make("pump_block", 1e-4, method=method, duration=0.6, dt=0.005,
              events=[(0.2, {"mechanisms.pump.block_fraction": 0.7})], seed=3)
    if pump == REDUCED:
        sc = with_pump(sc, REDUCED)
    df = run_df(sc)
    model = Model(sc)
    mech = model.mechs[-1]
    n_pumps = mech.n_agents
    holds = pump == PER_MOLECULE  # reduced: no ion is ever held, everything below exact
    cells = ["neuron", "ecs"]
    for s in model.species:
        total = ions(df, cells, s)  # free, and held by the pumps
        assert (total == total.iloc[0]).all(), f"{s} not conserved"
        for c in cells:
            assert (df[f"{c}.{s}.count"] >= 0).all()
        # change in the cell = minus what every mechanism moved out, less what the pumps
        # now hold more: exact for Na+, which the pumps only ever take from the cell (and
        # give back to it when ouabain catches them); K+ bound from outside goes back
        # outside then, so for K+ within the 2 each pump may hold
        eff = sum(df[col] for col in df.columns if col.endswith(f".{s}.net_efflux"))
        if f"pump.{s}.bound" in df:
            eff = eff + df[f"pump.{s}.bound"] - df[f"pump.{s}.bound"].iloc[0]
        d_cell = df[f"neuron.{s}.count"] - df[f"neuron.{s}.count"].iloc[0]
        if s == "K" and holds:
            assert (np.abs(d_cell + eff) <= 2 * n_pumps).all()
        else:
            assert (d_cell == -eff).all(), s
    # Na: leak plus 3 per net pump cycle (within the 3 each pump molecule may hold)
    net_pump = df["pump.forward"] - df["pump.backward"]
    d_na = df["neuron.Na.count"] - df["neuron.Na.count"].iloc[0]
    assert (np.abs(d_na + df["Na_leak.Na.net_efflux"] + 3 * net_pump)
            <= (3 * n_pumps if holds else 0)).all()
    # K moved in by the pump within 2 per pump molecule of 2 per net cycle
    assert (np.abs(-df["pump.K.net_efflux"] - 2 * net_pump) <= 2 * n_pumps).all()
    # pump molecules are conserved, and the block took 70% of them out of the cycle
    states = df[[f"pump.{mech.state_label(k)}.count" for k in range(len(mech.states))]] \
        .sum(axis=1) + df["pump.blocked.count"]
    assert (states == n_pumps).all()
    assert df["pump.blocked.count"].iloc[-1] == round(0.7 * n_pumps)
    # V is the counted charge over C at every row: the cell's ions and those the pumps
    # hold on the inside of the field
    q = sum(model.charge[i] * df[f"neuron.{s}.count"] for i, s in enumerate(model.species))
    for i, _, w in mech.state_charges(model):
        q = q + w * df[f"pump.{mech.state_label(mech.states.index(i))}.count"]
    V = E_CHARGE * q / model.mem_C[0] * 1e3
    assert np.allclose(df["soma.V_mV"], V, rtol=1e-12, atol=0)
    assert df["pump.forward"].iloc[-1] > 0
