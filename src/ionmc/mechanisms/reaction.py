"""Chemical reactions by mass action among the species of one compartment.

    [[mechanisms]]
    type = "reaction"
    name = "dimerise"
    compartment = "cyto"
    equation = "2 A <-> B"   # "->" irreversible; "-> A" zero order (a source), "A ->" a sink
    k_forward = 0.5          # in mM and s for its order: mM/s, 1/s, 1/(mM s), ...
    k_backward = 0.1         # reversible only; or K_eq instead of one of the two

Rate law v = k prod_s [S]^nu_s in mM/s (the SBML convention). With Omega the molecules per
mM in the compartment, the stochastic propensity is k Omega^(1 - n) prod_s n_s (n_s - 1)
... (n_s - nu_s + 1), n = sum nu_s the order (Gillespie 1976; van Kampen): k n(n-1)/Omega
for `2 A -> B`, k n_A n_B / Omega for `A + B -> C`, k Omega for `-> A`. The ODE uses the
same propensities at the mean counts.

Thermodynamics. A reversible reaction obeys detailed balance: a_f(x)/a_b(x') =
K Omega^(-Delta n) prod n!/n'! exactly, K = k_forward/k_backward (mM^Delta n). Its species
carry standard chemical potentials mu_s (c = 1 mM) with sum_s nu_s mu_s = -k_B T ln K for
every reversible reaction, solved together (least squares, the minimum-norm solution); a
scenario whose reversible reactions admit no solution violates Wegscheider's condition
(prod K = 1 around every cycle) and is refused. Species an irreversible reaction touches
are a chemical reservoir outside G (an irreversible step has no reverse, so no finite
entropy production); when a reversible reaction draws on such a species, the free energy
the reservoir gives is booked in `thermo.chemical_work_J`, so the balance still closes.
"""
import math
import re

import numpy as np

from ionmc.constants import K_B
from ionmc.mechanisms.base import LEDGER_NONE, LEDGER_OWN, Mechanism
from ionmc.numba_conf import leaf
from ionmc.physics import count_of, q10_factor
from ionmc.ranges import Q10, Range

TYPE = "reaction"
#: name -> (default, meaning); -1 = not given
PARAMS = {
    "compartment": (None, "compartment the reaction happens in"),
    "equation": (None, "'2 A <-> B', 'A + B -> C', '-> A' (source), 'A ->' (sink)"),
    "k_forward": (-1.0, "forward rate constant, mM^(1-n)/s for reactant order n",
                  Range(0.0, 1e15, open_lo=True, unset=-1.0)),
    "k_backward": (-1.0, "backward rate constant (reversible), mM^(1-n)/s for product order n",
                   Range(0.0, 1e15, open_lo=True, unset=-1.0)),
    "K_eq": (-1.0, "equilibrium constant k_forward/k_backward, mM^(products - reactants)",
             Range(0.0, 1e30, open_lo=True, unset=-1.0)),
    "q10": (1.0, "temperature coefficient of both rate constants (37 C reference)", Q10),
}
PARAM_TYPES = {"compartment": str, "equation": str}
FIXED = ("compartment", "equation")
#: transition kinds (registry.py numbers them): forward and backward
KINDS = ("fw", "bw")
#: at most this many distinct species on each side, and reservoir species per transition
MAX_SIDE, MAX_RESERVOIR = 4, 2
# index row: reactant count m, then (state index, nu) per reactant of this direction; then
# the number of reservoir species the jump moves and (state index, change) per one
I_NR, I_R0 = 0, 1
I_NRES = I_R0 + 2 * MAX_SIDE
I_RES0 = I_NRES + 1
N_II = I_RES0 + 2 * MAX_RESERVOIR
# parameter row: the propensity constant k Omega^(1-n), then per reservoir species
# ln(lambda) and g/k_B T (its reference count and standard potential)
P_RATE, P_RES0 = 0, 1
N_PAR = P_RES0 + 2 * MAX_RESERVOIR

_TERM = re.compile(r"^\s*(?:(\d+)\s*\*?\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*$")


def parse(equation):
    """'2 A + B <-> C' -> ({A: 2, B: 1}, {C: 1}, reversible); raises ValueError."""
    if not isinstance(equation, str):
        raise ValueError("must be a string like '2 A <-> B'")
    if "<->" in equation:
        left, right = equation.split("<->", 1)
        reversible = True
    elif "->" in equation:
        left, right = equation.split("->", 1)
        reversible = False
    else:
        raise ValueError(f"{equation!r} has no '->' or '<->'")
    sides = []
    for side in (left, right):
        terms = {}
        if side.strip():
            for term in side.split("+"):
                m = _TERM.match(term)
                if not m or (m.group(1) is not None and int(m.group(1)) < 1):
                    raise ValueError(f"cannot read {term.strip()!r} in {equation!r} (write "
                                     "terms like '2 A')")
                terms[m.group(2)] = terms.get(m.group(2), 0) + int(m.group(1) or 1)
        sides.append(terms)
    if not sides[0] and not sides[1]:
        raise ValueError(f"{equation!r} has no species")
    if "<->" in right or "->" in right:
        raise ValueError(f"{equation!r} has more than one arrow")
    return sides[0], sides[1], reversible


def rates(spec):
    """(k_forward, k_backward) in mM and s at 37 C, from the two of k_forward, k_backward,
    K_eq that the table gives (k_backward 0 for an irreversible reaction)."""
    kf, kb, K = spec["k_forward"], spec["k_backward"], spec["K_eq"]
    if not parse(spec["equation"])[2]:
        return kf, 0.0
    if kf < 0:
        kf = K * kb
    elif kb < 0:
        kb = kf / K
    return kf, kb


def _reversible(mechs):
    return [t for t in mechs if t["type"] == TYPE and parse(t["equation"])[2]]


def standard_potentials(tables):
    """mu_s / k_B T (c = 1 mM) of the species of the reversible reactions `tables`, and the
    largest residual of sum nu mu = -ln K (Wegscheider: 0 when consistent)."""
    species = sorted({s for t in tables for side in parse(t["equation"])[:2] for s in side})
    if not tables:
        return {}, 0.0
    N = np.zeros((len(tables), len(species)))
    b = np.zeros(len(tables))
    for r, t in enumerate(tables):
        lhs, rhs, _ = parse(t["equation"])
        for s, n in lhs.items():
            N[r, species.index(s)] -= n
        for s, n in rhs.items():
            N[r, species.index(s)] += n
        kf, kb = rates(t)
        b[r] = -math.log(kf / kb)
    mu = np.linalg.lstsq(N, b, rcond=None)[0]
    resid = float(np.max(np.abs(N @ mu - b) / np.maximum(1.0, np.abs(b))))
    return dict(zip(species, mu)), resid


def check(t, ctx):
    """Problems with a filled reaction table: [(key, message)]."""
    if t["compartment"] not in ctx.compartments:
        return [("compartment", f"unknown compartment {t['compartment']!r}")]
    try:
        lhs, rhs, reversible = parse(t["equation"])
    except ValueError as exc:
        return [("equation", str(exc))]
    for side in (lhs, rhs):
        if len(side) > MAX_SIDE:
            return [("equation", f"at most {MAX_SIDE} species on a side")]
        for s in side:
            if s not in ctx.species:
                return [("equation", f"unknown species {s!r}")]
    z = {s: ctx.species[s]["charge"] for s in (*lhs, *rhs)}
    if sum(n * z[s] for s, n in rhs.items()) != sum(n * z[s] for s, n in lhs.items()):
        return [("equation", "is not charge balanced")]
    given = [k for k in ("k_forward", "k_backward", "K_eq") if t[k] != -1.0]
    if not reversible and given != ["k_forward"]:
        return [("k_forward" if "k_forward" not in given else given[-1],
                 "an irreversible reaction ('->') takes k_forward alone")]
    if reversible and len(given) != 2:
        return [("k_backward", "a reversible reaction ('<->') takes two of k_forward, "
                 "k_backward and K_eq")]
    if reversible:
        _, resid = standard_potentials(_reversible(ctx.mechanisms))
        if resid > 1e-9:
            return [("K_eq", "the reversible reactions' equilibrium constants violate "
                     "Wegscheider's condition (the product of K around a cycle must be 1)")]
    return []


# -- for the kernels' dispatch table (engine/dispatch.py) ---------------------------------
@leaf
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    """k Omega^(1-n) times the falling factorials of the reactants' counts."""
    a = P[j, P_RATE]
    for r in range(II[j, I_NR]):
        n = x[II[j, I_R0 + 2 * r]]
        for q in range(II[j, I_R0 + 2 * r + 1]):
            f = n - q
            if f <= 0:
                return 0.0
            a *= f
    return a


@leaf
def ledger_arg(j, k, x, V, mem, half_dv, P, II, inv_nvol):
    """Minus the change of the reservoir species' free energy (k_B T) in this jump: the
    work the reservoir does on the system (thermo.chemical_work_J)."""
    dg = 0.0
    for r in range(II[j, I_NRES]):
        n = x[II[j, I_RES0 + 2 * r]]
        d = II[j, I_RES0 + 2 * r + 1]
        dg += math.lgamma(n + d + 1.0) - math.lgamma(n + 1.0) \
            - d * P[j, P_RES0 + 2 * r] + d * P[j, P_RES0 + 2 * r + 1]
    return -dg


class Reaction(Mechanism):
    """One forward/backward pair (the backward at rate 0 when irreversible)."""

    CARRIES_CURRENT = False
    WORK_COLUMN = "thermo.chemical_work_J"

    def __init__(self, spec):
        super().__init__(spec)
        self.lhs, self.rhs, self.reversible = parse(spec["equation"])

    def _species_indices(self, model):
        c = self.spec["compartment"]
        return {s: model.idx(c, s) for s in {**self.lhs, **self.rhs}}

    def _reservoir(self, model):
        """State indices of this compartment's species that an irreversible reaction
        touches (outside G)."""
        out = set()
        for m in model.mechs:
            if isinstance(m, Reaction) and not m.reversible:
                out |= set(m._species_indices(model).values())
        return out

    def build(self, model, tr):
        ix = self._species_indices(model)
        net = {i: 0 for i in ix.values()}
        for s, n in self.lhs.items():
            net[ix[s]] -= n
        for s, n in self.rhs.items():
            net[ix[s]] += n
        stoich = {i: d for i, d in net.items() if d != 0}
        rows = []
        res = sorted(self._reservoir(model) & set(stoich)) if self.reversible else []
        if len(res) > MAX_RESERVOIR:
            raise ValueError(f"reaction {self.name!r}: at most {MAX_RESERVOIR} reservoir "
                             "species")
        for side, sign in ((self.lhs, 1), (self.rhs, -1)):
            r = tr.index_row()
            r[I_NR] = len(side)
            for q, (s, n) in enumerate(side.items()):
                r[I_R0 + 2 * q:I_R0 + 2 * q + 2] = [ix[s], n]
            r[I_NRES] = len(res)
            for q, i in enumerate(res):
                r[I_RES0 + 2 * q:I_RES0 + 2 * q + 2] = [i, sign * stoich[i]]
            rows.append(r)
        first = [ix[s] for s in self.lhs] or [ix[s] for s in self.rhs]
        last = [ix[s] for s in self.rhs] or [ix[s] for s in self.lhs]
        t0 = tr.pair((self.kind("fw"), self.kind("bw")), (first[0], last[0]), -1, stoich,
                     tuple(rows), LEDGER_OWN if res else LEDGER_NONE)
        self.transitions = [t0, t0 + 1]
        self.ref = (t0, t0 + 1)

    def check_model(self, model):
        """An irreversible reaction's species are a reservoir outside G: only reactions
        may move them, or another type's moves would change G unbooked."""
        if self.reversible:
            return []
        ours = set(self._species_indices(model).values())
        by_index = model.stoich_full.tocsc()  # the transitions that move each index
        moved = sorted((int(j), i) for i in ours
                       for j in by_index.indices[by_index.indptr[i]:by_index.indptr[i + 1]]
                       if not isinstance(model.mechs[model.tr_mech[j]], Reaction))
        if moved:
            j, i = moved[0]
            other, s = model.mechs[model.tr_mech[j]], model.species[i % model.ns]
            return [("equation", f"species {s!r} of this irreversible reaction (a "
                     f"reservoir outside the ledger) is also moved by {other.name!r}"
                     f" ({other.type}); make the reaction reversible ('<->')")]
        return []

    def reads(self, model, j):
        ii = model.tr_ii[j]
        return {("x", int(model.tr_src[j]))} | {("x", int(ii[I_R0 + 2 * r]))
                                                 for r in range(ii[I_NR])}

    def update_parameters(self, model):
        kf, kb = rates(self.spec)
        q = q10_factor(self.spec["q10"], model.T)
        omega = count_of(1.0, model.vol[model.comps.index(self.spec["compartment"])])
        j0, j1 = self.transitions
        model.tr_p[j0, P_RATE] = kf * q * omega ** (1 - sum(self.lhs.values()))
        model.tr_p[j1, P_RATE] = kb * q * omega ** (1 - sum(self.rhs.values()))
        mu, _ = standard_potentials(_reversible(model.scenario.data["mechanisms"]))
        inv = {i: s for s, i in self._species_indices(model).items()}
        for j in (j0, j1):
            for q_ in range(model.tr_ii[j, I_NRES]):
                s = inv[model.tr_ii[j, I_RES0 + 2 * q_]]
                # the reservoir's reference: 1 mM (lambda = Omega), g = mu
                model.tr_p[j, P_RES0 + 2 * q_] = math.log(omega)
                model.tr_p[j, P_RES0 + 2 * q_ + 1] = mu.get(s, 0.0)

    def outside_G(self, model):
        return [] if self.reversible else list(self._species_indices(model).values())

    def reference_counts(self, model, x, lam):
        """A species absent everywhere is measured from 1 mM."""
        omega = count_of(1.0, model.vol[model.comps.index(self.spec["compartment"])])
        for i in self._species_indices(model).values():
            if lam[i] <= 0:
                lam[i] = omega

    def state_energies(self, ledger, g, g_chem):
        """g_chem = mu + k_B T ln(c_ref / 1 mM): the ledger measures G from its own
        references, the standard potentials from 1 mM."""
        if not self.reversible:
            return
        mu, _ = standard_potentials(_reversible(ledger.model.scenario.data["mechanisms"]))
        kT = K_B * ledger.model.T
        reservoir = self._reservoir(ledger.model)
        for s, i in self._species_indices(ledger.model).items():
            if ledger.cref[i] > 0 and i not in reservoir:
                g_chem[i] = kT * (mu.get(s, 0.0) + math.log(ledger.cref[i]))


MECHANISM = Reaction
