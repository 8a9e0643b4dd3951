"""Kinetics of the per-molecule Na+/K+-ATPase (`type = "na_k_atpase"`): a 13-state
Post-Albers cycle in which every step is elementary -- one ion binds or leaves per step,
by mass action in its own concentration -- and every charge carries its voltage factor on
the step that moves it across the membrane field.

States (pump molecules are counted in each) and steps, forward = the physiological
direction (Post-Albers: Albers 1967, Post et al. 1972; sequential binding as in Läuger's
and Apell's schemes and in Pan et al. 2020's refit of Terkildsen et al. 2007):

  0 E1 --Na_i--> 1 E1.Na --Na_i--> 2 E1.Na2 --Na_i--> 3 E1.Na3      Na+ binds from inside
  3 E1.Na3 --ATP--> 4 E1P(Na3)                     phosphorylation and occlusion (ATP step)
  4 E1P(Na3) --> 5 E2P.Na2 + Na_o  --> 6 E2P.Na + Na_o --> 7 E2P + Na_o
                                                   Na+ released outside, one charge each
  7 E2P --K_o--> 8 E2P.K --K_o--> 9 E2P.K2         K+ binds from outside, one charge each
  9 E2P.K2 --> 10 E2(K2) + Pi                      dephosphorylation and occlusion
  10 E2(K2) --ATP~--> 11 E1.K2                     deocclusion to the inside (accelerated
                                                   by ATP at its low-affinity site)
  11 E1.K2 --> 12 E1.K + K_i --> 0 E1 + K_i        K+ released inside

Rates per pump molecule, u = FV/RT at the jump's midpoint potential:

  binding:     kon [ion] (forward) / kon K_d (backward)          (per mM per s, per s)
  K_o binding: kon [K_o] exp(-theta_K u) / kon K_d exp((1-theta_K) u)
  Na release:  kr exp(theta_Na u) / (kr/K_Nao) [Na_o] exp(-(1-theta_Na) u)
  deocclusion: kE ATP~/(1+ATP~) / kEb
  dephosph.:   kD / (kD/K_Pi) Pi/(1+ATP~),  ATP~ = MgATP/K_MgATP
  ATP step:    kP / b_P, with b_P from the cycle constraint below.

Where the charge is (the membrane's V counts it, model/compiled.py): an ion bound from the
inside stays inside charge until it is released outside (so Na+ binding moves no charge,
each Na+ release moves one); a K+ ion binding from the outside moves its charge inside as
it binds (into the outward-facing sites' field), and nothing moves at the deocclusion. The
per-state inside charges are STATE_CHARGE; a cycle moves 3 - 2 = 1 net charge out. (A
first version moved K+'s two charges at the deocclusion; opposed by a positive inside, its
current fell at positive potentials, which measured pumps' does not: docs/validation.md.) With every step elementary and each voltage factor on the step
whose jump moves the charge, a_f(x)/a_b(x') = exp(-dG/k_BT) holds for every jump with the
integer counts, so the ledger closes to rounding under ssa (thermo/ledger.py).

Thermodynamics: the product of the twelve other steps' rate-constant ratios and the ATP
step's must equal exp(-dG_ATP/RT) at equal concentrations on both sides and V = 0; the one
reverse rate b_P (ADP rebinding, where ATP is booked) is derived from that, so the pump
stalls exactly where ATP no longer pays for the gradient (Smith & Crampin 2004's rule).

The constants were fitted (verification/pump_fit.py) to measured turnover, Na_i and K_o
affinities, the Na_i Hill slope and the pump I-V of Nakao & Gadsby 1989 (docs/validation.md
shows data and model side by side). Isoforms alpha2 and alpha3 scale the three Na_i
dissociation constants so that their apparent K0.5 stand to alpha1's as in Crambert et al.
2000 (ISOFORM_NAI_SCALE).
"""
import math

import numpy as np

from ionmc.constants import F, R
from ionmc.physics import q10_factor
from ionmc.thermo.closed_forms import nak_cycle_dG

STATE_NAMES = ("E1", "E1Na", "E1Na2", "E1Na3", "E1PNa3", "E2PNa2", "E2PNa", "E2P", "E2PK",
               "E2PK2", "E2K2", "E1K2", "E1K")
N_STATES = N_STEPS = len(STATE_NAMES)
#: the ATP step (phosphorylation): ATP is booked on its forward firing
ATP_STEP = 3
#: the reference step of `forward`/`backward`: the first Na+ release (deocclusion outside)
REF_STEP = 4
#: charge (e) each state holds on the inside of the field: its bound ions counted there
STATE_CHARGE = (0, 1, 2, 3, 3, 2, 1, 0, 1, 2, 2, 2, 1)
#: ions each state holds, per species
BOUND = {"Na": (0, 1, 2, 3, 3, 2, 1, 0, 0, 0, 0, 0, 0),
         "K": (0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2, 2, 1)}
#: per step, the ion that a forward firing takes up or gives off: (species, side, +1 bound
#: from that side / -1 released to it), or None
ION = (("Na", "in", +1), ("Na", "in", +1), ("Na", "in", +1), None,
       ("Na", "out", -1), ("Na", "out", -1), ("Na", "out", -1),
       ("K", "out", +1), ("K", "out", +1), None, None, ("K", "in", -1), ("K", "in", -1))
#: nucleotide factors that read a metabolic pool (pool only; folded into the constants
#: otherwise): on the ATP step backward, [ADP]; on dephosphorylation backward,
#: [Pi]/(1 + ATP~); on deocclusion forward, ATP~/(1 + ATP~)
NUC_NONE, NUC_ATP, NUC_ADP, NUC_PI, NUC_ATP_SAT = range(5)

#: alpha1 (the default), fitted at 37 C (verification/pump_fit.py); per-mM rates are
#: mass-action constants of binding
ALPHA1 = {
    "kon_Nai_per_mM_s": 636.0, "K_Nai1_mM": 7.46, "K_Nai2_mM": 5.0, "K_Nai3_mM": 4.47,
    "k_P_per_s": 393.0,
    "k_Na_release1_per_s": 734.0, "k_Na_release_per_s": 4840.0,
    "K_Nao1_mM": 11300.0, "K_Nao2_mM": 432.0, "K_Nao3_mM": 81.8, "theta_Na": 0.055,
    "kon_Ko_per_mM_s": 2000.0, "K_Ko1_mM": 1.97, "K_Ko2_mM": 1.1,
    "k_D_per_s": 5000.0, "K_Pi_mM": 1.02,
    "k_E2E1_per_s": 5000.0, "k_E1E2_per_s": 5000.0, "theta_K": 0.697,
    "kon_Ki_per_mM_s": 117.0, "K_Ki1_mM": 83.1, "K_Ki2_mM": 215.0,
    "K_MgATP_mM": 2.51,
}
#: what each constant is (the scenario reference's "meaning"; steps as in the docstring)
MEANING = {
    "kon_Nai_per_mM_s": "Na+ binding rate constant from inside (E1), per mM per s",
    "K_Nai1_mM": "dissociation constant of the 1st Na+ bound from inside",
    "K_Nai2_mM": "dissociation constant of the 2nd Na+ bound from inside",
    "K_Nai3_mM": "dissociation constant of the 3rd Na+ bound from inside",
    "k_P_per_s": "phosphorylation and occlusion of E1.Na3 (the ATP step), forward",
    "k_Na_release1_per_s": "release of the 1st Na+ outside (deocclusion), at 0 mV",
    "k_Na_release_per_s": "release of the 2nd and 3rd Na+ outside, at 0 mV",
    "K_Nao1_mM": "dissociation constant, outside, of the 1st Na+ released",
    "K_Nao2_mM": "dissociation constant, outside, of the 2nd Na+ released",
    "K_Nao3_mM": "dissociation constant, outside, of the 3rd Na+ released",
    "kon_Ko_per_mM_s": "K+ binding rate constant from outside (E2P), per mM per s, at 0 mV",
    "K_Ko1_mM": "dissociation constant of the 1st K+ bound from outside",
    "K_Ko2_mM": "dissociation constant of the 2nd K+ bound from outside",
    "k_D_per_s": "dephosphorylation and occlusion of E2P.K2, forward",
    "K_Pi_mM": "Pi dissociation constant of the dephosphorylation",
    "k_E2E1_per_s": "deocclusion E2(K2) -> E1.K2 at saturating ATP",
    "k_E1E2_per_s": "its reverse, E1.K2 -> E2(K2)",
    "kon_Ki_per_mM_s": "K+ rebinding rate constant from inside (E1), per mM per s",
    "K_Ki1_mM": "dissociation constant, inside, of the 1st K+ released (from E1.K2)",
    "K_Ki2_mM": "dissociation constant, inside, of the 2nd K+ released (from E1.K)",
    "K_MgATP_mM": "MgATP's constant at the low-affinity site (accelerates deocclusion)",
}
#: factors on alpha1's Na_i dissociation constants that give alpha2's and alpha3's
#: apparent K0.5 for Na_i in Crambert et al. 2000's ratios to alpha1's, 22/12 and 33/12
#: (their oocyte K0.5s, carried over as ratios: verification/pump_fit.py)
ISOFORM_NAI_SCALE = {"a1": 1.0, "a2": 2.214, "a3": 3.516}
NAI_KEYS = ("K_Nai1_mM", "K_Nai2_mM", "K_Nai3_mM")


def constants(p, T, pool_dG0=None):
    """Per-step rate constants at temperature T: arrays (kf, kb) of the forward and
    backward rate constants (per s; per mM per s where the direction binds an ion), (qf,
    qb) the coefficients of u in their voltage factors, and (nf, nb) their nucleotide
    factor codes.

    Without a metabolic pool (`pool_dG0` None) the nucleotide factors are folded in at the
    fixed `MgATP_mM`, `Pi_mM` and b_P carries `dG_ATP_kJ_per_mol`. On a pool (its dG0' in
    J/mol) they are left to the kernels, which read the pool's counts, and b_P is per mM
    ADP: with dG_ATP = dG0' + RT ln([ADP][Pi]/[ATP]) the constraint makes it independent of
    the pool's concentrations."""
    q = q10_factor(p["q10"], T)
    s = p["fxyd_affinity_factor"] ** p["fxyd_phosphorylated"]
    kf, kb = np.zeros(N_STEPS), np.zeros(N_STEPS)
    qf, qb = np.zeros(N_STEPS), np.zeros(N_STEPS)
    nf, nb = np.zeros(N_STEPS, np.int64), np.zeros(N_STEPS, np.int64)
    kon = p["kon_Nai_per_mM_s"] * q
    for i, key in enumerate(NAI_KEYS):  # FXYD scales the Na_i constants (Despa 2005)
        kf[i], kb[i] = kon, kon * p[key] * s
    kf[3] = p["k_P_per_s"] * q
    th = p["theta_Na"]
    for i, key in zip((4, 5, 6), ("K_Nao1_mM", "K_Nao2_mM", "K_Nao3_mM")):
        kr = p["k_Na_release1_per_s" if i == 4 else "k_Na_release_per_s"] * q
        kf[i], kb[i] = kr, kr / p[key]
        qf[i], qb[i] = th, -(1.0 - th)  # one charge out: ratio exp(u)
    kon = p["kon_Ko_per_mM_s"] * q
    thk = p["theta_K"]
    for i, key in zip((7, 8), ("K_Ko1_mM", "K_Ko2_mM")):
        kf[i], kb[i] = kon, kon * p[key]
        qf[i], qb[i] = -thk, 1.0 - thk  # one charge in: ratio exp(-u)
    # FXYD's s^3 on the three Na_i sites is given back on the step the cycle runs most
    # irreversibly at rest, the first K_o binding (its unbinding x s^-3; reverse/forward
    # flux 0.07 at Na_i 15 mM, -70 mV), so the cycle's constraint holds with b_P unchanged
    # and the maximal turnover stays within 4% (Despa et al. 2005: K0.5 for Na_i moves,
    # Vmax does not). Given back on b_P, as the reduced cycle does, or on the first Na+
    # release outside, it slowed the pump at rest (x0.55, x0.90)
    kb[7] /= s ** 3
    kf[9], kb[9] = p["k_D_per_s"] * q, p["k_D_per_s"] * q / p["K_Pi_mM"]
    kf[10], kb[10] = p["k_E2E1_per_s"] * q, p["k_E1E2_per_s"] * q
    kon = p["kon_Ki_per_mM_s"] * q
    for i, key in zip((11, 12), ("K_Ki1_mM", "K_Ki2_mM")):
        kf[i], kb[i] = kon * p[key], kon
    katp = p["K_MgATP_mM"]
    others = np.prod(kf) / np.prod(np.delete(kb, ATP_STEP))
    if pool_dG0 is None:
        a = p["MgATP_mM"] / katp
        kf[10] *= a / (1.0 + a)
        kb[9] *= p["Pi_mM"] / (1.0 + a)
        others *= a / (1.0 + a) / (p["Pi_mM"] / (1.0 + a))
        dg = p["dG_ATP_kJ_per_mol"] * 1e3
        kb[ATP_STEP] = others * math.exp(dg / (R * T))
    else:
        nf[ATP_STEP], nb[ATP_STEP], nb[9], nf[10] = NUC_ATP, NUC_ADP, NUC_PI, NUC_ATP_SAT
        # product of nucleotide factors: ATP/(K_MgATP [Pi] [ADP]); exp(-dG/RT) =
        # exp(-dG0'/RT) [ATP]/([ADP][Pi] 1e-3) in mM
        kb[ATP_STEP] = others / katp * math.exp(pool_dG0 / (R * T)) * 1e-3
    return kf, kb, qf, qb, nf, nb


def rates(c, conc, V, T, atp=None, adp=None, pi=None, katp=None):
    """Per-pump rates (fw, bw) of the 13 steps from `constants(...)` output c, at
    concentrations conc = {"Na_in", "Na_out", "K_in", "K_out"} (mM) and V (volts); on a
    pool the nucleotide concentrations (mM) and K_MgATP."""
    kf, kb, qf, qb, nf, nb = c
    u = F * V / (R * T)
    fw, bw = kf * np.exp(qf * u), kb * np.exp(qb * u)
    for i, ion in enumerate(ION):
        if ion is None:
            continue
        s, side, d = ion
        c_ion = conc[f"{s}_{side}"]
        if d > 0:
            fw[i] *= c_ion
        else:
            bw[i] *= c_ion
    if nb[ATP_STEP] == NUC_ADP:
        a = atp / katp
        bw[ATP_STEP] *= adp
        bw[9] *= pi / (1.0 + a)
        fw[10] *= a / (1.0 + a)
    return fw, bw


def steady_state(fw, bw):
    """Occupancies and the net cycle flux (per pump per s) of a single cycle at fixed
    rates: the null space of its generator (equivalent to King & Altman 1956's diagrams)."""
    n = len(fw)
    A = np.zeros((n, n))
    for i in range(n):
        j = (i + 1) % n
        A[j, i] += fw[i]
        A[i, i] -= fw[i]
        A[i, j] += bw[i]
        A[j, j] -= bw[i]
    A[-1, :] = 1.0
    b = np.zeros(n)
    b[-1] = 1.0
    p = np.linalg.solve(A, b)
    return p, p[0] * fw[0] - p[1] * bw[0]


def turnover(p, nai, ki, nao, ko, V, T=310.0):
    """Net cycles per pump per second at steady state, parameters p (a filled table)."""
    return steady_state(*rates(constants(p, T), {"Na_in": nai, "K_in": ki, "Na_out": nao,
                                                 "K_out": ko}, V, T))[1]


def apparent_k05_na(p, V=0.0, ki=140.0, nao=145.0, ko=5.4, T=310.0):
    """(apparent K0.5 for Na_i in mM, maximal turnover in 1/s): the Na_i at which the
    steady-state turnover is half its value at saturating (1 M) Na_i, the other
    concentrations and V (volts) held -- how the measurements it is fitted to define it
    (docs/validation.md)."""
    from scipy.optimize import brentq

    jmax = turnover(p, 1000.0, ki, nao, ko, V, T)
    k05 = brentq(lambda n: turnover(p, n, ki, nao, ko, V, T) - jmax / 2, 1e-3, 1000.0)
    return k05, jmax


def held_charge(p, nai, ki, nao, ko, V, T=310.0):
    """Mean charge (e) a pump holds on the inside of the field at steady state, and its
    turnover (1/s): d(held)/dV times the density is the pumps' charge movement seen as a
    capacitance in parallel with the membrane's."""
    fw, bw = rates(constants(p, T), {"Na_in": nai, "K_in": ki, "Na_out": nao, "K_out": ko},
                   V, T)
    occ, j = steady_state(fw, bw)
    return float(occ @ np.array(STATE_CHARGE, float)), j


#: free energy (J/mol) of one cycle's transport, 3 Na+ out and 2 K+ in, at V (volts)
cycle_dG = nak_cycle_dG
