"""Couplings (electrodiffusion between compartments, coupling.py) and Kir channels (kir.py):
closed forms (equal concentrations, Boltzmann ratio, Nernst, the Kir laws' net fluxes),
exact conservation, the ledger, and astrocyte K+ buffering (astrocyte_buffering).
Here: the topic's runs longer than about a second and its command-line tests; the
rest is in tests/unit/test_coupling.py."""
import pytest

import ionmc

from cells import astro


def test_astrocyte_lowers_peak_k_o():
    """The same firing (same seed, same spike times) with the astrocyte working and inert
    (the scenario's sweep): K_o rises by more than 2 mM without it and by less than half
    that with it; ode and tau-leap agree on both peaks within 1%."""
    peaks = {}
    for method in ("ode", "tau-leap"):
        sc = astro(method, 16.0, 0.1)
        peaks[method] = [ionmc.simulate(sc.at_point(pt), 0)[0]["ecs.K.mM"].max()
                         for pt in sc.points()]
    with_astro, without = peaks["ode"]
    print("peak K_o (mM) from 5.0, [with, without] the astrocyte:", peaks)
    assert without - 5.0 > 2.0
    assert with_astro - 5.0 < 0.5 * (without - 5.0)
    assert peaks["tau-leap"] == pytest.approx(peaks["ode"], rel=0.01)
