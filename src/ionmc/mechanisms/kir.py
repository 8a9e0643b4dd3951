"""Inward-rectifier K+ channels (Kir4.1, astrocytes): a K+ flux across a membrane whose
conductance rises with extracellular K+ and falls with depolarisation.

The rectification is the one of Halnes et al. 2013 (PLoS Comput Biol 9:e1003386, eq. 4, from
Kager, Wadman & Somjen 2000 and Ransom & Sontheimer 1995) as Saetra et al. 2021 use it for the
glia of edNEGmodel (PLoS Comput Biol 17:e1008143):

  f(K_o, V, E_K) = sqrt(K_o / K_o_ref)
                   * (1 + exp(a / s)) / (1 + exp((V - E_K + a) / s))
                   * (1 + exp(-(b + E_K_ref) / r)) / (1 + exp(-(b + V) / r))

with a = 18.5 mV, s = 42.5 mV, b = 118.6 mV, r = 44.1 mV (all in mV), K_o_ref and E_K_ref the
reference state (f = 1 there, up to Halnes's 18.4/42.4 in the first numerator: a factor
0.99919 that a conductance absorbs). Two flux laws, both with local detailed balance:

- `permeability_cm_per_s` given: GHK unidirectional fluxes (as a leak) times f,
  k_out = P*A/vol_in * f * u/(1 - exp(-u)), k_in = P*A/vol_out * f * u/(exp(u) - 1);
- `conductance_mS_per_cm2` given: Halnes's / edNEGmodel's linear law I = g A f (V - E_K),
  split into unidirectional fluxes that obey Ussing's ratio: with w = zF(V - E_K)/RT,
  a_out = G0 f w/(1 - exp(-w)), a_in = G0 f w/(exp(w) - 1), G0 = g A k_B T / (z e)^2,
  so a_out - a_in = g A f (V - E_K)/(z e) exactly.

Both directions carry the same factor f, so the flux ratio (and the equilibrium) is the
Nernst one whatever f does. For the ledger to close to rounding under `ssa`
(docs/physics.md, "Where the ledger is exact") every state-dependent factor is taken at
the jump's midpoint: V_mid, and the counts n + dn/2, which are the same state for an
outward jump from x and the inward jump back from x + dn, so f cancels from the ratio
a_out(x)/a_in(x'). The linear law's E_K in w uses the counts (n_in, n_out + 1) for an
outward jump and (n_in + 1, n_out) for an inward one (+0 on a clamped side): both give
ln(n_out'/n_in) of the pair, so a_out(x)/a_in(x') holds exactly the ledger's count factor.
"""
import math

from ionmc.constants import CM_TO_M, E_CHARGE, F, K_B, R, UM2_TO_M2, UM3_TO_M3
from ionmc.mechanisms.base import Mechanism
from ionmc.physics import ghk_factor
from ionmc.numba_conf import entry, leaf
from ionmc.physics import q10_factor
from ionmc.ranges import POTENTIAL_MV, Q10, Range, positive

TYPE = "kir"

PARAMS = {
    "membrane": (None, "membrane name"),
    "species": ("K", "the permeant species (K+)"),
    "permeability_cm_per_s": (-1.0, "GHK permeability P (cm/s) at 37 C at f = 1",
                              Range(0.0, 1e-2, unset=-1.0)),
    "conductance_mS_per_cm2": (-1.0, "linear-law conductance g (mS/cm^2) at f = 1 "
                                      "(Halnes 2013, edNEGmodel); give this or P",
                               Range(0.0, 1e3, unset=-1.0)),
    "K_o_ref_mM": (3.0, "reference outside K+ of the sqrt factor (Halnes 2013: 3 mM)",
                   positive(1e3)),
    "E_K_ref_mV": (-93.7, "E_K of the reference state (the outer normalisation); default "
                          "E_K at K_o 3 mM, K_i 100 mM, 310 K, near edNEGmodel's glial "
                          "baseline", POTENTIAL_MV),
    "shift_mV": (18.5, "a: (V - E_K + a)/s in the first rectification factor", POTENTIAL_MV),
    "slope_mV": (42.5, "s", positive(300.0)),
    "V_half_mV": (-118.6, "-b: (V + b)/r in the second factor", POTENTIAL_MV),
    "V_slope_mV": (44.1, "r", positive(300.0)),
    "q10": (1.3, "temperature coefficient", Q10),
}

#: transition kinds (registry.py numbers them): one ion inside -> outside, and back
KINDS = ("out", "in")

# parameter row: prefactor (1/s), zF/RT (1/V), linear law (1) or GHK (0),
# 1/K_o_ref (per ion: inv_nvol folded), half-steps of the inside and outside counts at the
# midpoint, E_K-count offsets of inside and outside (linear law), then the rectification
# constants in volts: a, s, b, r, and the outer normalisation A*B
P_PRE, P_ZU, P_LIN, P_KREF, P_HIN, P_HOUT, P_EIN, P_EOUT, P_A, P_S, P_B, P_R, P_NORM = \
    range(13)
N_PAR = 13
# index row: inside and outside count of the species
I_IN, I_OUT = 0, 1


def check(t, ctx):
    """Problems with a filled Kir table: [(key, message)]."""
    species = ctx.species
    s = t["species"]
    if s not in species:
        return [("species", f"unknown species {s!r}")]
    if species[s]["charge"] == 0:
        return [("species", f"{s!r} has no charge")]
    has_p = t["permeability_cm_per_s"] >= 0
    has_g = t["conductance_mS_per_cm2"] >= 0
    if has_p == has_g:
        return [("permeability_cm_per_s", "give either permeability_cm_per_s (GHK) or "
                 "conductance_mS_per_cm2 (linear law), not both" if has_p else
                 "missing: give permeability_cm_per_s (GHK) or conductance_mS_per_cm2")]
    return []


def factor(K_o_mM, V, E_K, t):
    """The rectification factor f (module docstring) at K_o (mM), V and E_K (volts)."""
    a, s = t["shift_mV"] * 1e-3, t["slope_mV"] * 1e-3
    b, r = -t["V_half_mV"] * 1e-3, t["V_slope_mV"] * 1e-3
    norm = (1.0 + math.exp(a / s)) * (1.0 + math.exp(-(b + t["E_K_ref_mV"] * 1e-3) / r))
    return math.sqrt(K_o_mM / t["K_o_ref_mM"]) * norm / (
        (1.0 + math.exp((V - E_K + a) / s)) * (1.0 + math.exp(-(b + V) / r)))


def rows(t, z, T, area_um2, vol_in_um3, vol_out_um3, inv_nvol_out, clamped_in, clamped_out):
    """(outward, inward) parameter rows."""
    import numpy as np

    q = q10_factor(t["q10"], T)
    a, s = t["shift_mV"] * 1e-3, t["slope_mV"] * 1e-3
    b, r = -t["V_half_mV"] * 1e-3, t["V_slope_mV"] * 1e-3
    norm = (1.0 + math.exp(a / s)) * (1.0 + math.exp(-(b + t["E_K_ref_mV"] * 1e-3) / r))
    di, do = (0.0 if clamped_in else 1.0), (0.0 if clamped_out else 1.0)
    out, inw = np.zeros(N_PAR), np.zeros(N_PAR)
    for row, sign in ((out, 1.0), (inw, -1.0)):
        row[[P_ZU, P_KREF, P_A, P_S, P_B, P_R, P_NORM]] = [
            z * F / (R * T), inv_nvol_out / t["K_o_ref_mM"], a, s, b, r, norm]
        # midpoint counts: an outward jump takes one from inside and adds one outside
        row[P_HIN], row[P_HOUT] = -0.5 * sign * di, 0.5 * sign * do
    if t["permeability_cm_per_s"] >= 0:
        pa = t["permeability_cm_per_s"] * q * CM_TO_M * area_um2 * UM2_TO_M2
        out[P_PRE] = pa / (vol_in_um3 * UM3_TO_M3)
        inw[P_PRE] = pa / (vol_out_um3 * UM3_TO_M3)
    else:
        g = t["conductance_mS_per_cm2"] * q * 10.0 * area_um2 * UM2_TO_M2  # S
        g0 = g * K_B * T / (z * E_CHARGE) ** 2
        out[P_PRE] = inw[P_PRE] = g0
        out[P_LIN] = inw[P_LIN] = 1.0
        out[P_EOUT] = do   # outward: (n_in, n_out + 1)
        inw[P_EIN] = di    # inward: (n_in + 1, n_out)
    return out, inw


@leaf
def rate(j, outward, x, v, P, II, inv_nvol):
    """Propensity (1/s) of Kir transition j (outward or not) in state x at midpoint
    potential v (module docstring)."""
    i_in, i_out = II[j, I_IN], II[j, I_OUT]
    n_in, n_out = x[i_in] * 1.0, x[i_out] * 1.0
    if (n_in if outward else n_out) <= 0.0:
        return 0.0
    zu = P[j, P_ZU]
    # the rectification factor at the jump's midpoint counts and potential
    k_o = n_out + P[j, P_HOUT]
    k_i = n_in + P[j, P_HIN]
    if k_o <= 0.0:
        return 0.0  # f ~ K_o^(1/2 + RT/Fs) has gone to 0 continuously
    a, s, b, r = P[j, P_A], P[j, P_S], P[j, P_B], P[j, P_R]
    den = 1.0 + math.exp(-(b + v) / r)
    if k_i > 0.0:
        # E_K = ln(c_o/c_i) / zu, with the volumes of the two sides
        e_k = math.log(k_o * inv_nvol[i_out] / (k_i * inv_nvol[i_in])) / zu
        den *= 1.0 + math.exp((v - e_k + a) / s)
    # else: the midpoint's K_i is gone (an outward jump from the ode's last half ion):
    # E_K -> +inf, and the first factor's limit, 1, keeps the rate (~ n_in) continuous
    f = math.sqrt(k_o * P[j, P_KREF]) * P[j, P_NORM] / den
    if P[j, P_LIN] == 0.0:
        if outward:
            return P[j, P_PRE] * f * ghk_factor(zu * v) * n_in
        return P[j, P_PRE] * f * ghk_factor(-zu * v) * n_out
    w = zu * v - math.log((n_out + P[j, P_EOUT]) * inv_nvol[i_out]
                          / ((n_in + P[j, P_EIN]) * inv_nvol[i_in]))
    if outward:
        return P[j, P_PRE] * f * ghk_factor(w)
    return P[j, P_PRE] * f * ghk_factor(-w)


def net_current(t, z, T, area_um2, c_in, c_out, V):
    """Mean-field net outward current (A) at concentrations c_in, c_out (mM) and V (volts):
    f g A (V - E_K) for the linear law, f times the GHK current otherwise (module
    docstring); for `ionmc energetics`."""
    from ionmc.thermo.closed_forms import ghk_current

    q = q10_factor(t["q10"], T)
    e_k = R * T / (z * F) * math.log(c_out / c_in)
    f = factor(c_out, V, e_k, t)
    if t["permeability_cm_per_s"] >= 0:
        return f * ghk_current(t["permeability_cm_per_s"] * q, area_um2, z, c_in, c_out, V, T)
    return f * t["conductance_mS_per_cm2"] * q * 10.0 * area_um2 * UM2_TO_M2 * (V - e_k)


# -- for the kernels' dispatch table (engine/dispatch.py) -----------------------------
@entry
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    return rate(j, k == 0, x, V[mem[j]] + half_dv[j], P, II, inv_nvol)


class Kir(Mechanism):
    """One pair across a membrane, whose rates read K_o and both counts."""

    def build(self, model, tr):
        mi, cin, cout = self.membrane_sides(model)
        s = self.spec["species"]
        i_in, i_out = model.idx(cin, s), model.idx(cout, s)
        ii = tr.index_row()
        ii[[I_IN, I_OUT]] = [i_in, i_out]
        t0 = tr.pair((self.kind("out"), self.kind("in")), (i_in, i_out), mi,
                     {i_in: -1, i_out: +1}, ii)
        self.transitions = [t0, t0 + 1]
        self.ref = (t0, t0 + 1)
        self.efflux = {s: {t0: 1, t0 + 1: -1}}

    def reads(self, model, j):
        return super().reads(model, j) | {("x", int(i)) for i in model.tr_ii[j, :2]}

    def update_parameters(self, model):
        d = model.scenario.data
        mspec = d["membranes"][self.spec["membrane"]]
        s = self.spec["species"]
        i_in, i_out = model.idx(mspec["inside"], s), model.idx(mspec["outside"], s)
        out, inw = rows(self.spec, d["species"][s]["charge"], model.T, mspec["area_um2"],
                        model.vol[model.comps.index(mspec["inside"])],
                        model.vol[model.comps.index(mspec["outside"])],
                        model.inv_nvol[i_out], model.clamped[i_in], model.clamped[i_out])
        j0, j1 = self.transitions
        model.tr_p[j0, :N_PAR] = out
        model.tr_p[j1, :N_PAR] = inw

    def passive_current(self, model, V, concs):
        """Kir channels count as the membrane's K+ conductance."""
        _, cin, cout = self.membrane_sides(model)
        s = self.spec["species"]
        c_in, c_out = concs(cin, s), concs(cout, s)
        if not (c_in > 0 and c_out > 0):
            return {}
        d = model.scenario.data
        return {s: net_current(self.spec, d["species"][s]["charge"], model.T,
                               d["membranes"][self.spec["membrane"]]["area_um2"], c_in, c_out,
                               V)}


MECHANISM = Kir
