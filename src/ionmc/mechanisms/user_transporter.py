"""Transporters whose turnover rate the scenario writes as an expression.

    [[mechanisms]]
    type = "transporter"
    name = "uptake"
    membrane = "pm"
    stoichiometry = { Ca = -1 }          # per forward turnover; + = into the inside
    density_per_um2 = 100.0
    rate = "kcat_per_s * Ca_i**2 / (Kd_mM**2 + Ca_i**2)"   # forward turnovers/s, one transporter
    parameters = { kcat_per_s = 20.0, Kd_mM = 3e-4 }
    ATP_per_turnover = 1                 # 0 (default) or 1: a forward turnover hydrolyses ATP

`rate` is the forward (unidirectional) turnover rate of one transporter (1/s), written as
for a user channel (ionmc.expressions: V in mV, concentrations `<species>_i`/`_o` in mM,
T, celsius, the table's parameters). The reverse rate is not written: it follows from
detailed balance, so that a forward turnover from x to x' and the reverse from x' obey

  a_f(x) / a_b(x') = exp(-(dG_ions + n_ATP dG_ATP) / k_B T)

exactly (dG_ions the discrete free energy of the moved ions, with the charge q carried inward
at the jump's midpoint potential, as the ledger counts it; docs/physics.md). So whatever the
expression, the transporter's equilibrium is the thermodynamic one (with ATP, its stall
point), and it joins the free-energy ledger like the built-in cotransporters: under `ssa`
the balance closes to rounding.

With N = density x area transporters, moved species m going from a to b in a forward
turnover (nu_m = |n_m| ions, volumes v_a, v_b), u = F V_mid / RT:

  a_f(x)  = N phi r(V_mid, c(x))  prod_m [x_a]_nu / max(x_a, nu)^nu
  a_b(x') = N phi r(V_mid, c(x))  exp(q u + n_ATP dG_ATP/RT) prod_m [x'_b]_nu (v_a/v_b)^nu / x_a^nu

with x = x' - dx the state before the forward turnover ([n]_nu the falling factorial n (n-1)
... (n - nu + 1), n^nu for a clamped species, whose count does not move; phi =
q10^((T - 310 K)/10)). The factor prod [x_a]_nu / max(x_a, nu)^nu is
1 for large counts and goes to 0 continuously as the source runs out, so the rate vanishes
with the ions it needs whatever the expression. The reverse reads r at the state before the
forward jump it undoes (its concentrations shifted by the turnover's stoichiometry), which
is what makes the ratio exact.

ATP: fixed at `dG_ATP_kJ_per_mol` (the cell's metabolic pool is not drawn on), booked in
`thermo.atp_work_J` as the cotransporters' is.
"""
import math

from ionmc.constants import F, N_A, R
from ionmc.errors import InputError
from ionmc.expressions import ExpressionError, parse
from ionmc.expressions.membrane import Laws, check_parameters, concentrations, names
from ionmc.expressions.native import N_CONC, law_value
from ionmc.mechanisms.base import LEDGER_DRIVEN, LEDGER_V, Mechanism
from ionmc.numba_conf import entry, leaf
from ionmc.physics import q10_factor
from ionmc.ranges import DG_ATP_KJ, Q10, Range

TYPE = "transporter"

PARAMS = {
    "membrane": (None, "membrane name"),
    "stoichiometry": (None, "species -> signed count per forward turnover (+ = into the "
                      "inside)"),
    "rate": (None, "forward turnover rate of one transporter (1/s), an expression of V (mV), "
             "concentrations (<species>_i, <species>_o in mM), T, celsius and parameters"),
    "parameters": ({}, "named constants the expression reads (units in their names)"),
    "density_per_um2": (None, "transporters per um^2 of membrane", Range(0.0, 1e5)),
    "q10": (1.0, "temperature coefficient of the rate (37 C reference)", Q10),
    "energy": ("reversible", "'reversible' (rate = forward rate; the reverse from detailed "
               "balance, in the ledger) or 'driven' (rate = net turnover rate, either sign; "
               "its free energy is work from outside, thermo.driven_work_J)"),
    "ATP_per_turnover": (0.0, "ATP hydrolysed per forward turnover: 0 or 1", Range(0.0, 1.0)),
    "dG_ATP_kJ_per_mol": (-57.0, "ATP's free energy (fixed)", DG_ATP_KJ),
}
PARAM_TYPES = {"stoichiometry": dict, "parameters": dict, "rate": str, "energy": str}
#: the expression, its constants and the moved ions are compiled once per run
FIXED = ("stoichiometry", "rate", "parameters", "energy")
#: reversible forward/reverse; driven forward (rate > 0) and backward (rate < 0)
KINDS = ("fw", "bw", "drv_fw", "drv_bw")
#: the ledger column of a driven transporter's work (thermo/ledger.py)
DRIVEN_COLUMN = "thermo.driven_work_J"
#: species one transporter may move
MAX_MOVES = 3
# index row: the law's address and its concentrations (expressions/native.py), then per
# moved species its forward source, forward destination and count
I_MV = 1 + N_CONC
N_II = I_MV + 3 * MAX_MOVES
# parameter row: N phi; q F/RT; ln of the reverse's constant factor (ATP, volumes); the
# forward change of each concentration slot's count (the reverse undoes it); per moved
# species 1.0 where its forward source, then destination, is clamped (a reservoir: its
# count does not move, and its factor is n^nu, not the falling factorial)
P_N, P_QFRT, P_LNK, P_SHIFT = 0, 1, 2, 3
P_CLAMP = P_SHIFT + N_CONC
# a driven transporter's ledger constants (`ledger_update`, as injection.ledger_rows): the
# constant part of a jump's dG/k_B T; half the jump's dV (0 under ode); 1 for the exact
# lgamma differences of a jump, 0 for the ode's slopes (psi(n + 1) per ion); the charge
# q e/k_B T carried into the inside (clamped species included: the bath term books them at V)
P_G0 = P_CLAMP + 2 * MAX_MOVES
P_HDV, P_STEP, P_QE = P_G0 + 1, P_G0 + 2, P_G0 + 3
N_PAR = P_QE + 1


def _expr(t, known):
    return parse(t["rate"], known, f"mechanisms.{t['name']}.rate")


def check(t, ctx):
    """Problems with a filled transporter table: [(key, message)]."""
    st = t["stoichiometry"]
    if not st:
        return [("stoichiometry", "needs at least one species: {Ca = -1}")]
    if len(st) > MAX_MOVES:
        return [("stoichiometry", f"at most {MAX_MOVES} species")]
    for s, n in st.items():
        if s not in ctx.species:
            return [(f"stoichiometry.{s}", f"unknown species {s!r}")]
        if isinstance(n, bool) or not isinstance(n, int) or n == 0 or abs(n) > 4:
            return [(f"stoichiometry.{s}", "must be a non-zero integer from -4 to 4")]
    if t["ATP_per_turnover"] not in (0.0, 1.0):
        return [("ATP_per_turnover", "must be 0 or 1")]
    if t["energy"] not in ("reversible", "driven"):
        return [("energy", f"must be 'reversible' or 'driven', not {t['energy']!r}")]
    if t["energy"] == "driven" and t["ATP_per_turnover"]:
        return [("ATP_per_turnover", "a driven transporter's free energy is booked as work "
                 "from outside: it takes no ATP")]
    mspec = ctx.membranes[t["membrane"]]
    for s, n in st.items():
        if not ctx.species[s]["permeant"]:
            return [(f"stoichiometry.{s}", f"{s!r} is impermeant")]
        for side in ("inside", "outside"):
            comp = ctx.compartments[mspec[side]]
            if not (comp["bath"] or s in comp["clamped_species"]):
                continue
            if not comp["concentrations_mM"].get(s, 0.0) > 0.0:
                return [(f"stoichiometry.{s}", f"{s!r} is clamped at 0 mM in "
                         f"{mspec[side]!r}: the transporter would draw on an empty reservoir")]
            if (t["energy"] == "driven" and side == "inside" and not comp["bath"]
                    and mspec["clamp_mV"] is None):
                return [(f"stoichiometry.{s}", f"{s!r} is clamped in {mspec['inside']!r}, "
                         f"whose membrane {t['membrane']!r} is not voltage-clamped: not "
                         "supported for a driven law (the ledger books a clamped species' "
                         "ions at a fixed potential)")]
    known = names(t["parameters"], ctx.species, ctx.compartments)
    bad = check_parameters(t["parameters"], known)
    if bad:
        return bad
    try:
        e = _expr(t, known)
    except ExpressionError as err:
        return [("rate", err.message)]
    if len(concentrations(e, t["parameters"])) > N_CONC:
        return [("rate", f"reads more than {N_CONC} concentrations")]
    return []


@leaf
def _falling(n, k):
    """n (n - 1) ... (n - k + 1), 0 once a factor is not positive."""
    f = 1.0
    for q in range(k):
        if n - q <= 0.0:
            return 0.0
        f *= n - q
    return f


@leaf
def _source_factor(j, x, P, II):
    """prod over the moved species of row j of [n]_nu / max(n, nu)^nu at its source (1 for a
    clamped source): 1 for large counts, 0 when fewer than nu ions are there."""
    f = 1.0
    for m in range(MAX_MOVES):
        nu = II[j, I_MV + 3 * m + 2]
        if nu <= 0:  # unused slots hold -1
            break
        if P[j, P_CLAMP + 2 * m] == 0.0:
            n = float(x[II[j, I_MV + 3 * m]])  # an int64 count's n^nu overflows from 2e6
            f *= _falling(n, nu) / max(n, nu) ** nu
    return f


@leaf
def rate(j, k, x, v, P, II, inv_nvol):
    """Propensity (1/s) of transition j (k: 0 forward, 1 reverse; 2, 3 driven forward and
    backward) at midpoint potential v (volts): the module docstring's laws."""
    if k == 1:
        f = math.exp(P[j, P_QFRT] * v + P[j, P_LNK])
        for m in range(MAX_MOVES):
            nu = II[j, I_MV + 3 * m + 2]
            if nu <= 0:
                break
            # the reverse's row lists the forward's source and destination: [x'_b]_nu over
            # x_a^nu, x_a = x'_a + nu the source's count before the forward turnover (for a
            # clamped side: n^nu and the same n)
            # floats: an int64 count's n^nu overflows from n ~ 2e6 at nu = 3 (the exact
            # methods' counts are integers)
            nb = float(x[II[j, I_MV + 3 * m + 1]])
            f *= nb ** nu if P[j, P_CLAMP + 2 * m + 1] != 0.0 else _falling(nb, nu)
            na = float(x[II[j, I_MV + 3 * m]])
            f /= (na if P[j, P_CLAMP + 2 * m] != 0.0 else na + nu) ** nu
        if f == 0.0:
            return 0.0
        r = law_value(j, v * 1e3, x, II, 0, inv_nvol, P, P_SHIFT, 1.0)
    else:
        f = _source_factor(j, x, P, II)
        if f == 0.0:
            return 0.0
        r = law_value(j, v * 1e3, x, II, 0, inv_nvol, P, P_SHIFT, 0.0)
        if k == 3:  # driven backward: the net rate's negative part
            r = -r
        if k >= 2 and r <= 0.0:
            return 0.0 if r == r else math.nan
    if not r >= 0.0:  # negative or NaN: the run stops and names this mechanism
        return math.nan
    return P[j, P_N] * r * f


@leaf
def _digamma(v):
    """psi(v) for v > 0: the recurrence up to 6, then the asymptotic series (Abramowitz &
    Stegun 6.3.18), to ~1e-13. The ode's slope of ln n! is psi(n + 1); ln(n + 1/2) is off by
    1/(24 (n + 1/2)^2), 0.08 k_B T summed over the first ions into an empty side."""
    r = 0.0
    while v < 6.0:
        r -= 1.0 / v
        v += 1.0
    f = 1.0 / (v * v)
    return r + math.log(v) - 0.5 / v - f * (1.0 / 12 - f * (1.0 / 120 - f * (
        1.0 / 252 - f * (1.0 / 240 - f / 132))))


@leaf
def driven_dG(j, x, V, mem, P, II, inv_nvol):
    """A driven jump's exact change of the ledger's G in k_B T at state x (injection.py's
    dG for several ions): P_G0 holds the references and the clamped sides' chemical
    potentials; each counted side adds its lgamma difference."""
    g = P[j, P_G0]
    for m in range(MAX_MOVES):
        nu = II[j, I_MV + 3 * m + 2]
        if nu <= 0:
            break
        a, b = II[j, I_MV + 3 * m], II[j, I_MV + 3 * m + 1]
        if P[j, P_STEP] == 0.0:  # ode: the slope of ln n!, psi(n + 1), nu times
            if P[j, P_CLAMP + 2 * m + 1] == 0.0:
                g += nu * (_digamma(x[b] + 1.0) + math.log(inv_nvol[b]))
            if P[j, P_CLAMP + 2 * m] == 0.0:
                g -= nu * (_digamma(x[a] + 1.0) + math.log(inv_nvol[a]))
            continue
        for q in range(nu):  # exact: ln((n_b + 1 + q)/lam_b) - ln((n_a - q)/lam_a)
            if P[j, P_CLAMP + 2 * m + 1] == 0.0:
                g += math.log((x[b] + 1.0 + q) * inv_nvol[b])
            if P[j, P_CLAMP + 2 * m] == 0.0:
                g -= math.log(max(x[a] - q, 0.5) * inv_nvol[a])
    return g + P[j, P_QE] * (V[mem[j]] + P[j, P_HDV])


@entry
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    return rate(j, k, x, V[mem[j]] + half_dv[j], P, II, inv_nvol)


@entry
def ledger_arg(j, k, x, V, mem, half_dv, P, II, inv_nvol):
    """A driven jump's dG/k_B T: the work done on the system from outside."""
    return driven_dG(j, x, V, mem, P, II, inv_nvol)


class UserTransporter(Mechanism):
    """One transition pair: the written forward rate and the reverse from detailed balance
    (reversible), or the written net rate's two signs (driven; module docstring)."""

    def __init__(self, spec):
        super().__init__(spec)
        self.driven = spec["energy"] == "driven"
        # a driven transporter's jumps book their dG as work from outside (thermo/ledger.py)
        self.WORK_COLUMN = DRIVEN_COLUMN if self.driven else None

    def _compile(self, model):
        if getattr(self, "laws", None) is not None:
            return
        _, cin, cout = self.membrane_sides(model)
        e = _expr(self.spec, names(self.spec["parameters"], model.scenario.data["species"],
                                   model.comps))
        self.laws = Laws(model, cin, cout, self.spec["parameters"],
                         [("rate", "rate", [e], lambda s: s[0])])

    def build(self, model, tr):
        self._compile(model)
        mi, cin, cout = self.membrane_sides(model)
        st = self.spec["stoichiometry"]
        fw_ii, bw_ii = tr.index_row(), tr.index_row()
        fw, self.moves = {}, []
        for m, (s, n) in enumerate(st.items()):
            i_in, i_out = model.idx(cin, s), model.idx(cout, s)
            a, b = (i_out, i_in) if n > 0 else (i_in, i_out)  # forward source, destination
            fw_ii[I_MV + 3 * m:I_MV + 3 * m + 3] = [a, b, abs(n)]
            # the reverse reads the forward's sides; a driven backward moves b -> a itself
            bw_ii[I_MV + 3 * m:I_MV + 3 * m + 3] = [b, a, abs(n)] if self.driven else \
                [a, b, abs(n)]
            self.moves.append((s, a, b, abs(n)))
            fw[i_in] = fw.get(i_in, 0) + n
            fw[i_out] = fw.get(i_out, 0) - n
        for row in (fw_ii, bw_ii):
            row[0] = self.laws.addr[0]
            row[1:1 + len(self.laws.conc[0])] = self.laws.conc[0]
        # applied changes only: a clamped count does not move, so the reverse's law reads it
        # unshifted
        self.shift = [0 if model.clamped[i] else fw.get(i, 0) for i in self.laws.conc[0]]
        kinds = ("drv_fw", "drv_bw") if self.driven else ("fw", "bw")
        t0 = tr.pair((self.kind(kinds[0]), self.kind(kinds[1])),
                     (int(fw_ii[I_MV]), int(fw_ii[I_MV + 1])), mi, fw, (fw_ii, bw_ii),
                     LEDGER_DRIVEN if self.driven else LEDGER_V)
        self.transitions = [t0, t0 + 1]
        self.ref = (t0, t0 + 1)
        self.efflux = {s: {t0: -n, t0 + 1: n} for s, n in st.items()}

    def reads(self, model, j):
        """V, the counts it moves and the concentrations its expression reads."""
        ii = model.tr_ii[j]
        r = {("V", int(model.tr_mem[j]))}
        r |= {("x", int(i)) for i in ii[1:1 + N_CONC] if i >= 0}
        for m in range(MAX_MOVES):
            if ii[I_MV + 3 * m + 2] > 0:
                r |= {("x", int(ii[I_MV + 3 * m])), ("x", int(ii[I_MV + 3 * m + 1]))}
        return r

    def charge_in(self, model):
        """Net charge (e) a forward turnover carries into the inside."""
        d = model.scenario.data
        return sum(n * d["species"][s]["charge"] for s, n in self.spec["stoichiometry"].items())

    def update_parameters(self, model):
        d = model.scenario.data
        sp = self.spec
        mspec = d["membranes"][sp["membrane"]]
        N = sp["density_per_um2"] * mspec["area_um2"] * q10_factor(sp["q10"], model.T)
        q = self.charge_in(model)
        for j in self.transitions:  # this process's address of the law (native.py)
            model.tr_ii[j, 0] = self.laws.addr[0]
        lnk = sp["ATP_per_turnover"] * sp["dG_ATP_kJ_per_mol"] * 1e3 / (R * model.T)
        vol = {i: 1.0 / model.inv_nvol[i] for _, a, b, _ in self.moves for i in (a, b)}
        lnk += sum(nu * math.log(vol[a] / vol[b]) for _, a, b, nu in self.moves)
        j0, j1 = self.transitions
        for j in (j0, j1):
            model.tr_p[j, P_N] = N
            model.tr_p[j, P_QFRT] = q * F / (R * model.T)
            model.tr_p[j, P_LNK] = lnk
            model.tr_p[j, P_SHIFT:P_SHIFT + N_CONC] = 0.0
            for m in range(len(self.moves)):  # each row's own source and destination
                a, b = model.tr_ii[j, I_MV + 3 * m], model.tr_ii[j, I_MV + 3 * m + 1]
                model.tr_p[j, P_CLAMP + 2 * m] = float(model.clamped[a])
                model.tr_p[j, P_CLAMP + 2 * m + 1] = float(model.clamped[b])
        if not self.driven:
            model.tr_p[j1, P_SHIFT:P_SHIFT + len(self.shift)] = self.shift

    def ledger_update(self, ledger, x):
        """A driven transporter's ledger constants (P_G0 ...): per row, minus ln c_ref of
        each counted side's species (the kernel adds ln(n/(N_A vol))), the chemical
        potential ln(c/c_ref) of each clamped side, and the jump's half dV (0 under ode,
        which books the slopes, as injection.ledger_rows explains)."""
        if not self.driven:
            return
        from ionmc.constants import E_CHARGE

        model, cref = ledger.model, ledger.cref
        for j in self.transitions:
            g0 = 0.0
            for m, (s, _, _, nu) in enumerate(self.moves):
                a, b = model.tr_ii[j, I_MV + 3 * m], model.tr_ii[j, I_MV + 3 * m + 1]
                for sign, i in ((1.0, b), (-1.0, a)):
                    if not cref[i] > 0:
                        raise InputError(model.scenario.source,
                                         f"mechanisms.{self.name}.stoichiometry.{s}",
                                         f"{s!r} is absent from both sides: the ledger has no "
                                         "reference concentration (give it a small one)")
                    if model.clamped[i]:
                        g0 += sign * nu * math.log(x[i] * model.inv_nvol[i] / cref[i])
                    else:
                        g0 -= sign * nu * math.log(cref[i])
            mi = model.tr_mem[j]
            dv = 0.0 if (ledger.continuous or model.mem_clamped[mi]) else \
                model.tr_qm[j, mi] * E_CHARGE / model.mem_C[mi]
            # the charge into the inside, clamped species too: a clamped species sits at the
            # inside's fixed potential (check), and the ledger's bath term books it there
            q = self.charge_in(model) * (1 if j == self.transitions[0] else -1)
            p = model.tr_p[j]
            p[P_G0], p[P_HDV], p[P_QE] = g0, 0.5 * dv, q * E_CHARGE / ledger.kT
            p[P_STEP] = 0.0 if ledger.continuous else 1.0

    def atp_work(self, model):
        """A forward turnover hydrolyses one ATP at the fixed dG_ATP."""
        if not self.spec["ATP_per_turnover"]:
            return []
        j = self.transitions[0]
        w = -self.spec["dG_ATP_kJ_per_mol"] * 1e3 / N_A
        return [(j, w, 0.0), (j + 1, -w, 0.0)]

    def initial_state(self, model, x):
        """Its rate checked at the starting concentrations over -150..+100 mV (a driven
        law's net rate may take either sign)."""
        for key, msg in self.laws.check(model, x, signed=self.driven):
            raise InputError(model.scenario.source, f"mechanisms.{self.name}.{key}", msg)


MECHANISM = UserTransporter
