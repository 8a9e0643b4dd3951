"""Dense and banded LU with partial pivoting, compiled with the solvers that use them: the
ode's Newton matrix (bdf.py, factored once per step size, solved per Newton iteration;
banded for a large model with a narrow band, meanfield.JacStructure) and tau-leap's
implicit step (implicit.py). Written out rather than LAPACK's: `np.linalg.inv`/`solve`
cost ~1.5-3 s of a first run's compilation each, and on a loaded 2-core machine OpenBLAS's
threads cost ~4 ms a step of a 94-state model against ~0.2 ms on one thread."""
import math

from ionmc.numba_conf import leaf, njit


@leaf
def copy_into(dst, src):
    """dst[:] = src (1-D, one length) as a loop. Numba's slice assignment from an array
    compiles its shape check's error message (numba.np.arrayobj.raise_with_shape_context:
    string formatting) the first time a process meets it, ~1.5 s per array rank of a
    first ode or tau-leap run (benchmarks/bench_compile.py); the solvers' kernels copy
    arrays through this instead."""
    for i in range(dst.shape[0]):
        dst[i] = src[i]


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
    copy_into(x, b)
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


@njit
def band_lu_factor(B, kl, ku, piv):
    """B = P L U in place for a matrix with kl sub- and ku super-diagonals in band storage
    (entry (r, c) at B[r, c - r + kl], width 2 kl + ku + 1: pivoting fills U up to kl + ku
    super-diagonals), by partial pivoting within the band (LAPACK's dgbtf2, Anderson et al.
    1999, LAPACK Users' Guide, sec. 5.3.2). As there, a row swap moves only the columns from
    the pivot's on: the multipliers stay where they were made, and `band_lu_solve` applies
    swaps and eliminations interleaved. Costs ~n kl (kl + ku) against n^3/3 dense. False if
    a pivot is zero or not finite."""
    n = B.shape[0]
    for c in range(n):
        last = min(n - 1, c + kl)
        p = c
        for r in range(c + 1, last + 1):
            if abs(B[r, c - r + kl]) > abs(B[p, c - p + kl]):
                p = r
        piv[c] = p
        right = min(n - 1, c + kl + ku)
        if p != c:
            for k in range(c, right + 1):
                a, b = k - c + kl, k - p + kl
                B[c, a], B[p, b] = B[p, b], B[c, a]
        d = B[c, kl]
        if not abs(d) > 0.0 or not math.isfinite(d):
            return False
        for r in range(c + 1, last + 1):
            f = B[r, c - r + kl] / d
            B[r, c - r + kl] = f
            if f != 0.0:
                for k in range(c + 1, right + 1):
                    B[r, k - r + kl] -= f * B[c, k - c + kl]
    return True


@njit
def band_lu_solve(B, kl, ku, piv, b, x):
    """x = A^-1 b from band_lu_factor's B and piv (b kept)."""
    n = B.shape[0]
    copy_into(x, b)
    for c in range(n):  # L y = P b, the swaps interleaved (dgbtrs)
        p = piv[c]
        if p != c:
            x[c], x[p] = x[p], x[c]
        xc = x[c]
        if xc != 0.0:
            for r in range(c + 1, min(n - 1, c + kl) + 1):
                x[r] -= B[r, c - r + kl] * xc
    for r in range(n - 1, -1, -1):  # U x = y
        acc = x[r]
        for k in range(r + 1, min(n - 1, r + kl + ku) + 1):
            acc -= B[r, k - r + kl] * x[k]
        x[r] = acc / B[r, kl]
