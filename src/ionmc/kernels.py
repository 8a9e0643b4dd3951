"""Numba kernels shared by every method: membrane potentials and propensities.

Kernels see only arrays and scalars (the tuple from `Model.kernel_args()`). A propensity
uses the potential halfway through its jump, V + dV/2 with dV = (charge the jump adds to
the inside) * e / C, which makes local detailed balance exact including the capacitor's
self-energy (DESIGN.md section 1).
"""
import numpy as np

from .constants import E_CHARGE
from .leak import ghk_factor
from .numba_conf import njit
from .pump import step_rate

KIND_LEAK_OUT = 0
KIND_LEAK_IN = 1
KIND_PUMP_FW = 2
KIND_PUMP_BW = 3


@njit
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


@njit
def propensity(j, x, V, M):
    """Propensity (1/s) of transition j in state x with membrane potentials V."""
    kind, src, mem, q, P, II = M[0][j], M[1][j], M[2][j], M[3][j], M[4], M[5]
    inv_nvol, mem_C, mem_clamped = M[11], M[14], M[15]
    n = x[src]
    if n <= 0:
        return 0.0
    v = V[mem]
    if not mem_clamped[mem]:
        v += 0.5 * q * E_CHARGE / mem_C[mem]
    p = P[j]
    if kind == KIND_LEAK_OUT:
        return p[0] * ghk_factor(p[1] * v) * n
    if kind == KIND_LEAK_IN:
        return p[0] * ghk_factor(-p[1] * v) * n
    ii = II[j]
    step = ii[4]
    backward = kind == KIND_PUMP_BW
    # no count may go negative: a translocation needs its ions on the source side
    if step == 1:
        if x[ii[2] if backward else ii[0]] < 3:
            return 0.0
    elif step == 3:
        if x[ii[1] if backward else ii[3]] < 2:
            return 0.0
    nai = x[ii[0]] * inv_nvol[ii[0]]
    ki = x[ii[1]] * inv_nvol[ii[1]]
    nao = x[ii[2]] * inv_nvol[ii[2]]
    ko = x[ii[3]] * inv_nvol[ii[3]]
    return step_rate(step, backward, p, nai, ki, nao, ko, v) * n


@njit
def all_propensities(x, V, a, M):
    tot = 0.0
    for j in range(a.shape[0]):
        a[j] = propensity(j, x, V, M)
        tot += a[j]
    return tot


@njit
def apply_transition(j, x, k, M):
    """Fire transition j k times (stoichiometry without clamped indices)."""
    st_ptr, st_idx, st_del = M[6], M[7], M[8]
    for e in range(st_ptr[j], st_ptr[j + 1]):
        x[st_idx[e]] += k * st_del[e]


def new_voltage_array(model):
    return np.zeros(len(model.mems))
