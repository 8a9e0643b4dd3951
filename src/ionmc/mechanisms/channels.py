"""Voltage-gated channels as agents: Hodgkin-Huxley gating as a Markov scheme, GHK conduction.

A population of N channels (density x area) is counted per gating state, like the pump's
cycle states (counts per state: exact in distribution). A gate family has an
activation gate of power p (HH's m^3 or n^4) and optionally one inactivation gate (h).
With independent identical gates the HH product m^p h is the occupancy of one state of the
equivalent Markov scheme (Fitzhugh 1965; Skaugen & Walloe 1979, Acta Physiol Scand
107:343; Hille, Ion Channels of Excitable Membranes, ch. 18): states (k, j), k = 0..p
activation gates open, j = 0..1 inactivation gate open, with

  (k, j) -> (k+1, j)   (p - k) alpha_m(V)        (k+1, j) -> (k, j)   (k + 1) beta_m(V)
  (k, 0) -> (k, 1)     alpha_h(V)                (k, 1) -> (k, 0)     beta_h(V)

and only (p, 1) (or (p,) without inactivation) conducts. At fixed V the stationary state
is the product of binomials, P(k, j) = C(p, k) m^k (1-m)^(p-k) h^j (1-h)^(1-j) with
m = m_inf(V), h = h_inf(V) (each square of the scheme is detailed-balanced), and from
m(0), h(0) at the product form the open probability follows m(t)^p h(t) with
m(t) = m_inf + (m(0) - m_inf) exp(-t/tau_m) (what the tests check).

Gate families (`gates`), rate functions in 1/ms with V in mV:
- `hh_na` (m^3 h) and `hh_k` (n^4): Hodgkin & Huxley 1952 (J Physiol 117:500), squid
  giant axon, in the modern sign convention with the rest at -65 mV; their rates are for
  6.3 C and scale with `q10_gating` (3, HH 1952's own factor 3^((T - 6.3 C)/10)).
- `pr_na` (m^2 h) and `pr_kdr` (n): Pinsky & Rinzel 1994 (J Comput Neurosci 1:39) soma
  Na+ and delayed-rectifier K+, with the potentials of the electrodiffusive version
  (Saetra et al. 2020, PLoS Comput Biol 16:e1007661; edNEGmodel's neuron), at 37 C.
  Pinsky & Rinzel take Na+ activation as instantaneous (m_inf^2 h); here m is a kinetic
  gate with their alpha_m, beta_m (tau_m <= 0.16 ms), as a channel agent must be.

Conduction (`conduction = "ohmic"`): the open channels carry HH's current
N_open gamma (V - E), split into two unidirectional fluxes as an ohmic leak's (leak.py,
physics.ohmic_factor), E from the current concentrations: what conductance-based models
(and HH 1952) mean, and what the squid_axon built-in uses.

Conduction (`conduction = "ghk"`, the default): the open state conducts its ion by GHK
fluxes (leak.py) with permeability
p_single x N_open: per open channel, efflux per inside ion p/vol_in * u/(1 - e^-u) and
influx per outside ion p/vol_out * u/(e^u - 1), u = zFV_mid/RT. Ions move directly
between the compartments, so conservation is exact, and because a conduction jump leaves
N_open unchanged, ln(a_f(x)/a_b(x')) is the leak's exact value (the ion ledger closes to
rounding under ssa).

Ledger: HH rate functions carry no gating charge (alpha/beta are fits, not
exp(z_g F V/RT) Eyring rates), so the free energy a gating step exchanges with the field is
undefined. Gating is therefore booked as a conformational reservoir outside the ion ledger,
like the metabolic pool's own transitions: channel states do not enter G, the gating
transitions' entropy production k_B ln(a_f(x)/a_b(x')) is reported per mechanism
(`{name}.gating_entropy_J_per_K`) but not in thermo.entropy_production_J_per_K, and
G(t) - G(0) = W - T S_prod closes on the ions alone.

`agents = "individual"` (agents.py): each channel gets its own 0/1 state slots and its own
block of gating pairs with the same rows, each jump also moving the counts per state that
conduction and the output read; per channel, its openings and open time (replicate.py) and,
with `record_dwell_times`, every dwell (dwell.py). Distinguishable channels' gating entropy
has no multinomial coefficient: under clamp it telescopes to sum_i dm_i ln p_i.
"""
import math

import numpy as np

from ionmc.mechanisms import agents, conduction
from ionmc.mechanisms.base import Mechanism
from ionmc.constants import F, R
from ionmc.constants import E_CHARGE
from ionmc.physics import ghk_factor, ohmic_factor
from ionmc.numba_conf import entry, leaf
from ionmc.physics import q10_factor
from ionmc.ranges import Q10, Range

TYPE = "hh_channel"

PARAMS = {
    "membrane": (None, "membrane name"),
    "gates": (None, "gate family: hh_na, hh_k (Hodgkin & Huxley 1952), pr_na, pr_kdr "
              "(Pinsky & Rinzel 1994)"),
    "species": (None, "conducted ion (default: the gate family's)"),
    "density_per_um2": (None, "channels per um^2 of membrane", Range(0.0, 1e4)),
    "conduction": ("ghk", "'ghk' (single-channel permeability) or 'ohmic' (single-channel "
                   "conductance, HH's g (V - E))"),
    "single_channel_permeability_um3_per_s": (None, "GHK permeability of one open channel "
                                              "(um^3/s) at 37 C", Range(0.0, 100.0)),
    "single_channel_conductance_pS": (None, "conductance of one open channel (pS) at 37 C, "
                                      "ohmic conduction", Range(0.0, 1e4)),
    "q10": (1.3, "temperature coefficient of the single-channel permeability", Q10),
    "q10_gating": (3.0, "temperature coefficient of the gating rates (HH 1952: 3)", Q10),
}
PARAMS.update(agents.PARAMS)  # counts per gating state or one channel at a time (agents.py)
PARAM_TYPES = {"gates": str, "species": str, "conduction": str, **agents.PARAM_TYPES}
#: each conduction's own key (the other defaults to 0 and must stay so)
CONDUCTION_KEY = {"ghk": "single_channel_permeability_um3_per_s",
                  "ohmic": "single_channel_conductance_pS"}

# rate-function codes (the kernel's switch): (alpha, beta) of one gate
HH_M, HH_H, HH_N, PR_M, PR_H, PR_N = range(6)

#: family -> (ion, reference temperature K, (activation code, power), inactivation code
#: or None)
FAMILIES = {
    "hh_na": ("Na", 279.45, (HH_M, 3), HH_H),
    "hh_k": ("K", 279.45, (HH_N, 4), None),
    "pr_na": ("Na", 310.0, (PR_M, 2), PR_H),
    "pr_kdr": ("K", 310.0, (PR_N, 1), None),
}
GATE_LETTER = {HH_M: "m", HH_H: "h", HH_N: "n", PR_M: "m", PR_H: "h", PR_N: "n"}

# parameter rows: gating P[j, 0] = multiplier x temperature factor, II[j, 0] = rate code,
# II[j, 1] = 0 alpha / 1 beta; conduction P[j, 0] = p_single/vol (1/s), P[j, 1] = zF/RT,
# II[j, 0] = the open state's index
#: individual channels' openings and open times come from the SSA's firing log (agents.py)
AGENTS_FROM_LOG = True
#: parameters an event may not change (the population and its scheme)
FIXED = ("gates", "density_per_um2")
I_FN, I_BETA = 0, 1
#: transition kinds (registry.py numbers them): gating forward/backward between two
#: states, then conduction of one ion out / in through the open channels
KINDS = ("gate_fw", "gate_bw", "out", "in", "ohm_out", "ohm_in")
I_OPEN, I_DST = 0, 1


@leaf
def _vtrap(x, k):
    """x / (1 - exp(-x/k)), with its limit k (1 + x/2k) at x -> 0."""
    if abs(x) < 1e-6 * k:
        return k * (1.0 + 0.5 * x / k)
    return x / (1.0 - math.exp(-x / k))


@leaf
def gate_rate(fn, beta, v):
    """alpha (beta = 0) or beta (beta = 1) of rate function `fn` in 1/ms at v in mV."""
    if fn == HH_M:
        return 4.0 * math.exp(-(v + 65.0) / 18.0) if beta else 0.1 * _vtrap(v + 40.0, 10.0)
    if fn == HH_H:
        return 1.0 / (1.0 + math.exp(-(v + 35.0) / 10.0)) if beta else \
            0.07 * math.exp(-(v + 65.0) / 20.0)
    if fn == HH_N:
        return 0.125 * math.exp(-(v + 65.0) / 80.0) if beta else 0.01 * _vtrap(v + 55.0, 10.0)
    if fn == PR_M:
        return 0.28 * _vtrap(-(v + 19.9), 5.0) if beta else 0.32 * _vtrap(v + 46.9, 4.0)
    if fn == PR_H:
        return 4.0 / (1.0 + math.exp(-(v + 20.0) / 5.0)) if beta else \
            0.128 * math.exp((-43.0 - v) / 18.0)
    # PR_N
    return 0.25 * math.exp(-(v + 40.0) / 40.0) if beta else 0.016 * _vtrap(v + 24.9, 5.0)


@leaf
def rate(j, k, x, v, src, P, II, inv_nvol):
    """Propensity (1/s) of channel transition j (k, the position in KINDS: 0/1 gating, 2/3
    GHK conduction out/in, 4/5 ohmic) at midpoint potential v (volts)."""
    i = src[j]
    n = x[i]
    if n <= 0:
        return 0.0
    if k <= 1:
        return P[j, 0] * 1e3 * gate_rate(II[j, I_FN], II[j, I_BETA], v * 1e3) * n
    n_open = x[II[j, I_OPEN]]
    if n_open <= 0:
        return 0.0
    u = P[j, 1] * v
    if k >= 4:
        d = II[j, I_DST]
        return P[j, 0] * n_open * ohmic_factor(u if k == 4 else -u, n, inv_nvol[i], x[d],
                                               inv_nvol[d], P[j, 2])
    return P[j, 0] * n_open * n * ghk_factor(u if k == 2 else -u)


# -- the scheme, built once per run (model.py) ------------------------------------------
def product_scheme(gates):
    """(state names, open state, edges) of the Markov scheme of independent gates, `gates`
    = [(letter, power), ...]: a state counts the open copies k_g of each gate (index
    sum_g k_g x stride_g, the first gate varying fastest), names like "m2h1", and only the
    last state (every copy of every gate open) conducts. An edge is (from, to, gate
    position, multiplier forward, multiplier backward): k -> k+1 runs at (p - k) alpha,
    back at (k + 1) beta."""
    strides, n = [], 1
    for _, p in gates:
        strides.append(n)
        n *= p + 1

    def counts(i):
        return [(i // st) % (p + 1) for st, (_, p) in zip(strides, gates)]
    names = ["".join(f"{letter}{k}" for (letter, _), k in zip(gates, counts(i)))
             for i in range(n)]
    edges = []
    for g, ((_, p), st) in enumerate(zip(gates, strides)):
        for i in range(n):
            k = counts(i)[g]
            if k < p:
                edges.append((i, i + st, g, float(p - k), float(k + 1)))
    return names, n - 1, edges


def product_occupancies(powers, x):
    """Stationary probabilities of `product_scheme`'s states with gate g open with
    probability x[g] (powers[g] copies): the product of binomials."""
    probs = np.ones(1)
    for p, m in zip(powers, x):  # the first gate varies fastest: np.outer(later, earlier)
        b = np.array([math.comb(p, k) * m ** k * (1 - m) ** (p - k) for k in range(p + 1)])
        probs = np.outer(b, probs).ravel()
    return probs


def _family_gates(family):
    """[(letter, power)] and [rate code] of a family's gates, activation first."""
    _, _, (fa, p), fi = FAMILIES[family]
    gates, codes = [(GATE_LETTER[fa], p)], [fa]
    if fi is not None:
        gates.append((GATE_LETTER[fi], 1))
        codes.append(fi)
    return gates, codes


def scheme(family):
    """(state names, open state, edges) of a family's Markov scheme (`product_scheme`). An
    edge is (from, to, rate code, multiplier forward, multiplier backward): forward runs at
    mult_f x alpha, backward at mult_b x beta."""
    gates, codes = _family_gates(family)
    names, op, edges = product_scheme(gates)
    return names, op, [(a, b, codes[g], mf, mb) for a, b, g, mf, mb in edges]


def rates(fn, V, T, family, q10_gating):
    """(alpha, beta) in 1/s of rate function fn at V (volts) and temperature T (K)."""
    phi = q10_gating ** ((T - FAMILIES[family][1]) / 10.0)
    return (phi * 1e3 * gate_rate(fn, 0, V * 1e3), phi * 1e3 * gate_rate(fn, 1, V * 1e3))


def steady_gates(family, V, T=310.0, q10_gating=3.0):
    """(x_inf of the activation gate, of the inactivation gate or 1), at V (volts)."""
    _, _, (fa, _), fi = FAMILIES[family]
    out = []
    for fn in (fa, fi):
        if fn is None:
            out.append(1.0)
            continue
        al, be = rates(fn, V, T, family, q10_gating)
        out.append(al / (al + be))
    return tuple(out)


def time_constants(family, V, T=310.0, q10_gating=3.0):
    """(tau of the activation gate, of the inactivation gate or None) in s, at V."""
    _, _, (fa, _), fi = FAMILIES[family]
    out = []
    for fn in (fa, fi):
        if fn is None:
            out.append(None)
            continue
        al, be = rates(fn, V, T, family, q10_gating)
        out.append(1.0 / (al + be))
    return tuple(out)


def occupancies(family, V, T=310.0, q10_gating=3.0, gates=None):
    """Stationary probabilities of the scheme's states at V: the product of binomials
    (module docstring). `gates` = (m, h) overrides the steady values."""
    m, h = gates if gates is not None else steady_gates(family, V, T, q10_gating)
    fam_gates, _ = _family_gates(family)
    return product_occupancies([p for _, p in fam_gates], (m, h)[:len(fam_gates)])


def open_probability(family, V, T=310.0, q10_gating=3.0):
    """m_inf^p h_inf at V (volts)."""
    _, _, (_, p), _ = FAMILIES[family]
    m, h = steady_gates(family, V, T, q10_gating)
    return m ** p * h


def n_channels(spec, area_um2):
    return int(round(spec["density_per_um2"] * area_um2))


def gating_rows(spec, T, edges):
    """Parameter rows (P[0], code, beta flag) of the gating pairs, forward then backward."""
    phi = spec["q10_gating"] ** ((T - FAMILIES[spec["gates"]][1]) / 10.0)
    rows = []
    for _, _, fn, mf, mb in edges:
        rows.append((mf * phi, fn, 0))
        rows.append((mb * phi, fn, 1))
    return rows


def conduction_rows(spec, T, z, vol_in_um3, vol_out_um3):
    """(P[0], P[1]) of the conduction pair (out, in): GHK, p_single/vol per open channel
    and per ion (1/s); ohmic, G = gamma RT/(z^2 F e) per open channel (ions/s); and zF/RT."""
    zfrt = z * F / (R * T)
    q = q10_factor(spec["q10"], T)
    if spec["conduction"] == "ohmic":
        G = spec["single_channel_conductance_pS"] * 1e-12 * q * R * T / (z * z * F * E_CHARGE)
        return ((G, zfrt), (G, zfrt))
    p = spec["single_channel_permeability_um3_per_s"] * q
    return ((p / vol_in_um3, zfrt), (p / vol_out_um3, zfrt))


def permeability_for_conductance(g_pS, z, c_in, c_out, V, T):
    """Single-channel GHK permeability (um^3/s) whose chord conductance I/(V - E) at V
    (volts) is g_pS (pS), for concentrations in mM: how a conductance-based parameter set
    (gbar = density x gamma) is carried over to GHK conduction."""
    from ionmc.thermo.closed_forms import ghk_current, nernst

    E = nernst(z, c_in, c_out, T)
    # ghk_current for P in cm/s over area in um^2: 1 um^3/s = P 1e-4 cm/s on 1 um^2
    i1 = ghk_current(1e-4, 1.0, z, c_in, c_out, V, T)
    return g_pS * 1e-12 * (V - E) / i1


# -- scenario validation (scenario.py) ---------------------------------------------------


def resolve(raw):
    """The raw table with `species` defaulting to the gate family's ion. Returns
    (table, error or None)."""
    t = dict(raw)
    fam = t.get("gates")
    if fam is None:
        return t, None  # reported as missing by the schema
    if not isinstance(fam, str) or fam not in FAMILIES:
        return t, ("gates", f"unknown gate family {fam!r} (known: {', '.join(FAMILIES)})")
    t.setdefault("species", FAMILIES[fam][0])
    return conduction.resolve(t, CONDUCTION_KEY, "channel")


def check(t, ctx):
    """Problems with a filled channel table: [(key, message)] (empty if none)."""
    species = ctx.species
    out = []
    if not species[t["species"]]["permeant"]:
        out.append(("species", f"{t['species']!r} is impermeant"))
    return out


def conductance_at(spec, area_um2, T, po):
    """The population's mean ohmic conductance (S) at open probability po."""
    g = spec["single_channel_conductance_pS"] * 1e-12 * q10_factor(spec["q10"], T)
    return n_channels(spec, area_um2) * po * g


def mean_conductance_S(spec, area_um2, V, T):
    """The population's mean ohmic conductance (S) at steady state at V."""
    return conductance_at(spec, area_um2, T,
                          open_probability(spec["gates"], V, T, spec["q10_gating"]))


def mean_permeability_cm_per_s(spec, area_um2, V, T):
    """The population's mean GHK permeability per membrane area (cm/s) at steady state at
    V (for `ionmc energetics`)."""
    return permeability_at(spec, area_um2, T,
                           open_probability(spec["gates"], V, T, spec["q10_gating"]))


def permeability_at(spec, area_um2, T, po):
    """The population's mean GHK permeability per membrane area (cm/s) at open
    probability po: N x po x p_single / area."""
    p = spec["single_channel_permeability_um3_per_s"] * q10_factor(spec["q10"], T)
    # um^3/s per um^2 = um/s = 1e-4 cm/s
    return n_channels(spec, area_um2) * po * p / area_um2 * 1e-4


# -- for the kernels' dispatch table (engine/dispatch.py) -----------------------------
@entry
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    return rate(j, k, x, V[mem[j]] + half_dv[j], src, P, II, inv_nvol)


class Channels(Mechanism):
    """A population of voltage-gated channels: counts per gating state (or one channel at
    a time, agents.py), gating pairs between the states of each block, then one conduction
    pair reading the open count. Gating is driven by a reservoir outside the ion ledger."""

    def n_slots(self, model):
        self.n_agents = n_channels(self.spec, model.scenario.data["membranes"][
            self.spec["membrane"]]["area_um2"])
        k = len(self.scheme()[0])
        return k + agents.n_slots(self.spec, self.n_agents, k)

    def scheme(self):
        """(state names, open state, edges) of its Markov scheme (`scheme`)."""
        return scheme(self.spec["gates"])

    def build(self, model, tr):
        mi, cin, cout = self.membrane_sides(model)
        names, open_k, edges = self.scheme()
        states = list(range(self.first_slot, self.first_slot + len(names)))
        self.states, self.state_names = states, names
        self.states_in_ledger = False
        self.open_state = open_k
        # one block of gating pairs on the counts, or one per channel (agents.py)
        blocks = agents.blocks(self, len(names), self.first_slot + len(names))
        t0 = len(tr)
        gate = (self.kind("gate_fw"), self.kind("gate_bw"))
        for agent, own in blocks:
            self.blocks.append(len(tr))
            for e_a, e_b, *_ in edges:
                tr.pair(gate, (own[e_a], own[e_b]), mi,
                        agents.step(self, tr, agent, own, e_a, e_b))
        self.reservoir = list(range(t0, len(tr)))
        s = self.spec["species"]
        i_in, i_out = model.idx(cin, s), model.idx(cout, s)
        ohmic = self.spec["conduction"] == "ohmic"
        rows = [tr.index_row(), tr.index_row()]
        for r, d in zip(rows, (i_out, i_in)):
            r[I_OPEN] = states[open_k]
            if ohmic:  # its rate reads the destination's count too
                r[I_DST] = d
        kinds = ("ohm_out", "ohm_in") if ohmic else ("out", "in")
        j = tr.pair((self.kind(kinds[0]), self.kind(kinds[1])), (i_in, i_out), mi,
                    {i_in: -1, i_out: +1}, rows)
        self.transitions = list(range(t0, len(tr)))
        self.ref = (j, j + 1)
        self.efflux = {s: {j: 1, j + 1: -1}}

    def reads(self, model, j):
        r = super().reads(model, j)
        if model.tr_kind[j] in (self.kind("gate_fw"), self.kind("gate_bw")):
            return r
        r |= {("x", int(model.tr_ii[j, I_OPEN]))}  # and the open count
        d = int(model.tr_ii[j, I_DST])
        return r | {("x", d)} if d >= 0 else r  # ohmic: and the destination's (E)

    def update_parameters(self, model):
        d = model.scenario.data
        spec = self.spec
        mspec = d["membranes"][spec["membrane"]]
        self.update_gating(model)
        z = d["species"][spec["species"]]["charge"]
        rows = conduction_rows(spec, model.T, z,
                               d["compartments"][mspec["inside"]]["volume_um3"],
                               d["compartments"][mspec["outside"]]["volume_um3"])
        for j, row in zip(self.transitions[-2:], rows):
            model.tr_p[j, :2] = row
            # ohmic: what a jump adds to its destination's count (0 when clamped)
            d = model.tr_ii[j, I_DST]
            model.tr_p[j, 2] = 0.0 if d >= 0 and model.clamped[d] else 1.0

    def update_gating(self, model):
        """The gating transitions' rows: a multiplier and its rate function's code."""
        _, _, edges = self.scheme()
        rows = gating_rows(self.spec, model.T, edges)
        for b in self.blocks:  # the counts' block, or each channel's (agents.py)
            for k, (p0, fn, beta) in enumerate(rows):
                j = b + k
                model.tr_p[j, 0] = p0
                model.tr_ii[j, I_FN] = fn
                model.tr_ii[j, I_BETA] = beta

    def occupancies(self, model, V):
        """Stationary probabilities of the population's states at V (volts)."""
        return occupancies(self.spec["gates"], V, model.T, self.spec["q10_gating"])

    def open_probability(self, model, V, concs=None):
        """The stationary open probability at V (volts) (concs(compartment, species) -> mM:
        the concentrations a concentration-gated channel reads; unused here)."""
        return self.occupancies(model, V)[-1]

    def initial_gating(self, model, x, V):
        mi = model.mems.index(self.spec["membrane"])
        x[self.states] = agents.largest_remainder(
            self.n_agents, self.occupancies(model, V[mi]), f"mechanism {self.name!r}")
        agents.assign(self, x)

    def passive_current(self, model, V, concs):
        """At the steady-state open probability at V: the resting budget counts their
        window currents, and slopes are steady-state slopes."""
        from ionmc.thermo.closed_forms import ghk_current, nernst

        _, cin, cout = self.membrane_sides(model)
        s = self.spec["species"]
        z = model.scenario.data["species"][s]["charge"]
        area = model.scenario.data["membranes"][self.spec["membrane"]]["area_um2"]
        po = self.open_probability(model, V, concs)
        if self.spec["conduction"] == "ohmic":
            g = conductance_at(self.spec, area, model.T, po)
            return {s: g * (V - nernst(z, concs(cin, s), concs(cout, s), model.T))}
        P = permeability_at(self.spec, area, model.T, po)
        return {s: ghk_current(P, area, z, concs(cin, s), concs(cout, s), V, model.T)}


MECHANISM = Channels
