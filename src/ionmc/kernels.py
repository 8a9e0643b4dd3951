"""Numba kernels shared by every method: membrane potentials and propensities.

Kernels see only arrays and scalars (the tuple from `Model.kernel_args()`). A propensity
uses the potential halfway through its jump, V + dV/2 with dV = (charge the jump adds to
the inside) * e / C, which makes local detailed balance exact including the capacitor's
self-energy (DESIGN.md section 1).
"""
import numpy as np

from .constants import E_CHARGE
from .leak import ghk_factor
from .numba_conf import inlined, leaf, njit
from .pump import step_rate

KIND_LEAK_OUT = 0
KIND_LEAK_IN = 1
KIND_PUMP_FW = 2
KIND_PUMP_BW = 3


@leaf
def voltages(x, V, M):
    """Fill V (volts) from counts x: V = e * sum_s z_s n_s(inside) / C, or the clamp."""
    charge, mem_start, mem_C, mem_clamped, mem_vclamp = M[12], M[13], M[14], M[15], M[16]
    ns = charge.shape[0]
    for m in range(V.shape[0]):
        if mem_clamped[m]:
            V[m] = mem_vclamp[m]
        else:
            q = 0.0
            s0 = mem_start[m]
            for s in range(ns):
                q += charge[s] * x[s0 + s]
            V[m] = E_CHARGE * q / mem_C[m]


@leaf
def propensity(j, x, V, kind_, src_, mem_, hdv_, P, II, inv_nvol):
    """Propensity (1/s) of transition j in state x with membrane potentials V.

    Takes the arrays it reads one by one (see `prop_arrays`) and is a leaf kernel
    (numba_conf.LEAF): with reference counting, passing these arrays cost 70 ns a call
    against 19 ns without (measured with benchmarks/bench_engine.py's network).
    """
    kind = kind_[j]
    n = x[src_[j]]
    if n <= 0:
        return 0.0
    # midpoint potential: hdv holds dV/2 of each transition (0 on a clamped membrane)
    v = V[mem_[j]] + hdv_[j]
    if kind == KIND_LEAK_OUT:
        return P[j, 0] * ghk_factor(P[j, 1] * v) * n
    if kind == KIND_LEAK_IN:
        return P[j, 0] * ghk_factor(-P[j, 1] * v) * n
    step = II[j, 4]
    bw = kind - KIND_PUMP_FW  # 0 forward, 1 backward
    i0, i1, i2, i3 = II[j, 0], II[j, 1], II[j, 2], II[j, 3]
    # no count may go negative: a translocation needs its ions on the source side
    if step == 1:
        if x[i2 if bw else i0] < 3:
            return 0.0
    elif step == 3:
        if x[i1 if bw else i3] < 2:
            return 0.0
    return n * step_rate(step, bw, P[j, 2 * step + bw], P[j, 8], P[j, 9], P[j, 10],
                         P[j, 11], P[j, 12], P[j, 13], x[i0] * inv_nvol[i0],
                         x[i1] * inv_nvol[i1], x[i2] * inv_nvol[i2], x[i3] * inv_nvol[i3], v)


_propensity = inlined(propensity)  # for the per-event loop in `refresh`


@njit
def prop_arrays(M):
    """The arrays `propensity` reads, in its argument order, taken out of the model tuple
    once per kernel call."""
    return M[0], M[1], M[2], M[17], M[4], M[5], M[11]


@leaf
def refresh(idx, lo, hi, x, V, a, kind, src, mem, hdv, P, II, inv_nvol):
    """Recompute the propensities of transitions idx[lo:hi]; return the change of their
    sum. One leaf call per event (not one per transition) keeps the SSA loop cheap."""
    d = 0.0
    for e in range(lo, hi):
        k = idx[e]
        new = _propensity(k, x, V, kind, src, mem, hdv, P, II, inv_nvol)
        d += new - a[k]
        a[k] = new
    return d


@njit
def all_propensities(x, V, a, M):
    kind, src, mem, hdv, P, II, inv_nvol = prop_arrays(M)
    tot = 0.0
    for j in range(a.shape[0]):
        a[j] = propensity(j, x, V, kind, src, mem, hdv, P, II, inv_nvol)
        tot += a[j]
    return tot


@leaf
def apply_transition(j, x, k, M):
    """Fire transition j k times (stoichiometry without clamped indices)."""
    st_ptr, st_idx, st_del = M[6], M[7], M[8]
    for e in range(st_ptr[j], st_ptr[j + 1]):
        x[st_idx[e]] += k * st_del[e]


def new_voltage_array(model):
    return np.zeros(len(model.mems))
