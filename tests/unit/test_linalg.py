"""The solvers' own LU factorisation (engine/linalg.py) against numpy's solve."""
import numpy as np
import pytest

from ionmc.engine.linalg import lu_factor, lu_solve


@pytest.mark.parametrize("n", [1, 2, 7, 40])
def test_lu_solves_like_numpy(n):
    rng = np.random.default_rng(n)
    # a Newton matrix's shape: I - c J with a stiff J of widely spread scales
    J = rng.normal(size=(n, n)) * 10.0 ** rng.uniform(-3, 6, size=(n, 1))
    A = np.eye(n) - 1e-3 * J
    b = rng.normal(size=n)
    LU, piv, x = A.copy(), np.empty(n, np.int64), np.empty(n)
    assert lu_factor(LU, piv)
    lu_solve(LU, piv, b, x)
    want = np.linalg.solve(A, b)
    assert np.allclose(x, want, rtol=1e-9, atol=1e-12 * np.abs(want).max())


def test_a_singular_matrix_is_reported():
    A = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert not lu_factor(A.copy(), np.empty(2, np.int64))
    A = np.array([[np.nan, 0.0], [0.0, 1.0]])
    assert not lu_factor(A.copy(), np.empty(2, np.int64))
