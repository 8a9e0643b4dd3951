"""Seeded reproducibility of the stochastic code paths whose statistics the verification
suite checks over many seeds: a replicate is the same trajectory every time it is run,
and another replicate (or another root seed) is another trajectory."""
import numpy as np
import pandas as pd
import pytest

import ionmc

from builder import Builder
from cells import BUFFER, calcium_cell, free_pump_cell, hh_agents, isolated, pump_cell, two_boxes
from conftest import make


def _leak_cell():
    return (Builder("ft_leak", 0.2, 0.02, "ssa", 31).species(K=1).impermeant(X=-1)
            .compartment("cell", 1.0, clamped=["K"], K=140.0)
            .compartment("bath", 100.0, bath=True, K=5.0)
            .membrane("pm", "cell", "bath", 1.0, clamp=-70.0)
            .leak("K", 1e-9, name="leak").build())


CASES = {
    "clamped leak (fluctuation theorem)": (_leak_cell, "leak.K.net_efflux"),
    "one pump near stall": (lambda: pump_cell(duration=20.0, dt=5.0, seed=11, dg=-42.8,
                                              density=1.0).build(), "pump.forward"),
    "individual pumps": (lambda: free_pump_cell("individual", 5), "pump.forward"),
    "individual channels": (lambda: hh_agents(V=-40.0, dur=0.05, dt=0.01, seed=21).build(),
                            "k.n4.count"),
    "buffer binding": (lambda: calcium_cell([BUFFER(k_on=1e8, K_d=1.0)], duration=0.5,
                                            dt=0.02, seed=7, vol=0.01, ca=0.002, b=0.004,
                                            clamped=()), "spine.CaB.count"),
    "injection": (lambda: isolated(dt=0.01), "stim.forward"),
    "coupled boxes": (lambda: two_boxes().build(), "a.K.count"),
    "spike train (ode)": (lambda: make("firing_neuron", method="ode", duration=2.0, dt=0.5,
                                       sets=[("mechanisms.firing.start_s", 0.0)]),
                          "firing.spikes"),
    "MNRM streams (ssa)": (lambda: make("spine_noise", 0.1, method="ssa", duration=0.02,
                                        dt=0.01, sets=[("scenario.random_streams",
                                                        "per_transition")]), "spine.Na.count"),
    "streams (tau-leap)": (lambda: make("spine_noise", 0.1, method="tau-leap", duration=0.02,
                                        dt=0.01, sets=[("scenario.random_streams",
                                                        "per_transition")]), "spine.Na.count"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_replicate_is_the_same_trajectory_every_time(case):
    build, col = CASES[case]
    sc = build()
    a, b = ionmc.simulate(sc, 0)[0], ionmc.simulate(sc, 0)[0]
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    other = ionmc.simulate(sc, 1)[0]
    assert not np.array_equal(a[col].to_numpy(), other[col].to_numpy()), col
