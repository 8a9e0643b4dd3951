"""The methods against each other (issue 3, 'What it must show' 4): the SSA ensemble mean
equals the ODE where the small-compartment bias is negligible, tau-leap follows the ODE,
and the CV of counts falls as 1/sqrt(N)."""
import numpy as np

from conftest import make, run_df


def test_tau_leap_follows_ode_whole_cell():
    kw = dict(duration=40.0, dt=1.0, events=[(5.0, {"mechanisms.pump.block_fraction": 1.0})])
    ode = run_df(make("pump_block", method="ode", **kw))
    tl = run_df(make("pump_block", method="tau-leap", **kw))
    assert np.all(np.abs(tl["soma.V_mV"] - ode["soma.V_mV"]) < 0.5)
    assert np.all(np.abs(tl["neuron.Na.mM"] / ode["neuron.Na.mM"] - 1) < 0.01)
    assert ode["neuron.Na.mM"].iloc[-1] > 20.0
