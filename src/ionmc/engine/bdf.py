"""A stiff integrator that runs inside Numba: the variable-order (1-5) backward
differentiation formulas with Klopfenstein's numerical differentiation variant (NDF), in
the quasi-constant step form of Shampine & Reichelt 1997 ("The MATLAB ODE suite", SIAM J
Sci Comput 18:1), ported line for line from scipy's `solve_ivp(method="BDF")`
(scipy/integrate/_ivp/bdf.py: step control, order selection, error constants, Newton
iteration and its convergence test are scipy's, with a floor for rounding: NEWTON_FLOOR).

Why a port and not a library: the ODE method's right-hand side and Jacobian are Numba
kernels, and scipy's LSODA (odeint or solve_ivp) calls them from Python at every
evaluation and step (~5 us unboxing the model per call, ~30 us of Python per step);
CVODE bindings for Python (scikit-sundae) call back into Python the same way, and
numbalsoda, which runs LSODA inside Numba, takes neither a Jacobian nor quadratures. Here
one call integrates a whole chunk of records with no Python in between, and:

- the accumulators (per transition: firings, S, ledger sums) are quadratures of the
  counts, integrated outside the Newton system (as CVODES's quadrature variables,
  Hindmarsh et al. 2005, ACM TOMS 31:363): 3-point Gauss-Legendre on each step's own
  interpolating polynomial, exact to degree 5, the method's highest order;
- the Jacobian is `meanfield.count_jac` (through the membrane potentials), re-evaluated only
  when Newton's iteration fails to converge, as scipy does; the Newton matrix's LU
  (linalg.py, partial pivoting) only when the step or order changes: dense, or for a large
  model whose Jacobian is banded in reverse Cuthill-McKee order (a tissue of coupled
  units), banded, which makes a step's cost linear in the number of units
  (meanfield.JacStructure);
- counts are non-negative (`undershoot`): a step that leaves a count more than its error
  weight below 0 fails its error test, as with the MATLAB codes' NonNegative option
  (Shampine, Thompson, Kierzenka & Byrne 2005, Appl. Math. Comput. 170:556), and one
  within it is set to 0, unless the model itself drains that empty count.
"""
import math

import numpy as np

from ionmc.engine.kernels import all_propensities, voltages
from ionmc.engine.linalg import band_lu_factor, band_lu_solve, copy_into, lu_factor, lu_solve
from ionmc.engine.meanfield import add_accumulator_rates, count_jac, count_jac_band, count_rhs
from ionmc.numba_conf import njit

MAX_ORDER = 5
NEWTON_MAXITER = 4
MIN_FACTOR = 0.2
MAX_FACTOR = 10.0
#: a Newton iteration that stops contracting with its correction below this (in units of
#: the error weights) has reached the right-hand side's rounding and has converged. scipy's
#: tolerance at ionmc's rtol of 1e-9 is 3e-5, below what float64 resolves in a compartment
#: of 5e9 ions (its last bit, 1e-6 ions, moves V and so the fluxes by 3e-3 ions/s): a
#: fixed point never converged, and the step shrank from 10 s to 4e-4 s over and over.
#: 0.03 is scipy's own bound, a third of CVODE's default (Hindmarsh et al. 2005, sec. 2.1).
NEWTON_FLOOR = 0.03
EPS = np.finfo(float).eps
#: NDF's kappa (Shampine & Reichelt 1997, table 1), then scipy's derived constants
_KAPPA = np.array([0.0, -0.1850, -1.0 / 9.0, -0.0823, -0.0415, 0.0])
_GAMMA = np.concatenate((np.zeros(1), np.cumsum(1.0 / np.arange(1, MAX_ORDER + 1))))
_ALPHA = (1.0 - _KAPPA) * _GAMMA
_ERROR_CONST = _KAPPA * _GAMMA + 1.0 / np.arange(1, MAX_ORDER + 2)

#: status codes of `bdf_run`
OK, TOO_SMALL_STEP, NOT_FINITE = 0, 1, 2


@njit
def _rms(v, scale, c):
    """The RMS of c v / scale (c: a constant the caller would scale v by)."""
    s = 0.0
    for i in range(v.shape[0]):
        r = (c * v[i]) / scale[i]
        s += r * r
    return math.sqrt(s / max(v.shape[0], 1))


@njit
def _finite(v):
    """np.all(np.isfinite(v)) for a 1-D array, as a loop (see `bdf_run` on array
    expressions)."""
    for i in range(v.shape[0]):
        if not math.isfinite(v[i]):
            return False
    return True


@njit
def _compute_r(order, factor):
    """scipy's compute_R: the matrix that changes the differences array."""
    M = np.zeros((order + 1, order + 1))
    for j in range(order + 1):
        M[0, j] = 1.0
    for i in range(1, order + 1):
        for j in range(1, order + 1):
            M[i, j] = (i - 1 - factor * j) / i
    for i in range(1, order + 1):
        for j in range(order + 1):
            M[i, j] *= M[i - 1, j]
    return M


@njit
def _change_d(D, order, factor):
    """Rescale the differences D[:order + 1] in place for a step h -> factor h."""
    RU = _compute_r(order, factor) @ _compute_r(order, 1.0)
    new = RU.T @ D[:order + 1]
    # copied back row by row, not by slice assignment (`copy_into`). The products stay
    # BLAS's: the same products as loops moved the steps' accept/reject decisions by
    # rounding, enough to part two formulations of one model (test_user_channel) that
    # take the same steps now
    for i in range(order + 1):
        copy_into(D[i], new[i])


@njit
def _interpolate(D, order, t, h, s, out):
    """The step's interpolating polynomial at time s into out (scipy's BdfDenseOutput): D
    after the update of the step that ended at t; h, the step size D is scaled to."""
    copy_into(out, D[0])
    p = 1.0
    for j in range(order):
        p *= (s - (t - h * j)) / (h * (j + 1))
        for i in range(out.shape[0]):
            out[i] += D[j + 1, i] * p


#: 3-point Gauss-Legendre on [-1, 1]: exact for polynomials of degree 5, the method's
#: highest order
_GAUSS_X = np.array([-math.sqrt(0.6), 0.0, math.sqrt(0.6)])
_GAUSS_W = np.array([5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0])


@njit
def _gauss_rates(D, order, t, h, a, b, x, V, r, G, M):
    """The accumulators' rates at the 3 Gauss-Legendre nodes of [a, b] on the step's
    interpolating polynomial, into the rows of G (x, V, r: scratch for the counts,
    potentials and propensities)."""
    G[:] = 0.0
    half = 0.5 * (b - a)
    for q in range(3):
        _interpolate(D, order, t, h, a + half * (1.0 + _GAUSS_X[q]), x)
        for i in range(x.shape[0]):  # the rates at counts >= 0, as count_rhs reads them
            if x[i] < 0.0:
                x[i] = 0.0
        voltages(x, V, M)
        all_propensities(x, V, r, M)
        add_accumulator_rates(x, V, r, 1.0, G[q], M)


@njit
def _partial_weights(u):
    """Integrals from -1 to u of the Lagrange polynomials through the 3 Gauss nodes: at
    u = 1 the Gauss weights. Integrating the rates' quadratic interpolant to a record time
    inside a step costs no evaluation of its own (the step's own increment stays the
    Gauss sum)."""
    s = math.sqrt(0.6)
    # l_0 = u (u - s) / (2 s^2), l_1 = 1 - u^2 / s^2, l_2 = u (u + s) / (2 s^2)
    p3 = (u ** 3 + 1.0) / 3.0
    p2 = (u ** 2 - 1.0) / 2.0
    p1 = u + 1.0
    k = 1.0 / (2.0 * s * s)
    return np.array([k * (p3 - s * p2), p1 - p3 / (s * s), k * (p3 + s * p2)])


@njit
def _jacobian(y, JS, M, band):
    """The counts' Jacobian: dense (band None), or in band storage in the structure's order
    (band: meanfield.JacStructure.band). `band is None` is decided when Numba compiles
    (as `log` in ssa.py): a dense model's solver never compiles the banded path."""
    if band is None:
        return count_jac(y, JS, M)
    return count_jac_band(y, JS, M)


@njit
def _newton_factor(J, c, LU, piv, band):
    """LU of the Newton matrix I - c J into LU (the storage J is in). False if singular."""
    for i in range(J.shape[0]):
        for q in range(J.shape[1]):
            LU[i, q] = -c * J[i, q]
    if band is None:
        for i in range(J.shape[0]):
            LU[i, i] += 1.0
        return lu_factor(LU, piv)
    kl = band[0]
    for i in range(J.shape[0]):
        LU[i, kl] += 1.0
    return band_lu_factor(LU, kl, band[1], piv)


@njit
def _newton_solve(LU, piv, b, x, JS, band, bp, xp):
    """x = (I - c J)^-1 b from `_newton_factor`'s LU (bp, xp: scratch for the banded
    solve, which works in the structure's order)."""
    if band is None:
        lu_solve(LU, piv, b, x)
        return
    for k in range(b.shape[0]):
        bp[k] = b[JS.perm[k]]
    band_lu_solve(LU, band[0], band[1], piv, bp, xp)
    for k in range(b.shape[0]):
        x[JS.perm[k]] = xp[k]


@njit
def undershoot(y, y_old, scale, f):
    """How far the step from y_old to y took a count below 0 beyond what its error weights
    (`scale`) allow, in those weights: the step fails its error test when this is above 1
    (and is retried shorter, with a fresh Jacobian); f: the right-hand side at y.

    The model's own flow keeps counts non-negative (meanfield.py: at x_i <= 0, f_i >= 0),
    so a count that ends a step below 0 is the solver's error. One within its weight
    (a nearly empty state of a fast gate at -1e-3 ions) is an error of the size the
    tolerances allow, and `bdf_run` sets it to 0. Beyond the weight it is not: there the
    clipped right-hand side no longer pulls the count back as the state's stiff outflow
    did, Newton's iteration with the Jacobian from above 0 crawls, its contraction test
    accepts the crawl at NEWTON_FLOOR, and the error estimate (the corrector's distance
    from the predictor) is blind to the predictor's polynomial running on into the
    negative: without this, edNEGmodel with its Na+ gate 10x faster takes NaV.m2h0 to
    -1.4 by 21 s. Shampine, Thompson, Kierzenka & Byrne 2005 ("Non-negative solutions of
    ODEs", Appl. Math. Comput. 170:556) fold the negative part into the error test in
    the same way: here max_i -y_i / scale_i (their max norm) over the counts that fell
    below min(y_old_i, -scale_i) (one a step inherits below its weight need only not fall
    further).

    A count the model itself drains while empty (f_i < 0 at max(y, 0): a rate law that
    does not vanish with its source, a bug of the model, not of the step) is not the
    step's to fix, nor set to 0: it goes on, negative, to the output's check, which stops
    the run with one line naming it (checks.check_table)."""
    worst = 0.0
    for i in range(y.shape[0]):
        floor = min(y_old[i], -scale[i])
        if y[i] < floor and f[i] >= 0.0:
            worst = max(worst, -y[i] / scale[i])
    return worst


@njit
def bdf_run(M, JS, band, y0, acc0, t0, stops, rtol, atol, h_abs):
    """Integrate the counts, dy/dt = count_rhs(y), from (t0, y0) to each of `stops`
    (increasing, after t0), and their accumulators (rates: meanfield.add_accumulator_rates)
    from acc0; h_abs: the first step to try (0: choose one). M, JS: the kernel arguments and
    the Jacobian's structure (meanfield.py); band: JS.band when the Newton systems are
    solved banded, else None (`_jacobian`).

    The accumulators are quadratures, outside the Newton system and its error test (as
    CVODES's quadrature variables, Hindmarsh et al. 2005, ACM TOMS 31:363): after each step,
    3-point Gauss-Legendre of their rates on the step's interpolating polynomial; at a stop
    inside the step, the integral of the rates' quadratic interpolant through those nodes
    (`_partial_weights`). (Taking
    them by the NDF formula itself, one rate evaluation a step instead of three, integrated
    a constant injection's work 4% off: its counts move linearly, so the step grows without
    bound while the work, not linear in them, is integrated at first order; with them in
    the error test instead, the solver's rounding-level Newton error in a pump's sparse
    states held resting_neuron's steps at 1/15 of their length.)

    Returns (Y at stops, accumulators at stops, status, t reached, last step size, number
    of steps, of right-hand sides, of Jacobians): status OK, TOO_SMALL_STEP or NOT_FINITE
    (the rows from the failure on are those of the last good state)."""
    # Arithmetic on whole arrays is written as loops here: Numba compiles each array
    # expression as a kernel of its own (~0.2 s each of a first run's compilation)
    n = y0.shape[0]
    nq = acc0.shape[0]
    ns = stops.shape[0]
    Y = np.empty((ns, n))
    A = np.empty((ns, nq))
    y = y0.copy()
    t = t0
    t_bound = stops[ns - 1]
    nfev, njev, nsteps = 0, 0, 0
    k = 0
    f = count_rhs(y, JS, M)
    nfev += 1
    if h_abs <= 0.0:  # scipy's select_initial_step (Hairer, Norsett & Wanner, II.4), order 1
        scale = np.empty(n)
        for i in range(n):
            scale[i] = atol + abs(y[i]) * rtol
        d0, d1 = _rms(y, scale, 1.0), _rms(f, scale, 1.0)
        h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
        h0 = min(h0, t_bound - t)
        y1 = np.empty(n)
        for i in range(n):
            y1[i] = y[i] + h0 * f[i]
        f1 = count_rhs(y1, JS, M)
        nfev += 1
        for i in range(n):
            y1[i] = f1[i] - f[i]
        d2 = _rms(y1, scale, 1.0) / h0
        if d1 <= 1e-15 and d2 <= 1e-15:
            h1 = max(1e-6, h0 * 1e-3)
        else:
            h1 = (0.01 / max(d1, d2)) ** 0.5
        h_abs = min(100.0 * h0, h1, t_bound - t)
    J = _jacobian(y, JS, M, band)
    njev += 1
    # Newton's tolerance on the correction, in units of the error weights: scipy's
    newton_tol = max(10.0 * EPS / rtol, min(0.03, rtol ** 0.5))
    D = np.zeros((MAX_ORDER + 3, n))
    for i in range(n):
        D[0, i] = y[i]
        D[1, i] = f[i] * h_abs
    acc = acc0.copy()
    xq = np.empty(n)
    vq = np.empty(M.mem_C.shape[0])
    rq = np.empty(M.rev.shape[0])
    G = np.empty((3, nq))
    order = np.int64(1)  # not the literal 1: Numba would compile _change_d and
    # _gauss_rates once for Literal[int](1) and once for int64
    n_equal = 0
    LU = np.empty_like(J)
    piv = np.empty(n, np.int64)
    bp, xp_ = np.empty(n), np.empty(n)
    rhs_n = np.empty(n)
    dy = np.empty(n)
    have_lu = False
    c_lu = 0.0
    status = OK
    y_predict = np.empty(n)
    psi = np.empty(n)
    d = np.zeros(n)
    y_new = np.empty(n)
    scale = np.empty(n)
    safety = 0.9
    error_norm = 0.0
    t_new = t
    while k < ns:
        min_step = 10.0 * abs(np.nextafter(t, np.inf) - t)
        if h_abs < min_step:
            _change_d(D, order, min_step / h_abs)
            h_abs = min_step
            n_equal = 0
        current_jac = False
        accepted = False
        c = 0.0
        while not accepted:
            if h_abs < min_step:
                status = TOO_SMALL_STEP
                break
            t_new = t + h_abs
            if t_new > t_bound:
                t_new = t_bound
                _change_d(D, order, (t_new - t) / h_abs)
                n_equal = 0
                have_lu = False
            h_abs = t_new - t
            copy_into(y_predict, D[0])
            psi[:] = 0.0
            for j in range(1, order + 1):
                for i in range(n):
                    y_predict[i] += D[j, i]
                    psi[i] += D[j, i] * _GAMMA[j]
            for i in range(n):
                psi[i] /= _ALPHA[order]
            for i in range(n):
                scale[i] = atol + rtol * abs(y_predict[i])
            c = h_abs / _ALPHA[order]
            converged = False
            finite = True
            n_iter = 0
            while not converged:
                if not have_lu or c != c_lu:
                    if not _finite(J.ravel()):
                        status = NOT_FINITE  # a rate law overflowed: checks.diagnose
                        break
                    if not _newton_factor(J, c, LU, piv, band):
                        break  # singular: as a Newton failure, the step is halved
                    have_lu, c_lu = True, c
                # Newton's iteration (scipy's solve_bdf_system)
                d[:] = 0.0
                copy_into(y_new, y_predict)
                dy_norm_old = -1.0
                for it in range(NEWTON_MAXITER):
                    fn = count_rhs(y_new, JS, M)
                    nfev += 1
                    if not _finite(fn):
                        finite = False
                        break
                    for i in range(n):
                        rhs_n[i] = c * fn[i] - psi[i] - d[i]
                    _newton_solve(LU, piv, rhs_n, dy, JS, band, bp, xp_)
                    dy_norm = _rms(dy, scale, 1.0)
                    rate = dy_norm / dy_norm_old if dy_norm_old > 0.0 else -1.0
                    n_iter = it + 1
                    if rate >= 0.0 and (rate >= 1.0 or rate ** (NEWTON_MAXITER - it)
                                        / (1.0 - rate) * dy_norm > newton_tol):
                        # not contracting: converged all the same if at rounding's floor
                        converged = dy_norm < NEWTON_FLOOR and dy_norm_old < NEWTON_FLOOR
                        break
                    for i in range(n):
                        y_new[i] += dy[i]
                        d[i] += dy[i]
                    if dy_norm == 0.0 or (rate >= 0.0 and
                                          rate / (1.0 - rate) * dy_norm < newton_tol):
                        converged = True
                        break
                    dy_norm_old = dy_norm
                if converged or current_jac or not finite:
                    break
                J = _jacobian(y_predict, JS, M, band)
                njev += 1
                have_lu = False
                current_jac = True
            if status != OK:
                break
            if not converged:
                h_abs *= 0.5
                _change_d(D, order, 0.5)
                n_equal = 0
                have_lu = False
                continue
            safety = 0.9 * (2 * NEWTON_MAXITER + 1) / (2 * NEWTON_MAXITER + n_iter)
            for i in range(n):
                scale[i] = atol + rtol * abs(y_new[i])
            error_norm = _rms(d, scale, _ERROR_CONST[order])
            if error_norm <= 1.0:  # a count below 0 beyond its weight: the step's error
                for i in range(n):
                    if y_new[i] < 0.0:
                        fq = count_rhs(y_new, JS, M)
                        nfev += 1
                        error_norm = max(error_norm, undershoot(y_new, y, scale, fq))
                        if error_norm > 1.0:  # and a fresh Jacobian: Newton's
                            # iteration crawled with the one in hand (`undershoot`)
                            J = _jacobian(y_new, JS, M, band)
                            njev += 1
                            have_lu = False
                        else:  # within the weights: onto 0, and the differences
                            # with it (leaving them below 0, the steps stalled as the
                            # counts crept down to -scale, each step shorter)
                            for q in range(i, n):
                                if -scale[q] <= y_new[q] < 0.0 and fq[q] >= 0.0:
                                    d[q] -= y_new[q]
                                    y_new[q] = 0.0
                        break
            if error_norm > 1.0:
                factor = max(MIN_FACTOR, safety * error_norm ** (-1.0 / (order + 1)))
                h_abs *= factor
                _change_d(D, order, factor)
                n_equal = 0
            else:
                accepted = True
        if status != OK:
            break
        if not _finite(y_new):
            status = NOT_FINITE
            break
        nsteps += 1
        n_equal += 1
        t_old = t
        t = t_new
        copy_into(y, y_new)
        for i in range(n):
            D[order + 2, i] = d[i] - D[order + 1, i]
            D[order + 1, i] = d[i]
        for i in range(order, -1, -1):
            for q in range(n):
                D[i, q] += D[i + 1, q]
        # the quadratures over the step; at the stops inside it, from the rates'
        # quadratic interpolant through the same nodes
        half = 0.5 * (t - t_old)
        _gauss_rates(D, order, t, h_abs, t_old, t, xq, vq, rq, G, M)
        while k < ns and stops[k] <= t:
            if stops[k] == t:
                copy_into(Y[k], y)
                w = _GAUSS_W
            else:
                _interpolate(D, order, t, h_abs, stops[k], Y[k])
                w = _partial_weights((stops[k] - t_old) / half - 1.0)
            copy_into(A[k], acc)
            for q in range(3):
                for i in range(nq):
                    A[k, i] += (half * w[q]) * G[q, i]
            k += 1
        for q in range(3):
            for i in range(nq):
                acc[i] += (half * _GAUSS_W[q]) * G[q, i]
        if k >= ns:
            break
        if n_equal < order + 1:
            continue
        # order and step selection (scipy's)
        em = _rms(D[order], scale, _ERROR_CONST[order - 1]) if order > 1 else np.inf
        ep = _rms(D[order + 2], scale, _ERROR_CONST[order + 1]) if order < MAX_ORDER \
            else np.inf
        best, delta = -1.0, 0
        for i in range(3):
            e = em if i == 0 else (error_norm if i == 1 else ep)
            fct = np.inf if e == 0.0 else e ** (-1.0 / (order + i))
            if fct > best:
                best, delta = fct, i - 1
        order += delta
        factor = min(MAX_FACTOR, safety * best)
        h_abs *= factor
        _change_d(D, order, factor)
        n_equal = 0
        have_lu = False
    for r in range(k, ns):  # after a failure: the last good state
        copy_into(Y[r], y)
        copy_into(A[r], acc)
    return Y, A, status, t, h_abs, nsteps, nfev, njev
