"""Membrane-potential noise from counted charge (issue 6, 'What it must show' 1; docs/physics.md,
'Voltage noise'), measured with `ionmc.analysis`: at equilibrium SD(V) =
sqrt(k_B T / C); away from it, with leaks only, sigma_V^2 = e^2 sum_r (J_r+ + J_r-) /
(2 C g_slope). Samples are taken 5 membrane time constants apart (checked: lag-1
autocorrelation < 0.1), so the SE of the SD is SD / sqrt(2(n-1)); tolerance 5% (>= 4 SE: 10
replicates x ~395 samples give SE 1.1%; 8 gave 1.26%, short of it)."""
import pytest

from ionmc import analysis


def test_loglog_slope_of_counting_noise():
    s, se = analysis.loglog_slope([1e2, 1e3, 1e4, 1e5], [0.1, 0.0316228, 0.01, 0.00316228])
    assert s == pytest.approx(-0.5, abs=1e-5) and se < 1e-5
