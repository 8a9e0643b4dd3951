"""The per-molecule Na+/K+-ATPase as a mechanism type (`type = "na_k_atpase"`): pump
molecules counted in the 13 states of an elementary Post-Albers cycle whose constants are
fitted to measurements (kinetics, charges and sources: nka_cycle.py).

Unlike the reduced `nak_pump`, this pump holds ions: a binding step takes one ion out of a
compartment into the pump's state, a release step gives it back on the other side. So
conservation counts the bound ions with the compartments' (`bound_ions`), the membrane's
potential counts those held on the inside of the field (`state_charges`), and each step is
mass action in one ion's count, which makes the ledger exact under ssa. `net_efflux` of Na+
counts the releases outside (less the rebinding from outside), of K+ the binding from
outside (negative), so over whole cycles it is the ions moved.

At t = 0 the pumps take the steady-state distribution of the cycle at the membrane's
initial potential; their bound ions come on top of the compartments' (free) concentrations
and the charge balance counts those held inside. Ouabain-blocked pumps hold no ions: a pump
that ouabain catches gives its ions back to the side of the field they are counted on, and
one it lets go takes them from there, so an event leaves the potential as it was.
"""
import math

import numpy as np

from ionmc.constants import F, R
from ionmc.mechanisms import agents
from ionmc.mechanisms import nka_cycle as cyc
from ionmc.mechanisms.base import LEDGER_OWN, LEDGER_V
from ionmc.mechanisms.pump import Pump, pool_dG
from ionmc.numba_conf import leaf
from ionmc.physics import count_ramp
from ionmc.ranges import DG_ATP_KJ, FRACTION, Q10, RATE_PER_S, Range, positive

TYPE = "na_k_atpase"

#: a site's dissociation constant: wider than a half-saturation constant's, since the
#: outward-facing sites' fitted affinity for their first Na+ is very low (K_Nao1 11.3 M)
K_SITE_MM = Range(1e-9, 1e6)

PARAMS = {
    "membrane": (None, "membrane name"),
    "density_per_um2": (None, "pump molecules per um^2 of membrane (measured 1e3-1e4; close "
                        "packing ~2e4)", Range(0.0, 2e5)),
    "isoform": ("a1", "'a1', 'a2' or 'a3': the alpha subunit (Na_i affinity, Crambert et "
                "al. 2000)"),
    "dG_ATP_kJ_per_mol": (-57.0, "free energy of ATP hydrolysis (no metabolic pool)", DG_ATP_KJ),
    "fxyd_phosphorylated": (0.0, "FXYD1 phosphorylated fraction, 0..1", FRACTION),
    # s fitted so that the model's apparent K0.5 for Na_i moves as Despa et al. 2005
    # measured, 18.8 -> 13.6 mM (x0.723): 11.5 -> 8.3 mM (tests/unit/test_nka.py)
    "fxyd_affinity_factor": (0.692, "s: factor on the Na_i dissociation constants when "
                             "fully phosphorylated", positive(100.0)),
    "block_fraction": (0.0, "fraction of pumps bound by ouabain, 0..1", FRACTION),
    "q10": (3.0, "temperature coefficient of the rate constants (37 C reference)", Q10),
    # both > 0: MgATP 0 stops the deocclusion and Pi 0 makes b_P's constraint divide by 0
    "MgATP_mM": (4.0, "MgATP for the kinetics (no metabolic pool)", positive(100.0)),
    "Pi_mM": (2.0, "inorganic phosphate for the kinetics (no metabolic pool)",
              positive(100.0)),
    "theta_Na": (cyc.ALPHA1["theta_Na"], "share of a Na+ release's voltage factor on the "
                 "release (the rest on rebinding)", FRACTION),
    "theta_K": (cyc.ALPHA1["theta_K"], "share of a K_o binding's voltage factor on the "
                "binding (the rest on release)", FRACTION),
}
# every kinetic constant, alpha1's by default (an isoform scales the Na_i ones: resolve)
PARAMS.update({k: (v, cyc.MEANING[k] + " (fitted, alpha1)",
                   K_SITE_MM if k.endswith("_mM") else RATE_PER_S if k.endswith("_per_s")
                   else positive(1e9))
               for k, v in cyc.ALPHA1.items() if not k.startswith("theta")})
PARAMS.update(agents.PARAMS)
PARAM_TYPES = dict(agents.PARAM_TYPES, isoform=str)
FIXED = ("isoform",)

#: one rate law for every step, forward and backward (the row holds the direction's own)
KINDS = ("step",)
LATTICE = True
# parameter row: the direction's rate constant, coefficient of u in its voltage factor,
# F/RT, nucleotide factor code (pool only), K_MgATP, the pool's dG0' and RT
P_K, P_QV, P_FRT, P_NUC, P_KATP, P_DG0, P_RT = range(7)
N_PAR = 7
# index row: the ion this direction takes up (-1 none), the pool's ATP, ADP, Pi
I_ION, I_ATP, I_ADP, I_PI = range(4)


def default_turnover(cin, cout, V, T, params=None):
    """Net cycles per pump per second at concentrations cin/cout (mM) and V (volts), at the
    defaults (alpha1 unless `params` name an isoform) with `params` over them; for
    `design` and for converting between the pump types."""
    # the isoform's Na_i constants first, then the other defaults (as validation does)
    p, err = resolve(dict(params or {}))
    if err:
        raise ValueError(err[1])
    p = dict({k: v for k, (v, *_) in PARAMS.items() if v is not None}, **p)
    return cyc.turnover(p, cin["Na"], cin["K"], cout["Na"], cout["K"], V, T)


def resolve(raw):
    """The table with its isoform's Na_i constants (alpha1's scaled) where not given."""
    t = dict(raw)
    iso = t.get("isoform", "a1")
    if iso not in cyc.ISOFORM_NAI_SCALE:
        return t, ("isoform", f"unknown isoform {iso!r} (known: "
                   f"{', '.join(cyc.ISOFORM_NAI_SCALE)})")
    for k in cyc.NAI_KEYS:
        t.setdefault(k, cyc.ALPHA1[k] * cyc.ISOFORM_NAI_SCALE[iso])
    return t, None


# -- propensities, for the kernels' dispatch table (engine/dispatch.py) ------------------
@leaf
def step_v_factor(j, k, v, P, II):
    """exp(qv u) of step direction j at midpoint potential v (1 for a step that moves no
    charge); tabulated on the charge lattice by the SSA."""
    qv = P[j, P_QV]
    if qv == 0.0:
        return 1.0
    return math.exp(qv * P[j, P_FRT] * v)


@leaf
def lattice_rate(j, k, x, n, kv, P, II, inv_nvol):
    """Propensity of step direction j (n > 0 pumps in its source state) given its voltage
    factor kv: mass action in the one ion it takes up, times the pool's nucleotide
    factor where it reads one."""
    r = n * P[j, P_K] * kv
    ion = II[j, I_ION]
    if ion >= 0:
        # mass action: zero with the ion's count (for the ode's float counts too)
        if x[ion] <= 0:
            return 0.0
        r *= x[ion] * inv_nvol[ion]
    nuc = P[j, P_NUC]
    if nuc == 0.0:
        return r
    ia = II[j, I_ATP]
    if nuc == 1.0:  # the ATP step forward hydrolyses one of the pool's ATP
        return r * count_ramp(x[ia], 1.0)
    if nuc == 2.0:  # its reverse makes one from an ADP and a Pi, at a rate per mM ADP
        idp, ip = II[j, I_ADP], II[j, I_PI]
        return r * count_ramp(x[ip], 1.0) * x[idp] * inv_nvol[idp]
    t = x[ia] * inv_nvol[ia] / P[j, P_KATP]
    if nuc == 3.0:  # Pi rebinding, competing with ATP at the low-affinity site
        ip = II[j, I_PI]
        return r * x[ip] * inv_nvol[ip] / (1.0 + t)
    return r * t / (1.0 + t)  # ATP-accelerated deocclusion


@leaf
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    """Propensity (1/s) of step direction j at state x and potentials V."""
    n = x[src[j]]
    if n <= 0:
        return 0.0
    return lattice_rate(j, k, x, n, step_v_factor(j, k, V[mem[j]] + half_dv[j], P, II), P,
                        II, inv_nvol)


@leaf
def ledger_arg(j, k, x, V, mem, half_dv, P, II, inv_nvol):
    """dG_ATP (J/mol) of the pool at a firing of the ATP step on a pool."""
    return pool_dG(x, II[j, I_ATP], II[j, I_ADP], II[j, I_PI], inv_nvol, P[j, P_DG0],
                   P[j, P_RT])


# -- one pump population of a scenario ----------------------------------------------------
class NaKATPase(Pump):
    """A population of pumps on a membrane: counts per cycle state and of ouabain-bound
    pumps, 26 transitions per block (13 steps, forward and backward)."""

    LEAP_STATES_FREE = True
    ATP_STEP = cyc.ATP_STEP

    def n_slots(self, model):
        self.n_agents = agents.population(
            self.spec, model.scenario.data["membranes"][self.spec["membrane"]])
        self.state_names = cyc.STATE_NAMES
        return cyc.N_STATES + 1 + agents.n_slots(self.spec, self.n_agents, cyc.N_STATES)

    def _side_index(self, model, species, side):
        _, cin, cout = self.membrane_sides(model)
        return model.idx(cin if side == "in" else cout, species)

    def build(self, model, tr):
        mi, cin, cout = self.membrane_sides(model)
        first = self.first_slot
        states = list(range(first, first + cyc.N_STATES))
        self.states = states
        self.blocked = first + cyc.N_STATES
        blocks = agents.blocks(self, cyc.N_STATES, first + cyc.N_STATES + 1)
        pool = cin in model.pools
        nuc = [model.idx(cin, s) for s in ("ATP", "ADP", "Pi")] if pool else [-1, -1, -1]
        t0 = len(tr)
        self.efflux = {"Na": {}, "K": {}}
        kind = self.kind("step")
        for agent, own in blocks:
            self.blocks.append(len(tr))
            for step in range(cyc.N_STEPS):
                nxt = (step + 1) % cyc.N_STATES
                a, b = own[step], own[nxt]
                fw = agents.step(self, tr, agent, own, step, nxt)
                rows = [tr.index_row(), tr.index_row()]
                for r in rows:
                    r[[I_ATP, I_ADP, I_PI]] = nuc
                ion = cyc.ION[step]
                if ion is not None:
                    s, side, d = ion
                    i = self._side_index(model, s, side)
                    fw[i] = -d  # bound (+1): taken from the compartment
                    rows[0 if d > 0 else 1][I_ION] = i
                if pool and step == cyc.ATP_STEP:
                    fw.update({nuc[0]: -1, nuc[1]: +1, nuc[2]: +1})
                j = tr.pair((kind, kind), (a, b), mi, fw, rows,
                            LEDGER_OWN if pool and step == cyc.ATP_STEP else LEDGER_V)
                if ion is not None and ion[1] == "out":
                    self.efflux[ion[0]].update({j: -ion[2], j + 1: ion[2]})
        self.transitions = list(range(t0, len(tr)))
        ref = [(b + 2 * cyc.REF_STEP, b + 2 * cyc.REF_STEP + 1) for b in self.blocks]
        self.ref = ref[0] if self.agent_slots is None else \
            (tuple(list(r) for r in zip(*ref)) or ([], []))

    def state_charges(self, model):
        # the counts per state (individual agents' jumps move them too: agents.py)
        mi, _, _ = self.membrane_sides(model)
        return [(self.states[i], mi, float(q)) for i, q in enumerate(cyc.STATE_CHARGE) if q]

    def bound_ions(self, model):
        return [(self.states[i], sp, n) for sp, per in cyc.BOUND.items()
                for i, n in enumerate(per) if n]

    def state_columns(self, model, X, firings, inv_nvol):
        """`{pump}.Na.bound` and `{pump}.K.bound`: the ions its molecules hold, which
        conservation counts with the compartments'."""
        out = {}
        for sp in ("Na", "K"):
            n = sum(X[:, i] * k for i, s, k in self.bound_ions(model) if s == sp)
            out[f"{self.name}.{sp}.bound"] = np.rint(n).astype(np.int64)
        return out

    def reads(self, model, j):
        ii = model.tr_ii[j]
        r = {("x", int(model.tr_src[j])), ("V", int(model.tr_mem[j]))}
        return r | {("x", int(i)) for i in ii[[I_ION, I_ATP, I_ADP, I_PI]] if i >= 0}

    def _constants(self, model):
        _, cin, _ = self.membrane_sides(model)
        pool = model.pools.get(cin)
        dg0 = None if pool is None else pool.spec["dG0_ATP_kJ_per_mol"] * 1e3
        return cyc.constants(self.spec, model.T, dg0), dg0

    def update_parameters(self, model):
        (kf, kb, qf, qb, nf, nb), dg0 = self._constants(model)
        frt = F / (R * model.T)
        for b in self.blocks:
            for step in range(cyc.N_STEPS):
                for d, (k, qv, nuc) in enumerate(((kf[step], qf[step], nf[step]),
                                                  (kb[step], qb[step], nb[step]))):
                    row = model.tr_p[b + 2 * step + d]
                    row[:] = 0.0
                    row[[P_K, P_QV, P_FRT, P_NUC]] = [k, qv, frt, nuc]
                    if dg0 is not None:
                        row[[P_KATP, P_DG0, P_RT]] = [self.spec["K_MgATP_mM"], dg0,
                                                      R * model.T]

    def _conc(self, model, x):
        _, cin, cout = self.membrane_sides(model)
        return {f"{s}_{side}": float(x[model.idx(c, s)] * model.inv_nvol[model.idx(c, s)])
                for s in ("Na", "K") for side, c in (("in", cin), ("out", cout))}

    def cycle_rates_at(self, model, x, V, conc=None, nucleotides=None):
        """(fw, bw) per pump of the 13 steps at state x (or concentrations conc) and V."""
        c, dg0 = self._constants(model)
        conc = conc or self._conc(model, x)
        if dg0 is None:
            return cyc.rates(c, conc, V, model.T)
        _, cin, _ = self.membrane_sides(model)
        atp, adp, pi = nucleotides or [float(x[i] * model.inv_nvol[i]) for i in
                                       (model.idx(cin, s) for s in ("ATP", "ADP", "Pi"))]
        return cyc.rates(c, conc, V, model.T, max(atp, 1e-9), max(adp, 1e-9), max(pi, 1e-9),
                         self.spec["K_MgATP_mM"])

    def steady_current(self, model, x, V):
        """The unblocked pumps' steady-state current at V: one net charge out per cycle."""
        from ionmc.constants import E_CHARGE

        return (self.n_agents - float(x[self.blocked])) * self.steady_state(model, x, V)[1] \
            * E_CHARGE

    def steady_state(self, model, x, V=None):
        """Occupancies and turnover (1/s per pump) at state x and potential V (default:
        x's)."""
        if V is None:
            V = model.voltages(x)[model.mems.index(self.spec["membrane"])]
        return cyc.steady_state(*self.cycle_rates_at(model, x, V))

    def _take_bound(self, model, x, dn):
        """Move the ions of dn more pumps per state (negative: fewer) out of (into) the
        compartment on whose side of the field each is counted (not a clamped species')."""
        for i, n in enumerate(dn):
            if n == 0:
                continue
            na, k, q = cyc.BOUND["Na"][i], cyc.BOUND["K"][i], cyc.STATE_CHARGE[i]
            # Na+ bound is always counted inside; the rest of the state's charge is K+'s
            kin = q - na
            for s, side, m in (("Na", "in", na), ("K", "in", kin), ("K", "out", k - kin)):
                i_ion = self._side_index(model, s, side)
                if m and not model.clamped[i_ion]:
                    x[i_ion] -= m * n

    def initial_state(self, model, x):
        """The cycle's steady state at the membrane's initial potential (or clamp), before
        the compartments' charge is balanced (model/compiled.py): the bound ions come on
        top of the given (free) concentrations and the balance counts their charge."""
        mi, _, _ = self.membrane_sides(model)
        V = model.mem_vclamp[mi] if model.mem_clamped[mi] else \
            model.membrane_spec(mi)["initial_potential_mV"] * 1e-3
        nblocked = int(round(self.spec["block_fraction"] * self.n_agents))
        probs = self.steady_state(model, x, V)[0]
        x[self.states] = agents.largest_remainder(self.n_agents - nblocked, probs,
                                                  f"mechanism {self.name!r}")
        x[self.blocked] = nblocked
        agents.assign(self, x)

    def _reblock(self, model, x, rng, continuous):
        before = np.array(x[self.states], float)
        super()._reblock(model, x, rng, continuous)
        self._take_bound(model, x, np.asarray(x[self.states], float) - before)

    def state_energies(self, ledger, g, g_chem):
        """g_{i+1} - g_i = -k_B T ln(alpha_i+ / alpha_i-) at the reference concentrations
        and V = 0 with the ATP step's dG_ATP removed: the cycle closes (sum zero) because
        the reference puts each ion at one concentration on both sides."""
        from ionmc.mechanisms.metabolism import dG_ATP

        m = ledger.model
        _, cin, cout = self.membrane_sides(m)
        conc = {f"{s}_{side}": ledger.cref[m.idx(c, s)] for s in ("Na", "K")
                for side, c in (("in", cin), ("out", cout))}
        nucleotides = None
        dg = self.spec["dG_ATP_kJ_per_mol"] * 1e3
        if cin in m.pools:
            nucleotides = [max(ledger.cref[m.idx(cin, s)], 1e-9) for s in ("ATP", "ADP", "Pi")]
            dg = dG_ATP(self.spec_pool_dG0(m), m.T, *nucleotides)
        fw, bw = self.cycle_rates_at(m, None, 0.0, conc, nucleotides)
        bw = bw.copy()
        bw[cyc.ATP_STEP] *= math.exp(-dg / (R * m.T))
        e = np.zeros(cyc.N_STATES)
        for i in range(cyc.N_STATES - 1):
            e[i + 1] = e[i] - ledger.kT * math.log(fw[i] / bw[i])
        g[self.states] = e

    def spec_pool_dG0(self, model):
        _, cin, _ = self.membrane_sides(model)
        return model.pools[cin].spec["dG0_ATP_kJ_per_mol"] * 1e3


    def sbml_rate(self, model, j, name_of):
        """Step direction j's ode propensity (1/s) as an infix formula for the SBML export
        (ionmc.export.sbml): `propensity` above with the parameter row as literals -- the
        pumps in its source state, its rate constant, its voltage factor at the jump's
        midpoint potential, the ion it takes up (mass action) and, on a pool, the
        nucleotide factor. `name_of(state index)`: a species id; `name_of.potential(m)`:
        membrane m's potential (V)."""
        from ionmc.export import sbml_number as num, sbml_ramp

        P, ii = model.tr_p[j], model.tr_ii[j]
        f = [name_of(int(model.tr_src[j])), num(P[P_K])]
        if P[P_QV] != 0.0:
            v = f"({name_of.potential(int(model.tr_mem[j]))} + {num(model.tr_half_dv[j])})"
            f.append(f"exp({num(P[P_QV])} * {num(P[P_FRT])} * {v})")

        def conc(i):
            return f"{name_of(int(i))} * {num(model.inv_nvol[i])}"
        if ii[I_ION] >= 0:
            f.append(conc(ii[I_ION]))
        nuc = P[P_NUC]
        if nuc == 1.0:
            f.append(sbml_ramp(name_of(int(ii[I_ATP]))))
        elif nuc == 2.0:
            f += [sbml_ramp(name_of(int(ii[I_PI]))), conc(ii[I_ADP])]
        elif nuc in (3.0, 4.0):
            t = f"({conc(ii[I_ATP])} / {num(P[P_KATP])})"
            f.append(f"({conc(ii[I_PI])}) / (1 + {t})" if nuc == 3.0 else f"{t} / (1 + {t})")
        return " * ".join(f"({x})" for x in f)

    def sbml_event(self, model, key, value, name_of):
        """An event that sets `key` to `value`, as SBML event assignments [(species id,
        infix formula of the values at the trigger)]: ouabain binding more pumps
        (block_fraction up), as `_reblock` does it on the ode's counts -- every cycle
        state scaled down alike, the blocked count the rest, the ions they held given back
        to the side of the field each is counted on. Raises NotImplementedError for what
        it cannot express: unblocking (pumps return in the cycle's steady state at the
        event, a 13-state linear solve) and any key that changes the rate constants (the
        rates are exported as numbers). The spec follows the event (the next one is
        relative to it)."""
        from ionmc.export import sbml_number as num

        if key != "block_fraction":
            raise NotImplementedError(f"{key} changes the pump's rate constants, which "
                                      "the export writes as numbers")
        f, before = float(value), float(self.spec["block_fraction"])
        if f < before:
            raise NotImplementedError("unblocking returns pumps in the cycle's steady "
                                      "state at the event, which SBML cannot express")
        self.spec[key] = f
        if f == before:
            return []
        names = [name_of(i) for i in self.states]
        active = "(" + " + ".join(names) + ")"
        total = f"({active} + {name_of(self.blocked)})"
        r = f"({num(1.0 - f)} * {total} / {active})"  # want / active
        out = [(n, f"{n} * {r}") for n in names]
        out.append((name_of(self.blocked), f"{num(f)} * {total}"))
        # _take_bound: each ion index gives back sum_i m_i (x_i' - x_i) = (r - 1) sum m_i x_i
        held = {}
        for k, n in enumerate(names):
            na, kk, q = cyc.BOUND["Na"][k], cyc.BOUND["K"][k], cyc.STATE_CHARGE[k]
            kin = q - na
            for s, side, m in (("Na", "in", na), ("K", "in", kin), ("K", "out", kk - kin)):
                i_ion = self._side_index(model, s, side)
                if m and not model.clamped[i_ion]:
                    held.setdefault(i_ion, []).append(f"{m} * {n}")
        for i_ion, terms in held.items():
            ion = name_of(i_ion)
            out.append((ion, f"{ion} - ({r} - 1) * ({' + '.join(terms)})"))
        return out


MECHANISM = NaKATPase


def check(t, ctx):
    """Problems with a filled table: [(key, message)]."""
    for s in ("Na", "K"):
        if s not in ctx.species:
            return [("", f"the pump needs a species named {s!r}")]
    return []
