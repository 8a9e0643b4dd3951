"""The kernels of the mean-field limit (the `ode` method): the counts' right-hand side
d<x>/dt = sum_j nu_j a_j(<x>), its Jacobian through the membrane potentials, and the
integrands of the accumulators (per transition: firings, S, ledger sums), on the same
propensities as the stochastic methods evaluated on continuous counts.

Every count is non-negative, and the solver's may undershoot 0 by about its tolerance
(a nearly empty channel state whose outflow is stiff). The rate laws never see such a
count: each kernel here evaluates them at max(x, 0) (`nonnegative`), so the right-hand side
is the model's on the non-negative orthant, continued as a constant below 0 in each count.
A propensity that draws from a count vanishes when it is empty (physics.count_ramp and the
guards of each law), so at x_i <= 0 no transition takes from x_i and dx_i/dt >= 0: the
flow itself keeps counts non-negative, and a count read at -1e-3 can neither give a
negative rate nor the log of a negative number. Shampine, Thompson, Kierzenka & Byrne
2005 ("Non-negative solutions of ODEs", Appl. Math. Comput. 170:556) modify f where
y_i <= 0 to the same end; evaluating at the clipped state instead keeps the stoichiometry,
so the flow conserves what the model conserves. The step's side is in bdf.py
(`undershoot`).
"""
import math
from typing import NamedTuple

import numpy as np

from ionmc.constants import E_CHARGE
from ionmc.engine.dispatch import propensity
from ionmc.engine.kernels import all_propensities, ledger_arg, prop_arrays, voltages
from ionmc.numba_conf import njit
from ionmc.mechanisms.base import LEDGER_DRIVEN


@njit
def ode_rhs(y, nx, JS, M):
    """d/dt of (counts, then per transition: firings, entropy sums S, ledger sums
    ledger_sum), for a solver that carries the accumulators in its state (ODEWater). With
    y holding counts only, only the counts' derivative is returned."""
    x = nonnegative(y[:nx])
    a, V = _propensities(x, M)
    dy = np.zeros(y.shape[0])
    _drift(a, JS, dy)
    if y.shape[0] > nx:
        add_accumulator_rates(x, V, a, 1.0, dy[nx:], M)
    return dy


class JacStructure(NamedTuple):
    """What `count_jac` reads besides the kernel arguments: the nonzero stoichiometry of
    each transition (CSR: `nu_ptr`, `nu_idx`, `nu_val`), for each count index the
    transitions whose propensity reads it directly (`rx_ptr`, `rx_idx`), for each membrane
    those that read its potential (`rv_ptr`, `rv_idx`), dV_m/dx_i in volts per ion
    (`dvdx`, zero on clamped membranes) and the indices some transition changes (`cols`)."""
    nu_ptr: np.ndarray
    nu_idx: np.ndarray
    nu_val: np.ndarray
    rx_ptr: np.ndarray
    rx_idx: np.ndarray
    rv_ptr: np.ndarray
    rv_idx: np.ndarray
    dvdx: np.ndarray
    cols: np.ndarray


def _csr(lists):
    ptr = np.zeros(len(lists) + 1, np.int64)
    ptr[1:] = np.cumsum([len(v) for v in lists])
    idx = np.array([k for v in lists for k in v], np.int64)
    return ptr, idx


def jac_structure(model):
    """The `JacStructure` of a compiled model, from what each transition's mechanism says
    its propensity reads (`Mechanism.reads`, the exact methods' dependency graph's input)."""
    nu = np.asarray(model.nu, float)
    nz = [np.nonzero(nu[j])[0] for j in range(model.nt)]
    nu_ptr, nu_idx = _csr(nz)
    nu_val = np.array([nu[j, i] for j in range(model.nt) for i in nz[j]], float)
    rx = [[] for _ in range(model.nx)]
    rv = [[] for _ in range(len(model.mems))]
    for j in range(model.nt):
        for what, k in sorted(model.mechs[model.tr_mech[j]].reads(model, j)):
            if what == "x" and 0 <= k < model.nx:
                rx[k].append(j)
            elif what == "V" and 0 <= k < len(model.mems):
                rv[k].append(j)
    rx_ptr, rx_idx = _csr(rx)
    rv_ptr, rv_idx = _csr(rv)
    dvdx = np.array([np.zeros(model.nx) if model.mem_clamped[m]
                     else E_CHARGE * model.mem_qx[m] / model.mem_C[m]
                     for m in range(len(model.mems))], float).reshape(len(model.mems), model.nx)
    cols = np.nonzero(np.any(nu != 0, axis=0))[0].astype(np.int64)
    return JacStructure(nu_ptr, nu_idx, nu_val, rx_ptr, rx_idx, rv_ptr, rv_idx, dvdx, cols)


@njit
def nonnegative(x):
    """x with its negative counts read as 0 (module docstring): x itself when none is, so
    a state that never undershoots is evaluated bit for bit as before."""
    for i in range(x.shape[0]):
        if x[i] < 0.0:
            return np.maximum(x, 0.0)
    return x


#: the potential step (volts) of the Jacobian's central differences in V
_H_V = 1e-6


@njit
def count_jac(x, JS, M):
    """d(dx/dt)/dx by the chain rule through the membrane potentials: a propensity reads
    counts directly and through V (V = e q(x)/C), so column i is the central difference of
    the few propensities that read x_i at fixed V, plus dV_m/dx_i times each membrane's
    d a/d V_m (one difference per membrane and reader). Against differencing the whole
    right-hand side per column (every propensity twice per column) this is ~nt/readers
    times fewer rate evaluations (astrocyte_buffering: ~20x). Steps: h = max(1e-6 |x_i|,
    0.01) ions (as before; scipy's own steps overflowed on columns with no effect) and
    1 uV. Counts are read at max(x, 0), as `count_rhs` reads them, the lower point of a
    difference too: no rate law sees a negative count, and the difference is divided by
    the distance of its points (a count within h of 0 is differenced from 0 to x + h).
    The column of a count at or below 0 is the forward difference from 0, the slope just
    above 0, not the flat 0 of the clipped right-hand side there: a solver's count
    undershoots 0 by its tolerance and comes back, and Newton's iteration with a 0 for a
    stiff outflow failed on each return (a fast-gated channel clamp: 170x the steps,
    bdf.undershoot)."""
    kind, src, mem, half_dv, P, II, inv_nvol = prop_arrays(M)
    x = nonnegative(x)
    nx = x.shape[0]
    nm = JS.dvdx.shape[0]
    J = np.zeros((nx, nx))
    V = np.zeros(nm)
    voltages(x, V, M)
    dadv = np.zeros(JS.rv_idx.shape[0])  # per (membrane, reader) entry of rv
    for m in range(nm):
        v0 = V[m]
        for e in range(JS.rv_ptr[m], JS.rv_ptr[m + 1]):
            j = JS.rv_idx[e]
            V[m] = v0 + _H_V
            f1 = propensity(j, x, V, kind, src, mem, half_dv, P, II, inv_nvol)
            V[m] = v0 - _H_V
            f0 = propensity(j, x, V, kind, src, mem, half_dv, P, II, inv_nvol)
            dadv[e] = (f1 - f0) / (2.0 * _H_V)
        V[m] = v0
    xp = x.copy()
    for c in range(JS.cols.shape[0]):
        i = JS.cols[c]
        h = max(1e-6 * abs(x[i]), 1e-2)
        # the points differenced, the lower clipped at 0 as count_rhs clips it; divided by
        # their distance (by 2 h, a count within h of 0 got half its outflow: a gating
        # state at 1e-4 channels half its rate of leaving, and Newton's iteration stalled)
        hi = x[i] + h
        lo = max(x[i] - h, 0.0)
        for e in range(JS.rx_ptr[i], JS.rx_ptr[i + 1]):
            j = JS.rx_idx[e]
            xp[i] = hi
            f1 = propensity(j, xp, V, kind, src, mem, half_dv, P, II, inv_nvol)
            xp[i] = lo
            f0 = propensity(j, xp, V, kind, src, mem, half_dv, P, II, inv_nvol)
            xp[i] = x[i]
            g = (f1 - f0) / (hi - lo)
            for k in range(JS.nu_ptr[j], JS.nu_ptr[j + 1]):
                J[JS.nu_idx[k], i] += JS.nu_val[k] * g
        for m in range(nm):
            w = JS.dvdx[m, i]
            if w == 0.0:
                continue
            for e in range(JS.rv_ptr[m], JS.rv_ptr[m + 1]):
                j = JS.rv_idx[e]
                g = w * dadv[e]
                for k in range(JS.nu_ptr[j], JS.nu_ptr[j + 1]):
                    J[JS.nu_idx[k], i] += JS.nu_val[k] * g
    return J


@njit
def _propensities(x, M):
    """Every propensity at counts x, and the membrane potentials they read: (a, V)."""
    a = np.zeros(M.rev.shape[0])
    V = np.zeros(M.mem_C.shape[0])
    voltages(x, V, M)
    all_propensities(x, V, a, M)
    return a, V


@njit
def _drift(a, JS, dx):
    """dx[:n] += sum_j nu_j a_j over each transition's nonzero stoichiometry."""
    for j in range(a.shape[0]):
        if a[j] != 0.0:
            for k in range(JS.nu_ptr[j], JS.nu_ptr[j + 1]):
                dx[JS.nu_idx[k]] += JS.nu_val[k] * a[j]


@njit
def count_rhs(x, JS, M):
    """d x/dt = sum_j nu_j a_j(max(x, 0))."""
    a, _ = _propensities(nonnegative(x), M)
    dx = np.zeros(x.shape[0])
    _drift(a, JS, dx)
    return dx


@njit
def add_accumulator_rates(x, V, a, w, acc, M):
    """acc += w times the accumulators' integrands at counts x (potentials V, propensities
    a, already evaluated there), laid out as 3 nt: per transition a, then a ln(a/a_rev),
    then a times the ledger's argument: the mean-field limits of what `ssa_advance`
    accumulates as firings, S and ledger_sum."""
    rev = M.rev
    nt = rev.shape[0]
    for j in range(nt):
        if a[j] == 0.0:
            continue
        acc[j] += w * a[j]
        r = rev[j]
        if r > j and a[r] > 0.0 and M.ledger[j] != LEDGER_DRIVEN:  # one log per pair:
            # ln(a_r/a_j) = -ln(a_j/a_r); a driven pair books none (mechanisms/base.py)
            lg = math.log(a[j] / a[r])
            acc[nt + j] += w * a[j] * lg
            acc[nt + r] -= w * a[r] * lg
        acc[2 * nt + j] += w * a[j] * ledger_arg(j, x, V, M.kind, M.mem, M.half_dv, M.ledger,
                                                 M.p, M.ii, M.inv_nvol)
