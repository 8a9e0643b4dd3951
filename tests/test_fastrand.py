"""The exact methods' random numbers (fastrand.py): the ziggurat's Exp(1) and the
uniforms, against their distributions, with fixed seeds and tolerances in SE."""
import math

import numba
import numpy as np
from scipy import stats

from ionmc.fastrand import R_TAIL, exponential, new_state, uniform


@numba.njit
def _draw(s, n, exp):
    out = np.empty(n)
    for i in range(n):
        out[i] = exponential(s) if exp else uniform(s)
    return out


def test_exponential_is_exp1():
    x = _draw(new_state(np.random.default_rng(11)), 2_000_000, True)
    assert stats.kstest(x, "expon").pvalue > 1e-3
    n = len(x)
    assert abs(x.mean() - 1.0) < 4 / math.sqrt(n)  # sd of Exp(1) is 1
    # the ziggurat's tail (beyond the base layer, drawn as R_TAIL + Exp(1)) and a wedge
    for cut in (R_TAIL + 0.5, 3.0):
        p = math.exp(-cut)
        assert abs((x > cut).mean() - p) < 4 * math.sqrt(p * (1 - p) / n), cut


def test_uniform_is_uniform_and_draws_are_uncorrelated():
    u = _draw(new_state(np.random.default_rng(12)), 2_000_000, False)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    r = np.corrcoef(u[:-1], u[1:])[0, 1]
    assert abs(r) < 4 / math.sqrt(len(u))


def test_state_comes_from_the_seed_and_leaves_the_generator_alone():
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    s1, s2 = new_state(a), new_state(b)
    assert np.array_equal(s1, s2)
    assert a.random() == np.random.default_rng(5).random()  # nothing drawn from a
    assert not np.array_equal(s1, new_state(np.random.default_rng(6)))
