"""Cotransporters and exchangers (docs/mechanisms/cotransporters.md): one reversible
transition pair per transporter, whose forward turnover moves its whole signed
stoichiometry at once (positive = into the membrane's inside: GAT1 {Na=+2, Cl=+1,
GABA=+1}, NCX {Na=+3, Ca=-1}).

Rate law: one saturating turnover law of convenience-kinetics form (Liebermeister & Klipp
2006, Theor Biol Med Model 3:41), with the ions of each direction's source side as its
substrates. With c~ = c/K_s (one K_m per species; an optional outside K_m) and nu_s = |n_s|:

  a_f = N k_f exp(-delta q u)      prod_s [n_src]_nu (c1_src/K_src)^nu / D(x_mid)
  a_b = N k_b exp((1 - delta) q u) prod_s [n_dst]_nu (c1_dst/K_dst)^nu / D(x_mid)
  D   = prod_s (1 + c_src(x_mid)/K_src)^nu + prod_s (1 + c_dst(x_mid)/K_dst)^nu - 1

N the transporters on the membrane (density x area), k_f the forward maximal turnover
(`turnover_per_s`, at 37 C, scaled by q10), [n]_nu = n (n-1) ... (n-nu+1) the falling
factorial of the source count (n^nu for a clamped species: a reservoir's concentration is
exact), c1 = 1 ion's concentration, q = sum_s n_s z_s the net charge carried inward per
forward turnover, u = F V_mid / RT at the jump's midpoint potential, delta the share of
the voltage dependence on the forward rate (`voltage_split`). The saturating denominator D
is evaluated at the jump's midpoint counts x + dx/2, which is the same state for a forward
jump from x and the backward jump back from x + dx, so it cancels in the ratio.

Haldane relation: k_b = k_f prod_s (K_dst/K_src)^nu (= k_f with one K_m per species), so

  a_f(x) / a_b(x') = exp(-q F V_mid / RT) prod_s [n_src]_nu v_dst^nu / ([n'_dst]_nu v_src^nu)
                   = exp(-dG_turnover / k_B T)

exactly, with the discrete (falling-factorial) free energy of the ledger (docs/physics.md):
the equilibrium is the thermodynamic one whatever the kinetic parameters, and the
largest accumulation of a cargo S is the closed-form ratio (docs/physics.md,
"Cotransporters: thermodynamic limits")
S_in/S_out = prod_{s != S} (c_out,s/c_in,s)^(n_s/n_S) exp(-q F V / (n_S R T)).

Primary active transport (P-type ATPases such as PMCA): with `ATP_per_turnover = 1` a
forward turnover also hydrolyses one ATP, and the Haldane relation gains its free energy,
so that a_f(x)/a_b(x') = exp(-(dG_turnover + dG_ATP)/k_B T) and the stall point is the
closed form with the ATP term (`equilibrium_ratio`; for PMCA, 1 Ca2+ out per ATP,
Ca_o/Ca_i = exp((-dG_ATP + 2 F V)/RT) at stall, V the inside's potential). Without a
metabolic pool dG_ATP is the transporter's `dG_ATP_kJ_per_mol` and the turnover law is the
one above with k_b multiplied by exp(dG_ATP/RT). When the membrane's inside has a pool
(metabolism.py) the turnover draws on it: the forward rate gains ATP/(K_ATP + ATP) and the
backward rate exp(dG0'/RT) [ADP][Pi]/(K_ATP + ATP) (molar [ADP][Pi]), which is the forward
factor times exp(dG_ATP/RT) with dG_ATP = dG0' + RT ln([ADP][Pi]/[ATP]). Both are
evaluated at the jump's midpoint counts of ATP, ADP and Pi, so the ratio holds with the
same dG_ATP that the ledger books as W_ATP (`dG_ATP_mid`, kernels.ledger_arg), and the
ion ledger stays exact under `ssa`. This one law covers every case, so PMCA is a preset
of this module (`preset = "PMCA"`) rather than a mechanism of its own.

Ions are never stored in a transporter (binding is folded into the rapid-equilibrium
factors), so compartment counts alone conserve every species; the transition is elementary
in the ledger's sense and the ledger closes to rounding under `ssa`.
"""
import copy
import math

from ionmc.constants import F, N_A, R
from ionmc.mechanisms.base import LEDGER_OWN, LEDGER_V, Mechanism
from ionmc.numba_conf import entry, leaf
from ionmc.physics import q10_factor
from ionmc.ranges import DG_ATP_KJ, FRACTION, K_M_MM, Q10, Range, positive

TYPE = "cotransporter"

#: presets: stoichiometry (signed, + = into the inside), K_m (mM, both sides) and the
#: forward maximal turnover (1/s, 37 C). Kinetic numbers are apparent constants of the
#: literature, rounded; only the stoichiometry matters for the equilibrium.
PRESETS = {
    # GAT1 (SLC6A1): 2 Na+ : 1 Cl- : 1 GABA (the Na count is debated, 2 or 3: set
    # stoichiometry = { Na = 3 }); K_m GABA ~8 uM, Na ~30 mM, Cl ~30 mM (Mager et al. 1993,
    # Neuron 10:177; Lu & Hilgemann 1999, J Gen Physiol 114:429); turnover ~10 /s
    "GAT1": dict(stoichiometry={"Na": 2, "Cl": 1, "GABA": 1},
                 K_m_mM={"Na": 30.0, "Cl": 30.0, "GABA": 0.008}, turnover_per_s=10.0),
    # SGLT1 (SLC5A1): 2 Na+ : 1 glucose, high affinity (K_m glucose ~0.5 mM, Na ~5 mM);
    # turnover ~30 /s (Wright, Loo & Hirayama 2011, Physiol Rev 91:733)
    "SGLT1": dict(stoichiometry={"Na": 2, "glucose": 1},
                  K_m_mM={"Na": 5.0, "glucose": 0.5}, turnover_per_s=30.0),
    # SGLT2 (SLC5A2): 1 Na+ : 1 glucose, low affinity, high capacity (K_m glucose ~5 mM,
    # Na ~25 mM; Wright et al. 2011)
    "SGLT2": dict(stoichiometry={"Na": 1, "glucose": 1},
                  K_m_mM={"Na": 25.0, "glucose": 5.0}, turnover_per_s=30.0),
    # NKCC1 (SLC12A2): Na+ K+ 2Cl- in, electroneutral (K_m Na ~20, K ~2, Cl ~40 mM;
    # Russell 2000, Physiol Rev 80:211)
    "NKCC1": dict(stoichiometry={"Na": 1, "K": 1, "Cl": 2},
                  K_m_mM={"Na": 20.0, "K": 2.0, "Cl": 40.0}, turnover_per_s=20.0),
    # KCC2 (SLC12A5): K+ Cl- out, electroneutral (K_m K ~9, Cl ~7 mM; Payne 1997, Am J
    # Physiol 273:C1516)
    "KCC2": dict(stoichiometry={"K": -1, "Cl": -1},
                 K_m_mM={"K": 9.0, "Cl": 7.0}, turnover_per_s=20.0),
    # NCX1 (SLC8A1): 3 Na+ in, 1 Ca2+ out, one charge in per turnover; K_m Na ~20 mM,
    # Ca ~1 uM (one K_m for both sides: set K_m_out_mM = { Ca = 1.3 } for the outside's
    # lower affinity); turnover ~5000 /s (Hilgemann 1996, Biophys J 71:759; Blaustein &
    # Lederer 1999, Physiol Rev 79:763)
    "NCX": dict(stoichiometry={"Na": 3, "Ca": -1},
                K_m_mM={"Na": 20.0, "Ca": 0.001}, turnover_per_s=5000.0),
    # PMCA (ATP2B): 1 Ca2+ out per ATP. Calmodulin-activated K_m for Ca_i 0.2-0.5 uM
    # (Carafoli 1991, Physiol Rev 71:129; Strehler & Zacharias 2001, Physiol Rev 81:21);
    # outside Ca2+ binds weakly (K_m_out 10 mM here, so 1-2 mM Ca_o barely inhibits);
    # turnover ~30-100 /s (Scheuss, Yasuda, Sobczyk & Svoboda 2006, J Neurosci 26:8183,
    # estimate spine PMCA from extrusion rates). The 1-2 H+ it takes in are not modelled,
    # so it carries 2 charges out per turnover (add H as a species with stoichiometry
    # { H = 2 } for an electroneutral pump). Its forward rate is taken voltage-independent
    # (voltage_split 0: the ATP-driven step limits it; PMCA currents vary little with V);
    # the Haldane relation puts the whole 2FV on the backward rate, which keeps the stall
    # ratio exact.
    "PMCA": dict(stoichiometry={"Ca": -1}, K_m_mM={"Ca": 0.0003},
                 K_m_out_mM={"Ca": 10.0}, turnover_per_s=50.0, ATP_per_turnover=1.0,
                 voltage_split=0.0),
}
MAX_SPECIES = 5
#: transition kinds (registry.py numbers them): a forward turnover, and a backward one
KINDS = ("fw", "bw")

PARAMS = {
    "membrane": (None, "membrane name"),
    "preset": ("", "GAT1 | SGLT1 | SGLT2 | NKCC1 | KCC2 | NCX, or empty"),
    "stoichiometry": ({}, "species -> signed count per turnover (+ = into the inside); "
                          "merged over the preset's"),
    "K_m_mM": ({}, "species -> K_m (mM) for binding on either side; merged over the preset's"),
    "K_m_out_mM": ({}, "species -> K_m (mM) on the outside, where it differs"),
    "density_per_um2": (None, "transporters per um^2 of membrane", Range(0.0, 1e5)),
    "turnover_per_s": (10.0, "forward maximal turnover per transporter (1/s) at 37 C",
                       positive(1e6)),
    "voltage_split": (0.5, "share of the voltage dependence carried by the forward rate, 0..1",
                      FRACTION),
    "q10": (2.0, "temperature coefficient of the turnover", Q10),
    "ATP_per_turnover": (0.0, "ATP hydrolysed per forward turnover: 0 or 1 (PMCA: 1)", FRACTION),
    "dG_ATP_kJ_per_mol": (-57.0, "ATP's free energy when the cell has no metabolic pool",
                          DG_ATP_KJ),
    "K_ATP_mM": (0.15, "ATP half-saturation on a metabolic pool (PMCA's low-affinity "
                       "site, 0.1-0.3 mM; Carafoli 1991)", K_M_MM),
}
PARAM_TYPES = {"preset": str, "stoichiometry": dict, "K_m_mM": dict, "K_m_out_mM": dict}
#: tables and strings that fix the transporter's structure: no event may change them
FIXED = ("preset", "stoichiometry", "K_m_mM", "K_m_out_mM", "ATP_per_turnover")

# parameter row: P_K prefactor (1/s), P_CV coefficient of V_mid (1/V) in the exponent,
# then per species k: nu, 1/K_src, 1/K_dst, src clamped, dst clamped; then the pool's ATP
# terms: on a pool (0/1), K_ATP (mM), exp(dG0'/RT) per M^2 in mM^2 (backward factor),
# direction (+1 forward: ATP consumed; -1 backward), dG0' (J/mol), RT (J/mol)
P_K, P_CV = 0, 1
P_SP0, P_SPW = 3, 5
P_POOL = P_SP0 + P_SPW * MAX_SPECIES
P_KATP, P_BFAC, P_SIGN, P_DG0, P_RT = range(P_POOL + 1, P_POOL + 6)
N_PAR = P_POOL + 6
# II[j, 0] = species count, then (src, dst) index pairs, then the pool's ATP, ADP, Pi
I_ATP = 1 + 2 * MAX_SPECIES
N_II = I_ATP + 3


def resolve(raw):
    """The raw mechanism table with its preset's values filled in where not given: the
    stoichiometry and K_m tables merge over the preset's, so that `preset = "GAT1"` with
    `stoichiometry = { Na = 3 }` is GAT1 3:1:1. Returns (table, error or None)."""
    t = copy.deepcopy(raw)
    name = t.get("preset", "")
    if not name:
        return t, None
    if not isinstance(name, str) or name not in PRESETS:
        return t, ("preset", f"unknown preset {name!r} (known: {', '.join(PRESETS)})")
    p = PRESETS[name]
    for key in ("stoichiometry", "K_m_mM"):
        given = t.get(key, {})
        if not isinstance(given, dict):
            return t, (key, f"{given!r} is not a table")
        t[key] = dict(p[key], **given)
    for key in ("K_m_out_mM",):
        given = t.get(key, {})
        if not isinstance(given, dict):
            return t, (key, f"{given!r} is not a table")
        t[key] = dict(p.get(key, {}), **given)
    t.setdefault("turnover_per_s", p["turnover_per_s"])
    for key in ("ATP_per_turnover", "voltage_split"):
        if key in p:
            t.setdefault(key, p[key])
    return t, None


def check(t, ctx):
    """Problems with a filled mechanism table: [(key, message)] (empty if none)."""
    species = ctx.species
    st = t["stoichiometry"]
    if not st:
        return [("stoichiometry", "missing: give a table of signed counts or a preset")]
    if len(st) > MAX_SPECIES:
        return [("stoichiometry", f"at most {MAX_SPECIES} species per transporter")]
    for s, n in st.items():
        if s not in species:
            return [(f"stoichiometry.{s}", f"unknown species {s!r} (declare cargo such as "
                     f"GABA or glucose in [species] with charge = 0)")]
        if not isinstance(n, int) or isinstance(n, bool) or n == 0:
            return [(f"stoichiometry.{s}", f"{n!r} is not a nonzero integer count")]
    for key in ("K_m_mM", "K_m_out_mM"):
        for s, k in t[key].items():
            if s not in st:
                return [(f"{key}.{s}", f"{s!r} is not in the stoichiometry")]
            if isinstance(k, bool) or not isinstance(k, (int, float)) or not k > 0 \
                    or not math.isfinite(k):
                return [(f"{key}.{s}", f"must be a positive number (got {k!r})")]
    for s in st:
        if s not in t["K_m_mM"]:
            return [("K_m_mM", f"no K_m for {s!r}: give K_m_mM = {{ {s} = ... }}")]
    if t["ATP_per_turnover"] not in (0.0, 1.0):
        return [("ATP_per_turnover", f"must be 0 or 1 (got {t['ATP_per_turnover']:g})")]
    return []


def net_charge(stoich, charges):
    """Net charge carried inward per forward turnover."""
    return sum(n * charges[s] for s, n in stoich.items())


def rows(spec, T, area_um2, charges, clamped_in, clamped_out, dG0_pool=None):
    """(forward, backward) parameter rows at temperature T. `clamped_in/out`: species ->
    clamped on that side; `dG0_pool`: dG0' (J/mol) of the inside's metabolic pool, if any."""
    import numpy as np

    st = spec["stoichiometry"]
    q10 = q10_factor(spec["q10"], T)
    n_tr = spec["density_per_um2"] * area_um2
    kf = n_tr * spec["turnover_per_s"] * q10
    K_in = {s: float(spec["K_m_mM"][s]) for s in st}
    K_out = {s: float(spec["K_m_out_mM"].get(s, spec["K_m_mM"][s])) for s in st}
    kb = kf
    q = net_charge(st, charges)
    fw, bw = np.zeros(N_PAR), np.zeros(N_PAR)
    for k, (s, n) in enumerate(st.items()):
        nu = abs(n)
        # forward source: outside for an inward count, inside for an outward one
        ks, kd = (K_out[s], K_in[s]) if n > 0 else (K_in[s], K_out[s])
        cs, cd = (clamped_out[s], clamped_in[s]) if n > 0 else (clamped_in[s], clamped_out[s])
        kb *= (kd / ks) ** nu  # Haldane
        o = P_SP0 + P_SPW * k
        fw[o:o + P_SPW] = [nu, 1.0 / ks, 1.0 / kd, cs, cd]
        bw[o:o + P_SPW] = [nu, 1.0 / kd, 1.0 / ks, cd, cs]
    d = spec["voltage_split"]
    u = F / (R * T)
    if spec["ATP_per_turnover"]:
        if dG0_pool is None:  # Haldane with ATP: k_b gains exp(dG_ATP/RT)
            kb *= math.exp(spec["dG_ATP_kJ_per_mol"] * 1e3 / (R * T))
        else:  # the kernel reads the pool (module docstring)
            for row, sign in ((fw, 1.0), (bw, -1.0)):
                row[[P_POOL, P_KATP, P_BFAC, P_SIGN, P_DG0, P_RT]] = \
                    [1.0, spec["K_ATP_mM"], 1e-3 * math.exp(dG0_pool / (R * T)), sign,
                     dG0_pool, R * T]
    fw[[P_K, P_CV]] = [kf, -d * q * u]
    bw[[P_K, P_CV]] = [kb, (1.0 - d) * q * u]
    return fw, bw


@leaf
def _pool_mid(j, x, II, inv_nvol, s):
    """ATP, ADP, Pi (mM) at the jump's midpoint counts (s = +1 forward: ATP consumed)."""
    ia, idp, ip = II[j, I_ATP], II[j, I_ATP + 1], II[j, I_ATP + 2]
    return ((x[ia] - 0.5 * s) * inv_nvol[ia], (x[idp] + 0.5 * s) * inv_nvol[idp],
            (x[ip] + 0.5 * s) * inv_nvol[ip])


@leaf
def dG_ATP_mid(j, x, P, II, inv_nvol):
    """dG_ATP (J/mol) of the pool at the midpoint of transition j's jump from x: the one
    its rates used, which the ledger books as W_ATP."""
    atp, adp, pi = _pool_mid(j, x, II, inv_nvol, P[j, P_SIGN])
    # a count of 0 never fires in the direction that needs it; keep the log finite
    return P[j, P_DG0] + P[j, P_RT] * math.log(1e-3 * max(adp, 1e-300) * max(pi, 1e-300)
                                               / max(atp, 1e-300))


@leaf
def rate(j, x, v, P, II, inv_nvol):
    """Propensity (1/s) of cotransporter transition j in state x at midpoint potential v
    (module docstring). Row II[j]: species count m, then (source, destination) indices of
    this direction; P[j]: prefactor, voltage coefficient, then per species nu, 1/K_src,
    1/K_dst, source clamped, destination clamped."""
    m = II[j, 0]
    num = 1.0
    ds = 1.0
    dd = 1.0
    for k in range(m):
        o = P_SP0 + P_SPW * k
        nu = P[j, o]
        inu = int(nu)
        isrc, idst = II[j, 1 + 2 * k], II[j, 2 + 2 * k]
        n = x[isrc] * 1.0
        cs = inv_nvol[isrc] * P[j, o + 1]
        cd = inv_nvol[idst] * P[j, o + 2]
        if P[j, o + 3] != 0.0:  # clamped source: its concentration is exact
            f = n * cs
            num *= f ** inu
            ms = n
        else:
            ff = 1.0
            for i in range(inu):
                ff *= max(n - i, 0.0) * cs
            num *= ff
            ms = n - 0.5 * nu
        md = x[idst] * 1.0
        if P[j, o + 4] == 0.0:
            md += 0.5 * nu
        ds *= (1.0 + ms * cs) ** inu
        dd *= (1.0 + md * cd) ** inu
    if num <= 0.0:
        return 0.0
    if P[j, P_POOL] != 0.0:
        s = P[j, P_SIGN]
        if s > 0.0:
            if x[II[j, I_ATP]] < 1:
                return 0.0
        elif x[II[j, I_ATP + 1]] < 1 or x[II[j, I_ATP + 2]] < 1:
            return 0.0
        atp, adp, pi = _pool_mid(j, x, II, inv_nvol, s)
        num *= atp if s > 0.0 else P[j, P_BFAC] * adp * pi
        num /= P[j, P_KATP] + atp
    return P[j, P_K] * math.exp(P[j, P_CV] * v) * num / (ds + dd - 1.0)


def equilibrium_ratio(stoich, cargo, conc_in, conc_out, charges, V, T, dG_ATP=0.0):
    """Closed-form largest accumulation c_in/c_out of `cargo` (docs/physics.md,
    "Cotransporters: thermodynamic limits"): where the turnover's dG = 0, the other
    species at the given concentrations (mM), V in volts; `dG_ATP` (J/mol) for a
    transporter that hydrolyses one ATP per turnover (PMCA: c_in/c_out =
    exp((dG_ATP - 2 F V)/RT))."""
    n_c = stoich[cargo]
    s = (-net_charge(stoich, charges) * F * V - dG_ATP) / (R * T)
    for sp, n in stoich.items():
        if sp != cargo:
            s += n * math.log(conc_out[sp] / conc_in[sp])
    return math.exp(s / n_c)


# -- for the kernels' dispatch table (engine/dispatch.py) -----------------------------
@entry
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    return rate(j, x, V[mem[j]] + half_dv[j], P, II, inv_nvol)


@entry
def ledger_arg(j, k, x, V, mem, half_dv, P, II, inv_nvol):
    """dG_ATP of the pool at the turnover's midpoint (ATP-driven, on a pool)."""
    return dG_ATP_mid(j, x, P, II, inv_nvol)


class Cotransporter(Mechanism):
    """One pair per transporter: a forward turnover moves its whole signed stoichiometry
    (positive = into the membrane's inside) and, ATP-driven on a pool, hydrolyses one pool
    ATP."""

    USES_POOL = True

    def build(self, model, tr):
        mi, cin, cout = self.membrane_sides(model)
        st = self.spec["stoichiometry"]
        fw_ii, bw_ii = tr.index_row(), tr.index_row()
        fw_ii[0] = bw_ii[0] = len(st)
        fw = {}
        for k, (s, n) in enumerate(st.items()):
            i_in, i_out = model.idx(cin, s), model.idx(cout, s)
            a, b = (i_out, i_in) if n > 0 else (i_in, i_out)  # forward source, destination
            fw_ii[1 + 2 * k:3 + 2 * k] = [a, b]
            bw_ii[1 + 2 * k:3 + 2 * k] = [b, a]
            fw[i_in] = fw.get(i_in, 0) + n
            fw[i_out] = fw.get(i_out, 0) - n
        pool = bool(self.spec["ATP_per_turnover"]) and cin in model.pools
        if pool:  # a forward turnover hydrolyses one pool ATP
            ipool = [model.idx(cin, s) for s in ("ATP", "ADP", "Pi")]
            fw_ii[I_ATP:I_ATP + 3] = ipool
            bw_ii[I_ATP:I_ATP + 3] = ipool
            fw.update({ipool[0]: -1, ipool[1]: 1, ipool[2]: 1})
        t0 = tr.pair((self.kind("fw"), self.kind("bw")), (int(fw_ii[1]), int(bw_ii[1])), mi,
                     fw, (fw_ii, bw_ii), LEDGER_OWN if pool else LEDGER_V)
        self.transitions = [t0, t0 + 1]
        self.ref = (t0, t0 + 1)
        # net efflux (inside -> outside): a forward turnover moves n_s inward
        self.efflux = {s: {t0: -n, t0 + 1: n} for s, n in st.items()}

    def reads(self, model, j):
        ii = model.tr_ii[j]
        r = super().reads(model, j)  # and every count it moves
        r |= {("x", int(i)) for i in ii[1:1 + 2 * ii[0]]}
        return r | {("x", int(i)) for i in ii[I_ATP:] if i >= 0}

    def atp_work(self, model):
        """A forward turnover hydrolyses one ATP: at fixed dG_ATP, or on a pool at the
        dG_ATP of each firing's midpoint."""
        if not self.spec["ATP_per_turnover"]:
            return []
        j = self.transitions[0]
        if model.tr_ledger[j] == LEDGER_OWN:
            return [(j, 0.0, -1.0 / N_A), (j + 1, 0.0, 1.0 / N_A)]
        w = -self.spec["dG_ATP_kJ_per_mol"] * 1e3 / N_A
        return [(j, w, 0.0), (j + 1, -w, 0.0)]

    def transport(self, model, x, V, a, concs, pool_dG_kJ):
        """Its net Na+ entry and ATP use (1/s) from the propensities a, and the free
        energy of one forward turnover (ion terms, V and, ATP-driven, dG_ATP: negative =
        it runs forward)."""
        d = model.scenario.data
        _, cin, cout = self.membrane_sides(model)
        f, b = self.transitions
        out = {}
        if "Na" in model.species:
            i_na = model.idx(cin, "Na")
            out["na_in_per_s"] = float(a[f] * model.stoich_full[f, i_na]
                                       + a[b] * model.stoich_full[b, i_na])
        if self.spec["ATP_per_turnover"]:
            out["atp_per_s"] = float(a[f] - a[b])
        conc = [(n, concs(cin, s), concs(cout, s), d["species"][s]["charge"])
                for s, n in self.spec["stoichiometry"].items()]
        if all(c_in > 0 and c_out > 0 for _, c_in, c_out, _ in conc):
            g = sum(n * (R * model.T * math.log(c_in / c_out) + z * F * V)
                    for n, c_in, c_out, z in conc)
            if self.spec["ATP_per_turnover"]:
                g += pool_dG_kJ / 1e-3 if pool_dG_kJ is not None else \
                    self.spec["dG_ATP_kJ_per_mol"] * 1e3
            out["dG_kJ_per_mol"] = g * 1e-3
        return out

    def update_parameters(self, model):
        d = model.scenario.data
        spec = self.spec
        mspec = d["membranes"][spec["membrane"]]
        cin, cout = (d["compartments"][mspec[side]] for side in ("inside", "outside"))
        charges = {s: d["species"][s]["charge"] for s in spec["stoichiometry"]}
        clamped = [{s: c["bath"] or s in c["clamped_species"]
                    for s in spec["stoichiometry"]} for c in (cin, cout)]
        pool = model.pools.get(mspec["inside"])
        dg0 = None if pool is None or not spec["ATP_per_turnover"] else \
            pool.spec["dG0_ATP_kJ_per_mol"] * 1e3
        fw, bw = rows(spec, model.T, mspec["area_um2"], charges, *clamped, dG0_pool=dg0)
        j0, j1 = self.transitions
        model.tr_p[j0, :N_PAR] = fw
        model.tr_p[j1, :N_PAR] = bw


MECHANISM = Cotransporter
