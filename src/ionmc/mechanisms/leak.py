"""Leak channels: unidirectional Goldman-Hodgkin-Katz fluxes (DESIGN.md section 1).

With u = zFV/RT, the efflux per inside ion is k_out = P*A/vol_in * u/(1 - exp(-u)) and the
influx per outside ion is k_in = P*A/vol_out * u/(exp(u) - 1) (Goldman 1943; Hodgkin & Katz
1949). Their ratio is Ussing's flux ratio (Ussing 1949), which makes the pair obey local
detailed balance exactly when V is taken at the jump's midpoint.
"""
import math

from ionmc.numba_conf import njit

TYPE = "leak"

#: name -> (default, unit/meaning). None = required.
PARAMS = {
    "membrane": (None, "membrane name"),
    "species": (None, "species name"),
    "permeability_cm_per_s": (None, "GHK permeability P (cm/s) at 37 C"),
    "q10": (1.3, "temperature coefficient of the permeability"),
}

KIND_OUT = 0  # forward: one ion inside -> outside
KIND_IN = 1   # backward: one ion outside -> inside


@njit
def ghk_factor(u):
    """u / (1 - exp(-u)), with its exact limit 1 + u/2 + u^2/12 near u = 0."""
    if abs(u) < 1e-5:
        return 1.0 + 0.5 * u + u * u / 12.0
    if abs(u) < 0.5:  # expm1 keeps precision near 0; exp is several times faster
        return u / (-math.expm1(-u))
    return u / (1.0 - math.exp(-u))


def unidirectional_rates(P_cm_s, area_um2, vol_in_um3, vol_out_um3, z, V, T):
    """(k_out per inside ion, k_in per outside ion) in 1/s (GHK, DESIGN.md section 1)."""
    from ionmc.constants import CM_TO_M, F, R, UM2_TO_M2, UM3_TO_M3

    u = z * F * V / (R * T)
    pa = P_cm_s * CM_TO_M * area_um2 * UM2_TO_M2
    return (pa / (vol_in_um3 * UM3_TO_M3) * ghk_factor(u),
            pa / (vol_out_um3 * UM3_TO_M3) * ghk_factor(-u))
