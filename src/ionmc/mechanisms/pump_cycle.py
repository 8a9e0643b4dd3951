"""The Na+/K+-ATPase's kinetics: the reduced 4-state Post-Albers cycle of Smith & Crampin 2004 (Prog
Biophys Mol Biol 85:387) with the constants of Terkildsen, Crampin & Smith 2007 (Am J
Physiol Heart Circ Physiol 293:H3036).

States (counts of pump molecules in each): P1 = E1 with Na_i/K_i binding in rapid
equilibrium; P2 = E1-P(Na3) occluded; P3 = E2-P with Na_o/K_o binding in rapid
equilibrium; P4 = E2(K2) occluded. Steps (forward = the physiological direction):

  1  P1 -> P2  alpha1+ = k1+ Nai~^3/Di            alpha1- = b1 (derived, see below)
  2  P2 -> P3  alpha2+ = k2+                      alpha2- = k2- Nao~^3/Do
               moves 3 Na+ inside -> outside (the pump's reference transition)
  3  P3 -> P4  alpha3+ = k3+ Ko~^2/Do              alpha3- = k3- Pi H/(1 + ATP~)
  4  P4 -> P1  alpha4+ = k4+ ATP~/(1 + ATP~)       alpha4- = k4- Ki~^2/Di
               moves 2 K+ outside -> inside

with Di = (1+Nai~)^3 + (1+Ki~)^2 - 1 and Do = (1+Nao~)^3 + (1+Ko~)^2 - 1 (Na+ and K+
competing for the same sites), Nai~ = Na_i/K_Nai(V), K_Nai(V) = K_Nai0 exp(delta FV/3RT),
K_Nao(V) = K_Nao0 exp((1+delta) FV/3RT). The product of the four rate ratios is then

  K0 (Na_i/Na_o)^3 (K_o/K_i)^2 exp(FV/RT) (K_Nao0/K_Nai0)^3 (K_Ki/K_Ko)^2 ATP/K_ATP,

and thermodynamics requires it to equal exp(-(dG_ATP + dG_transport)/RT). Rather than
trusting all eight published rate constants (Pan et al. 2020 list corrections), the one
reverse rate b1 (ADP release, the step where ATP is booked) is derived from that constraint
for the given dG_ATP, so the pump stalls exactly where ATP no longer pays for the gradient.

FXYD phosphorylation (fraction f) scales K_Nai0 by s^f (s = fxyd_affinity_factor); the
derived b1 then carries the s^-3f that keeps the cycle's equilibrium constant (docs/mechanisms/pumps.md).

Ions never sit inside the pump: step 2 moves 3 Na+ across at once and step 4 moves 2 K+.
Binding is folded into the rapid-equilibrium factors, which is why this reduced pump is not
elementary (docs/physics.md, "Where the ledger is exact").
"""
import math

import numpy as np

from ionmc.constants import F, R
from ionmc.numba_conf import njit
from ionmc.physics import q10_factor
from ionmc.thermo.closed_forms import nak_cycle_dG

N_STATES = 4
N_STEPS = 4
# parameter row layout shared by the 8 transitions of a pump
P_K1P, P_B1, P_K2P, P_K2M, P_K3P, P_B3, P_K4P, P_K4M, P_KNAI, P_KNAO, P_KKI, P_KKO, \
    P_DELTA, P_FRT, P_KATP, P_DG0, P_RT, P_POOL, P_ELEM = range(19)
N_PAR = 19

def param_row(p, T, dG0_pool=None):
    """The kinetic parameter row (rates at temperature T, b1 derived) for one pump.

    With a metabolic pool (`dG0_pool`: its dG0' in J/mol), the nucleotide factors are left
    to the kernel, which reads the pool's counts: the row then holds k4+ (times
    ATP~/(1+ATP~) at run time), k3- H (times Pi/(1+ATP~)) and b1 per mM ADP. Written out,
    the constraint above with dG_ATP = dG0' + RT ln([ADP][Pi]/[ATP]) makes b1 exactly
    proportional to [ADP] (ATP and Pi cancel against k4+ and b3): mass action in ADP,
    like the published k1- (mM^-1 s^-1)."""
    if dG0_pool is not None:
        return _pool_row(p, T, dG0_pool)
    q = q10_factor(p["q10"], T)
    s = p["fxyd_affinity_factor"] ** p["fxyd_phosphorylated"]
    knai = p["K_Nai0_mM"] * s
    atp = p["MgATP_mM"] / p["K_MgATP_mM"]
    k1p = p["k1_plus_per_s"] * q
    k2p = p["k2_plus_per_s"] * q
    k3p = p["k3_plus_per_s"] * q
    k4p = p["k4_plus_per_s"] * q * atp / (1.0 + atp)
    k2m = p["k2_minus_per_s"] * q
    b3 = p["k3_minus_per_mM2_s"] * q * p["Pi_mM"] * p["H_mM"] / (1.0 + atp)
    k4m = p["k4_minus_per_s"] * q
    # thermodynamic constraint (module docstring): prod(alpha+)/prod(alpha-) equals
    # exp(-dG_ATP/RT) * exp(-dG_transport/RT); solve for b1.
    dg = p["dG_ATP_kJ_per_mol"] * 1e3
    b1 = (k1p * k2p * k3p * k4p / (k2m * b3 * k4m)
          * (p["K_Nao0_mM"] / knai) ** 3 * (p["K_Ki_mM"] / p["K_Ko_mM"]) ** 2
          * math.exp(dg / (R * T)))
    elem = p.get("elementary", 0.0) > 0
    if elem:
        # the elementary test pump: the ion steps are mass action (per mM^3 / mM^2, the
        # dissociation constants setting the scale) and carry the voltage factor of the
        # charge they move, exp(+-q FV/2RT); then b1 = prod k+ / prod k- * exp(dG_ATP/RT)
        k2p, k2m = k2p / knai ** 3, k2m / p["K_Nao0_mM"] ** 3
        k4p, k4m = k4p / p["K_Ko_mM"] ** 2, k4m / p["K_Ki_mM"] ** 2
        b1 = k1p * k2p * k3p * k4p / (k2m * b3 * k4m) * math.exp(dg / (R * T))
    row = np.zeros(N_PAR)
    row[P_ELEM] = 1.0 if elem else 0.0
    row[[P_K1P, P_B1, P_K2P, P_K2M, P_K3P, P_B3, P_K4P, P_K4M]] = \
        [k1p, b1, k2p, k2m, k3p, b3, k4p, k4m]
    row[[P_KNAI, P_KNAO, P_KKI, P_KKO, P_DELTA, P_FRT]] = \
        [knai, p["K_Nao0_mM"], p["K_Ki_mM"], p["K_Ko_mM"], p["delta"], F / (R * T)]
    return row


def _pool_row(p, T, dG0):
    ref = dict(p, MgATP_mM=p["K_MgATP_mM"], Pi_mM=1.0,
               dG_ATP_kJ_per_mol=(dG0 + R * T * math.log(1e-3 * 1.0 * 1.0 / p["K_MgATP_mM"]))
               / 1e3)
    # at ATP = K_MgATP (ATP~ = 1), Pi = 1 mM, ADP = 1 mM: undo the fixed factors
    row = param_row(ref, T)
    row[P_K4P] *= 2.0          # / (1/2)
    row[P_B3] *= 2.0           # / (Pi/(1 + 1))
    row[P_KATP] = p["K_MgATP_mM"]
    row[P_DG0] = dG0
    row[P_RT] = R * T
    row[P_POOL] = 1.0
    return row


def effective_row(row, atp, adp, pi):
    """A pool pump's row with its nucleotide factors at fixed concentrations (mM), in the
    layout of a pump without a pool (for King-Altman and the ledger's state energies)."""
    r = np.array(row, float)
    if r[P_POOL] == 0.0:
        return r
    a = atp / r[P_KATP]
    r[P_K4P] *= a / (1.0 + a)
    r[P_B3] *= pi / (1.0 + a)
    r[P_B1] *= adp
    r[P_POOL] = 0.0
    return r


@njit
def step_rate(step, backward, k, knai, knao, kki, kko, delta, frt, nai, ki, nao, ko, V,
              elem):
    """Rate per pump molecule (1/s) of one step: k is the step's rate constant in the
    direction taken (row layout: P[2*step + backward]), concentrations in mM, V in volts.
    Scalars only, so that the call is cheap in the innermost loop. `elem` > 0: the
    elementary test pump (the kernel passes falling-factorial concentrations for it)."""
    return rate_with(step, backward, k, v_factor(step, backward, knai, knao, delta, frt, V,
                                                 elem), kki, kko, nai, ki, nao, ko, elem)


@njit
def v_factor(step, backward, knai, knao, delta, frt, V, elem):
    """The step's one voltage-dependent factor: K_Nai(V) or K_Nao(V) (mM) where its rate
    has one, exp(+-3u/2) or exp(+-u) for the elementary pump, else 1. Apart so that the
    SSA can look it up on the charge lattice (lattice.py)."""
    if elem > 0.0:
        u = frt * V
        if step == 1:  # 3 Na+ out: exp(+3u/2) forward, exp(-3u/2) backward
            return math.exp(-1.5 * u) if backward else math.exp(1.5 * u)
        if step == 3:  # 2 K+ in
            return math.exp(u) if backward else math.exp(-u)
        return 1.0
    phi = frt * V / 3.0
    if (step == 0 and not backward) or (step == 3 and backward):
        return knai * math.exp(delta * phi)
    if (step == 1 and backward) or (step == 2 and not backward):
        return knao * math.exp((1.0 + delta) * phi)
    return 1.0


@njit
def rate_with(step, backward, k, kv, kki, kko, nai, ki, nao, ko, elem):
    """`step_rate` given the step's `v_factor` kv."""
    if elem > 0.0:
        if step == 1:
            return k * nao * nao * nao * kv if backward else k * nai * nai * nai * kv
        if step == 3:
            return k * ki * ki * kv if backward else k * ko * ko * kv
        return k
    if step == 0:
        if backward:
            return k
        tnai = nai / kv
        tki = ki / kki
        di = (1.0 + tnai) * (1.0 + tnai) * (1.0 + tnai) + (1.0 + tki) * (1.0 + tki) - 1.0
        return k * tnai * tnai * tnai / di
    if step == 1:
        if backward:
            tnao = nao / kv
            tko = ko / kko
            do = (1.0 + tnao) * (1.0 + tnao) * (1.0 + tnao) + (1.0 + tko) * (1.0 + tko) - 1.0
            return k * tnao * tnao * tnao / do
        return k
    if step == 2:
        if backward:
            return k
        tnao = nao / kv
        tko = ko / kko
        do = (1.0 + tnao) * (1.0 + tnao) * (1.0 + tnao) + (1.0 + tko) * (1.0 + tko) - 1.0
        return k * tko * tko / do
    if backward:
        tnai = nai / kv
        tki = ki / kki
        di = (1.0 + tnai) * (1.0 + tnai) * (1.0 + tnai) + (1.0 + tki) * (1.0 + tki) - 1.0
        return k * tki * tki / di
    return k


@njit
def row_rate(step, backward, P, j, nai, ki, nao, ko, V):
    """step_rate with its constants from row j of a parameter array (layout above)."""
    return step_rate(step, backward, P[j, 2 * step + backward], P[j, P_KNAI], P[j, P_KNAO],
                     P[j, P_KKI], P[j, P_KKO], P[j, P_DELTA], P[j, P_FRT], nai, ki, nao, ko, V,
                     P[j, P_ELEM])


def cycle_rates(p, nai, ki, nao, ko, V):
    """Arrays (alpha+, alpha-) of the 4 steps at fixed concentrations (mM) and V (volts)."""
    P = np.asarray(p, float)[None, :]
    fw = np.array([row_rate(s, 0, P, 0, nai, ki, nao, ko, V) for s in range(4)])
    bw = np.array([row_rate(s, 1, P, 0, nai, ki, nao, ko, V) for s in range(4)])
    return fw, bw


def king_altman(fw, bw):
    """Steady-state occupancies and net cycle flux of a single cycle (King & Altman 1956;
    Hill's diagram method): p_i is proportional to the sum, over the n spanning trees of the
    cycle (remove one edge), of the product of the rates on the tree's edges directed
    towards state i. Returns (probabilities, flux per pump per second)."""
    n = len(fw)
    w = np.zeros(n)
    for i in range(n):
        for cut in range(n):  # edge `cut` joins state cut and cut+1; removed
            prod = 1.0
            # walk from i backwards (i-1, i-2, ...) until the cut: edges point forward to i
            j = i
            while (j - 1) % n != cut:
                prod *= fw[(j - 1) % n]
                j = (j - 1) % n
                if j == i:
                    break
            # walk from i forwards until the cut: those edges point backward to i
            j = i
            while j % n != cut:
                prod *= bw[j % n]
                j = (j + 1) % n
            w[i] += prod
    prob = w / w.sum()
    flux = prob[0] * fw[0] - prob[1] * bw[0]
    return prob, flux


def turnover(p, nai, ki, nao, ko, V):
    """Net cycles per pump per second at steady state (King-Altman closed form)."""
    return king_altman(*cycle_rates(p, nai, ki, nao, ko, V))[1]


#: free energy (J/mol) of one cycle's transport, 3 Na+ out and 2 K+ in, at V (volts)
cycle_dG = nak_cycle_dG
