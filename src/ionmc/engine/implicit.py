"""The implicit part of a tau-leap (engine/tauleap.py): the backward-Euler solve of the fast
variables (each free membrane's V, pump states, a metabolic pool's fast species) over a
leap, the noise those variables answer with, and the noise bound on tau.

Fast unknowns y = (V of each free membrane in `fmem`..., counts of the state indices in
`fidx`...); what each transition moves of them, and by how much, is `FastBlocks`'s.

The unknowns fall into independent blocks (`FastBlocks`): no transition reads or moves the
unknowns of two blocks (a tissue's units, each with its membranes and pump states). The
Newton matrix is then block diagonal: it is differenced one column per block at once
(Curtis, Powell & Reid 1974, J. Inst. Math. Appl. 13:117) and factored block by block,
which gives the same numbers as the dense matrix (its other entries are exact zeros) at a
cost linear in the number of blocks instead of cubic in the unknowns.
"""
import math
from typing import NamedTuple

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ionmc.constants import E_CHARGE
from ionmc.engine.dispatch import propensity
from ionmc.engine.kernels import all_propensities, prop_arrays
from ionmc.engine.linalg import lu_factor, lu_solve
from ionmc.engine.meanfield import csr
from ionmc.numba_conf import njit


class FastBlocks(NamedTuple):
    """The fast unknowns in independent blocks: block b holds unknowns
    idx[ptr[b]:ptr[b + 1]] (ascending), `pos[u]` is unknown u's place in its block, `rd[j]`
    the block whose unknowns transition j's propensity reads (-1: none), `width` the
    largest block, and per transition j the unknowns it moves,
    mv_row[mv_ptr[j]:mv_ptr[j + 1]] (ascending), by how much per firing, `mv_coef` (volts
    for a potential, e/C_m times the charge; a count's change), and for a potential the
    charge (e) it adds to the membrane's inside, `mv_q` (0 for a count). Per unknown u the
    transitions whose propensity reads it, rdr_idx[rdr_ptr[u]:rdr_ptr[u + 1]]
    (ascending)."""
    ptr: np.ndarray
    idx: np.ndarray
    pos: np.ndarray
    rd: np.ndarray
    width: int
    mv_ptr: np.ndarray
    mv_row: np.ndarray
    mv_coef: np.ndarray
    mv_q: np.ndarray
    rdr_ptr: np.ndarray
    rdr_idx: np.ndarray


def fast_blocks(model, fmem, fidx):
    """`FastBlocks` of the unknowns (V of fmem..., counts of fidx...): two unknowns share a
    block when one transition reads or moves both (what its mechanism says it reads,
    `Mechanism.reads`; what it moves, the charge qm and the stoichiometry nu)."""
    nm, n = len(fmem), len(fmem) + len(fidx)
    of_mem = {int(m): u for u, m in enumerate(fmem)}
    of_x = {int(i): nm + k for k, i in enumerate(fidx)}
    reads, edges = [], []
    # what each transition moves, and by how much: free membranes (charge), then fast
    # counts, ascending (the sparse stoichiometry's columns)
    moves = [[] for _ in range(model.nt)]
    coef = [[] for _ in range(model.nt)]
    charge = [[] for _ in range(model.nt)]
    qm, nu = model.tr_qm.tocsc(), model.nu.tocsc()
    for u, m in enumerate(fmem):
        for e in range(qm.indptr[m], qm.indptr[m + 1]):
            j, q = int(qm.indices[e]), float(qm.data[e])
            moves[j].append(u)
            coef[j].append(E_CHARGE / model.mem_C[m] * q)  # the order the kernels had
            charge[j].append(q)
    for k, i in enumerate(fidx):
        for e in range(nu.indptr[i], nu.indptr[i + 1]):
            j = int(nu.indices[e])
            moves[j].append(nm + k)
            coef[j].append(float(nu.data[e]))
            charge[j].append(0.0)
    for j in range(model.nt):
        rd = set()
        for what, k in model.mechs[model.tr_mech[j]].reads(model, j):
            u = of_mem.get(k) if what == "V" else of_x.get(k) if what == "x" else None
            if u is not None:
                rd.add(u)
        both = rd | set(moves[j])
        edges += [(min(both), u) for u in both]
        reads.append(rd)
    e = np.array(edges, np.int64).reshape(-1, 2)
    _, label = connected_components(
        coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)), directed=False)
    members = {}
    for u in range(n):
        members.setdefault(int(label[u]), []).append(u)
    blocks = sorted(members.values())
    ptr, idx = csr(blocks)
    pos = np.zeros(n, np.int64)
    which = np.zeros(n, np.int64)
    for b, us in enumerate(blocks):
        for q, u in enumerate(us):
            pos[u], which[u] = q, b
    rd = np.array([which[min(r)] if r else -1 for r in reads], np.int64)
    mv_ptr, mv_row = csr(moves)
    mv_coef = np.array([c for cs in coef for c in cs], float)
    mv_q = np.array([q for qs in charge for q in qs], float)
    readers = [[] for _ in range(n)]
    for j, r in enumerate(reads):
        for u in sorted(r):
            readers[u].append(j)
    rdr_ptr, rdr_idx = csr(readers)
    return FastBlocks(ptr, idx, pos, rd, max((len(b) for b in blocks), default=0), mv_ptr,
                      mv_row, mv_coef, mv_q, rdr_ptr, rdr_idx)


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
def _set_unknown(c, v, xf, Vf, fmem, fidx):
    """Fast unknown c = v in the propensities' arguments (a potential or a count)."""
    nm = fmem.shape[0]
    if c < nm:
        Vf[fmem[c]] = v
    else:
        xf[fidx[c - nm]] = v


@njit
def _residual(y, y0, tau, a, B, res):
    """The backward-Euler residual y - y0 - tau sum_j coef_j a_j over what each transition
    moves (B.mv_*)."""
    for k in range(y.shape[0]):
        res[k] = y[k] - y0[k]
    for j in range(a.shape[0]):
        aj = a[j] * tau
        if aj == 0.0:
            continue
        for e in range(B.mv_ptr[j], B.mv_ptr[j + 1]):
            res[B.mv_row[e]] -= B.mv_coef[e] * aj


@njit
def solve_blocks(J, res, B):
    """-J^-1 res for the block-diagonal J held by rows (J[r, q]: row r's entry for the q-th
    unknown of r's block, `FastBlocks`), block by block by LU with partial pivoting
    (linalg.py). A singular or non-finite system raises, as `np.linalg.solve` did (the run
    fails with one line, test_activity)."""
    n = res.shape[0]
    dy = np.empty(n)
    A = np.empty((B.width, B.width))
    rhs, out = np.empty(B.width), np.empty(B.width)
    piv = np.empty(B.width, np.int64)
    for b in range(B.ptr.shape[0] - 1):
        lo, s = B.ptr[b], B.ptr[b + 1] - B.ptr[b]
        Ab, pb, rb, ob = A[:s, :s], piv[:s], rhs[:s], out[:s]
        for p in range(s):
            r = B.idx[lo + p]
            for q in range(s):
                Ab[p, q] = J[r, q]
            rb[p] = -res[r]
        if not lu_factor(Ab, pb):
            raise ValueError("tau-leap: singular Jacobian in the implicit step")
        lu_solve(Ab, pb, rb, ob)
        for p in range(s):
            dy[B.idx[lo + p]] = ob[p]
    for r in range(n):
        if not math.isfinite(dy[r]):
            raise ValueError("tau-leap: non-finite Newton step in the implicit step")
    return dy


@njit
def solve_fast(x, V, tau, fmem, fidx, a, M, dA, B):
    """Backward-Euler values of the fast variables over tau. Returns (ok, y). dA[j, q]
    gets the derivative of propensity j by the q-th unknown of the block it reads
    (B.rd[j]) near the solution (finite differences of the last Newton iteration), for
    `damp_noise`.

    A difference column re-evaluates only the propensities that read the unknowns it
    moves (B.rdr_*: what each mechanism declares it reads, `Mechanism.reads`), the others
    keep their value: the same numbers as evaluating all, at ~2 instead of `width`
    evaluations of every propensity per Newton iteration (a tissue unit's block has 14
    unknowns). tests/unit/test_reads.py holds every built-in's declared reads against its
    propensities."""
    kind, src, mem, half_dv, P, II, inv_nvol = prop_arrays(M)
    nm = fmem.shape[0]
    n = nm + fidx.shape[0]
    nb = B.ptr.shape[0] - 1
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
    J = np.empty((n, B.width))
    h = np.empty(n)
    old = np.empty(n)
    a2 = np.empty_like(a)
    for it in range(30):
        _fast_propensities(x, xf, V, Vf, y, fmem, fidx, a, M)
        _residual(y, y0, tau, a, B, res)
        for j in range(a.shape[0]):
            a2[j] = a[j]
        for q in range(B.width):
            # the q-th unknown of every block at once: what one moves, no other reads
            for b in range(nb):
                if B.ptr[b] + q < B.ptr[b + 1]:
                    c = B.idx[B.ptr[b] + q]
                    h[c] = 1e-7 if c < nm else max(1e-7 * abs(y[c]), 1e-3)
                    old[c] = y[c]
                    y[c] = old[c] + h[c]
                    _set_unknown(c, y[c], xf, Vf, fmem, fidx)
            for b in range(nb):
                if B.ptr[b] + q < B.ptr[b + 1]:
                    c = B.idx[B.ptr[b] + q]
                    for e in range(B.rdr_ptr[c], B.rdr_ptr[c + 1]):
                        j = B.rdr_idx[e]
                        a2[j] = propensity(j, xf, Vf, kind, src, mem, half_dv, P, II,
                                           inv_nvol)
            _residual(y, y0, tau, a2, B, res2)
            for b in range(nb):
                if B.ptr[b] + q < B.ptr[b + 1]:
                    c = B.idx[B.ptr[b] + q]
                    y[c] = old[c]
                    _set_unknown(c, y[c], xf, Vf, fmem, fidx)
                    for e in range(B.ptr[b], B.ptr[b + 1]):
                        r = B.idx[e]
                        J[r, q] = (res2[r] - res[r]) / h[c]
            for j in range(a.shape[0]):
                b = B.rd[j]
                if b >= 0 and B.ptr[b] + q < B.ptr[b + 1]:
                    dA[j, q] = (a2[j] - a[j]) / h[B.idx[B.ptr[b] + q]]
                else:
                    dA[j, q] = 0.0
            for b in range(nb):  # back to a for the next column
                if B.ptr[b] + q < B.ptr[b + 1]:
                    c = B.idx[B.ptr[b] + q]
                    for e in range(B.rdr_ptr[c], B.rdr_ptr[c + 1]):
                        j = B.rdr_idx[e]
                        a2[j] = a[j]
        dy = solve_blocks(J, res, B)
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
def damp_noise(K, ahat, dA, tau, fmem, fidx, rng, relax, B):
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
    n = fmem.shape[0] + fidx.shape[0]
    nt = K.shape[0]
    if n == 0:
        return
    xi = np.zeros(n)
    J = np.zeros((n, B.width))  # by rows, as `solve_blocks` reads it
    for r in range(n):
        J[r, B.pos[r]] = 1.0
    for j in range(nt):
        dev = K[j] - ahat[j] * tau
        b = B.rd[j]
        for e in range(B.mv_ptr[j], B.mv_ptr[j + 1]):
            r = B.mv_row[e]
            c = B.mv_coef[e]
            if c == 0.0:
                continue
            xi[r] += c * dev
            if b >= 0:  # then r is in block b: j moves r and reads b
                for q in range(B.ptr[b + 1] - B.ptr[b]):
                    J[r, q] -= tau * c * dA[j, q]
    for k in range(fmem.shape[0]):
        relax[fmem[k]] = (J[k, B.pos[k]] - 1.0) / tau
    for r in range(n):
        xi[r] = -xi[r]
    dy = solve_blocks(J, xi, B)  # J dy = xi
    for j in range(nt):
        b = B.rd[j]
        if ahat[j] <= 0.0 or b < 0:
            continue
        dk = 0.0
        for q in range(B.ptr[b + 1] - B.ptr[b]):
            dk += tau * dA[j, q] * dy[B.idx[B.ptr[b] + q]]
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
