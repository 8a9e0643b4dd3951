"""Small formulas every layer uses, written once: the temperature factor of a rate, counts
and concentrations, and a membrane's potential from the charge it holds."""
import math

from ionmc.constants import E_CHARGE, IONS_PER_MM_UM3
from ionmc.numba_conf import njit

#: the temperature (K) at which ionmc's rate constants are given (37 C); a parameter's
#: value at another temperature T is scaled by q10 ** ((T - T_REF) / 10)
T_REF = 310.0


def q10_factor(q10, T, T_ref=T_REF):
    """Factor on a rate measured at T_ref when the temperature is T (K)."""
    return q10 ** ((T - T_ref) / 10.0)


def count_of(conc_mM, volume_um3):
    """Ions (float) at a concentration (mM) in a volume (um^3)."""
    return conc_mM * IONS_PER_MM_UM3 * volume_um3


def conc_of(count, volume_um3):
    """Concentration (mM) of `count` ions in a volume (um^3)."""
    return count / (IONS_PER_MM_UM3 * volume_um3)


def potential(charge_e, capacitance_F):
    """A membrane's potential (V) when its inside holds `charge_e` elementary charges."""
    return E_CHARGE * charge_e / capacitance_F


@njit
def ghk_factor(u):
    """u / (1 - exp(-u)), with its exact limit 1 + u/2 + u^2/12 near u = 0."""
    if abs(u) < 1e-5:
        return 1.0 + 0.5 * u + u * u / 12.0
    if abs(u) < 0.5:  # expm1 keeps precision near 0; exp is several times faster
        return u / (-math.expm1(-u))
    return u / (1.0 - math.exp(-u))


@njit
def ohmic_factor(zu, n_src, inv_nvol_src, n_dst, inv_nvol_dst, grow):
    """The unidirectional rate of ohmic conduction per unit G = g RT/(z^2 F e) (ions/s):
    ghk_factor(w) with w = zF(V - E)/RT the driving force of a move source -> destination,
    zu its zFV/RT in that direction (+ out, - in). The net of the two directions is then
    g (V - E)/(z e), HH's ohmic current, and their ratio e^w is Ussing's, so ions move and
    local detailed balance holds. E counts the destination's ions as they will be after
    the jump, n_dst + grow (grow = 1, or 0 for a clamped destination, whose count does not
    move), so that a jump and its reverse see the same w: the ratio is then exact for
    integer counts (the source as it is, the destination as it will be)."""
    if n_src <= 0.0:
        return 0.0
    return ghk_factor(zu + math.log(n_src * inv_nvol_src / ((n_dst + grow) * inv_nvol_dst)))


@njit
def count_ramp(n, s):
    """1 when a count n can pay the s molecules a jump takes, 0 when it holds s - 1 or
    fewer, linear between. A rate law that does not vanish with the count it draws from
    (a Michaelis-Menten factor, a reduced pump's occlusion) is multiplied by it: for the
    exact methods' integer counts it is the guard that keeps counts non-negative, and for
    the ode's float counts the rate then goes to zero continuously rather than jumping
    (tests/unit/test_rates_vanish.py)."""
    return min(1.0, max(0.0, n - (s - 1.0)))
