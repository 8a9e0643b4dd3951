"""Membrane-potential noise from counted charge (issue 6, 'What it must show' 1; docs/physics.md,
'Voltage noise'), measured with `ionmc.analysis`: at equilibrium SD(V) =
sqrt(k_B T / C); away from it, with leaks only, sigma_V^2 = e^2 sum_r (J_r+ + J_r-) /
(2 C g_slope). Samples are taken 5 membrane time constants apart (checked: lag-1
autocorrelation < 0.1), so the SE of the SD is SD / sqrt(2(n-1)); tolerance 5% (>= 4 SE: 10
replicates x ~395 samples give SE 1.1%; 8 gave 1.26%, short of it).
Here: the topic's runs longer than about a second and its command-line tests; the
rest is in tests/unit/test_noise.py."""
import math

import ionmc
from ionmc import analysis


def test_first_passage_time_of_na_doubling_after_block(tmp_path):
    from conftest import make

    out = ionmc.run(make("pump_block", method="ode", duration=120.0, dt=0.5), tmp_path / "o",
                    workers=1, progress=False)
    run = analysis.open_run(out)
    t, v = analysis.read_column(run, "neuron.Na.mM")
    fp = analysis.first_passage(run, "neuron.Na.mM", 2 * v[0, 0])
    k = next(i for i in range(len(t)) if v[0, i] >= 2 * v[0, 0])
    assert fp.iloc[0] == t[k] and 10.0 < t[k] < 120.0
    assert math.isnan(analysis.first_passage(run, "neuron.Na.mM", 1e4).iloc[0])
