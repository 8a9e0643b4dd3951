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
    those that read its potential (`rv_ptr`, `rv_idx`), per count index the membranes whose
    V it moves and dV_m/dx_i in volts per ion (`dv_ptr`, `dv_mem`, `dv_w`; none on clamped
    membranes) and the indices some transition changes (`cols`).

    For a large model whose Jacobian is banded once reordered (a tissue of units coupled to
    their neighbours) also: each column's structural rows (`pat_ptr`, `pat_idx`), the
    reverse Cuthill-McKee order (`perm`: position -> count index; `iperm` its inverse) and
    `band` = [kl, ku, 1 if the ode's Newton matrix is solved banded else 0]."""
    nu_ptr: np.ndarray
    nu_idx: np.ndarray
    nu_val: np.ndarray
    rx_ptr: np.ndarray
    rx_idx: np.ndarray
    rv_ptr: np.ndarray
    rv_idx: np.ndarray
    dv_ptr: np.ndarray
    dv_mem: np.ndarray
    dv_w: np.ndarray
    cols: np.ndarray
    pat_ptr: np.ndarray
    pat_idx: np.ndarray
    perm: np.ndarray
    iperm: np.ndarray
    band: np.ndarray


def csr(lists):
    """(ptr, idx) of a list of lists: list k is idx[ptr[k]:ptr[k + 1]]."""
    ptr = np.zeros(len(lists) + 1, np.int64)
    ptr[1:] = np.cumsum([len(v) for v in lists])
    idx = np.array([k for v in lists for k in v], np.int64)
    return ptr, idx


def jac_structure(model):
    """The `JacStructure` of a compiled model, from what each transition's mechanism says
    its propensity reads (`Mechanism.reads`, the exact methods' dependency graph's input)."""
    # the applied stoichiometry's CSR, as the model keeps it for the kernels
    nu_ptr, nu_idx, nu_val = model.st_ptr, model.st_idx, model.st_del.astype(float)
    rx = [[] for _ in range(model.nx)]
    rv = [[] for _ in range(len(model.mems))]
    for j in range(model.nt):
        for what, k in sorted(model.mechs[model.tr_mech[j]].reads(model, j)):
            if what == "x" and 0 <= k < model.nx:
                rx[k].append(j)
            elif what == "V" and 0 <= k < len(model.mems):
                rv[k].append(j)
    rx_ptr, rx_idx = csr(rx)
    rv_ptr, rv_idx = csr(rv)
    # per count index: (membrane, dV/dx), membranes in order; from the model's CSR of the
    # charges each membrane encloses (what kernels.voltages sums)
    dv = [[] for _ in range(model.nx)]
    for m in range(len(model.mems)):
        if model.mem_clamped[m]:
            continue
        for k in range(model.qx_ptr[m], model.qx_ptr[m + 1]):
            dv[model.qx_idx[k]].append((m, E_CHARGE * model.qx_w[k] / model.mem_C[m]))
    dv_ptr, dv_mem = csr([[m for m, _ in d] for d in dv])
    dv_w = np.array([w for d in dv for _, w in d], float)
    cols = np.unique(nu_idx)
    parts = (nu_ptr, nu_idx, nu_val, rx_ptr, rx_idx, rv_ptr, rv_idx, dv_ptr, dv_mem, dv_w, cols)
    return JacStructure(*parts, *_band_order(model.nx, *parts))


#: the ode solves its Newton systems banded (in reverse Cuthill-McKee order) from this many
#: counts on, when the band is narrow enough to pay (`_band_order`); below it, dense LU
#: (a model of ~100 states: the dense LU is a small part of a step, and its bits stay as
#: they were)
BAND_MIN_STATES = 400


def _band_order(nx, nu_ptr, nu_idx, nu_val, rx_ptr, rx_idx, rv_ptr, rv_idx, dv_ptr, dv_mem,
                dv_w, cols):
    """(pat_ptr, pat_idx, perm, iperm, band) of `JacStructure`: each column's structural
    rows (what `_jac_fill` can write: the stoichiometry of the transitions that read x_i,
    directly or through a membrane's V), and the reverse Cuthill-McKee order of the
    symmetrised pattern (scipy.sparse.csgraph; Cuthill & McKee 1969) with its band. The
    band is used when it is narrow: a banded LU costs ~n kl (kl + ku) against n^3/3 dense.
    Below BAND_MIN_STATES counts nothing is computed."""
    ident = np.arange(nx, dtype=np.int64)
    # no pattern: every column empty (count_jac_band on such a model writes nothing)
    none = (np.zeros(nx + 1, np.int64), np.zeros(0, np.int64), ident, ident.copy(),
            np.zeros(3, np.int64))
    if nx < BAND_MIN_STATES:
        return none
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    def rows_of(j):
        return nu_idx[nu_ptr[j]:nu_ptr[j + 1]]

    pat = [np.zeros(0, np.int64)] * nx
    for i in cols:
        js = list(rx_idx[rx_ptr[i]:rx_ptr[i + 1]])
        for m in dv_mem[dv_ptr[i]:dv_ptr[i + 1]]:
            js.extend(rv_idx[rv_ptr[m]:rv_ptr[m + 1]])
        if js:
            pat[i] = np.unique(np.concatenate([rows_of(j) for j in js]))
    pat_ptr, pat_idx = csr(pat)
    col_of = np.repeat(np.arange(nx), np.diff(pat_ptr))
    A = csr_matrix((np.ones(len(pat_idx)), (pat_idx, col_of)), shape=(nx, nx))
    S = (A + A.T + csr_matrix((np.ones(nx), (ident, ident)), shape=(nx, nx))).tocsr()
    perm = np.asarray(reverse_cuthill_mckee(S, symmetric_mode=True), np.int64)
    iperm = np.empty(nx, np.int64)
    iperm[perm] = ident
    d = iperm[pat_idx] - iperm[col_of]  # row - column, in the new order
    kl = int(max(d.max(initial=0), 0))
    ku = int(max(-d.min(initial=0), 0))
    # banded LU ~ n kl (kl + ku) multiply-adds against ~n^3/3 dense: worth it when the band
    # is a small part of the matrix
    use = 3 * kl * (kl + ku + 1) < nx * nx / 8
    return pat_ptr, pat_idx, perm, iperm, np.array([kl, ku, int(use)], np.int64)


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
    bdf.undershoot). Dense, n x n."""
    J = np.zeros((x.shape[0], x.shape[0]))
    _jac_fill(x, JS, M, J, False)
    return J


@njit
def count_jac_band(x, JS, M):
    """`count_jac` in band storage, rows and columns in the structure's fill-reducing order
    (`JacStructure.perm`): entry (r, c) of the permuted matrix at [r, c - r + kl], n x
    (2 kl + ku + 1) (the room above ku is for the LU's pivoting: linalg.band_lu_factor)."""
    kl, ku = JS.band[0], JS.band[1]
    B = np.zeros((x.shape[0], 2 * kl + ku + 1))
    _jac_fill(x, JS, M, B, True)
    return B


@njit
def _jac_fill(x, JS, M, out, banded):
    """`count_jac`'s columns into out: each accumulated in a scratch column, then copied
    whole (dense) or gathered along the column's structural rows into band storage."""
    kind, src, mem, half_dv, P, II, inv_nvol = prop_arrays(M)
    x = nonnegative(x)
    nx = x.shape[0]
    nm = JS.rv_ptr.shape[0] - 1
    kl = JS.band[0]
    col = np.zeros(nx)
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
                col[JS.nu_idx[k]] += JS.nu_val[k] * g
        for q in range(JS.dv_ptr[i], JS.dv_ptr[i + 1]):  # the membranes x_i charges
            m = JS.dv_mem[q]
            w = JS.dv_w[q]
            for e in range(JS.rv_ptr[m], JS.rv_ptr[m + 1]):
                j = JS.rv_idx[e]
                g = w * dadv[e]
                for k in range(JS.nu_ptr[j], JS.nu_ptr[j + 1]):
                    col[JS.nu_idx[k]] += JS.nu_val[k] * g
        if banded:
            ci = JS.iperm[i]
            for q in range(JS.pat_ptr[i], JS.pat_ptr[i + 1]):
                r = JS.pat_idx[q]
                ri = JS.iperm[r]
                out[ri, ci - ri + kl] = col[r]
                col[r] = 0.0
        else:
            for r in range(nx):
                out[r, i] = col[r]
                col[r] = 0.0


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
