"""Couplings: electrodiffusion between two compartments without a membrane between them
(docs/mechanisms/couplings.md) -- shells of extracellular space, gap junctions between astrocytes.

Each species the coupling carries is one reversible transition pair; the forward event moves
one ion from the first compartment (a) to the second (b). GHK form, as a leak's with the
membrane replaced by the two compartments' potentials: with u = zF(V_a - V_b)/RT,

  k_ab = P*A/vol_a * u/(1 - exp(-u))    per ion in a,
  k_ba = P*A/vol_b * u/(exp(u) - 1)     per ion in b,

P = D/length (Fick: a slab of `length_um` and cross-section `area_um2`; D the ion's
diffusion coefficient over the squared tortuosity, Nicholson & Sykova 1998, Trends Neurosci
21:207) or a junction's permeability. V_a - V_b is the difference of the two compartments'
potentials, each the sum of the V of the membranes enclosing it (0 inside none; a
compartment given a capacitance to ground by a membrane to "ground" has a potential of its
own): the membranes enclosing both cancel, and the rest are summed per side (base.py's
`potential_path`).

Their ratio k_ab n_a / (k_ba n_b) = (c_a/c_b) exp(u) is the Ussing flux ratio, so the
coupling equilibrates to the Boltzmann ratio c_b/c_a = exp(-zF(V_b - V_a)/RT) (equal
concentrations at equal potentials). An event may change the charge of several membranes: the
propensities use the midpoint of each, V_a + dV_a/2 - V_b - dV_b/2 (`Model.tr_half_dv` holds
(dV_a - dV_b)/2), which makes the transition elementary in the ledger's sense.

Free-solution diffusion coefficients at 25 C (Hille 2001, Ion Channels of Excitable
Membranes, 3rd ed., Table 14.1 from Robinson & Stokes; the same as Lide, CRC Handbook) are the
defaults where `D_um2_per_s` does not name a species; they are scaled to 37 C by `q10`.
"""
import copy
import math

from ionmc.constants import CM_TO_M, F, R, UM2_TO_M2, UM3_TO_M3
from ionmc.mechanisms.base import LEDGER_NONE, MAX_PATH, Mechanism, membrane_path, path_half_dv, \
    path_row, path_sum
from ionmc.physics import ghk_factor
from ionmc.numba_conf import entry, leaf
from ionmc.physics import q10_factor
from ionmc.ranges import Q10, Range

TYPE = "coupling"

#: free-solution D (um^2/s) at 25 C (Hille 2001, Table 14.1); scaled to 37 C by q10
D_FREE_UM2_PER_S = {"Na": 1330.0, "K": 1960.0, "Cl": 2030.0, "Ca": 790.0}

PARAMS = {
    "compartments": (None, "[first, second]: a forward event moves one ion first -> second"),
    "species": (None, "species carried (a name or a list of names)"),
    "area_um2": (None, "cross-section area (um^2) of the slab, or of the junctions (0: closed)",
                 Range(0.0, 1e9)),
    "permeability_cm_per_s": (-1.0, "P (cm/s) for every species; -1: D / length",
                              Range(0.0, 1e3, unset=-1.0)),
    "length_um": (-1.0, "diffusion length (um), with D_um2_per_s (when P is not given)",
                  Range(0.0, 1e6, open_lo=True, unset=-1.0)),
    "D_um2_per_s": ({}, "D (um^2/s) at 37 C: a number for every species, or a table "
                        "species -> D; species not named use free-solution values"),
    "tortuosity": (1.0, "lambda: D_eff = D / lambda^2 (extracellular space ~1.6)",
                   Range(1.0, 10.0)),
    "q10": (1.3, "temperature coefficient of the permeability", Q10),
}
PARAM_TYPES = {"compartments": list, "species": list, "D_um2_per_s": dict}
#: keys that fix the coupling's structure: no event may change them
FIXED = ("compartments", "species", "D_um2_per_s")

# parameter row: prefactor P*A/vol_src (1/s), zF/RT (1/V)
P_PA, P_ZU = 0, 1
N_PAR = 2
#: transition kinds (registry.py numbers them): first -> second compartment, and back
KINDS = ("fw", "bw")
#: its propensity is a rate per ion at the source (tau-leap may draw binomials)
FIRST_ORDER = True
# index row: the membranes whose V sum to the source's potential over the destination's
# (base.path_row), then those summing to the destination's over the source's
I_PSRC, I_PDST = 0, MAX_PATH
N_II = 2 * MAX_PATH


def resolve(raw):
    """Normalise the table: `species` a list, `D_um2_per_s` a table. (table, error)."""
    t = copy.deepcopy(raw)
    sp = t.get("species")
    if isinstance(sp, str):
        t["species"] = [sp]
    d = t.get("D_um2_per_s")
    if isinstance(d, (int, float)) and not isinstance(d, bool):
        if not isinstance(t.get("species"), list):
            return t, ("species", "must be a species name or a list of names")
        t["D_um2_per_s"] = {s: float(d) for s in t["species"]}
    return t, None


def _check_fields(t, species, comps):
    """Problems with a filled coupling table's own fields: [(key, message)]."""
    cs = t["compartments"]
    if len(cs) != 2 or not all(isinstance(c, str) for c in cs):
        return [("compartments", "must be a list of two compartment names")]
    for c in cs:
        if c not in comps:
            return [("compartments", f"unknown compartment {c!r}")]
    if cs[0] == cs[1]:
        return [("compartments", f"the two compartments are the same ({cs[0]!r})")]
    sp = t["species"]
    if not sp:
        return [("species", "names no species")]
    for s in sp:
        if not isinstance(s, str) or s not in species:
            return [("species", f"unknown species {s!r}")]
        if not species[s]["permeant"]:
            return [("species", f"{s!r} is impermeant")]
    if len(set(sp)) != len(sp):
        return [("species", "names a species twice")]
    has_p = t["permeability_cm_per_s"] >= 0
    has_l = t["length_um"] != -1.0
    if has_p == has_l:
        return [("permeability_cm_per_s", "give either permeability_cm_per_s or length_um "
                 "(with D_um2_per_s), not both")] if has_p else \
            [("length_um", "missing: give length_um (P = D / length) or "
              "permeability_cm_per_s")]
    if has_l:
        for s, v in t["D_um2_per_s"].items():
            if s not in sp:
                return [(f"D_um2_per_s.{s}", f"{s!r} is not in species")]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0 \
                    or not math.isfinite(v):
                return [(f"D_um2_per_s.{s}", f"must be a non-negative number (got {v!r})")]
        for s in sp:
            if s not in t["D_um2_per_s"] and s not in D_FREE_UM2_PER_S:
                return [("D_um2_per_s", f"no diffusion coefficient for {s!r}: give "
                         f"D_um2_per_s = {{ {s} = ... }}")]
    return []


def check(t, ctx):
    """Problems with a filled coupling table: [(key, message)] (empty if none). A coupling
    may draw on a clamped species only in a compartment at a fixed potential (inside no
    membrane, or inside a clamped one): the ledger's bath work then needs no potential that
    the jump changes (thermo/ledger.py)."""
    bad = _check_fields(t, ctx.species, ctx.compartments)
    if bad:
        return bad
    far = ctx.path_problem(*t["compartments"])
    if far:
        return [("compartments", far)]
    for c in t["compartments"]:
        if ctx.fixed_potential(c):
            continue
        m = ctx.enclosing(c)[0]
        for s in t["species"]:
            if s in ctx.compartments[c]["clamped_species"]:
                return [("species", f"{s!r} is clamped in {c!r}, whose membrane {m!r} is not "
                         "voltage-clamped: not supported (clamp the membrane or couple "
                         "another compartment)")]
    return []


def permeability_m_per_s(t, s, T):
    """P (m/s) of species s at temperature T."""
    q = q10_factor(t["q10"], T)
    if t["permeability_cm_per_s"] >= 0:
        return t["permeability_cm_per_s"] * CM_TO_M * q
    if s in t["D_um2_per_s"]:
        d = float(t["D_um2_per_s"][s])
    else:  # free-solution value at 25 C, taken to 37 C
        d = D_FREE_UM2_PER_S[s] * t["q10"] ** ((310.0 - 298.15) / 10.0)
    return d * 1e-12 / t["tortuosity"] ** 2 / (t["length_um"] * 1e-6) * q


def rows(t, s, z, T, vol_a_um3, vol_b_um3):
    """(forward, backward) parameter rows of species s (charge z)."""
    pa = permeability_m_per_s(t, s, T) * t["area_um2"] * UM2_TO_M2
    zu = z * F / (R * T)
    return [pa / (vol_a_um3 * UM3_TO_M3), zu], [pa / (vol_b_um3 * UM3_TO_M3), zu]


@leaf
def rate(j, n, V, half_dv, P, II):
    """Propensity (1/s) of coupling transition j with n ions in its source compartment:
    GHK in the midpoint potential difference source - destination (module docstring)."""
    if n <= 0:
        return 0.0
    v = half_dv
    v += path_sum(V, II, j, I_PSRC)
    v -= path_sum(V, II, j, I_PDST)
    return P[j, P_PA] * ghk_factor(P[j, P_ZU] * v) * n


# -- for the kernels' dispatch table (engine/dispatch.py) -----------------------------
@entry
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    """hdv holds half the jump's change of V_source - V_destination."""
    return rate(j, x[src[j]], V, half_dv[j], P, II)


class Coupling(Mechanism):
    """One pair per species between two compartments, on no membrane of its own."""

    def build(self, model, tr):
        spec = self.spec
        t0 = len(tr)
        ca, cb = spec["compartments"]
        # the pair's own membrane (Model.tr_mem): the first a jump charges
        of_a, of_b, mem = membrane_path(model, ca, cb)
        for s in spec["species"]:
            i_a, i_b = model.idx(ca, s), model.idx(cb, s)
            r_f, r_b = tr.index_row(), tr.index_row()
            for r, (p_src, p_dst) in ((r_f, (of_a, of_b)), (r_b, (of_b, of_a))):
                path_row(r, I_PSRC, p_src)
                path_row(r, I_PDST, p_dst)
            # its ledger needs no potential sum (kernels.ledger_arg)
            j = tr.pair((self.kind("fw"), self.kind("bw")), (i_a, i_b),
                        mem, {i_a: -1, i_b: +1}, (r_f, r_b), LEDGER_NONE)
            self.efflux[s] = {j: 1, j + 1: -1}  # net first -> second
        self.transitions = list(range(t0, len(tr)))
        self.ref = (t0, t0 + 1)

    def reads(self, model, j):
        return {("x", int(model.tr_src[j]))} | {("V", int(m)) for m in model.tr_ii[j, :N_II]
                                                 if m >= 0}

    def half_dv(self, model, j, dv):
        """Half the jump's change of V_source - V_destination (dv: per membrane)."""
        return path_half_dv(dv, model.tr_ii, j, I_PSRC) - path_half_dv(dv, model.tr_ii, j, I_PDST)

    def update_parameters(self, model):
        d = model.scenario.data
        spec = self.spec
        va, vb = (d["compartments"][c]["volume_um3"] for c in spec["compartments"])
        for k, s in enumerate(spec["species"]):
            fw, bw = rows(spec, s, d["species"][s]["charge"], model.T, va, vb)
            j0, j1 = self.transitions[2 * k:2 * k + 2]
            model.tr_p[j0, :N_PAR] = fw
            model.tr_p[j1, :N_PAR] = bw


MECHANISM = Coupling
