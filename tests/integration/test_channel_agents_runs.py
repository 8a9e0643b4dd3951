"""Voltage-gated channels one agent at a time (`agents = "individual"` on an hh_channel,
agents.py, channels.py): the same process as the counts per gating state, single-channel
dwell times and open probability against HH's closed forms, the ledger.
Here: the topic's runs longer than about a second and its command-line tests; the
rest is in tests/unit/test_channel_agents.py."""
import numpy as np

from ionmc.mechanisms import channels
from ionmc.constants import K_B
from ionmc.runs.replicate import simulate

from cells import T_HH, hh_agents, state_columns
from conftest import balance


# -- (3) the ledger, conservation, the gating reservoir ---------------------------------
def test_ledger_exact_with_individual_channels_under_clamp():
    """Conducting individual channels under clamp with a bath: G(t) - G(0) = W - T S to
    rounding; the gating entropy of distinguishable channels telescopes to
    sum_i (m_i(end) - m_i(0)) ln p_i (no multinomial coefficient: agents.py)."""
    sc = hh_agents(V=-20.0, dur=0.02, dt=0.005, dna=1.0, dk=1.0, p=0.02, seed=3).build()
    df = simulate(sc, 0)[0]
    assert df["k.forward"].iloc[-1] > 1000
    resid, scale = balance(df, T_HH)
    assert np.max(np.abs(resid)) < 1e-9 * scale
    for name, fam in (("na", "hh_na"), ("k", "hh_k")):
        cols = state_columns(sc, name)
        dm = (df[cols].iloc[-1] - df[cols].iloc[0]).to_numpy(float)
        want = dm @ np.log(channels.occupancies(fam, -0.020, T_HH))
        got = df[f"{name}.gating_entropy_J_per_K"].iloc[-1] / K_B
        assert abs(got - want) < 1e-8 * max(1.0, abs(want)), (name, got, want)
