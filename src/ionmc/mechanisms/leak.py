"""Leak channels: unidirectional Goldman-Hodgkin-Katz fluxes, or
ohmic ones.

GHK (`conduction = "ghk"`, the default): with u = zFV/RT, the efflux per inside ion is
k_out = P*A/vol_in * u/(1 - exp(-u)) and the influx per outside ion is
k_in = P*A/vol_out * u/(exp(u) - 1) (Goldman 1943; Hodgkin & Katz 1949). Their ratio is
Ussing's flux ratio (Ussing 1949), which makes the pair obey local detailed balance exactly
when V is taken at the jump's midpoint.

Ohmic (`conduction = "ohmic"`, `conductance_mS_per_cm2`): the net current is g (V - E), E
the Nernst potential of the current concentrations, as in Hodgkin & Huxley 1952 and most
conductance-based models; it is split into two unidirectional fluxes G w/(1 - e^-w) and
G w/(e^w - 1), G = g RT/(z^2 F e), w = zF(V - E)/RT, whose ratio is again Ussing's, so ions
move, conservation holds and the ledger closes (physics.ohmic_factor). Its rate is not
proportional to the source count (E reads both sides), so the SSA does not tabulate it.
"""

from ionmc.constants import CM_TO_M, E_CHARGE, F, R, UM2_TO_M2, UM3_TO_M3
from ionmc.mechanisms import conduction
from ionmc.mechanisms.base import Mechanism
from ionmc.numba_conf import inlined, leaf
from ionmc.physics import ghk_factor, ohmic_factor, q10_factor
from ionmc.ranges import Q10, Range

TYPE = "leak"

#: name -> (default, unit/meaning). None = required.
PARAMS = {
    "membrane": (None, "membrane name"),
    "species": (None, "species name"),
    "conduction": ("ghk", "'ghk' (permeability) or 'ohmic' (conductance, g (V - E))"),
    "permeability_cm_per_s": (None, "GHK permeability P (cm/s) at 37 C", Range(0.0, 1e-2)),
    "conductance_mS_per_cm2": (None, "ohmic conductance g (mS/cm^2) at 37 C",
                               Range(0.0, 1e4)),
    "q10": (1.3, "temperature coefficient of the permeability or conductance", Q10),
}
PARAM_TYPES = {"conduction": str}
#: each conduction's own key (the other defaults to 0 and must stay so)
CONDUCTION_KEY = {"ghk": "permeability_cm_per_s", "ohmic": "conductance_mS_per_cm2"}

#: transition kinds (registry.py numbers them): one ion inside -> outside, and back, by GHK
#: or ohmic conduction
KINDS = ("out", "in", "ohm_out", "ohm_in")
#: the SSA tabulates the GHK kinds' V factor on the charge lattice (engine/lattice.py);
#: their propensity is a rate per ion at the source (tau-leap may draw binomials)
LATTICE = ("out", "in")
FIRST_ORDER = ("out", "in")
# an ohmic transition's index row: the ion index of its destination
I_DST = 0


def resolve(raw):
    """`conduction` checked, and the other conduction's key set to 0."""
    return conduction.resolve(dict(raw), CONDUCTION_KEY, "leak")


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
    """Propensity (1/s): the GHK rate per ion times the ions on the source side, or the
    ohmic flux (k = 2 out, 3 in: P[j, 0] = G in ions/s, P[j, 1] = zF/RT, P[j, 2] what a
    jump adds to its destination's count: 1, 0 when clamped)."""
    i = src[j]
    n = x[i]
    if n <= 0:
        return 0.0
    # midpoint potential: hdv holds dV/2 of each transition (0 on a clamped membrane)
    v = V[mem[j]] + half_dv[j]
    if k >= 2:
        d = II[j, I_DST]
        zu = P[j, 1] * v if k == 2 else -P[j, 1] * v
        return P[j, 0] * ohmic_factor(zu, n, inv_nvol[i], x[d], inv_nvol[d], P[j, 2])
    return n * _v_factor(j, k, v, P, II)


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
        ohmic = self.spec["conduction"] == "ohmic"
        kinds = ("ohm_out", "ohm_in") if ohmic else ("out", "in")
        rows = [tr.index_row(), tr.index_row()]
        if ohmic:  # its rate reads the destination's count too
            rows[0][I_DST], rows[1][I_DST] = i_out, i_in
        t0 = tr.pair((self.kind(kinds[0]), self.kind(kinds[1])), (i_in, i_out), mi,
                     {i_in: -1, i_out: +1}, rows)
        self.transitions = [t0, t0 + 1]
        self.ref = (t0, t0 + 1)
        self.efflux = {s: {t0: 1, t0 + 1: -1}}

    def reads(self, model, j):
        """Its source count and V; an ohmic one also the destination's count (E)."""
        r = super().reads(model, j)
        d = int(model.tr_ii[j, I_DST])
        return r | {("x", d)} if d >= 0 else r

    def update_parameters(self, model):
        d = model.scenario.data
        mspec = d["membranes"][self.spec["membrane"]]
        z = d["species"][self.spec["species"]]["charge"]
        q = q10_factor(self.spec["q10"], model.T)
        j0, j1 = self.transitions
        if self.spec["conduction"] == "ohmic":
            g = self.spec["conductance_mS_per_cm2"] * q * 1e-3 * mspec["area_um2"] * 1e-8  # S
            G = g * R * model.T / (z * z * F * E_CHARGE)  # ions/s per unit w/(1 - e^-w)
            for j in (j0, j1):
                grow = 0.0 if model.clamped[model.tr_ii[j, I_DST]] else 1.0
                model.tr_p[j, :3] = [G, z * F / (R * model.T), grow]
            return
        pa = self.spec["permeability_cm_per_s"] * q * CM_TO_M * mspec["area_um2"] * UM2_TO_M2
        vin = d["compartments"][mspec["inside"]]["volume_um3"] * UM3_TO_M3
        vout = d["compartments"][mspec["outside"]]["volume_um3"] * UM3_TO_M3
        model.tr_p[j0, :2] = [pa / vin, z * F / (R * model.T)]
        model.tr_p[j1, :2] = [pa / vout, z * F / (R * model.T)]

    def passive_current(self, model, V, concs):
        from ionmc.thermo.closed_forms import ghk_current, nernst

        _, cin, cout = self.membrane_sides(model)
        s = self.spec["species"]
        z = model.scenario.data["species"][s]["charge"]
        q = q10_factor(self.spec["q10"], model.T)
        area = model.scenario.data["membranes"][self.spec["membrane"]]["area_um2"]
        if self.spec["conduction"] == "ohmic":
            g = self.spec["conductance_mS_per_cm2"] * q * 1e-3 * area * 1e-8
            return {s: g * (V - nernst(z, concs(cin, s), concs(cout, s), model.T))}
        P = self.spec["permeability_cm_per_s"] * q
        return {s: ghk_current(P, area, z, concs(cin, s), concs(cout, s), V, model.T)}

    def sbml_rate(self, model, j, name_of):
        """Transition j's ode propensity (ions/s) as an infix formula: `propensity` above with
        the parameter row as literals, V at the jump's midpoint (V + dV/2, a constant offset
        of the membrane's potential `name_of.potential(m)`), counts `name_of(state index)`."""
        from ionmc.export import sbml_ghk, sbml_number

        k = int(model.tr_kind[j]) - self.kind("out")  # 0 out, 1 in, 2, 3 ohmic
        P = model.tr_p[j]
        n = name_of(int(model.tr_src[j]))
        v = f"({name_of.potential(int(model.tr_mem[j]))} + {sbml_number(model.tr_half_dv[j])})"
        sign = "" if k in (0, 2) else "-"
        zu = f"{sign}{sbml_number(P[1])} * {v}"
        if k >= 2:  # ohmic: G ghk(w), w = zu + ln(c_src / c_dst(+1)), 0 with no ion to move
            i, d = int(model.tr_src[j]), int(model.tr_ii[j, I_DST])
            w = (f"{zu} + ln({n} * {sbml_number(model.inv_nvol[i])} / "
                 f"(({name_of(d)} + 1) * {sbml_number(model.inv_nvol[d])}))")
            return f"piecewise(0, {n} <= 0, {sbml_number(P[0])} * {sbml_ghk(w)})"
        return f"{n} * {sbml_number(P[0])} * {sbml_ghk(zu)}"


MECHANISM = Leak


def check(t, ctx):
    """Problems with a filled leak table: [(key, message)]."""
    if not ctx.species[t["species"]]["permeant"]:
        return [("species", f"{t['species']!r} is impermeant")]
    return []
