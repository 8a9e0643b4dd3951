"""Mass-action reactions (mechanisms/reaction.py) against exact laws: a birth-death
process's Poisson stationary law, a dimerisation's chemical master equation at small
counts and its ODE limit at large ones, and the SBML stochastic test suite's cases 001
(birth-death) and 003 (dimerisation), whose published means and SDs are these exact
results (Evans, Gillespie & Wilkinson 2008, "The SBML discrete stochastic models test
suite", Bioinformatics 24:285)."""
import math

import numpy as np
from scipy import linalg, stats

import ionmc
from ionmc.physics import count_of
from reactions import chemistry
from verification.core import check, se_of_mean, se_of_var

VOL = 0.001  # um^3
OMEGA = count_of(1.0, VOL)  # molecules per mM


def _finals(sc, n, column):
    """The column's last value in n independent replicates."""
    return np.array([ionmc.simulate(sc, k)[0][column].iloc[-1] for k in range(n)], float)


def _paths(sc, n, column):
    return np.array([ionmc.simulate(sc, k)[0][column].to_numpy() for k in range(n)], float)


@check
def birth_death_is_poisson(v):
    """-> A at k_b, A -> at k_d: Poisson(k_b Omega / k_d) at stationarity."""
    mean = 20.0
    sc = chemistry([("birth", "-> A", {"k_forward": mean / OMEGA}),
                    ("death", "A ->", {"k_forward": 1.0})], {"A": 0}, duration=12.0,
                   dt=12.0, seed=101)
    n = 600
    x = _finals(sc, n, "cyto.A.count")
    v.within("mean", x.mean(), mean, math.sqrt(mean / n))
    v.within("variance", x.var(ddof=1), mean, se_of_var(x))
    fig, ax = v.figure("histogram")
    k = np.arange(0, 45)
    ax.hist(x, bins=np.arange(-0.5, 45), density=True, alpha=0.5, label=f"ssa, {n} replicates")
    ax.plot(k, stats.poisson.pmf(k, mean), "k.-", label="Poisson(20)")
    ax.set_xlabel("A molecules at t = 12 s")
    ax.legend()


def _dimer_cme(a0, kf_stoch, kb, t):
    """P(B = b, t) of 2 A <-> B from B = 0, A + 2B = a0: the master equation solved on
    its b = 0..a0/2 states (propensities kf_stoch A(A-1), kb B)."""
    nb = a0 // 2 + 1
    Q = np.zeros((nb, nb))
    for b in range(nb):
        a = a0 - 2 * b
        if b + 1 < nb:
            Q[b, b + 1] = kf_stoch * a * (a - 1)
        if b > 0:
            Q[b, b - 1] = kb * b
        Q[b, b] = -Q[b].sum()
    p0 = np.zeros(nb)
    p0[0] = 1.0
    return linalg.expm(Q.T * t) @ p0


@check
def dimerisation_follows_the_master_equation(v):
    """2 A <-> B from 20 A in 0.001 um^3: the distribution of B at t = 1 s."""
    kf, kb, a0, t = 30.0, 1.0, 20, 1.0
    sc = chemistry([("d", "2 A <-> B", {"k_forward": kf, "k_backward": kb})], {"A": a0},
                   duration=t, dt=t, seed=202)
    n = 800
    b = _finals(sc, n, "cyto.B.count")
    p = _dimer_cme(a0, kf / OMEGA, kb, t)
    k = np.arange(len(p))
    mean = float(p @ k)
    var = float(p @ k ** 2 - mean ** 2)
    v.within("mean of B", b.mean(), mean, math.sqrt(var / n))
    v.within("variance of B", b.var(ddof=1), var, se_of_var(b))
    counts = np.bincount(b.astype(int), minlength=len(p))
    keep = p * n >= 5
    chi2 = float(np.sum((counts[keep] - n * p[keep]) ** 2 / (n * p[keep])))
    v.require(f"chi-square against the CME ({keep.sum()} cells): p > 1e-3",
              stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3, f"chi2 = {chi2:.1f}")
    fig, ax = v.figure("distribution")
    ax.bar(k, counts / n, alpha=0.5, label=f"ssa, {n} replicates")
    ax.plot(k, p, "k.-", label="master equation")
    ax.set_xlabel("B molecules at t = 1 s")
    ax.legend()


@check
def dimerisation_tends_to_the_ode_at_large_counts(v):
    """2 A <-> B at 0.1 mM in 1 um^3 (6e4 molecules): ssa mean vs ode, t = 0..2 s."""
    keys = {"k_forward": 30.0, "k_backward": 1.0}
    big = dict(volume_um3=1.0, duration=2.0, dt=0.25)
    sc = chemistry([("d", "2 A <-> B", keys)], {}, conc={"A": 0.1}, seed=303, **big)
    ode = ionmc.simulate(chemistry([("d", "2 A <-> B", keys)], {}, conc={"A": 0.1},
                                   method="ode", **big))[0]["cyto.B.count"].to_numpy()
    paths = _paths(sc, 12, "cyto.B.count")
    for i in (2, 4, 8):
        v.within(f"B at t = {0.25 * i:g} s", paths[:, i].mean(), ode[i],
                 max(se_of_mean(paths[:, i]), 1.0))
    fig, ax = v.figure("mean")
    t = np.arange(paths.shape[1]) * 0.25
    ax.plot(t, paths.T, color="0.7", lw=0.5)
    ax.plot(t, ode, "k--", label="ode")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("B molecules")
    ax.legend()


@check
def sbml_dsmts_001_birth_death(v):
    """DSMTS-001-01: X -> 2X (0.1/s), X -> (0.11/s), X(0) = 100: mean and SD at t = 10,
    25, 50 s against X0 e^(r t) and var = X0 (l+m)/(l-m) e^(r t)(e^(r t) - 1)."""
    lam, mu, x0 = 0.1, 0.11, 100
    sc = chemistry([("birth", "X -> 2 X", {"k_forward": lam}), ("death", "X ->",
                                                                 {"k_forward": mu})],
                   {"X": x0}, duration=50.0, dt=5.0, seed=404)
    n = 1000
    paths = _paths(sc, n, "cyto.X.count")
    t = np.arange(paths.shape[1]) * 5.0
    r = lam - mu
    m = x0 * np.exp(r * t)
    var = x0 * (lam + mu) / r * np.exp(r * t) * (np.exp(r * t) - 1.0)
    for i in (2, 5, 10):
        x = paths[:, i]
        v.within(f"mean at t = {t[i]:g} s", x.mean(), m[i], math.sqrt(var[i] / n))
        v.within(f"SD at t = {t[i]:g} s", x.std(ddof=1), math.sqrt(var[i]),
                 math.sqrt(se_of_var(x) ** 2 / (4 * var[i])))
    fig, ax = v.figure("mean_sd")
    ax.plot(t, paths.mean(axis=0), "o", label="ssa mean")
    ax.plot(t, m, "k-", label="exact mean")
    ax.plot(t, paths.std(axis=0, ddof=1), "s", label="ssa SD")
    ax.plot(t, np.sqrt(var), "k--", label="exact SD")
    ax.set_xlabel("time (s)")
    ax.legend()


@check
def sbml_dsmts_003_dimerisation(v):
    """DSMTS-003-01: P + P -> P2 (k1 = 0.001, propensity k1 P(P-1)/2), P2 -> P + P
    (k2 = 0.01), P(0) = 100: mean and SD of P at t = 10, 25, 50 s against the master
    equation (in ionmc's units k_forward = k1 Omega / 2)."""
    k1, k2, p0 = 0.001, 0.01, 100
    sc = chemistry([("d", "2 P <-> P2", {"k_forward": k1 * OMEGA / 2, "k_backward": k2})],
                   {"P": p0}, duration=50.0, dt=5.0, seed=505)
    n = 1000
    paths = _paths(sc, n, "cyto.P.count")
    for i, t in ((2, 10.0), (5, 25.0), (10, 50.0)):
        pb = _dimer_cme(p0, k1 / 2, k2, t)
        pp = p0 - 2 * np.arange(len(pb))  # P for each P2
        mean = float(pb @ pp)
        var = float(pb @ pp ** 2 - mean ** 2)
        x = paths[:, i]
        v.within(f"mean of P at t = {t:g} s", x.mean(), mean, math.sqrt(var / n))
        v.within(f"SD of P at t = {t:g} s", x.std(ddof=1), math.sqrt(var),
                 math.sqrt(se_of_var(x) ** 2 / (4 * var)))
    fig, ax = v.figure("mean")
    tt = np.arange(paths.shape[1]) * 5.0
    ax.plot(tt, paths.mean(axis=0), "o", label="ssa mean")
    ax.plot(tt[1:], [float(_dimer_cme(p0, k1 / 2, k2, s) @ (p0 - 2 * np.arange(51)))
                     for s in tt[1:]], "k-", label="master equation")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("P molecules")
    ax.legend()
