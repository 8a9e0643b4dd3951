"""Dense LU with partial pivoting, compiled with the solvers that use it: the ode's Newton
matrix (bdf.py, factored once per step size, solved per Newton iteration) and tau-leap's
implicit step (implicit.py). Written out rather than LAPACK's: `np.linalg.inv`/`solve`
cost ~1.5-3 s of a first run's compilation each, and on a loaded 2-core machine OpenBLAS's
threads cost ~4 ms a step of a 94-state model against ~0.2 ms on one thread."""
import math

from ionmc.numba_conf import njit


@njit
def lu_factor(A, piv):
    """A = P L U in place by Gaussian elimination with partial pivoting (L unit lower, its
    multipliers below the diagonal; piv[c]: the row swapped with row c at step c). False
    if a pivot is zero or not finite."""
    n = A.shape[0]
    for c in range(n):
        p = c
        for r in range(c + 1, n):
            if abs(A[r, c]) > abs(A[p, c]):
                p = r
        piv[c] = p
        if p != c:
            for k in range(n):
                A[c, k], A[p, k] = A[p, k], A[c, k]
        if not abs(A[c, c]) > 0.0 or not math.isfinite(A[c, c]):
            return False
        for r in range(c + 1, n):
            f = A[r, c] / A[c, c]
            A[r, c] = f
            if f != 0.0:
                for k in range(c + 1, n):
                    A[r, k] -= f * A[c, k]
    return True


@njit
def lu_solve(A, piv, b, x):
    """x = A^-1 b from lu_factor's A and piv (b kept)."""
    n = A.shape[0]
    x[:] = b
    for c in range(n):  # the row swaps, in order
        p = piv[c]
        if p != c:
            x[c], x[p] = x[p], x[c]
    for r in range(n):  # L y = P b
        acc = x[r]
        for k in range(r):
            acc -= A[r, k] * x[k]
        x[r] = acc
    for r in range(n - 1, -1, -1):  # U x = y
        acc = x[r]
        for k in range(r + 1, n):
            acc -= A[r, k] * x[k]
        x[r] = acc / A[r, r]
