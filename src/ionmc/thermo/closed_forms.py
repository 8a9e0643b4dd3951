"""Closed-form expectations the tests and `ionmc energetics` check the simulator against.

Each function cites its source; units: concentrations mM, potentials volts, SI otherwise.
"""
import math

import numpy as np

from ionmc.constants import CM_TO_M, F, N_A, R, UM2_TO_M2


def nernst(z, c_in, c_out, T):
    """Nernst potential (V): (RT/zF) ln(c_out/c_in)."""
    return R * T / (z * F) * math.log(c_out / c_in)


def ghk_voltage(P, c_in, c_out, T):
    """GHK voltage equation (Goldman 1943; Hodgkin & Katz 1949) for monovalent ions.
    P, c_in, c_out: dicts species -> (permeability, conc); z from `charges` key order:
    pass P as {name: (P, z)}."""
    num = den = 0.0
    for s, (p, z) in P.items():
        if z == 1:
            num += p * c_out[s]
            den += p * c_in[s]
        elif z == -1:
            num += p * c_in[s]
            den += p * c_out[s]
        else:
            raise ValueError("ghk_voltage: monovalent ions only")
    return R * T / F * math.log(num / den)


def ghk_fluxes(P_cm_s, area_um2, z, c_in, c_out, V, T):
    """Unidirectional GHK fluxes (ions/s): (efflux, influx). J_out = P A u/(1-e^-u) c_in,
    J_in = P A u/(e^u - 1) c_out, u = zFV/RT (Goldman 1943; Hodgkin & Katz 1949)."""
    from ionmc.physics import ghk_factor

    u = z * F * V / (R * T)
    pa = P_cm_s * CM_TO_M * area_um2 * UM2_TO_M2  # m^3/s
    to_ions = 1.0 * N_A  # mM = mol/m^3
    return (pa * ghk_factor(u) * c_in * to_ions, pa * ghk_factor(-u) * c_out * to_ions)


def ghk_current(P_cm_s, area_um2, z, c_in, c_out, V, T):
    """Net outward GHK current (A)."""
    from ionmc.constants import E_CHARGE

    out, inn = ghk_fluxes(P_cm_s, area_um2, z, c_in, c_out, V, T)
    return z * E_CHARGE * (out - inn)


def ussing_ratio(z, c_in, c_out, V, T):
    """Ussing flux ratio J_in/J_out = (c_out/c_in) exp(-zFV/RT) (Ussing 1949)."""
    return c_out / c_in * math.exp(-z * F * V / (R * T))


def donnan_ratio(A_mM, c_plus, cl_out):
    """Gibbs-Donnan ratio r = c_in/c_out of every monovalent cation (= Cl_o/Cl_i) with
    impermeant anion charge A inside: r = [A + sqrt(A^2 + 4 c+ Cl_o)]/(2 c+)
    (Gibbs-Donnan; docs/physics.md)."""
    return (A_mM + math.sqrt(A_mM ** 2 + 4.0 * c_plus * cl_out)) / (2.0 * c_plus)


def donnan_potential(r, T):
    """V = -(RT/F) ln r."""
    return -R * T / F * math.log(r)


def cycle_statistics(fw, bw, edge=0):
    """Velocity v (net cycles per second) and randomness parameter r = 2D/v of a single
    cycle of n states with forward rates fw[i] (state i -> i+1) and backward rates bw[i]
    (i+1 -> i), counting the net crossings of step `edge`.

    From the tilted generator (large deviations of the crossing count; Koza 1999, J Phys A
    32:7637, whose coefficients give Derrida's 1983 closed form, J Stat Phys 31:433):
    W(s) = W0 + (e^s - 1) A + (e^-s - 1) B with A, B the edge's forward and backward jump
    rates, lambda(s) its eigenvalue through 0 at s = 0, v = lambda'(0), 2D = lambda''(0).
    Perturbation of that simple eigenvalue (left eigenvector 1, right eigenvector the
    stationary p): lambda' = 1.W'p, lambda'' = 1.W''p + 2 1.W'p' with W0 p' = -(W' -
    lambda') p and 1.p' = 0. The times at which the winding number reaches a new maximum
    are renewal times with mean 1/v and squared coefficient of variation r."""
    fw, bw = np.asarray(fw, float), np.asarray(bw, float)
    n = len(fw)
    W0, A, B = np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n))
    for i in range(n):
        j = (i + 1) % n
        for frm, to, k, tilt in ((i, j, fw[i], A), (j, i, bw[i], B)):
            W0[to, frm] += k
            W0[frm, frm] -= k
            if i == edge:
                tilt[to, frm] += k
    ones = np.ones(n)
    aug = np.vstack([W0, ones])
    p = np.linalg.lstsq(aug, np.r_[np.zeros(n), 1.0], rcond=None)[0]
    W1, W2 = A - B, A + B
    l1 = ones @ W1 @ p
    dp = np.linalg.lstsq(aug, np.r_[-(W1 @ p - l1 * p), 0.0], rcond=None)[0]
    l2 = ones @ W2 @ p + 2.0 * ones @ W1 @ dp
    return l1, l2 / l1


def nak_cycle_dG(nai, ki, nao, ko, V, T):
    """Free energy (J/mol) of moving 3 Na+ out and 2 K+ in at potential V (volts): what
    one Na+/K+-ATPase cycle's transport costs, which its ATP must pay."""
    RT = R * T
    return 3 * RT * math.log(nao / nai) + 2 * RT * math.log(ki / ko) - F * V
