"""Closed-form expectations the tests and `ionmc energetics` check the simulator against.

Each function cites its source; units: concentrations mM, potentials volts, SI otherwise.
"""
import math

from .constants import CM_TO_M, F, N_A, R, UM2_TO_M2


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
    J_in = P A u/(e^u - 1) c_out, u = zFV/RT (REFERENCES.md)."""
    from .leak import ghk_factor

    u = z * F * V / (R * T)
    pa = P_cm_s * CM_TO_M * area_um2 * UM2_TO_M2  # m^3/s
    to_ions = 1.0 * N_A  # mM = mol/m^3
    return (pa * ghk_factor(u) * c_in * to_ions, pa * ghk_factor(-u) * c_out * to_ions)


def ghk_current(P_cm_s, area_um2, z, c_in, c_out, V, T):
    """Net outward GHK current (A)."""
    from .constants import E_CHARGE

    out, inn = ghk_fluxes(P_cm_s, area_um2, z, c_in, c_out, V, T)
    return z * E_CHARGE * (out - inn)


def ussing_ratio(z, c_in, c_out, V, T):
    """Ussing flux ratio J_in/J_out = (c_out/c_in) exp(-zFV/RT) (Ussing 1949)."""
    return c_out / c_in * math.exp(-z * F * V / (R * T))


def donnan_ratio(A_mM, c_plus, cl_out):
    """Gibbs-Donnan ratio r = c_in/c_out of every monovalent cation (= Cl_o/Cl_i) with
    impermeant anion charge A inside: r = [A + sqrt(A^2 + 4 c+ Cl_o)]/(2 c+)
    (REFERENCES.md: cotransporters / Gibbs-Donnan)."""
    return (A_mM + math.sqrt(A_mM ** 2 + 4.0 * c_plus * cl_out)) / (2.0 * c_plus)


def donnan_potential(r, T):
    """V = -(RT/F) ln r."""
    return -R * T / F * math.log(r)
