"""The implicit part of a tau-leap (engine/tauleap.py): the backward-Euler solve of the fast
variables (each free membrane's V, pump states, a metabolic pool's fast species) over a
leap, the noise those variables answer with, and the noise bound on tau.

Fast unknowns y = (V of each free membrane in `fmem`..., counts of the state indices in
`fidx`...); `nu` is the model's dense stoichiometry (transitions x state indices).
"""
import math

import numpy as np

from ionmc.constants import E_CHARGE
from ionmc.engine.kernels import all_propensities
from ionmc.engine.linalg import lu_factor, lu_solve
from ionmc.numba_conf import njit


@njit
def _fast_propensities(x, xf, V, Vf, y, fmem, fidx, a, M):
    """Propensities with the fast unknowns y = (V of fmem..., counts of fidx...)."""
    nm = fmem.shape[0]
    for k in range(V.shape[0]):
        Vf[k] = V[k]
    for k in range(nm):
        Vf[fmem[k]] = y[k]
    for k in range(fidx.shape[0]):
        xf[fidx[k]] = y[nm + k]
    return all_propensities(xf, Vf, a, M)


@njit
def _residual(y, y0, tau, a, fmem, fidx, nu, qm, mem_C, res):
    nm = fmem.shape[0]
    for k in range(y.shape[0]):
        res[k] = y[k] - y0[k]
    for j in range(a.shape[0]):
        aj = a[j] * tau
        if aj == 0.0:
            continue
        for k in range(nm):  # qm[j, m]: charge j adds to membrane m (two for a coupling)
            if qm[j, fmem[k]] != 0.0:
                res[k] -= E_CHARGE / mem_C[fmem[k]] * qm[j, fmem[k]] * aj
        for k in range(fidx.shape[0]):
            res[nm + k] -= nu[j, fidx[k]] * aj


@njit
def solve_linear(J, res):
    """-J^-1 res by LU with partial pivoting (linalg.py), J overwritten. A singular or
    non-finite system raises, as `np.linalg.solve` did (the run fails with one line,
    test_activity)."""
    n = res.shape[0]
    piv = np.empty(n, np.int64)
    if not lu_factor(J, piv):
        raise ValueError("tau-leap: singular Jacobian in the implicit step")
    dy = np.empty(n)
    lu_solve(J, piv, -res, dy)
    for r in range(n):
        if not math.isfinite(dy[r]):
            raise ValueError("tau-leap: non-finite Newton step in the implicit step")
    return dy


@njit
def solve_fast(x, V, tau, fmem, fidx, nu, a, M, dA):
    """Backward-Euler values of the fast variables over tau. Returns (ok, y). dA[j, c]
    gets the derivative of propensity j by fast unknown c near the solution (finite
    differences of the last Newton iteration), for `damp_noise`."""
    qm, mem_C = M.qm, M.mem_C
    nm = fmem.shape[0]
    n = nm + fidx.shape[0]
    y0 = np.empty(n)
    for k in range(nm):
        y0[k] = V[fmem[k]]
    for k in range(fidx.shape[0]):
        y0[nm + k] = x[fidx[k]]
    y = y0.copy()
    xf = x.astype(np.float64)
    Vf = V.copy()
    if n == 0:
        _fast_propensities(x, xf, V, Vf, y, fmem, fidx, a, M)
        return True, y
    res = np.empty(n)
    res2 = np.empty(n)
    J = np.empty((n, n))
    a2 = np.empty_like(a)
    for it in range(30):
        _fast_propensities(x, xf, V, Vf, y, fmem, fidx, a, M)
        _residual(y, y0, tau, a, fmem, fidx, nu, qm, mem_C, res)
        for c in range(n):
            h = 1e-7 if c < nm else max(1e-7 * abs(y[c]), 1e-3)
            old = y[c]
            y[c] = old + h
            _fast_propensities(x, xf, V, Vf, y, fmem, fidx, a2, M)
            _residual(y, y0, tau, a2, fmem, fidx, nu, qm, mem_C, res2)
            y[c] = old
            for r in range(n):
                J[r, c] = (res2[r] - res[r]) / h
            for j in range(a.shape[0]):
                dA[j, c] = (a2[j] - a[j]) / h
        dy = solve_linear(J, res)
        done = True
        for k in range(n):
            y[k] += dy[k]
            tol = 1e-10 if k < nm else 1e-9 * max(abs(y[k]), 1.0)
            if abs(dy[k]) > tol:
                done = False
            if k >= nm and y[k] < 0.0:
                y[k] = 0.0
        if done:
            _fast_propensities(x, xf, V, Vf, y, fmem, fidx, a, M)
            return True, y
    return False, y


@njit
def _fast_coef(r, j, fmem, fidx, nu, qm, mem_C):
    """How much one firing of transition j moves fast unknown r (a potential, in volts,
    or a count)."""
    nm = fmem.shape[0]
    if r < nm:
        return E_CHARGE / mem_C[fmem[r]] * qm[j, fmem[r]]
    return float(nu[j, fidx[r - nm]])


@njit
def damp_noise(K, ahat, dA, tau, fmem, fidx, nu, qm, mem_C, rng, relax):
    """Add to the firings K the integer firings with which the fast variables answer the
    leap's own noise; set relax[m], the relaxation rate of each free membrane's V,
    lambda_m = -(e/C_m) sum_j q_jm da_j/dV_m, read off the step's Jacobian
    (J_mm = 1 + lambda_m tau) for the next leap's noise bound (`noise_tau`).

    The Poisson draws scatter the fast unknowns (V, pump states) around their
    backward-Euler values by xi = sum_j coef_j (K_j - a_j tau): for V, the charge of
    sqrt(sum_j q_j^2 a_j tau) ions. In the real process that charge is pulled back within
    the membrane time constant, which is much shorter than the leap. Rathinam et al. 2003's implicit
    tau-leap, x' = x + nu (K - a(x) tau) + nu a(x') tau, includes the answer; linearised
    in the fast unknowns alone it is dy = J^-1 xi with the step's Jacobian J = I - tau
    coef dA, carried by dK_j = tau dA_j . dy extra firings (rounded stochastically, so
    without bias, except where K_j + dK_j < 0 is clipped at 0: ~1e-5 of a channel's
    firings in action_potential, found by review). The fast modes' scatter shrinks by
    1 + lambda tau (lambda: the mode's relaxation rate), the mean is unchanged, and every
    count stays an integer. A transition with no propensity at the solution gets no
    firings (dA there is a finite difference and may straddle a threshold).
    (The damped scatter is below the exact process's for lambda tau >> 1, as Rathinam et
    al. note for stiff modes; use `ssa` for the noise of V itself.)"""
    n = dA.shape[1]
    nt = K.shape[0]
    if n == 0:
        return
    xi = np.zeros(n)
    J = np.zeros((n, n))
    for r in range(n):
        J[r, r] = 1.0
    for j in range(nt):
        dev = K[j] - ahat[j] * tau
        for r in range(n):
            c = _fast_coef(r, j, fmem, fidx, nu, qm, mem_C)
            if c == 0.0:
                continue
            xi[r] += c * dev
            for k in range(n):
                J[r, k] -= tau * c * dA[j, k]
    for k in range(fmem.shape[0]):
        relax[fmem[k]] = (J[k, k] - 1.0) / tau
    for r in range(n):
        xi[r] = -xi[r]
    dy = solve_linear(J, xi)  # J dy = xi (J overwritten)
    for j in range(nt):
        if ahat[j] <= 0.0:
            continue
        dk = 0.0
        for k in range(n):
            dk += tau * dA[j, k] * dy[k]
        if dk == 0.0:
            continue
        base = math.floor(dk)
        extra = int(base) + (1 if rng.random() < dk - base else 0)
        K[j] = max(K[j] + extra, 0)


@njit
def noise_tau(c, lam, dv):
    """Largest tau whose noise moves V by at most dv (sd) after `damp_noise`: the draws
    scatter V by sqrt(c tau) (c = (e/C)^2 sum_j q_j^2 a_j), which the implicit answer
    divides by 1 + lam tau. Without relaxation (lam <= 0) this is Cao et al.'s bound
    dv^2/c. With it, the damped scatter peaks at tau = 1/lam at sqrt(c / (4 lam)) -- the
    exact process's own shot noise over sqrt(2) -- and when that is below dv no tau is
    limited by noise; otherwise tau stays below the smaller root of
    c tau = dv^2 (1 + lam tau)^2 (beyond the larger root the bound holds again; not used).

    This bounds the V scatter from the membrane's own shot noise. Gating and pump-state
    noise also reach V through J^-1 xi; in squid_axon that part is ~0.2 mV per leap where
    this estimate is ~0.01 mV (review, linearised per-leap variance) -- still below the
    exact process's own V noise there (LNA 0.38 mV)."""
    d2 = dv * dv
    if lam <= 0.0:
        return d2 / c
    if c <= 4.0 * lam * d2:
        return np.inf
    b = c - 2.0 * lam * d2
    return 2.0 * d2 / (b + math.sqrt(b * b - 4.0 * lam * lam * d2 * d2))
