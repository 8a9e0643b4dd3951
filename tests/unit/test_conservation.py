"""Exact bookkeeping under the stochastic methods (issue 3, 'What it must show' 1)."""
import numpy as np
import pytest

from ionmc.constants import E_CHARGE
from ionmc.model import Model

from conftest import make, run_df


@pytest.mark.parametrize("method", ["ssa", "tau-leap"])
def test_exact_conservation_and_bookkeeping(method):
    # the pump_block cell shrunk 1e4 x (same volume-to-area ratio), pumps blocked at 0.2 s
    sc = make("pump_block", 1e-4, method=method, duration=0.6, dt=0.005,
              events=[(0.2, {"mechanisms.pump.block_fraction": 0.7})], seed=3)
    df = run_df(sc)
    model = Model(sc)
    cells = ["neuron", "ecs"]
    for s in model.species:
        total = sum(df[f"{c}.{s}.count"] for c in cells)
        assert (total == total.iloc[0]).all(), f"{s} not conserved"
        for c in cells:
            assert (df[f"{c}.{s}.count"] >= 0).all()
        # change in the cell = minus what every mechanism moved out
        eff = sum(df[col] for col in df.columns if col.endswith(f".{s}.net_efflux"))
        d_cell = df[f"neuron.{s}.count"] - df[f"neuron.{s}.count"].iloc[0]
        assert (d_cell == -eff).all(), s
    # Na: leak plus 3 per net pump cycle
    net_pump = df["pump.forward"] - df["pump.backward"]
    d_na = df["neuron.Na.count"] - df["neuron.Na.count"].iloc[0]
    assert (d_na == -df["Na_leak.Na.net_efflux"] - 3 * net_pump).all()
    # K moved in by the pump within 2 per pump molecule of 2 per net cycle
    n_pumps = model.mechs[-1].n_agents
    assert (np.abs(-df["pump.K.net_efflux"] - 2 * net_pump) <= 2 * n_pumps).all()
    # pump molecules are conserved, and the block took 70% of them out of the cycle
    states = df[[f"pump.P{k}.count" for k in range(1, 5)]].sum(axis=1) + df["pump.blocked.count"]
    assert (states == n_pumps).all()
    assert df["pump.blocked.count"].iloc[-1] == round(0.7 * n_pumps)
    # V is the counted charge over C at every row
    q = sum(model.charge[i] * df[f"neuron.{s}.count"] for i, s in enumerate(model.species))
    V = E_CHARGE * q / model.mem_C[0] * 1e3
    assert np.allclose(df["soma.V_mV"], V, rtol=1e-12, atol=0)
    assert df["pump.forward"].iloc[-1] > 0
