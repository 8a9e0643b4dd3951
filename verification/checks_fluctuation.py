"""Fluctuation theorems under the exact `ssa` method.

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
from scipy import constants as sc_const
from scipy.optimize import brentq
from scipy.special import expit

import ionmc
from ionmc.mechanisms import pump

from builder import Builder
from cells import pump_cell
from verification.core import check

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


def run(sc, replicate=0):
    df, _ = ionmc.simulate(sc, replicate)
    return df


def _plot(v, name, incs, A, title):
    fig, ax = v.figure(name)
    for label, inc in incs:
        r = log_ratios(inc, min_count=10)
        if r:
            n, lr, se = map(np.array, zip(*r))
            ax.errorbar(n, lr, yerr=4 * se, fmt="o", ms=3, label=label)
    n = np.linspace(0, ax.get_xlim()[1], 10)
    ax.plot(n, A * n, "k-", label="n A / k_BT")
    ax.set_xlabel("net count n in a window")
    ax.set_ylabel("ln P(n) / P(-n)  (+- 4 SE)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)


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


@check
def leak_fluctuation_theorem(v):
    """ssa: a clamped leak's net count obeys P(n)/P(-n) = exp(n A/k_BT) in any window (10 seeds)"""
    # was: one run (seed 31) of 200 000 windows of 20 ms; now 10 replicates of 20 000
    # windows, pooled (the same number of windows), the same 4 SE criteria
    for case, (species, z, c_in, c_out, V, P) in LEAK_CASES.items():
        dt, n_windows, R = 0.02, 20_000, 10
        sc = leak_cell(dt * n_windows, dt, 31, species, z, c_in, c_out, V, P)
        A = leak_affinity_per_kT(z, c_in, c_out, V)
        nets = []
        for k in range(R):
            df = run(sc, k)
            v.require(f"{case} replicate {k}: counts fixed on both sides",
                      df[f"cell.{species}.count"].nunique() == 1
                      and df[f"bath.{species}.count"].nunique() == 1)
            nets.append(df[f"leak.{species}.net_efflux"].to_numpy())
        incs = []
        for w in (1, 5):  # windows of 20 ms and 100 ms (non-overlapping: independent)
            inc = np.concatenate([np.diff(net[::w]) for net in nets])
            incs.append((f"{20 * w} ms windows", inc))
            s, se = ft_slope(inc)
            v.within(f"{case}, {20 * w} ms: slope s vs A (k_BT)", s, A, se, k=TOL_SE)
            # the criterion can fail: 1.5 A, and the sign of z e V flipped, are rejected
            v.require(f"{case}, {20 * w} ms: 1.5 A rejected", abs(s - 1.5 * A) > TOL_SE * se)
            v.require(f"{case}, {20 * w} ms: flipped z e V rejected",
                      abs(s - (A - 2 * z * E * V * 1e-3 / KT)) > TOL_SE * se)
            ratios = log_ratios(inc)
            v.require(f"{case}, {20 * w} ms: at least 3 log ratios", len(ratios) >= 3)
            for n, lr, se_n in ratios:
                v.within(f"{case}, {20 * w} ms: ln P({n})/P(-{n})", lr, n * A, se_n, k=TOL_SE)
        _plot(v, f"leak_{case}", incs, A, f"leak {case}: A = {A:.3f} k_BT")


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
    p = {k: v for k, (v, *_) in pump.PARAMS.items() if v is not None}
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


@check
def pump_fluctuation_theorem_near_stall(v):
    """ssa: one pump near stall: P(n)/P(-n) ~ exp(n A_cycle/k_BT) over long windows (4 seeds)"""
    # was: one run per case (seeds 11, 12) of 10 000 windows; now 4 replicates of 2 500
    # windows each (the first window of each dropped), pooled, the same 4 SE criteria
    for case, (dg, seed) in PUMP_CASES.items():
        A = cycle_affinity_per_kT(dg, **PUMP_STATE)
        v.require(f"{case}: near stall, 0.3 < |A| <= 2", 0.3 < abs(A) <= 2.0, f"A = {A:.3f}")
        j_plus, j_minus = one_way_cycle_rates(dg)
        window = math.ceil(20.0 / min(j_plus, j_minus))
        n_windows, R = 2_500, 4
        sc = pump_cell(duration=float(window * (n_windows + 1)), dt=float(window), seed=seed,
                       dg=dg, density=1.0, **PUMP_STATE).build()
        incs = []
        for k in range(R):
            df = run(sc, k)
            v.require(f"{case} replicate {k}: one molecule",
                      sum(df[f"pump.P{i}.count"].iloc[0] for i in range(1, 5)) == 1)
            net = (df["pump.forward"] - df["pump.backward"]).to_numpy()
            incs.append(np.diff(net)[1:])
        inc = np.concatenate(incs)
        v.require(f"{case}: {R * n_windows} windows", len(inc) == R * n_windows)
        rate, se_rate = inc.mean() / window, inc.std(ddof=1) / math.sqrt(len(inc)) / window
        v.within(f"{case}: mean net rate vs King-Altman (1/s)", rate, j_plus - j_minus,
                 se_rate, k=TOL_SE)
        s, se = ft_slope(inc)
        v.within(f"{case}: slope s vs A_cycle (k_BT)", s, A, se, k=TOL_SE)
        v.require(f"{case}: 1.5 A rejected", abs(s - 1.5 * A) > TOL_SE * se)
        v.require(f"{case}: A without F V/RT rejected",
                  abs(s - (A + FARADAY * 0.07 / RT)) > TOL_SE * se)
        v.require(f"{case}: -A rejected", abs(s + A) > TOL_SE * se)
        for n, lr, se_n in log_ratios(inc):
            v.within(f"{case}: ln P({n})/P(-{n})", lr, n * A, se_n, k=TOL_SE)
        _plot(v, f"pump_{case}", [(f"{window} s windows", inc)], A,
              f"one pump, {case}: A = {A:.3f} k_BT")
