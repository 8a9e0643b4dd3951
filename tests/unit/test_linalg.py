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


def _banded(rng, n, kl, ku):
    """A random n x n matrix with kl sub- and ku super-diagonals, dense and in band storage
    (entry (r, c) at [r, c - r + kl], width 2 kl + ku + 1)."""
    A = np.zeros((n, n))
    for r in range(n):
        for c in range(max(0, r - kl), min(n, r + ku + 1)):
            A[r, c] = rng.normal() * 10.0 ** rng.uniform(-2, 2)
    B = np.zeros((n, 2 * kl + ku + 1))
    for r in range(n):
        for c in range(max(0, r - kl), min(n, r + ku + 1)):
            B[r, c - r + kl] = A[r, c]
    return A, B


@pytest.mark.parametrize("n, kl, ku", [(1, 0, 0), (6, 1, 1), (40, 3, 5), (40, 5, 2), (30, 29, 29)])
def test_band_lu_solves_like_numpy(n, kl, ku):
    """Random entries need row swaps (diagonal pivots are no larger than the rest): the
    banded LU's partial pivoting within the band solves as numpy's dense solve does."""
    from ionmc.engine.linalg import band_lu_factor, band_lu_solve

    rng = np.random.default_rng(n + 100 * kl + 10000 * ku)
    A, B = _banded(rng, n, kl, ku)
    b = rng.normal(size=n)
    piv, x = np.empty(n, np.int64), np.empty(n)
    assert band_lu_factor(B, kl, ku, piv)
    band_lu_solve(B, kl, ku, piv, b, x)
    want = np.linalg.solve(A, b)
    assert np.allclose(x, want, rtol=1e-9, atol=1e-10 * np.abs(want).max())
    assert np.any(piv != np.arange(n)) or n == 1  # it pivoted


def test_a_singular_band_matrix_is_reported():
    from ionmc.engine.linalg import band_lu_factor

    _, B = _banded(np.random.default_rng(3), 5, 1, 1)
    B[:, 1] = 0.0  # a zero diagonal, and nothing below it to swap in: column 0 is [0, 0]
    B[1, 0] = 0.0
    assert not band_lu_factor(B, 1, 1, np.empty(5, np.int64))
