"""Leak channels: unidirectional Goldman-Hodgkin-Katz fluxes (DESIGN.md section 1).

With u = zFV/RT, the efflux per inside ion is k_out = P*A/vol_in * u/(1 - exp(-u)) and the
influx per outside ion is k_in = P*A/vol_out * u/(exp(u) - 1) (Goldman 1943; Hodgkin & Katz
1949). Their ratio is Ussing's flux ratio (Ussing 1949), which makes the pair obey local
detailed balance exactly when V is taken at the jump's midpoint.
"""

from ionmc.constants import CM_TO_M, F, R, UM2_TO_M2, UM3_TO_M3
from ionmc.mechanisms.base import Mechanism
from ionmc.numba_conf import inlined, leaf
from ionmc.physics import ghk_factor, q10_factor
from ionmc.ranges import Q10, Range

TYPE = "leak"

#: name -> (default, unit/meaning). None = required.
PARAMS = {
    "membrane": (None, "membrane name"),
    "species": (None, "species name"),
    "permeability_cm_per_s": (None, "GHK permeability P (cm/s) at 37 C", Range(0.0, 1e-2)),
    "q10": (1.3, "temperature coefficient of the permeability", Q10),
}

#: transition kinds (registry.py numbers them): one ion inside -> outside, and back
KINDS = ("out", "in")
#: the SSA tabulates its V factor on the charge lattice (engine/lattice.py); its propensity
#: is a rate per ion at the source (tau-leap may draw binomials)
LATTICE = True
FIRST_ORDER = True


@leaf
def v_factor(j, k, v, P, II):
    """The V-dependent factor of leak transition j (k = 0 out, 1 in) at midpoint potential
    v: P[j, 0] = P*A/vol of the source side, P[j, 1] = zF/RT. Tabulated on the charge
    lattice by the SSA (engine/lattice.py)."""
    if k == 0:
        return P[j, 0] * ghk_factor(P[j, 1] * v)
    return P[j, 0] * ghk_factor(-P[j, 1] * v)


_v_factor = inlined(v_factor)


@leaf
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    """Propensity (1/s): the GHK rate per ion times the ions on the source side."""
    n = x[src[j]]
    if n <= 0:
        return 0.0
    # midpoint potential: hdv holds dV/2 of each transition (0 on a clamped membrane)
    return n * _v_factor(j, k, V[mem[j]] + half_dv[j], P, II)


@leaf
def lattice_rate(j, k, x, n, f, P, II, inv_nvol):
    """Propensity from the tabulated factor f (`v_factor`) and n > 0 ions at the source."""
    return n * f


class Leak(Mechanism):
    """One GHK pair across a membrane: out (inside -> outside) and in."""

    def build(self, model, tr):
        mi, cin, cout = self.membrane_sides(model)
        s = self.spec["species"]
        i_in, i_out = model.idx(cin, s), model.idx(cout, s)
        t0 = tr.pair((self.kind("out"), self.kind("in")), (i_in, i_out), mi,
                     {i_in: -1, i_out: +1})
        self.transitions = [t0, t0 + 1]
        self.ref = (t0, t0 + 1)
        self.efflux = {s: {t0: 1, t0 + 1: -1}}

    def update_parameters(self, model):
        d = model.scenario.data
        mspec = d["membranes"][self.spec["membrane"]]
        z = d["species"][self.spec["species"]]["charge"]
        q = q10_factor(self.spec["q10"], model.T)
        pa = self.spec["permeability_cm_per_s"] * q * CM_TO_M * mspec["area_um2"] * UM2_TO_M2
        vin = d["compartments"][mspec["inside"]]["volume_um3"] * UM3_TO_M3
        vout = d["compartments"][mspec["outside"]]["volume_um3"] * UM3_TO_M3
        j0, j1 = self.transitions
        model.tr_p[j0, :2] = [pa / vin, z * F / (R * model.T)]
        model.tr_p[j1, :2] = [pa / vout, z * F / (R * model.T)]

    def passive_current(self, model, V, concs):
        from ionmc.thermo.closed_forms import ghk_current

        _, cin, cout = self.membrane_sides(model)
        s = self.spec["species"]
        z = model.scenario.data["species"][s]["charge"]
        P = self.spec["permeability_cm_per_s"] * q10_factor(self.spec["q10"], model.T)
        area = model.scenario.data["membranes"][self.spec["membrane"]]["area_um2"]
        return {s: ghk_current(P, area, z, concs(cin, s), concs(cout, s), V, model.T)}


MECHANISM = Leak


def check(t, ctx):
    """Problems with a filled leak table: [(key, message)]."""
    if t["permeability_cm_per_s"] < 0:
        return [("permeability_cm_per_s", "must not be negative")]
    if not ctx.species[t["species"]]["permeant"]:
        return [("species", f"{t['species']!r} is impermeant")]
    return []
