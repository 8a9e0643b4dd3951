"""A metabolic pool per cell (docs/mechanisms/metabolism.md): ATP, ADP, Pi, O2 and,
optionally, phosphocreatine PCr and creatine Cr, counted like species in the compartment
inside the mechanism's membrane, with four reversible processes:

  oxphos     n ADP + n Pi + O2  <->  n ATP        (n = ATP_per_O2, a whole number)
  O2 supply  O2 (cell)  <->  O2 (capillary at O2_supply_mM, a virtual bath)
  basal load ATP  <->  ADP + Pi                   (everything but the pumps)
  creatine kinase  PCr + ADP  <->  Cr + ATP       (only if species PCr and Cr exist)

The pool's species have charge 0: they sit outside the ion ledger (their real charge is
part of the impermeant anions'), so no pool reaction moves V, and their free energy
enters the ledger only as the ATP work of the pumps (docs/physics.md, the ledger).

**Why one oxphos event reduces one O2 and makes n ATP.** Counts are integers, so an event
that makes one ATP cannot consume 1/5 O2. One event is one O2 reduced by the respiratory
chain (4 electrons from 2 NADH) and the n ATP its proton gradient pays for. Stoichiometry,
O2 consumption (`{compartment}.o2_consumed` = net oxphos events) and the detailed balance
of the event are then exact; ATP comes in packets of n (5 by default, P/O = 2.5 per O
atom; Hinkle 2005, Biochim Biophys Acta 1706:1). A ratio r between whole numbers (4.6) is
a mixture of two parallel couplings, n = floor(r) with weight 1 - (r - floor(r)) and n + 1
with weight r - floor(r): two reversible pairs, each in detailed balance with its own n,
whose mean is r ATP per O2 (far from equilibrium; near it the two couplings would slip
against each other, as a proton leak does).

Rate laws (concentrations in mM; V_ev = oxphos_Vmax_mM_per_s / n in events):
  forward   a+ = V_ev s(O2, K_O2) s(ADP, K_ADP) s(Pi, K_Pi),  s(c, K) = c / (K + c)
            (O2 saturating with K_m ~1 uM; Michaelis-Menten in ADP: respiratory control,
            Chance & Williams 1955)
  backward  a- = a+ exp(dG_event / RT), dG_event = -n dG_ATP + dG_ox,
            dG_ATP = dG0' + RT ln([ADP][Pi]/[ATP]) (molar),
            dG_ox = dG_ox(1 mM) - RT ln([O2]/1 mM) (NADH oxidation by O2: 4 F x 1.136 V
            = 438 kJ per mol O2 at standard potentials, e.g. Nicholls & Ferguson,
            Bioenergetics)
so ln(a+/a-) = -dG_event/RT exactly (local detailed balance); a- is written without the
1/[O2] of the ratio so that it stays finite at [O2] = 0.
The basal load is a saturating ATPase, a+ = V_load s(ATP, K_load), a- = a+ exp(dG_ATP/RT);
creatine kinase is mass action, a+ = k_f [PCr] n_ADP, a- = (k_f/K_CK) [Cr] n_ATP, with
K_CK = [Cr][ATP]/([PCr][ADP]) ~ 166 at pH 7 (Lawson & Veech 1979, J Biol Chem 254:6528).
"""
import math

import numpy as np

from ionmc.constants import CM_TO_M, N_A, R, UM2_TO_M2, UM3_TO_M3
from ionmc.physics import count_of, count_ramp
from ionmc.mechanisms.base import Mechanism
from ionmc.numba_conf import leaf, njit
from ionmc.physics import q10_factor
from ionmc.ranges import K_M_MM, Q10, Range, positive

TYPE = "metabolism"

PARAMS = {
    "membrane": (None, "membrane whose inside holds the pool; O2 enters through it"),
    "ATP_per_O2": (5.0, "ATP made per O2 reduced (a whole number; P/O = half of it)",
                   Range(1.0, 10.0)),
    "oxphos_Vmax_mM_per_s": (1.0, "ATP synthesis capacity (mM ATP per s)", Range(0.0, 1e4)),
    "K_O2_mM": (0.001, "O2 half-saturation of oxphos (~1 uM)", K_M_MM),
    "K_ADP_mM": (0.02, "ADP half-saturation of oxphos (respiratory control)", K_M_MM),
    "K_Pi_mM": (1.0, "Pi half-saturation of oxphos", K_M_MM),
    "dG0_ATP_kJ_per_mol": (-30.5, "standard dG0' of ATP hydrolysis (-28 to -32 with Mg2+ and pH)",
                           Range(-60.0, -10.0)),
    "dG_ox_kJ_per_mol_O2": (-438.0, "free energy of reducing one O2 by NADH at 1 mM O2",
                            Range(-1000.0, -100.0)),
    "O2_supply_mM": (0.05, "capillary O2 concentration the cell exchanges with; 0 = anoxia",
                     Range(0.0, 10.0)),
    "O2_permeability_cm_per_s": (1e-3, "effective O2 transfer coefficient over the "
                                 "membrane's area", Range(0.0, 10.0)),
    "basal_load_mM_per_s": (0.0, "ATP use by everything but the pumps, at saturating ATP",
                            Range(0.0, 1e4)),
    "basal_load_K_ATP_mM": (0.1, "ATP half-saturation of the basal load", K_M_MM),
    "CK_k_forward_per_mM_s": (20.0, "creatine kinase k_f: PCr + ADP -> Cr + ATP", Range(0.0, 1e8)),
    "CK_Keq": (166.0, "[Cr][ATP]/([PCr][ADP]) at equilibrium (Lawson & Veech 1979)", positive(1e8)),
    "q10": (2.0, "temperature coefficient of the oxphos, load and CK rates", Q10),
}
POOL = ("ATP", "ADP", "Pi", "O2")
CREATINE = ("PCr", "Cr")

# index row of every metabolic transition: pool species indices (-1 = absent)
#: parameters an event may not change (the transitions depend on it)
FIXED = ("ATP_per_O2",)
#: transition kinds (registry.py numbers them), forward/backward pairs
KINDS = ("oxphos_fw", "oxphos_bw", "o2_out", "o2_in", "load_fw", "load_bw", "ck_fw", "ck_bw")
I_ATP, I_ADP, I_PI, I_O2, I_PCR, I_CR = range(6)
# parameter rows, per process
P_VEV, P_KO2, P_KADP, P_KPI, P_N, P_CB = range(6)   # oxphos
P_KOUT, P_JIN = range(2)                            # O2 exchange
P_VL, P_KL, P_CREV = range(3)                       # basal load
P_KF, P_KB = range(2)                               # creatine kinase


def dG_ATP(dG0_J, T, atp_mM, adp_mM, pi_mM):
    """dG_ATP = dG0' + RT ln([ADP][Pi]/[ATP]) in J/mol, concentrations in mM (molar
    inside the logarithm)."""
    return dG0_J + R * T * np.log(1e-3 * np.asarray(adp_mM) * pi_mM / atp_mM)


def couplings(r):
    """[(n, weight)] of the two oxphos couplings whose mean ATP per O2 is r."""
    lo = math.floor(r + 1e-12)
    w = r - lo if r - lo > 1e-12 else 0.0
    return [(lo, 1.0 - w), (lo + 1, w)]


def rows(p, T, vol_um3, area_um2):
    """Parameter rows (oxphos n = floor, oxphos n = floor + 1, O2 exchange, basal load, CK)
    at temperature T."""
    q = q10_factor(p["q10"], T)
    per_mM = count_of(1.0, vol_um3)  # molecules per mM in the cell
    RT = R * T
    dg0 = p["dG0_ATP_kJ_per_mol"] * 1e3
    r = p["ATP_per_O2"]
    oxs = []
    for n, w in couplings(r):
        ox = np.zeros(6)
        # events/s at saturation: the mixture makes Vmax ATP/s in all
        ox[[P_VEV, P_KO2, P_KADP, P_KPI, P_N]] = [
            p["oxphos_Vmax_mM_per_s"] * q * per_mM * w / r, p["K_O2_mM"], p["K_ADP_mM"],
            p["K_Pi_mM"], n]
        ox[P_CB] = p["dG_ox_kJ_per_mol_O2"] * 1e3 / RT - n * dg0 / RT + n * math.log(1e3)
        oxs.append(ox)
    pa = p["O2_permeability_cm_per_s"] * CM_TO_M * area_um2 * UM2_TO_M2  # m^3/s
    o2 = np.zeros(6)
    # c_supply in mM = mol/m^3: molecules/s entering from the capillary
    o2[[P_KOUT, P_JIN]] = [pa / (vol_um3 * UM3_TO_M3), pa * p["O2_supply_mM"] * N_A]
    load = np.zeros(6)
    load[[P_VL, P_KL, P_CREV]] = [p["basal_load_mM_per_s"] * q * per_mM,
                                  p["basal_load_K_ATP_mM"], 1e-3 * math.exp(dg0 / RT)]
    ck = np.zeros(6)
    ck[[P_KF, P_KB]] = [p["CK_k_forward_per_mM_s"] * q,
                        p["CK_k_forward_per_mM_s"] * q / p["CK_Keq"]]
    return oxs[0], oxs[1], o2, load, ck


@njit
def _sat(c, K):
    return c / (K + c)


@leaf
def oxphos_rate(backward, P, j, atp, adp, pi, o2, n_atp, n_adp, n_pi, n_o2):
    """Events/s of oxphos (concentrations mM, counts n_*); ramped to 0 where a count
    would go negative (physics.count_ramp)."""
    n = P[j, P_N]
    if backward:
        r = count_ramp(n_atp, n) * count_ramp(n_adp, 1.0) * count_ramp(n_pi, 1.0)
        if r <= 0.0:
            return 0.0
        return r * P[j, P_VEV] * _sat(adp, P[j, P_KADP]) * _sat(pi, P[j, P_KPI]) \
            / (P[j, P_KO2] + o2) * math.exp(P[j, P_CB] + n * math.log(atp / (adp * pi)))
    r = count_ramp(n_o2, 1.0) * count_ramp(n_adp, n) * count_ramp(n_pi, n)
    if r <= 0.0:
        return 0.0
    return r * P[j, P_VEV] * _sat(o2, P[j, P_KO2]) * _sat(adp, P[j, P_KADP]) \
        * _sat(pi, P[j, P_KPI])


@leaf
def load_rate(backward, P, j, atp, adp, pi, n_atp, n_adp, n_pi):
    if backward:
        r = count_ramp(n_adp, 1.0) * count_ramp(n_pi, 1.0)
        if r <= 0.0:
            return 0.0
        return r * P[j, P_VL] * P[j, P_CREV] * adp * pi / (P[j, P_KL] + atp)
    r = count_ramp(n_atp, 1.0)
    if r <= 0.0:
        return 0.0
    return r * P[j, P_VL] * _sat(atp, P[j, P_KL])


def steady_rates(spec, T, vol_um3, area_um2, conc):
    """Net rates (events/s) of oxphos, O2 influx, basal load and CK at concentrations
    `conc` (mM, keys ATP ADP Pi O2 [PCr Cr]), for design and tests."""
    P = np.vstack(rows(spec, T, vol_um3, area_um2))
    per_mM = count_of(1.0, vol_um3)
    c = conc
    cnt = {k: v * per_mM for k, v in c.items()}
    args = (c["ATP"], c["ADP"], c["Pi"], c["O2"], cnt["ATP"], cnt["ADP"], cnt["Pi"], cnt["O2"])
    ox_net = [oxphos_rate(False, P, k, *args) - oxphos_rate(True, P, k, *args) for k in (0, 1)]
    o2_in = P[2, P_JIN] - P[2, P_KOUT] * cnt["O2"]
    largs = (c["ATP"], c["ADP"], c["Pi"], cnt["ATP"], cnt["ADP"], cnt["Pi"])
    load_net = load_rate(False, P, 3, *largs) - load_rate(True, P, 3, *largs)
    ck_net = 0.0
    if "PCr" in c:
        ck_net = P[4, P_KF] * c["PCr"] * cnt["ADP"] - P[4, P_KB] * c["Cr"] * cnt["ATP"]
    return {"o2_reduced": sum(ox_net),
            "atp_made": sum(n * v for (n, _), v in zip(couplings(spec["ATP_per_O2"]), ox_net)),
            "o2_influx": o2_in, "basal_load": load_net, "ck": ck_net}


# -- for the kernels' dispatch table (engine/dispatch.py) -----------------------------
@leaf
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    """Propensities of the pool's transitions (k: the position in KINDS); none reads V."""
    ia, idp, ip, io = II[j, I_ATP], II[j, I_ADP], II[j, I_PI], II[j, I_O2]
    if k == 3:  # O2 in
        return P[j, P_JIN]
    if k == 2:  # O2 out
        return P[j, P_KOUT] * x[io]
    if k == 6:  # creatine kinase forward
        return P[j, P_KF] * x[II[j, I_PCR]] * inv_nvol[II[j, I_PCR]] * x[idp]
    if k == 7:
        return P[j, P_KB] * x[II[j, I_CR]] * inv_nvol[II[j, I_CR]] * x[ia]
    atp, adp, pi = x[ia] * inv_nvol[ia], x[idp] * inv_nvol[idp], x[ip] * inv_nvol[ip]
    if k == 4 or k == 5:  # basal load
        return load_rate(k == 5, P, j, atp, adp, pi, x[ia], x[idp], x[ip])
    return oxphos_rate(k == 1, P, j, atp, adp, pi, x[io] * inv_nvol[io], x[ia], x[idp], x[ip],
                       x[io])


class Pool(Mechanism):
    """A cell's metabolic pool: oxphos (one pair per P/O coupling), O2 exchange, the basal
    ATP load and, with PCr and Cr, creatine kinase. Its species are ordinary species of
    the compartment inside its membrane; pumps and ATP-driven transporters there draw on
    it (USES_POOL)."""

    IS_POOL = True
    TURNOVER_PANEL = None  # the pool has a figure of its own

    def build(self, model, tr):
        mi, cin, _ = self.membrane_sides(model)
        ix = {s: (model.idx(cin, s) if s in model.species else -1) for s in POOL + CREATINE}
        ii = tr.index_row()
        ii[:6] = [ix[s] for s in ("ATP", "ADP", "Pi", "O2", "PCr", "Cr")]
        atp, adp, pi, o2 = ix["ATP"], ix["ADP"], ix["Pi"], ix["O2"]
        k = self.kind
        pairs = [(("oxphos_fw", "oxphos_bw"), o2, atp, {adp: -n, pi: -n, o2: -1, atp: n})
                 for n, _ in couplings(self.spec["ATP_per_O2"])]
        pairs += [(("o2_out", "o2_in"), o2, o2, {o2: -1}),
                  (("load_fw", "load_bw"), atp, adp, {atp: -1, adp: 1, pi: 1})]
        if ix["PCr"] >= 0 and ix["Cr"] >= 0:
            pairs.append((("ck_fw", "ck_bw"), adp, atp,
                          {ix["PCr"]: -1, adp: -1, ix["Cr"]: 1, atp: 1}))
        t0 = len(tr)
        for (kf, kb), sf, sb, st in pairs:
            tr.pair((k(kf), k(kb)), (sf, sb), mi, st, ii)
        self.transitions = list(range(t0, len(tr)))
        # oxphos, both couplings: forward = one O2 reduced
        self.ref = ([t0, t0 + 2], [t0 + 1, t0 + 3])
        self.efflux = {"O2": {t0 + 4: 1, t0 + 5: -1}}
        self.pool_compartment = cin

    def outside_G(self, model):
        return list(self.species_indices(model).values())

    def outside_ion_ledger(self):
        return self.transitions + self.reservoir

    def pool_budget(self, model, concs):
        """ATP per O2, the basal ATP use (1/s) and dG_ATP (kJ/mol) at these concentrations."""
        d = model.scenario.data
        comp = self.pool_compartment
        conc = {s: concs(comp, s) for s in POOL + CREATINE if s in d["species"]}
        r = steady_rates(self.spec, model.T, model.vol[model.comps.index(comp)],
                         d["membranes"][self.spec["membrane"]]["area_um2"], conc)
        dg = dG_ATP(self.spec["dG0_ATP_kJ_per_mol"] * 1e3, model.T, conc["ATP"], conc["ADP"],
                    conc["Pi"])
        return {"atp_per_o2": self.spec["ATP_per_O2"], "basal_atp_per_s": r["basal_load"],
                "dG_ATP_kJ_per_mol": float(dg) * 1e-3}

    def state_columns(self, model, X, firings, inv_nvol):
        c = self.pool_compartment
        f, b = self.ref  # one oxphos event reduces one O2
        ix = self.species_indices(model)
        conc = [np.maximum(X[:, ix[s]], 0.5) * inv_nvol[:, ix[s]] for s in ("ATP", "ADP", "Pi")]
        return {f"{c}.o2_consumed": firings[:, f].sum(axis=1) - firings[:, b].sum(axis=1),
                f"{c}.dG_ATP_kJ_per_mol": dG_ATP(self.spec["dG0_ATP_kJ_per_mol"] * 1e3, model.T,
                                                 *conc) / 1e3}

    def species_indices(self, model):
        """{species: state index} of the pool's species in its compartment."""
        c = self.pool_compartment
        return {s: model.idx(c, s) for s in POOL + CREATINE if s in model.species}

    def reads(self, model, j):
        # pool counts, not V
        return {("x", int(model.tr_src[j]))} | {("x", int(i)) for i in model.tr_ii[j, :6]
                                                 if i >= 0}

    def update_parameters(self, model):
        mi, cin, _ = self.membrane_sides(model)
        d = model.scenario.data
        vol = d["compartments"][cin]["volume_um3"]
        for k, row in enumerate(rows(self.spec, model.T, vol,
                                     d["membranes"][self.spec["membrane"]]["area_um2"])):
            for j in self.transitions[2 * k:2 * k + 2]:
                model.tr_p[j, :len(row)] = row
        # a pump or ATP-driven transporter on the same cell uses the pool's dG0'
        for other in model.mechs:
            if other.USES_POOL and other.transitions and \
                    d["membranes"][other.spec["membrane"]]["inside"] == cin:
                model.update_parameters(other)


MECHANISM = Pool


def check(t, ctx):
    """Problems with a filled pool table: [(key, message)]. The pool's species are fixed
    names, charge 0 (they are outside the ion ledger); one pool per compartment."""
    species = ctx.species
    for s in POOL:
        if s not in species:
            return [("", f"a metabolic pool needs a species named {s!r} (charge 0): declare "
                     f"{s} = {{ charge = 0 }}")]
    for s in POOL + CREATINE:
        if s in species and species[s]["charge"] != 0:
            return [(f"/species.{s}.charge", "a metabolic pool species must have charge 0 "
                     "(the pool is outside the ion ledger)")]
    if (CREATINE[0] in species) != (CREATINE[1] in species):
        return [("", "creatine kinase needs both species 'PCr' and 'Cr'")]
    c = ctx.membranes[t["membrane"]]["inside"]
    other = ctx.pools.get(c)
    if other is not None and other != t["name"]:
        return [("membrane", f"compartment {c!r} already has a metabolic pool ({other!r})")]
    return []


#: species it shows in a figure of its own, not among the ions (ATP ADP Pi PCr Cr O2)
OWN_SPECIES = POOL[:3] + CREATINE + POOL[3:]


def report_figure(rep):
    """The report's figure of the pools in a run (rep: analysis/report.py's Figures): the
    pool's species, dG_ATP and the rate of O2 reduction."""
    from ionmc.analysis import tables as analysis
    from ionmc.analysis.figures import MAX_POINTS

    comps = [c for c in rep.d["compartments"] if f"{c}.o2_consumed" in rep.run.columns]
    if not comps:
        return None
    fig, axes = rep._fig(3 * len(comps), ncols=3, h=3.0)
    for k, c in enumerate(comps):
        ax = axes[3 * k]
        for s in OWN_SPECIES:
            col = f"{c}.{s}.mM"
            if col in rep.run.columns:
                rep._line(ax, col, s, rep.colour.get(s))
        ax.set_yscale("log")
        ax.set_ylabel("mM")
        ax.set_title(f"metabolic pool in {c}")
        ax.legend(fontsize=8)
        ax = axes[3 * k + 1]
        rep._line(ax, f"{c}.dG_ATP_kJ_per_mol", "dG_ATP", "tab:red")
        ax.set_ylabel("kJ/mol")
        ax.set_title("free energy of ATP hydrolysis")
        ax = axes[3 * k + 2]
        o2 = rep.stat(f"{c}.o2_consumed")
        r = analysis.rate(o2)
        step = max(1, len(r) // MAX_POINTS)
        ax.plot(r.index[::step], r.to_numpy()[::step], color="tab:blue")
        ax.set_ylabel("O2 molecules/s")
        ax.set_title("O2 consumed per second")
        for ax in axes[3 * k:3 * k + 3]:
            rep._events(ax)
            ax.set_xlabel("time (s)")
    return ("Metabolism", "The pool's species (log scale), dG_ATP = dG0' + RT ln([ADP][Pi]/"
            "[ATP]), and the rate of O2 reduction by oxidative phosphorylation."
            + rep._band_note(), fig)
