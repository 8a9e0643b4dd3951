"""Numba kernels shared by every method: membrane potentials and propensities.

Kernels see only arrays and scalars (the tuple from `Model.kernel_args()`). A propensity
uses the potential halfway through its jump, V + dV/2 with dV = (charge the jump adds to
the inside) * e / C, which makes local detailed balance exact including the capacitor's
self-energy (DESIGN.md section 1).
"""
import math

import numpy as np

from ionmc.mechanisms.channels import rate as channel_rate
from ionmc.constants import E_CHARGE
from ionmc.mechanisms.buffer import rate as buffer_rate
from ionmc.mechanisms.cotransporter import dG_ATP_mid, rate as cotransport_rate
from ionmc.mechanisms.coupling import rate as coupling_rate
from ionmc.mechanisms.injection import dG as injection_dG, rate as injection_rate
from ionmc.mechanisms.kir import rate as kir_rate
from ionmc.engine.lattice import factor, index
from ionmc.mechanisms.leak import ghk_factor
from ionmc.mechanisms.metabolism import I_ADP, I_ATP, I_CR, I_O2, I_PCR, I_PI, P_JIN, P_KB, P_KF, P_KOUT, \
    load_rate, oxphos_rate
from ionmc.numba_conf import inlined, leaf, njit
from ionmc.mechanisms.pump import P_DG0, P_ELEM, P_KATP, P_RT, rate_with, v_factor

KIND_LEAK_OUT = 0
KIND_LEAK_IN = 1
KIND_PUMP_FW = 2
KIND_PUMP_BW = 3
# metabolic pool (metabolism.py): pairs forward/backward
KIND_OX_FW = 4
KIND_OX_BW = 5
KIND_O2_OUT = 6
KIND_O2_IN = 7
KIND_LOAD_FW = 8
KIND_LOAD_BW = 9
KIND_CK_FW = 10
KIND_CK_BW = 11
# cotransporters (cotransporter.py): one pair per transporter
KIND_COTR_FW = 12
KIND_COTR_BW = 13
# buffers (buffer.py): binding / unbinding inside one compartment
KIND_BUF_FW = 14
KIND_BUF_BW = 15
# couplings (coupling.py): one pair per species, forward = first -> second compartment
KIND_COUPLE_FW = 18
KIND_COUPLE_BW = 19
# voltage-gated channels (channels.py): gating pairs, then one conduction pair (out, in)
KIND_GATE_FW = 20
KIND_GATE_BW = 21
KIND_CHAN_OUT = 22
KIND_CHAN_IN = 23
# inward-rectifier K+ channels (kir.py): forward = outward
KIND_KIR_OUT = 24
KIND_KIR_IN = 25
# current injection (injection.py): forward = from -> compartment
KIND_INJ_FW = 26
KIND_INJ_BW = 27


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
    if kind >= KIND_COTR_FW:
        if kind == KIND_COUPLE_FW or kind == KIND_COUPLE_BW:
            # hdv holds half the jump's change of V_source - V_destination
            return coupling_rate(j, x[src_[j]], V, hdv_[j], P, II)
        if kind == KIND_KIR_OUT or kind == KIND_KIR_IN:
            return kir_rate(j, kind == KIND_KIR_OUT, x, V[mem_[j]] + hdv_[j], P, II, inv_nvol)
        if kind == KIND_BUF_FW or kind == KIND_BUF_BW:  # buffers read no potential
            return buffer_rate(j, kind == KIND_BUF_BW, x, P, II)
        if KIND_GATE_FW <= kind <= KIND_CHAN_IN:
            return channel_rate(j, kind, x, V[mem_[j]] + hdv_[j], src_, P, II)
        if kind == KIND_INJ_FW or kind == KIND_INJ_BW:  # a set rate: no potential
            return injection_rate(j, x, P, II)
        return cotransport_rate(j, x, V[mem_[j]] + hdv_[j], P, II, inv_nvol)
    if kind >= KIND_OX_FW:
        return _metabolic(j, kind, x, P, II, inv_nvol)
    n = x[src_[j]]
    if n <= 0:
        return 0.0
    # midpoint potential: hdv holds dV/2 of each transition (0 on a clamped membrane)
    v = V[mem_[j]] + hdv_[j]
    if kind == KIND_LEAK_OUT:
        return P[j, 0] * ghk_factor(P[j, 1] * v) * n
    if kind == KIND_LEAK_IN:
        return P[j, 0] * ghk_factor(-P[j, 1] * v) * n
    return pump_rate(j, kind, x, n, pump_v_factor(j, kind, v, P, II), P, II, inv_nvol)


@leaf
def pump_v_factor(j, kind, v, P, II):
    """The voltage-dependent factor of pump transition j at midpoint potential v."""
    return v_factor(II[j, 4], kind - KIND_PUMP_FW, P[j, 8], P[j, 9], P[j, 12], P[j, 13], v,
                    P[j, P_ELEM])


@leaf
def pump_rate(j, kind, x, n, kv, P, II, inv_nvol):
    """Propensity of pump transition j (n > 0 pumps in its source state) given its
    voltage factor kv (`pump_v_factor`, or the SSA's lattice table)."""
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
    k = P[j, 2 * step + bw]
    ia = II[j, 5]
    if ia >= 0:
        # the pump draws on a metabolic pool: step 1 books ATP -> ADP + Pi (so it needs an
        # ATP forward, an ADP and a Pi backward); b1 is per mM ADP, ATP binds at step 4
        # and Pi rebinds at step 3 (pump.param_row)
        if step == 0:
            if bw:
                if x[II[j, 7]] < 1:
                    return 0.0
                k *= x[II[j, 6]] * inv_nvol[II[j, 6]]
            elif x[ia] < 1:
                return 0.0
        elif step == 2 and bw:
            k *= x[II[j, 7]] * inv_nvol[II[j, 7]] / (1.0 + x[ia] * inv_nvol[ia] / P[j, P_KATP])
        elif step == 3 and not bw:
            t = x[ia] * inv_nvol[ia] / P[j, P_KATP]
            k *= t / (1.0 + t)
    c0, c1, c2, c3 = (x[i0] * inv_nvol[i0], x[i1] * inv_nvol[i1], x[i2] * inv_nvol[i2],
                      x[i3] * inv_nvol[i3])
    if P[j, P_ELEM] > 0.0:
        # elementary test pump: mass action in the moved ions' falling factorials, so that
        # a_f(x)/a_b(x') holds exactly the count factors of the jump (DESIGN.md section 3)
        if step == 1:
            c0 = (x[i0] * (x[i0] - 1.0) * (x[i0] - 2.0)) ** (1.0 / 3.0) * inv_nvol[i0]
            c2 = (x[i2] * (x[i2] - 1.0) * (x[i2] - 2.0)) ** (1.0 / 3.0) * inv_nvol[i2]
        elif step == 3:
            c1 = math.sqrt(x[i1] * (x[i1] - 1.0)) * inv_nvol[i1]
            c3 = math.sqrt(x[i3] * (x[i3] - 1.0)) * inv_nvol[i3]
    return n * rate_with(step, bw, k, kv, P[j, 10], P[j, 11], c0, c1, c2, c3, P[j, P_ELEM])


@leaf
def _metabolic(j, kind, x, P, II, inv_nvol):
    """Propensities of the metabolic pool's transitions (metabolism.py)."""
    ia, idp, ip, io = II[j, I_ATP], II[j, I_ADP], II[j, I_PI], II[j, I_O2]
    if kind == KIND_O2_IN:
        return P[j, P_JIN]
    if kind == KIND_O2_OUT:
        return P[j, P_KOUT] * x[io]
    if kind == KIND_CK_FW:
        return P[j, P_KF] * x[II[j, I_PCR]] * inv_nvol[II[j, I_PCR]] * x[idp]
    if kind == KIND_CK_BW:
        return P[j, P_KB] * x[II[j, I_CR]] * inv_nvol[II[j, I_CR]] * x[ia]
    atp, adp, pi = x[ia] * inv_nvol[ia], x[idp] * inv_nvol[idp], x[ip] * inv_nvol[ip]
    if kind == KIND_LOAD_FW or kind == KIND_LOAD_BW:
        return load_rate(kind == KIND_LOAD_BW, P, j, atp, adp, pi, x[ia], x[idp], x[ip])
    return oxphos_rate(kind == KIND_OX_BW, P, j, atp, adp, pi, x[io] * inv_nvol[io], x[ia],
                       x[idp], x[ip], x[io])


@leaf
def ledger_arg(j, x, V, mem, hdv, wk, P, II, inv_nvol):
    """What the ledger multiplies per firing: the midpoint potential, or (wk[j] = 1, a
    pump's ATP-booking step on a pool; wk[j] = 2, an ATP-driven transporter on a pool)
    dG_ATP (J/mol) of the pool at the firing; wk[j] = 3: 0, for a buffer in a compartment
    that is no membrane's inside and for a coupling, whose clamp and bath work need only
    fixed potentials (scenario.py, ledger.py); wk[j] = 4: the exact change of G (k_B T) of an
    injection's jump, the stimulator's work (injection.py). So W_ATP uses the dG_ATP the
    rates used (DESIGN.md section 3)."""
    if wk[j] == 0:
        return V[mem[j]] + hdv[j]
    if wk[j] == 4:
        return injection_dG(j, x, V, P, II, inv_nvol)
    if wk[j] == 2:
        return dG_ATP_mid(j, x, P, II, inv_nvol)
    if wk[j] == 3:
        return 0.0
    ia, idp, ip = II[j, 5], II[j, 6], II[j, 7]
    # a count of 0 never fires in the direction that needs it; keep the log finite
    atp = max(x[ia], 0.5) * inv_nvol[ia]
    adp = max(x[idp], 0.5) * inv_nvol[idp]
    pi = max(x[ip], 0.5) * inv_nvol[ip]
    return P[j, P_DG0] + P[j, P_RT] * math.log(1e-3 * adp * pi / atp)


# for the per-event loop in `refresh` (the generic `propensity` calls `pump_rate` instead:
# inlined there too, it doubled the SSA's compilation for pumps on clamped membranes)
_pump_rate = inlined(pump_rate)
_propensity, _factor, _index = inlined(propensity), inlined(factor), inlined(index)


@njit
def prop_arrays(M):
    """The arrays `propensity` reads, in its argument order, taken out of the model tuple
    once per kernel call."""
    return M[0], M[1], M[2], M[17], M[4], M[5], M[11]


@leaf
def refresh(idx, lo, hi, x, V, a, kind, src, mem, hdv, P, II, inv_nvol, row, tab, qlo, qc):
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
                f = _factor(k, r, i, V, mem, hdv, P, II, kind, tab)
                new = n * f if kind[k] <= KIND_LEAK_IN else \
                    _pump_rate(k, kind[k], x, n, f, P, II, inv_nvol)
        else:
            new = _propensity(k, x, V, kind, src, mem, hdv, P, II, inv_nvol)
        d += new - a[k]
        a[k] = new
    return d


@njit
def all_propensities(x, V, a, M):
    """Every propensity into a; returns their sum. Callers pass float counts (integer ones
    converted): one compiled specialisation for every method, ~2 s less compilation."""
    kind, src, mem, hdv, P, II, inv_nvol = prop_arrays(M)
    tot = 0.0
    for j in range(a.shape[0]):
        a[j] = propensity(j, x, V, kind, src, mem, hdv, P, II, inv_nvol)
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
    st_ptr, st_idx, st_del = M[6], M[7], M[8]
    for e in range(st_ptr[j], st_ptr[j + 1]):
        x[st_idx[e]] += k * st_del[e]


def new_voltage_array(model):
    return np.zeros(len(model.mems))


@leaf
def record(r, x, F, S, VS, out_x, out_F, out_S, out_VS):
    """Copy the state into row r of the outputs. Element by element: a row assignment
    (`out_x[r] = x`) compiles Numba's shape-mismatch error formatting, ~2.5 s of the
    first run's compilation per kernel that has one."""
    for i in range(x.shape[0]):
        out_x[r, i] = x[i]
    for j in range(F.shape[0]):
        out_F[r, j] = F[j]
        out_S[r, j] = S[j]
        out_VS[r, j] = VS[j]
