"""Buffers: reversible binding of an ion to a buffer site inside one compartment,
Ca + B <-> CaB, by mass action (the fast Ca2+ buffers of spines: calbindin-D28k,
parvalbumin, calmodulin, or a dye such as Fluo-4 or BAPTA).

Unlike every other mechanism a buffer sits in a compartment, not on a membrane
(`compartment = "spine"`). B and CaB are species of that compartment; their charges must
satisfy z_CaB = z_ligand + z_B, so binding does not change the compartment's charge or the
membrane potential (the built-in choice: B charge 0, CaB charge +2: the site's own negative
charge is part of the compartment's impermeant anions). Both are impermeant and no other
mechanism may move them, so B + CaB is conserved per compartment.

Rates (Gillespie 1977's mass action in counts, exact for the discrete process):

  binding    a_f = k_on / (N_A vol) * n_Ca * n_B        (k_on per M per s, vol in L)
  unbinding  a_b = k_off * n_CaB,  k_off = K_d k_on

both scaled by q10^((T - 310 K)/10 K) (K_d is taken temperature-independent). At
equilibrium the stationary distribution of n_CaB with fixed totals is
P(n) ~ K^n / (n! (Ca_tot - n)! (B_tot - n)!) with K = k_on / (k_off N_A vol)
(`closed_forms`-style helper `stationary_bound` below), whose mean tends to the mass-action
equilibrium [Ca][B]/[CaB] = K_d for large counts.

The ledger (docs/physics.md): a binding event is elementary, with
ln(a_f(x)/a_b(x')) = ln(K n_Ca n_B / (n_CaB + 1)). The ion ledger's G_ion measures each
species against a reference concentration; a chemical reaction also needs the standard
chemical potentials, G gains sum_c n_CaB,c g_c with
g_c = mu0_CaB - mu0_Ca - mu0_B (relative to the references)
    = -k_B T ln(K_d^-1 c_ref,Ca c_ref,B / c_ref,CaB),
so that G_ion + n_CaB g changes by exactly -k_B T ln(a_f(x)/a_b(x')) per binding (ledger.py).
The references of B and CaB are chosen in binding equilibrium with Ca's reference
(c_ref,CaB / c_ref,B = c_ref,Ca / K_d, c_ref,B + c_ref,CaB = the compartment's total buffer
at the start), so g = 0 up to rounding and G stays zero at the reference state, as for the
ions; g is kept in G so the ledger stays a state function whatever the references.
"""
import math

import numpy as np

from ionmc.physics import conc_of
from ionmc.mechanisms.base import LEDGER_NONE, LEDGER_V, Mechanism
from ionmc.numba_conf import entry, leaf
from ionmc.physics import q10_factor
from ionmc.ranges import Q10, positive

TYPE = "buffer"

PARAMS = {
    "compartment": (None, "compartment the buffer is in (not a membrane)"),
    "ligand": ("Ca", "the ion that binds"),
    "buffer_species": ("B", "species name of the free site"),
    "bound_species": ("CaB", "species name of the occupied site"),
    # calbindin-D28k, medium-affinity sites: k_on ~ 8e7 /M/s, K_d ~ 0.2-0.5 uM (Naegerl,
    # Novo, Mody & Vergara 2000, Biophys J 79:3009; Faas et al. 2011, Nat Neurosci 14:301)
    "k_on_per_M_per_s": (8.0e7, "binding rate constant (per M per s) at 37 C", positive(1e12)),
    "K_d_uM": (0.4, "dissociation constant (uM): k_off = K_d k_on", positive(1e7)),
    "q10": (1.3, "temperature coefficient of k_on and k_off", Q10),
}
PARAM_TYPES = {"compartment": str, "ligand": str, "buffer_species": str,
               "bound_species": str}
#: names that fix the buffer's structure: no event may change them
FIXED = ("compartment", "ligand", "buffer_species", "bound_species")

# parameter rows: P_RATE (1/s per ion pair: k_on / (N_A vol); 1/s per CaB: k_off)
P_RATE = 0
#: transition kinds (registry.py numbers them): binding, unbinding
KINDS = ("bind", "unbind")
# index rows: ligand, free site, bound site (same in both directions)
I_LIG, I_B, I_BOUND = 0, 1, 2


def check(t, ctx):
    """Problems with a buffer table: [(key, message)]. Its sites may not belong to a buffer
    declared before it."""
    species, comps = ctx.species, ctx.compartments
    before = []
    for m in ctx.mechanisms:
        if m["name"] == t["name"]:
            break
        before.append(m)
    used = {(m["compartment"], m[k]) for m in before if m["type"] == TYPE
            for k in ("buffer_species", "bound_species")}
    c = t["compartment"]
    if c not in comps:
        return [("compartment", f"unknown compartment {c!r}")]
    for key in ("ligand", "buffer_species", "bound_species"):
        if t[key] not in species:
            return [(key, f"unknown species {t[key]!r}")]
    lig, b, cb = t["ligand"], t["buffer_species"], t["bound_species"]
    if len({lig, b, cb}) < 3:
        return [("bound_species", "ligand, buffer_species and bound_species must differ")]
    z = {s: species[s]["charge"] for s in (lig, b, cb)}
    if z[cb] != z[lig] + z[b]:
        return [("bound_species", f"charge of {cb!r} ({z[cb]}) must be that of {lig!r} plus "
                 f"{b!r} ({z[lig] + z[b]}), so binding keeps the compartment's charge")]
    for s in (b, cb):
        if species[s]["permeant"]:
            return [("buffer_species" if s == b else "bound_species",
                     f"{s!r} must be declared permeant = false (a buffer site stays in its "
                     "compartment)")]
        if (c, s) in used:
            return [("buffer_species" if s == b else "bound_species",
                     f"{s!r} in {c!r} already belongs to another buffer")]
    if not ctx.membranes:
        return [("compartment", "a buffer needs a scenario with at least one membrane")]
    return []


def rates(spec, T, volume_um3):
    """(binding rate per ion pair, unbinding rate per bound site), 1/s, at temperature T."""
    q = q10_factor(spec["q10"], T)
    kon = spec["k_on_per_M_per_s"] * q
    # k_on / (N_A vol): per M -> per mM (1e-3), per mM in vol -> per ion (IONS_PER_MM_UM3)
    per_pair = conc_of(kon * 1e-3, volume_um3)
    return per_pair, kon * spec["K_d_uM"] * 1e-6


@leaf
def rate(j, backward, x, P, II):
    """Propensity (1/s) of buffer transition j: mass action in counts."""
    if backward:
        return P[j, P_RATE] * x[II[j, I_BOUND]]
    return P[j, P_RATE] * x[II[j, I_LIG]] * x[II[j, I_B]]


def reference_split(c_lig_mM, total_mM, K_d_mM):
    """(c_ref,B, c_ref,CaB) in mM: the total buffer split in binding equilibrium with the
    ligand's reference concentration (module docstring)."""
    frac = c_lig_mM / (K_d_mM + c_lig_mM) if c_lig_mM > 0 else 0.0
    return total_mM * (1.0 - frac), total_mM * frac


def stationary_bound(ca_tot, b_tot, K):
    """Exact stationary distribution of the bound count n in a closed compartment
    (Ca_tot ions, B_tot sites, K = k_on / (k_off N_A vol)): P(n) ~ K^n / (n! (Ca_tot - n)!
    (B_tot - n)!), the product of Poisson-like weights of the three species under the
    constraint (the chemical master equation of A + B <-> C is in detailed balance)."""
    from scipy.special import gammaln  # here: importing it is ~0.15 s of every start-up

    n = np.arange(0, min(ca_tot, b_tot) + 1)
    logw = n * math.log(K) - gammaln(n + 1) - gammaln(ca_tot - n + 1) - gammaln(b_tot - n + 1)
    w = np.exp(logw - logw.max())
    return n, w / w.sum()


def buffering_capacity(b_tot_uM, K_d_uM, ca_uM):
    """kappa_B = d[CaB]/d[Ca] = B_tot K_d / (K_d + Ca)^2 (Neher & Augustine 1992, J Physiol
    450:273): a small Ca load decays with tau = (1 + kappa_B) / gamma, gamma the extrusion
    rate constant of free Ca."""
    return b_tot_uM * K_d_uM / (K_d_uM + ca_uM) ** 2


# -- for the kernels' dispatch table (engine/dispatch.py) -----------------------------
@entry
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    """Buffers read no potential."""
    return rate(j, k == 1, x, P, II)


class Buffer(Mechanism):
    """Binding (forward) and unbinding in one compartment. Its transitions use the membrane
    whose inside is the buffer's compartment (for the ledger's potential when the ligand
    is clamped; they add no charge), or, in a compartment that is no membrane's inside,
    membrane 0 as a placeholder with no ledger argument (at 0 V)."""

    def build(self, model, tr):
        spec = self.spec
        c = spec["compartment"]
        il, ib, ic = (model.idx(c, spec[k]) for k in ("ligand", "buffer_species",
                                                        "bound_species"))
        mi = next((i for i, m in enumerate(model.mems)
                   if model.scenario.data["membranes"][m]["inside"] == c), None)
        ii = tr.index_row()
        ii[[I_LIG, I_B, I_BOUND]] = [il, ib, ic]
        t0 = tr.pair((self.kind("bind"), self.kind("unbind")), (il, ic),
                     0 if mi is None else mi, {il: -1, ib: -1, ic: 1}, ii,
                     LEDGER_NONE if mi is None else LEDGER_V)
        self.transitions = [t0, t0 + 1]
        self.ref = (t0, t0 + 1)

    def reads(self, model, j):
        # ligand and free site, not V
        return {("x", int(model.tr_src[j]))} | {("x", int(i)) for i in model.tr_ii[j, :3]}

    def reference_counts(self, model, x, lam):
        """References of its sites in binding equilibrium with the ligand's."""
        spec = self.spec
        c = spec["compartment"]
        il, ib, ic = (model.idx(c, spec[k]) for k in ("ligand", "buffer_species",
                                                        "bound_species"))
        total = (float(x[ib]) + float(x[ic])) * model.inv_nvol[ib]
        cb, ccb = reference_split(lam[il] * model.inv_nvol[il], total, spec["K_d_uM"] * 1e-3)
        lam[ib] = cb / model.inv_nvol[ib]
        lam[ic] = ccb / model.inv_nvol[ic]

    def state_energies(self, ledger, g, g_chem):
        """The bound site's standard chemical potential, from K = k_on/k_off at the
        references (thermo/ledger.py's docstring)."""
        m = ledger.model
        j = self.transitions[0]
        il, ib, ic = m.tr_ii[j, :3]
        lam = ledger.lam
        if lam[il] > 0 and lam[ib] > 0 and lam[ic] > 0:
            kc = m.tr_p[j, P_RATE] / m.tr_p[j + 1, P_RATE]
            g_chem[ic] = -ledger.kT * math.log(kc * lam[il] * lam[ib] / lam[ic])

    def summary(self, model, concs):
        """Free ligand, free and bound sites (uM) and the buffer capacity
        kappa_B = d[bound]/d[free] (Neher & Augustine 1992)."""
        c = self.spec["compartment"]
        ca, b, cb = (concs(c, self.spec[k]) * 1e3
                     for k in ("ligand", "buffer_species", "bound_species"))
        return {"compartment": c, "free_ligand_uM": ca, "free_sites_uM": b,
                "bound_sites_uM": cb,
                "kappa_B": buffering_capacity(b + cb, self.spec["K_d_uM"], ca)}

    def update_parameters(self, model):
        c = self.spec["compartment"]
        kf, kb = rates(self.spec, model.T, model.scenario.data["compartments"][c]["volume_um3"])
        j0, j1 = self.transitions
        model.tr_p[j0, P_RATE] = kf
        model.tr_p[j1, P_RATE] = kb


MECHANISM = Buffer
