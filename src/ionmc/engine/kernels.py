"""Numba kernels shared by every method: membrane potentials and propensities.

Kernels see only arrays and scalars: the named structure `M` (model/arrays.py,
`Model.kernel_args()`). A propensity uses the potential halfway through its jump,
V + dV/2 with dV = (charge the jump adds to the inside) * e / C, which makes local detailed
balance exact including the capacitor's self-energy (docs/physics.md). Which rate law a
transition follows is looked up in one table (engine/dispatch.py).
"""
from ionmc.constants import E_CHARGE
from ionmc.mechanisms.base import LEDGER_NONE, LEDGER_V
from ionmc.engine.dispatch import lattice_rate, own_ledger_arg, \
    propensity
from ionmc.engine.lattice import factor, index
from ionmc.numba_conf import inlined, leaf, njit


@leaf
def voltages(x, V, M):
    """Fill V (volts) from counts x: V = e * (charge inside) / C, or the clamp; the charge
    inside (model/compiled.py's mem_qx) counts the inside's ions, z_s n_s, and the ions a
    mechanism holds on the inside of the field."""
    qx_ptr, qx_idx, qx_w, mem_C, mem_clamped, mem_vclamp = M.qx_ptr, M.qx_idx, M.qx_w, \
        M.mem_C, M.mem_clamped, M.mem_vclamp
    for m in range(V.shape[0]):
        if mem_clamped[m]:
            V[m] = mem_vclamp[m]
        else:
            q = 0.0
            for k in range(qx_ptr[m], qx_ptr[m + 1]):
                q += qx_w[k] * x[qx_idx[k]]
            V[m] = E_CHARGE * q / mem_C[m]


_own_ledger_arg = inlined(own_ledger_arg)


@leaf
def ledger_arg(j, x, V, kind, mem, half_dv, ledger, P, II, inv_nvol):
    """What the ledger multiplies per firing of j: the midpoint potential (LEDGER_V), 0
    (LEDGER_NONE: a buffer in a compartment that is no membrane's inside, a coupling, whose
    clamp and bath work need only fixed potentials: ledger.py), or the mechanism's own
    argument (LEDGER_OWN: dG_ATP of the pool for a pump's or transporter's ATP step on a
    pool, so W_ATP uses the dG_ATP the rates used; an injection's exact change of G)."""
    if ledger[j] == LEDGER_V:
        return V[mem[j]] + half_dv[j]
    if ledger[j] == LEDGER_NONE:
        return 0.0
    return _own_ledger_arg(j, x, V, kind, mem, half_dv, P, II, inv_nvol)


_propensity, _factor, _index, _lattice_rate = (inlined(k) for k in (propensity, factor, index,
                                                                     lattice_rate))


@njit
def prop_arrays(M):
    """The arrays `propensity` reads, in its argument order, taken out of M once per kernel
    call."""
    return M.kind, M.src, M.mem, M.half_dv, M.p, M.ii, M.inv_nvol


@leaf
def refresh(idx, lo, hi, x, V, a, kind, src, mem, half_dv, P, II, inv_nvol, row, tab, qlo, qc):
    """Recompute the propensities of transitions idx[lo:hi] in an integer state; return the
    change of their sum. One leaf call per event (not one per transition) keeps the SSA
    loop cheap. Leaks and pumps on free membranes look their V factor up on the charge
    lattice (lattice.py: bit-identical to `propensity`, without its exp)."""
    d = 0.0
    m_last = -1  # the table column is found once per membrane and event
    i = 0
    for e in range(lo, hi):
        k = idx[e]
        r = row[k]
        if r >= 0:
            n = x[src[k]]
            if n <= 0:
                new = 0.0
            else:
                if mem[k] != m_last:
                    m_last = mem[k]
                    i = _index(m_last, V, mem, row, tab, qlo, qc)
                f = _factor(k, r, i, V, mem, half_dv, P, II, kind, tab)
                new = _lattice_rate(k, kind, x, n, f, P, II, inv_nvol)
        else:
            new = _propensity(k, x, V, kind, src, mem, half_dv, P, II, inv_nvol)
        d += new - a[k]
        a[k] = new
    return d


@njit
def all_propensities(x, V, a, M):
    """Every propensity into a; returns their sum. The exact methods pass their integer
    counts, ode and tau-leap float ones: a process running one method compiles every rate
    law once (a first SSA run 19.8 -> 15.4 s), one running both kinds twice. (Merging the
    table in here at the IR level instead of calling it cost tau-leap +2 s.)"""
    kind, src, mem, half_dv, P, II, inv_nvol = prop_arrays(M)
    tot = 0.0
    for j in range(a.shape[0]):
        a[j] = propensity(j, x, V, kind, src, mem, half_dv, P, II, inv_nvol)
        tot += a[j]
    return tot


@leaf
def pick(a, r):
    """The direct method's choice (Gillespie 1977): the first j with a[0] + ... + a[j] > r,
    for r uniform on [0, sum a). Rounding can carry the sum past the last positive
    propensity: never a transition with zero propensity."""
    nt = a.shape[0]
    j = 0
    acc = a[0]
    while acc <= r and j < nt - 1:
        j += 1
        acc += a[j]
    while a[j] <= 0.0 and j > 0:
        j -= 1
    return j


@leaf
def apply_transition(j, x, k, M):
    """Fire transition j k times (stoichiometry without clamped indices)."""
    st_ptr, st_idx, st_del = M.st_ptr, M.st_idx, M.st_del
    for e in range(st_ptr[j], st_ptr[j + 1]):
        x[st_idx[e]] += k * st_del[e]


@leaf
def record(r, x, firings, S, ledger_sum, out_x, out_firings, out_S, out_ledger_sum):
    """Copy the state into row r of the outputs. Element by element: a row assignment
    (`out_x[r] = x`) compiles Numba's shape-mismatch error formatting, ~2.5 s of the
    first run's compilation per kernel that has one."""
    for i in range(x.shape[0]):
        out_x[r, i] = x[i]
    for j in range(firings.shape[0]):
        out_firings[r, j] = firings[j]
        out_S[r, j] = S[j]
        out_ledger_sum[r, j] = ledger_sum[j]
