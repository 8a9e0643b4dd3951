"""Current injection (current clamp): one species moved at a set current into a compartment,
taken from another compartment or from an electrode.

A stimulator, not a channel: the ions move at the rate it imposes, whatever their
electrochemical gradient. `current_pA` is the electric current carried into `compartment`
(positive charge entering it), so the ions enter at I/(z e) per second (an anion leaves
for a positive current); `ions_per_s` is an explicit flux into `compartment`, added to it
(for an uncharged species, or to give the count directly). Firings are a Poisson process of
rate |flux| (each ion is one event), from `from` into `compartment` for
a positive flux and the other way for a negative one. Both are settable by events, so a
current step is two events.

`from = "electrode"`: the ions enter the system from outside it, like an electrode's
pipette (the edNEG stimulus instead moves K+ from the somatic ECS into the soma,
Saetra et al. 2021, PLoS Comput Biol 17:e1008143: `from = "ecs"`). A compartment source
that is empty stops the injection until ions come back (no count goes negative).

Transitions: one pair per injection, forward = from -> compartment, backward the reverse;
the pair's rates are max(flux, 0) and max(-flux, 0), so one of them is always 0.

Ledger (docs/physics.md; ledger.py): the injection is driven by an external agent, not by
its own free energy, so it produces no entropy of its own (the reverse of the direction that
fires has propensity 0, and the kernels book ln(a_f/a_b) only where both are positive).
The work the stimulator does is `thermo.stimulus_work_J`: per ion moved from a to b, the
exact change of the ledger's G (the lgamma form of G_ion and the capacitors' C V^2/2),

  dG = k_B T [ln((n_b + 1)/lam_b) - ln(n_a/lam_a)] + z e (V_b,mid - V_a,mid),

with lam = c_ref N_A vol (ledger.py), V of a compartment the sum of the V of the membranes
enclosing it (0 V inside none; those enclosing both sides cancel: base.potential_path), each
at the jump's midpoint (V + dV/2, so that
z e (V + dV/2) = C [(V + dV)^2 - V^2]/2 exactly). An electrode side has neither term: the
electrode holds the ion at its reference concentration and 0 V. A bath side or clamped
species contributes its chemical potential k_B T ln(c_cl/c_ref) + z e V (fixed V: a
clamped species must sit at a fixed potential, scenario.py), and the ledger's bath term
books the ion leaving or entering the bath as for any other transition, so the
stimulator's work is the same whichever side is clamped. Ions entering a voltage-clamped
compartment: z e V_clamp here, -z e V_clamp in the clamp work (ledger.py), so that the
sum is G's change. The kernels sum dG/k_B T per firing in ledger_sum
(kernels.ledger_arg, code 4), so under `ssa` W_stim is G's change to rounding and the balance
G(t) - G(0) = W_ATP + W_clamp + W_bath + W_event (+ W_water) + W_stim - T S_prod closes.
"""
import math

from ionmc.constants import E_CHARGE
from ionmc.errors import InputError
from ionmc.mechanisms.base import LEDGER_OWN, MAX_PATH, Mechanism, membrane_path, path_half_dv, \
    path_row, path_sum
from ionmc.mechanisms.metabolism import CREATINE, POOL

POOL_SPECIES = POOL + CREATINE
from ionmc.numba_conf import entry, leaf
from ionmc.ranges import Range

TYPE = "injection"
ELECTRODE = "electrode"

PARAMS = {
    "species": (None, "the species injected"),
    "compartment": (None, "the compartment the ions enter (for a positive flux)"),
    "from": (None, "the compartment they are taken from, or \"electrode\" (from outside "
                   "the system)"),
    "current_pA": (0.0, "electric current into `compartment` (pA): I/(z e) ions per second",
                   Range(-1e6, 1e6)),
    "ions_per_s": (0.0, "a flux into `compartment` (ions/s), added to current_pA's",
                   Range(-1e13, 1e13)),
}
PARAM_TYPES = {"compartment": str, "from": str}
#: keys that fix the injection's structure: no event may change them
FIXED = ("compartment", "from")

# parameter row: rate (1/s) of this direction; ledger constants (ledger.py, `ledger_rows`):
# constant part of dG and z e (in units of k_B T, and of k_B T per volt), dV/2 of the
# destination's and of the source's membrane (V), what the destination's and the source's
# counts are shifted by in the logs
P_RATE, P_G0, P_ZE, P_HB, P_HA, P_NB, P_NA = range(7)
N_PAR = 7
#: transition kinds (registry.py numbers them): from -> compartment, and back
KINDS = ("fw", "bw")
# index row: count of the destination and of the source in G (-1: electrode, or clamped);
# the count that must be positive for the jump to fire (-1: the electrode); the membranes
# whose V sum to the destination's potential over the source's, and the source's over the
# destination's (base.path_row)
I_B, I_A, I_GUARD = range(3)
I_PB, I_PA = 3, 3 + MAX_PATH
N_II = 3 + 2 * MAX_PATH


def check(t, ctx):
    """Problems with a filled injection table: [(key, message)] (empty if none)."""
    species, comps = ctx.species, ctx.compartments
    c, f = t["compartment"], t["from"]
    if c not in comps:
        return [("compartment", f"unknown compartment {c!r}")]
    if f != ELECTRODE and f not in comps:
        return [("from", f"unknown compartment {f!r} (or \"electrode\")")]
    if f == c:
        return [("from", f"is the compartment itself ({c!r})")]
    far = ctx.path_problem(c, None if f == ELECTRODE else f)
    if far:
        return [("compartment", far)]
    s = t["species"]
    if species[s]["charge"] == 0 and t["current_pA"] != 0:
        return [("current_pA", f"{s!r} carries no charge: give ions_per_s")]
    sides = [c] if f == ELECTRODE else [c, f]
    clamped = [x for x in sides if comps[x]["bath"] or s in comps[x]["clamped_species"]]
    if len(clamped) == len(sides):
        return [("compartment", f"{s!r} is clamped on every side: the injection would "
                 "move nothing")]
    if (c in ctx.pools or f in ctx.pools) and s in POOL_SPECIES:
        return [("species", f"{s!r} belongs to a metabolic pool, outside the ledger: not "
                 "injectable")]
    for x in clamped:
        if ctx.fixed_potential(x):
            continue
        m = ctx.enclosing(x)[0]
        return [("from" if x == f else "compartment",
                 f"{s!r} is clamped in {x!r}, whose membrane {m!r} is not voltage-clamped: "
                 "not supported (the ledger books a bath's ions at a fixed potential)")]
    return []


def flux(spec, z):
    """Ions per second into `compartment` (negative: out of it)."""
    f = spec["ions_per_s"]
    if z != 0:
        f += spec["current_pA"] * 1e-12 / (z * E_CHARGE)
    return f


def current_into(spec, z, comp):
    """Electric current (A) the injection carries into compartment `comp` (0 if neither
    side)."""
    q = z * E_CHARGE * flux(spec, z)
    return q if spec["compartment"] == comp else -q if spec["from"] == comp else 0.0


def schedule(name, spec, z, comp, events):
    """[(time, current into `comp` in A)] at t = 0 and after each event that sets the
    injection (for `ionmc energetics`)."""
    s = dict(spec)
    out = [(0.0, current_into(s, z, comp))]
    for e in events:
        keys = {k.split(".")[2]: v for k, v in e["set"].items()
                if k.startswith(f"mechanisms.{name}.")}
        if keys:
            s.update({k: float(v) for k, v in keys.items()})
            out.append((float(e["at_s"]), current_into(s, z, comp)))
    return out


def rates(spec, z):
    """(forward, backward) rates (1/s)."""
    f = flux(spec, z)
    return max(f, 0.0), max(-f, 0.0)


def ledger_rows(mech, model, cref, kT, x, continuous=False):
    """Fill the ledger constants of an injection's parameter rows (module docstring);
    raises InputError when a counted side has no reference concentration.

    `continuous` (the `ode` method): the mean-field G changes at the rate sum_j a_j dG/dx
    nu_j, whose slopes are d(C V^2/2)/dq = V (no midpoint self-energy e^2/2C) and
    dG_ion/dn = k_B T [psi(n+1) - ln lam] ~ k_B T [ln(n + 1/2) - ln lam] (to 1/(24 n^2)):
    the jump's exact dG would overcount the self-energy by e^2/2C per ion, 6e-4 of the
    scale in a 0.05 um^3 cell (measured), so the ODE books the slopes instead."""
    spec = mech.spec
    z = model.charge[model.species.index(spec["species"])]
    for j in mech.transitions:
        ii = model.tr_ii[j]
        g0 = 0.0
        for sign, i_cnt, i_state in ((1.0, ii[I_B], model.tr_ii[j ^ 1, I_GUARD]),
                                     (-1.0, ii[I_A], ii[I_GUARD])):
            if i_state < 0:  # the electrode
                continue
            if i_cnt >= 0:  # counted: the kernel adds ln(n/(N_A vol))
                if not cref[i_cnt] > 0:
                    c = model.comps[i_cnt // model.ns]
                    raise InputError(model.scenario.source,
                                     f"mechanisms.{mech.name}.species",
                                     f"{spec['species']!r} is absent from {c!r} and "
                                     "every compartment joined to it: the ledger has no "
                                     "reference concentration (give it a small one)")
                g0 -= sign * math.log(cref[i_cnt])
            else:  # clamped: its chemical potential against the reference
                conc = x[i_state] * model.inv_nvol[i_state]
                if conc > 0 and cref[i_state] > 0:
                    g0 += sign * math.log(conc / cref[i_state])
        p = model.tr_p[j]
        p[P_G0], p[P_ZE] = g0, z * E_CHARGE / kT
        dv = model.jump_dv(j)
        if continuous:
            dv.clear()
        p[P_HB] = path_half_dv(dv, model.tr_ii, j, I_PB)
        p[P_HA] = path_half_dv(dv, model.tr_ii, j, I_PA)
        p[P_NB], p[P_NA] = (0.5, 0.5) if continuous else (1.0, 0.0)


@leaf
def rate(j, x, P, II):
    """Propensity (1/s) of injection transition j: its set rate while its source holds an
    ion (the electrode always does)."""
    r = P[j, P_RATE]
    if r <= 0.0:
        return 0.0
    g = II[j, I_GUARD]
    if g >= 0 and x[g] <= 0:
        return 0.0
    return r


@leaf
def dG(j, x, V, P, II, inv_nvol):
    """The exact change of the ledger's G, in units of k_B T, when transition j fires in
    state x (module docstring): what the stimulator's work books per firing. (In k_B T, not
    J, so that the ODE's absolute tolerance, in ions, controls its integral too.)"""
    g = P[j, P_G0]
    ib, ia = II[j, I_B], II[j, I_A]
    if ib >= 0:  # ln(n + 1): the jump's lgamma difference (n + 1/2 under `ode`)
        g += math.log((x[ib] + P[j, P_NB]) * inv_nvol[ib])
    if ia >= 0:  # at least one ion under ssa; a leap may leave less
        g -= math.log(max(x[ia] + P[j, P_NA], 0.5) * inv_nvol[ia])
    v = 0.0
    v += path_sum(V, II, j, I_PB) + P[j, P_HB]
    v -= path_sum(V, II, j, I_PA) + P[j, P_HA]
    return g + P[j, P_ZE] * v


# -- for the kernels' dispatch table (engine/dispatch.py) -----------------------------
@entry
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    """A set rate: no potential."""
    return rate(j, x, P, II)


@entry
def ledger_arg(j, k, x, V, mem, half_dv, P, II, inv_nvol):
    """The exact change of G (k_B T) of the jump: the stimulator's work."""
    return dG(j, x, V, P, II, inv_nvol)


class Injection(Mechanism):
    """One pair: forward moves one ion from `from` (a compartment or the electrode) into
    `compartment`, backward the other way."""

    WORK_COLUMN = "thermo.stimulus_work_J"

    def current_schedule(self, model, comp):
        if comp not in (self.spec["compartment"], self.spec["from"]):
            return None
        z = model.charge[model.species.index(self.spec["species"])]
        return schedule(self.name, self.spec, z, comp, model.scenario.data["events"])

    def ledger_update(self, ledger, x):
        ledger_rows(self, ledger.model, ledger.cref, ledger.kT, x, ledger.continuous)

    def build(self, model, tr):
        spec = self.spec
        s = spec["species"]
        b = model.idx(spec["compartment"], s)
        a = -1 if spec["from"] == ELECTRODE else model.idx(spec["from"], s)
        # the destination's membranes and the source's; the pair's own membrane
        of_b, of_a, mem = membrane_path(model, spec["compartment"],
                                        None if a < 0 else spec["from"])
        counted = [i if i >= 0 and not model.clamped[i] else -1 for i in (b, a)]
        rows = []
        # per direction: its guard (the source's count), its destination's and source's
        # counts in G, its destination's and source's membranes
        for (guard, gb, ga, p_b, p_a) in ((a, counted[0], counted[1], of_b, of_a),
                                          (b, counted[1], counted[0], of_a, of_b)):
            r = tr.index_row()
            r[[I_B, I_A, I_GUARD]] = [gb, ga, guard]
            path_row(r, I_PB, p_b)
            path_row(r, I_PA, p_a)
            rows.append(r)
        fw = {b: 1}
        if a >= 0:
            fw[a] = -1
        # the source of each direction (for the dependency graph): the count it needs, or
        # the destination's when it comes from the electrode; the ledger sums each jump's
        # dG (ledger_arg)
        t0 = tr.pair((self.kind("fw"), self.kind("bw")), (a if a >= 0 else b, b),
                     mem, fw, tuple(rows), LEDGER_OWN)
        self.transitions = [t0, t0 + 1]
        self.ref = (t0, t0 + 1)
        # net efflux = out of `compartment`: a forward firing moves one ion in
        self.efflux = {s: {t0: -1, t0 + 1: 1}}

    def reads(self, model, j):
        return {("x", int(model.tr_src[j]))}  # its source's count alone

    def update_parameters(self, model):
        j0, j1 = self.transitions
        z = model.scenario.data["species"][self.spec["species"]]["charge"]
        model.tr_p[[j0, j1], P_RATE] = rates(self.spec, z)


MECHANISM = Injection
