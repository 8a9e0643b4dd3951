"""Channels whose gates the scenario writes: rates as expressions, any number of gates.

    [[mechanisms]]
    type = "channel"
    name = "KAHP"
    membrane = "pm"
    species = "K"
    density_per_um2 = 0.5
    conduction = "ohmic"
    single_channel_conductance_pS = 10.0
    parameters = { Kd_mM = 2e-4 }

    [mechanisms.gates.q]            # one table per gate, in the order they are named
    power = 1
    alpha = "min(2e4 * Ca_i, 0.01)"      # 1/ms
    beta = "0.001"                       # 1/ms
    # or: inf = "..." (open probability at steady state) and tau = "..." (ms)
    # initial = 0.0117                   # optional: open fraction at t = 0

`initial` (optional, 0..1) starts a gate at that open fraction, as NEURON's and Brian2's
initial values do (a model published with its initial state, not at rest); without it a gate
starts at its steady state at the starting V and concentrations. The population is placed
by the product of binomials over the gates' copies either way.

`factor` (optional) multiplies the open channels' conduction by an expression of V and
concentrations, instantaneous: Pinsky & Rinzel's m_inf(V)^2 of a Na+ gate taken as
instantaneous, or a K(C) channel's chi(Ca). Not a counted gate: the population's states are
its gates' only. Conduction out and in read it at the same state (the reverse step at the
state before the outward one, as a transporter's reverse law does), so the pair keeps its
Ussing ratio and the ledger its balance.

A gate is `power` independent identical copies, each opening at alpha and closing at beta
(1/ms, as in Hodgkin & Huxley 1952 and NEURON's mod files); `inf`/`tau` mean
alpha = inf/tau, beta = (1 - inf)/tau. The population is counted per state of the product
scheme of its gates (channels.product_scheme: a state counts each gate's open copies), the
open state being every copy of every gate open, exactly as the built-in `hh_channel`'s
families: a built-in family written this way is the same model (tests check it under every
method). Conduction is the built-in's, GHK or ohmic, through the open count.

An expression (ionmc.expressions) reads V (the membrane's potential, mV, at the jump's
midpoint as every rate does), T (K), celsius, the table's own `parameters` (write their units
into their names: `Kd_mM`), and concentrations in mM as `<species>_i` (the membrane's inside)
and `<species>_o` (its outside), at most six in one rate. `q10_gating` scales every gating
rate by q10_gating^((T - gating_reference_C)/10) (default 1: write the temperature into the
rate instead, with `celsius`).

Each rate is compiled once per distinct expression set (codegen.compile_laws, cached on
disk across processes) and called by the kernels through its address (expressions/
native.py), so a new model costs ~0.5 s of compilation, not a recompilation of the kernels.
A rate that comes out negative or NaN during a run stops it with one line naming this
mechanism; over -150..+100 mV at the starting concentrations it is checked before the run.

Ledger: as the built-in channels', gating is a conformational reservoir outside the ion
ledger (channels.py's docstring); conduction is the leak's exact GHK or ohmic pair.
"""
import math
import re

from ionmc.errors import InputError
from ionmc.expressions import ExpressionError, parse
from ionmc.expressions.membrane import CHECK_MV, Laws, check_parameters, checked, concentrations, \
    names
from ionmc.expressions.native import N_CONC, law_value
from ionmc.mechanisms import agents, channels, conduction
from ionmc.numba_conf import entry, leaf
from ionmc.ranges import Q10, Range

TYPE = "channel"

PARAMS = {
    "membrane": (None, "membrane name"),
    "species": (None, "conducted ion"),
    "gates": (None, "table of gates: name -> {power, alpha, beta} or {power, inf, tau} "
              "(rates in 1/ms, tau in ms, V in mV), optionally initial (open fraction at "
              "t = 0; default: steady state)"),
    "parameters": ({}, "named constants the expressions read (units in their names)"),
    "factor": ("", "an instantaneous factor of the conduction: an expression of V and "
               "concentrations ('': none)"),
    # the population and its conduction: hh_channel's keys
    **{k: channels.PARAMS[k] for k in ("density_per_um2", "conduction",
                                       "single_channel_permeability_um3_per_s",
                                       "single_channel_conductance_pS")},
    "q10": (1.0, "temperature coefficient of the single-channel conductance", Q10),
    "q10_gating": (1.0, "temperature coefficient of the gating rates", Q10),
    "gating_reference_C": (37.0, "temperature (C) at which the gating expressions hold",
                           Range(-10.0, 60.0)),
}
PARAMS.update(agents.PARAMS)
PARAM_TYPES = {"gates": dict, "parameters": dict, "species": str, "conduction": str,
               "factor": str,
               **agents.PARAM_TYPES}
#: the scheme and the expressions are compiled once per run (an event may not change them)
FIXED = ("gates", "parameters", "density_per_um2", "factor")
AGENTS_FROM_LOG = True
#: index row of a gating step: its rate's address and the concentrations it reads
#: (expressions/native.py); of a conduction step: the built-in's (channels.I_OPEN, I_DST),
#: then the factor's address (-1: no factor) and concentrations from I_FACTOR
I_FACTOR = 2
N_II = I_FACTOR + 1 + N_CONC
#: parameter row of a conduction step: the built-in's three, then per concentration slot
#: of the factor the count it is read lower by (an inward step: the outward step's change)
P_SHIFT = 3
N_PAR = P_SHIFT + N_CONC
#: the same kinds, in the same order, as hh_channel's: conduction is its rate law
KINDS = channels.KINDS
#: gates and states a population may have (the product scheme grows as prod(power + 1))
MAX_POWER, MAX_STATES = 8, 64
_GATE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")


def resolve(raw):
    """The other conduction's key set to 0 (channels.py)."""
    return conduction.resolve(dict(raw), channels.CONDUCTION_KEY, "channel")


def _gate_exprs(t, names):
    """[(gate, power, (alpha, beta) or (inf, tau), their Expressions)] of a filled table, or
    ExpressionError/ValueError (key, message)."""
    out = []
    for g, gt in t["gates"].items():
        key = f"gates.{g}"
        if not isinstance(gt, dict):
            raise ValueError(key, "must be a table: {power = ..., alpha = ..., beta = ...}")
        forms = [k for k in (("alpha", "beta"), ("inf", "tau")) if any(x in gt for x in k)]
        unknown = set(gt) - {"power", "alpha", "beta", "inf", "tau", "initial"}
        if unknown:
            raise ValueError(f"{key}.{sorted(unknown)[0]}",
                             "unknown key (known: power, alpha, beta, inf, tau, initial)")
        if "initial" in gt:
            v = gt["initial"]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise ValueError(f"{key}.initial", f"must be a number from 0 to 1 (the "
                                 f"gate's open fraction at t = 0; got {v!r})")
        if len(forms) != 1 or not all(x in gt for x in forms[0]):
            raise ValueError(key, "give either alpha and beta (1/ms) or inf and tau (ms)")
        p = gt.get("power", 1)
        if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= MAX_POWER:
            raise ValueError(f"{key}.power", f"must be an integer from 1 to {MAX_POWER}")
        exprs = []
        for k in forms[0]:
            if not isinstance(gt[k], str):
                raise ValueError(f"{key}.{k}", "must be a string (an expression)")
            exprs.append(parse(gt[k], names, f"mechanisms.{t['name']}.{key}.{k}"))
        out.append((g, p, forms[0], exprs))
    return out


def check(t, ctx):
    """Problems with a filled channel table: [(key, message)]."""
    if not ctx.species[t["species"]]["permeant"]:
        return [("species", f"{t['species']!r} is impermeant")]
    if not t["gates"]:
        return [("gates", "needs at least one gate ([mechanisms.gates.NAME])")]
    known = names(t["parameters"], ctx.species, ctx.compartments)
    bad = check_parameters(t["parameters"], known)
    if bad:
        return bad
    for g in t["gates"]:
        if not _GATE_NAME.match(g):
            return [(f"gates.{g}", "a gate's name is letters and digits, a letter first")]
    try:
        gates = _gate_exprs(t, known)
    except ExpressionError as e:
        return [(e.key.split(".", 2)[2], e.message)]
    except ValueError as e:
        return [e.args]
    if t["factor"]:
        try:
            f = parse(t["factor"], known, f"mechanisms.{t['name']}.factor")
        except ExpressionError as e:
            return [("factor", e.message)]
        if len(concentrations(f, t["parameters"])) > N_CONC:
            return [("factor", f"reads more than {N_CONC} concentrations")]
    if math.prod(p + 1 for _, p, _, _ in gates) > MAX_STATES:
        return [("gates", f"the gates' scheme has more than {MAX_STATES} states")]
    for g, _, form, exprs in gates:
        conc = set().union(*(concentrations(e, t["parameters"]) for e in exprs))
        if len(conc) > N_CONC:
            return [(f"gates.{g}", f"reads {len(conc)} concentrations (at most {N_CONC})")]
    return []


# -- the kernels' side (engine/dispatch.py) ----------------------------------------------
# gating rows: P[j, 0] = multiplier x temperature factor; II[j, 0] = the rate's address,
# II[j, 1..N_CONC] = the state indices of the concentrations it reads (-1: none)
@leaf
def rate(j, k, x, v, src, P, II, inv_nvol):
    """Propensity (1/s) of transition j (k: 0/1 gating, 2..5 conduction as hh_channel's)
    at midpoint potential v (volts)."""
    if k >= 2:
        c = channels.rate(j, k, x, v, src, P, II, inv_nvol)
        if c == 0.0 or II[j, I_FACTOR] < 0:
            return c
        f = law_value(j, v * 1e3, x, II, I_FACTOR, inv_nvol, P, P_SHIFT, 1.0)
        if not f >= 0.0:  # negative or NaN: the run stops and names this mechanism
            return math.nan
        return c * f
    n = x[src[j]]
    if n <= 0:
        return 0.0
    r = law_value(j, v * 1e3, x, II, 0, inv_nvol, P, 0, 0.0)
    if not r >= 0.0:  # negative or NaN: the run stops and names this mechanism
        return math.nan
    return P[j, 0] * 1e3 * r * n


@entry
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    return rate(j, k, x, V[mem[j]] + half_dv[j], src, P, II, inv_nvol)


class UserChannel(channels.Channels):
    """A channel population whose gates are written in the scenario (module docstring)."""

    def _compile(self, model):
        """Parse the gates' expressions, generate and compile their laws (once): law 2g is
        gate g's alpha, 2g + 1 its beta."""
        if getattr(self, "laws", None) is not None:
            return
        _, cin, cout = self.membrane_sides(model)
        known = names(self.spec["parameters"], model.scenario.data["species"], model.comps)
        gates = _gate_exprs(self.spec, known)
        items = []
        for g, _, form, exprs in gates:
            if form == ("inf", "tau"):  # alpha = inf/tau, beta = (1 - inf)/tau
                rates = (lambda s: f"({s[0]} / {s[1]})", lambda s: f"((1.0 - {s[0]}) / {s[1]})")
            else:
                rates = (lambda s: s[0], lambda s: s[1])
            for which, combine, key in (("alpha", rates[0], form[0]), ("beta", rates[1], form[1])):
                items.append((f"{g}_{which}", f"gates.{g}.{key}", exprs, combine))
        self.gates = [(g, p) for g, p, _, _ in gates]
        # the factor's law, after the gates' (None: no factor)
        self.factor_law = len(items) if self.spec["factor"] else None
        if self.factor_law is not None:
            f = parse(self.spec["factor"], known, f"mechanisms.{self.name}.factor")
            items.append(("factor", "factor", [f], lambda s: s[0]))
        self.laws = Laws(model, cin, cout, self.spec["parameters"], items)

    def n_slots(self, model):
        self._compile(model)
        return super().n_slots(model)

    def scheme(self):
        return channels.product_scheme(self.gates)

    def build(self, model, tr):
        """hh_channel's transitions; then, per gating transition, its law and multiplier
        (edge k of each block: forward at 2k, alpha of gate g (law 2g) times mult_f; the
        backward at 2k + 1, beta (law 2g + 1) times mult_b)."""
        super().build(model, tr)
        _, _, edges = self.scheme()
        self.gating = {}  # transition -> (law, multiplier)
        for b in self.blocks:
            for k, (_, _, g, mf, mb) in enumerate(edges):
                self.gating[b + 2 * k] = (2 * g, mf)
                self.gating[b + 2 * k + 1] = (2 * g + 1, mb)

    def reads(self, model, j):
        """Its source count and V, and the concentrations its rate reads (from its law, not
        its index row: the dependency graph is built before the rows are filled)."""
        r = super().reads(model, j)
        if j in self.gating:
            r |= {("x", int(i)) for i in self.laws.conc[self.gating[j][0]]}
        elif self.factor_law is not None:
            r |= {("x", int(i)) for i in self.laws.conc[self.factor_law]}
        return r

    def update_gating(self, model):
        sp = self.spec
        phi = sp["q10_gating"] ** ((model.T - 273.15 - sp["gating_reference_C"]) / 10.0)
        for j, (law, mult) in self.gating.items():
            model.tr_p[j, 0] = mult * phi
            model.tr_ii[j, :1 + N_CONC] = -1
            model.tr_ii[j, 0] = self.laws.addr[law]
            model.tr_ii[j, 1:1 + len(self.laws.conc[law])] = self.laws.conc[law]
        if self.factor_law is None:
            return
        # the conduction pair (channels.Channels.build: its last two transitions, outward
        # then inward): the outward step reads the factor at its state, the inward one at
        # the state before the outward step it reverses (its counts less that step's
        # applied change: a clamped count does not move, Model.nu)
        conc = self.laws.conc[self.factor_law]
        j_out = self.transitions[-2]
        for j, shift in ((j_out, [0.0] * len(conc)),
                         (j_out + 1, [float(model.nu[j_out, i]) for i in conc])):
            model.tr_ii[j, I_FACTOR:I_FACTOR + 1 + N_CONC] = -1
            model.tr_ii[j, I_FACTOR] = self.laws.addr[self.factor_law]
            model.tr_ii[j, I_FACTOR + 1:I_FACTOR + 1 + len(conc)] = conc
            model.tr_p[j, P_SHIFT:P_SHIFT + N_CONC] = 0.0
            model.tr_p[j, P_SHIFT:P_SHIFT + len(conc)] = shift

    def gate_rates(self, model, V, conc):
        """[(alpha, beta)] per gate in 1/ms at V (volts), conc(state index) -> mM."""
        return [(self.laws.value(2 * g, V, conc), self.laws.value(2 * g + 1, V, conc))
                for g in range(len(self.gates))]

    def occupancies(self, model, V, x=None, initial=False):
        """Stationary probabilities of its states at V (volts), the concentrations at
        counts x (default: the model's start); initial: a gate with an `initial` open
        fraction at that fraction instead (the population at t = 0)."""
        x = model.x0 if x is None else x
        ab = self.gate_rates(model, V, lambda i: x[i] * model.inv_nvol[i])
        given = [self.spec["gates"][g].get("initial") if initial else None
                 for g, _ in self.gates]
        return channels.product_occupancies(
            [p for _, p in self.gates],
            [a / (a + b) if m is None else m for (a, b), m in zip(ab, given)])

    def open_probability(self, model, V, concs=None):
        """At V (volts) and the concentrations concs(compartment, species) (default: the
        model's start): what `ionmc energetics` reads for the passive current (times the
        factor, where there is one)."""
        x = model.x0.astype(float)
        if concs is not None:
            for i in {i for c in self.laws.conc for i in c}:
                comp, sp = model.comps[i // model.ns], model.species[i % model.ns]
                x[i] = concs(comp, sp) / model.inv_nvol[i]
        p = self.occupancies(model, V, x)[-1]
        if self.factor_law is not None:
            p *= self.laws.value(self.factor_law, V, lambda i: x[i] * model.inv_nvol[i])
        return p

    def initial_gating(self, model, x, V):
        """Its rates checked at the starting concentrations (`check_rates`), then the
        population placed as the built-in's."""
        for key, msg in self.check_rates(model, x):
            raise InputError(model.scenario.source, f"mechanisms.{self.name}.{key}", msg)
        mi = model.mems.index(self.spec["membrane"])
        x[self.states] = agents.largest_remainder(
            self.n_agents, self.occupancies(model, V[mi], x, initial=True),
            f"mechanism {self.name!r}")
        agents.assign(self, x)

    def check_rates(self, model, x):
        """Each rate finite and non-negative over -150..+100 mV at counts x, and no gate
        stuck (alpha + beta > 0): [(key, message)]."""
        return checked(self.laws.memo_key(model, x, "gates", tuple(g for g, _ in self.gates)),
                       lambda: self._check_rates(model, x))

    def _check_rates(self, model, x):
        bad = self.laws.check(model, x)
        if bad:
            return bad
        conc = lambda i: x[i] * model.inv_nvol[i]  # noqa: E731
        for v in CHECK_MV:
            for g, (a, b) in enumerate(self.gate_rates(model, v * 1e-3, conc)):
                if a + b <= 0.0:
                    return [(f"gates.{self.gates[g][0]}", f"alpha + beta is 0 at V = {v:g} mV "
                             "(the gate cannot relax)")]
        return []


MECHANISM = UserChannel
