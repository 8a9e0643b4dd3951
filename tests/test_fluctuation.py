"""Fluctuation theorems under the exact `ssa` method (issue: "Fluctuation theorems under
`ssa`").

(a) A leak between two fixed concentrations across a voltage-clamped membrane: its two
    unidirectional fluxes are independent Poisson processes with constant rates, so the net
    count n moved in any window obeys P(n)/P(-n) = exp(n A/k_BT) exactly (a Skellam
    distribution), A being the affinity per ion moved.
(b) One Na+/K+ pump at fixed concentrations, potential and dG_ATP near stall: over long
    windows the net number of cycles n obeys P(n)/P(-n) ~ exp(n A_cycle/k_BT), A_cycle =
    -(dG_ATP + dG_transport) per cycle (Gallavotti-Cohen / Lebowitz-Spohn; for a single
    cycle, Andrieux & Gaspard 2007). This is asymptotic in the window length.

How the slope is estimated: P(n)/P(-n) = exp(s n) for every n > 0 is the same statement as
"given |n|, the sign is + with probability 1/(1 + exp(-s n))". Conditional on the number of
windows with |n| = k, the count with n = +k is binomial, so s is fitted by maximum
likelihood (a logistic regression through the origin) and its standard error is the inverse
square root of the Fisher information. Unlike a least-squares fit of log(N+/N-) this needs
no pruning of empty bins and has no log-of-small-count bias. Each log ratio with enough
counts on both sides is also checked on its own (delta-method SE). Tolerances are 4 SE,
seeds are fixed. The affinities are computed here from scipy's CODATA constants and the
scenario's own numbers, never from ionmc's internals.
"""
import math

import numpy as np
import pytest
from scipy import constants as sc_const
from scipy.optimize import brentq
from scipy.special import expit

import ionmc
from ionmc.mechanisms import pump

from builder import Builder
from conftest import pump_cell

T = 310.0
KT = sc_const.k * T                      # J
RT = sc_const.R * T                      # J/mol
E = sc_const.e                           # C
FARADAY = sc_const.e * sc_const.N_A      # C/mol
TOL_SE = 4.0


def sign_counts(inc):
    """{k: (windows with n = +k, windows with n = -k)} for k >= 1."""
    inc = np.asarray(inc, np.int64)
    vals, cnt = np.unique(inc, return_counts=True)
    c = dict(zip(vals.tolist(), cnt.tolist()))
    top = int(np.abs(inc).max()) if len(inc) else 0
    return {k: (c.get(k, 0), c.get(-k, 0)) for k in range(1, top + 1)
            if c.get(k, 0) + c.get(-k, 0) > 0}


def ft_slope(inc):
    """Maximum-likelihood slope s of log(P(n)/P(-n)) = s n and its standard error, from
    the signs of the windows' net counts conditional on |n| (module docstring)."""
    counts = sign_counts(inc)
    k = np.array(list(counts), float)
    p = np.array([v[0] for v in counts.values()], float)
    m = np.array([v[1] for v in counts.values()], float)
    assert p.sum() > 0 and m.sum() > 0, "both signs must occur for a finite slope"

    def score(s):  # d(log-likelihood)/ds, strictly decreasing in s
        return float((k * (p - (p + m) * expit(s * k))).sum())

    s = brentq(score, -50.0, 50.0, xtol=1e-12)
    q = expit(s * k)
    info = float((k * k * (p + m) * q * (1.0 - q)).sum())
    return s, 1.0 / math.sqrt(info)


def log_ratios(inc, min_count=25):
    """[(n, log(N(n)/N(-n)), delta-method SE)] for the n with >= min_count windows on
    each side (where the log of counts is nearly unbiased and normal)."""
    return [(k, math.log(a / b), math.sqrt(1.0 / a + 1.0 / b))
            for k, (a, b) in sign_counts(inc).items() if a >= min_count and b >= min_count]


def run(sc):
    df, _ = ionmc.simulate(sc, 0)
    return df


# -- (a) clamped leak ----------------------------------------------------------------------

def leak_cell(duration, dt, seed, species, z, c_in, c_out, V_mV, P):
    """One leak of `species` (charge z) between c_in (mM, clamped) and a bath of c_out,
    across a membrane clamped at V_mV, under ssa."""
    return (Builder("ft_leak", duration, dt, "ssa", seed)
            .species(**{species: z}).impermeant(X=-z)
            .compartment("cell", 1.0, clamped=[species], **{species: c_in})
            .compartment("bath", 100.0, bath=True, **{species: c_out})
            .membrane("pm", "cell", "bath", 1.0, clamp=V_mV)
            .leak(species, P, name="leak").build())


# species, charge, c_in (mM, clamped), c_out (mM, bath), clamp (mV), permeability (cm/s):
# ~60-170 crossings per second each way, so that a 20 ms window holds a few net counts of
# either sign and a 100 ms window a broader distribution. K+ at -70 mV: net efflux is
# downhill (A = +0.71 k_BT per ion out); Cl- at -40 mV: net entry is (A = -0.99 k_BT),
# which also exercises the sign of z in the electrical term.
LEAK_CASES = {
    "K_-70mV": ("K", 1, 140.0, 5.0, -70.0, 1e-9),
    "Cl_-40mV": ("Cl", -1, 10.0, 120.0, -40.0, 5e-10),
}


def leak_affinity_per_kT(z, c_in, c_out, V_mV):
    """Affinity (in k_BT) of moving one ion inside -> outside, the direction
    `{leak}.{species}.net_efflux` counts: the drop of its electrochemical potential
    mu = k_BT ln c + z e phi from phi_in = V to phi_out = 0,
    A = k_BT ln(c_in/c_out) + z e V (minus the affinity k_BT ln(c_out/c_in) - z e V of an
    ion entering)."""
    return math.log(c_in / c_out) + z * E * V_mV * 1e-3 / KT


@pytest.mark.parametrize("case", list(LEAK_CASES))
def test_leak_fluctuation_theorem_in_any_window(case):
    species, z, c_in, c_out, V, P = LEAK_CASES[case]
    dt, n_windows = 0.02, 200_000
    df = run(leak_cell(dt * n_windows, dt, 31, species, z, c_in, c_out, V, P))
    A = leak_affinity_per_kT(z, c_in, c_out, V)
    net = df[f"leak.{species}.net_efflux"].to_numpy()
    # the counts on both sides really are fixed (clamped species, bath): A is constant
    assert df[f"cell.{species}.count"].nunique() == 1
    assert df[f"bath.{species}.count"].nunique() == 1
    for w in (1, 5):  # windows of 20 ms and 100 ms (non-overlapping: independent here)
        inc = np.diff(net[::w])
        s, se = ft_slope(inc)
        assert abs(s - A) < TOL_SE * se, (case, w, s, se, A)
        # The criterion can fail: the SE is 0.5-3% of A, so an affinity 1.5x the true one
        # is rejected (checked: by 22-114 SE in every case and window; 1.1 A by 3.6-24 SE),
        # and so is one with the sign of z e V flipped (A off by 5.2 and 3.0 k_BT).
        assert abs(s - 1.5 * A) > TOL_SE * se
        assert abs(s - (A - 2 * z * E * V * 1e-3 / KT)) > TOL_SE * se
        # pointwise: P(n)/P(-n) = exp(n A) for each n with enough windows on both sides
        ratios = log_ratios(inc)
        assert len(ratios) >= 3
        for n, lr, se_n in ratios:
            assert abs(lr - n * A) < TOL_SE * se_n, (case, w, n, lr, n * A, se_n)


# -- (b) one pump near stall -----------------------------------------------------------

PUMP_STATE = dict(nai=15.0, ki=140.0, nao=145.0, ko=5.0, V_mV=-70.0)


def cycle_affinity_per_kT(dg_atp_kJ, nai, ki, nao, ko, V_mV):
    """-(dG_ATP + dG_transport)/RT for one forward cycle: 3 Na+ in -> out, 2 K+ out -> in,
    one net charge out of a compartment at V into one at 0 V."""
    dg_transport = (3 * RT * math.log(nao / nai) + 2 * RT * math.log(ki / ko)
                    - FARADAY * V_mV * 1e-3)
    return -(dg_atp_kJ * 1e3 + dg_transport) / RT


def one_way_cycle_rates(dg_atp_kJ):
    """(J+, J-): completed forward and backward cycles per second of one pump at steady
    state (King-Altman: J+- = prod(alpha+-) / sum of the spanning-tree weights). Used only
    to choose the window length, not for the prediction under test."""
    p = {k: v for k, (v, _) in pump.PARAMS.items() if v is not None}
    p["dG_ATP_kJ_per_mol"] = dg_atp_kJ
    s = PUMP_STATE
    fw, bw = pump.cycle_rates(pump.param_row(p, T), s["nai"], s["ki"], s["nao"], s["ko"],
                              s["V_mV"] * 1e-3)
    _, j = pump.king_altman(fw, bw)
    j_plus = j / (1.0 - np.prod(bw) / np.prod(fw))
    return j_plus, j_plus - j


# dG_ATP (kJ/mol) on either side of the stall at -41.47 kJ/mol (the gradient's 41.47 kJ/mol
# per cycle at these concentrations and -70 mV): A_cycle = +0.52 k_BT (pump runs forward)
# and -0.49 k_BT (runs backward, making ATP). |A| ~ 0.5 keeps negative net counts frequent
# enough over windows of >= 20 cycle times; at |A| = 1-2 they would be too rare to fit.
PUMP_CASES = {"forward": (-42.8, 11), "backward": (-40.2, 12)}


@pytest.mark.parametrize("case", list(PUMP_CASES))
def test_pump_fluctuation_theorem_near_stall(case):
    dg, seed = PUMP_CASES[case]
    A = cycle_affinity_per_kT(dg, **PUMP_STATE)
    assert 0.3 < abs(A) <= 2.0  # near stall, as the issue asks
    j_plus, j_minus = one_way_cycle_rates(dg)
    # Window: 20 times the mean time between completed cycles in the rarer direction,
    # 1/min(J+, J-) (~4.4 s and ~6.5 s here), the most conservative reading of "cycle time";
    # it is ~50 times the mean time between completions in either direction, 1/(J+ + J-).
    window = math.ceil(20.0 / min(j_plus, j_minus))
    n_windows = 10_000
    df = run(pump_cell(duration=float(window * (n_windows + 1)), dt=float(window), seed=seed,
                       dg=dg, density=1.0, **PUMP_STATE).build())
    assert df["pump.P1.count"].iloc[0] + df["pump.P2.count"].iloc[0] \
        + df["pump.P3.count"].iloc[0] + df["pump.P4.count"].iloc[0] == 1  # one molecule
    # Net cycles: increments of forward - backward of the Na+-translocating step (P2 <-> P3).
    # On a single cycle, a molecule's net count of any one step and its net number of
    # completed cycles differ by its position on the cycle, between 0 and 1 (the step is
    # crossed at most once more than the cycle is closed), so over a window the two differ
    # by -1, 0 or +1: a boundary term that does not grow with the window, while the spread of
    # n grows as its square root. The theorem is asymptotic in the window for the same
    # reason (the initial and final states enter only through such bounded terms).
    net = (df["pump.forward"] - df["pump.backward"]).to_numpy()
    inc = np.diff(net)[1:]  # the first window is dropped: the start state is a point mass
    assert len(inc) == n_windows
    # sanity: the mean net rate is the King-Altman flux J+ - J- (4 SE of the mean)
    rate, se_rate = inc.mean() / window, inc.std(ddof=1) / math.sqrt(len(inc)) / window
    assert abs(rate - (j_plus - j_minus)) < TOL_SE * se_rate
    # Binomial SEs treat windows as independent; successive windows of one trajectory are
    # Markov-coupled only through the state at their common end (measured lag-1 and lag-2
    # correlations of the increments: |r| < 0.012), so the SE is not understated.
    s, se = ft_slope(inc)
    assert abs(s - A) < TOL_SE * se, (case, s, se, A)
    # The criterion can fail: with SE ~0.013-0.017 (5 seeds per case tried: slopes within
    # 2 SE of A, z-scores spread like N(0, 1)) it rejects 1.5 A by 13-21 SE, and the
    # affinity without the electrical term F V/RT (2.6 k_BT off) or with its sign flipped.
    assert abs(s - 1.5 * A) > TOL_SE * se
    assert abs(s - (A + FARADAY * 0.07 / RT)) > TOL_SE * se
    assert abs(s + A) > TOL_SE * se
    for n, lr, se_n in log_ratios(inc):
        assert abs(lr - n * A) < TOL_SE * se_n, (case, n, lr, n * A, se_n)
