"""Random numbers and counting processes: the exact methods' Exp(1) and uniforms, the
per-transition streams, paired runs, Poisson injection and spike counts, and ions that
share out between coupled boxes."""
import math

import numba
import numpy as np
from scipy import stats

from ionmc.constants import E_CHARGE, F, R
from ionmc.engine.fastrand import R_TAIL, exponential, new_state, uniform

from cells import clamped_boxes, injected_neuron, isolated, two_boxes
from conftest import balance, make, run_df
from verification.core import check, qq, se_of_mean, se_of_sd, z_plot

T = 310.0


@numba.njit
def _draw(s, n, exp):
    out = np.empty(n)
    for i in range(n):
        out[i] = exponential(s) if exp else uniform(s)
    return out


@check
def ziggurat_exponential_is_exp1(v):
    """fastrand: the ziggurat's draws are Exp(1), tail and wedge included (20 seeds x 200 000)"""
    # was: one seed (11), 2e6 draws: KS p > 1e-3, mean and two tail fractions within 4 SE;
    # now 20 seeds (root 11) x 2e5 draws: the same on the pooled 4e6 draws, and the 20
    # per-seed KS p-values uniform (KS p > 1e-3)
    xs = [_draw(new_state(np.random.default_rng(s)), 200_000, True)
          for s in np.random.SeedSequence(11).spawn(20)]
    x = np.concatenate(xs)
    n = len(x)
    v.require("pooled KS against Exp(1): p > 1e-3", stats.kstest(x, "expon").pvalue > 1e-3)
    ps = [stats.kstest(xi, "expon").pvalue for xi in xs]
    v.require("per-seed KS p-values uniform: p > 1e-3", stats.kstest(ps, "uniform").pvalue > 1e-3)
    v.within("mean", x.mean(), 1.0, 1 / math.sqrt(n))
    for cut in (R_TAIL + 0.5, 3.0):
        p = math.exp(-cut)
        v.within(f"P(x > {cut:.3f})", (x > cut).mean(), p, math.sqrt(p * (1 - p) / n))
    fig, ax = v.figure("qq")
    qq(ax, x[:: 400], lambda p: stats.expon.ppf(p))
    ax.axvline(R_TAIL, color="r", lw=0.8, label="ziggurat base (R_TAIL)")
    ax.set_title("Exp(1) QQ, every 400th of 4e6 draws")
    ax.legend()


@check
def uniforms_are_uniform_and_uncorrelated(v):
    """fastrand: uniforms on [0, 1), uncorrelated neighbours (20 seeds x 200 000)"""
    # was: one seed (12), 2e6 draws; now 20 seeds (root 12) x 2e5, pooled, plus the per-seed
    # KS p-values uniform
    us = [_draw(new_state(np.random.default_rng(s)), 200_000, False)
          for s in np.random.SeedSequence(12).spawn(20)]
    u = np.concatenate(us)
    v.require("all in [0, 1)", u.min() >= 0.0 and u.max() < 1.0)
    v.require("pooled KS against U(0, 1): p > 1e-3", stats.kstest(u, "uniform").pvalue > 1e-3)
    ps = [stats.kstest(ui, "uniform").pvalue for ui in us]
    v.require("per-seed KS p-values uniform: p > 1e-3", stats.kstest(ps, "uniform").pvalue > 1e-3)
    r = np.mean([np.corrcoef(ui[:-1], ui[1:])[0, 1] for ui in us])
    v.within("lag-1 correlation, mean over seeds", r, 0.0, 1 / math.sqrt(len(u)))
    fig, ax = v.figure("histogram")
    ax.hist(u, bins=100, density=True)
    ax.axhline(1.0, color="k")
    ax.set_xlabel("u")


@check
def streams_are_unit_rate_poisson_processes(v):
    """per-transition streams: Y(T) is a unit-rate Poisson process, increments independent
    (4000 keys)"""
    # unchanged: 4000 keys, means and variances within 4 SE, correlation within 4 SE
    from ionmc.engine.streams import L, count_to

    keys = np.arange(5001, 9001, dtype=np.uint64)
    n = len(keys)
    T1, T2 = 3.7, 3.5 * L + 12.3
    a = np.array([count_to(k, 3, T1, 0, 0) for k in keys], float)
    d = np.array([count_to(k, 3, T2, 0, 0) for k in keys], float) - a
    labels, zs = [], []
    for what, x, mu in (("Y(T1)", a, T1), ("Y(T2) - Y(T1)", d, T2 - T1)):
        v.within(f"{what}: mean", x.mean(), mu, math.sqrt(mu / n))
        v.within(f"{what}: variance / mean", x.var(ddof=1) / mu, 1.0, math.sqrt(2 / n))
        labels += [f"{what} mean", f"{what} var"]
        zs += [(x.mean() - mu) / math.sqrt(mu / n), (x.var(ddof=1) / mu - 1) / math.sqrt(2 / n)]
    v.within("corr(Y(T1), increment)", np.corrcoef(a, d)[0, 1], 0.0, 1 / math.sqrt(n))
    fig, ax = v.figure("counts", ncols=2, size=(4.5, 4))
    ks = np.arange(a.min(), a.max() + 1)
    ax[0].hist(a, bins=np.append(ks, ks[-1] + 1) - 0.5, density=True, label="Y(T1)")
    ax[0].plot(ks, stats.poisson.pmf(ks, T1), "k.-", label=f"Poisson({T1})")
    ax[0].legend()
    z_plot(ax[1], labels, zs)


N = 30
T_EVENT, T_END = 0.05, 0.1


def _runs(method, streams, seed0, event, col, n=N):
    out = []
    for k in range(n):
        sc = make("spine_noise", 0.1, method=method, duration=T_END, dt=0.01, seed=seed0,
                  events=[(T_EVENT, {"mechanisms.pump.block_fraction": 0.1})] if event else [],
                  sets=[("scenario.random_streams", streams)])
        out.append(run_df(sc, replicate=k)[col].to_numpy())
    return np.array(out)


def _same_process(v, what, a, b):
    v.within(f"{what}: mean", a.mean() - b.mean(), 0.0, np.hypot(se_of_mean(a), se_of_mean(b)))
    v.within(f"{what}: SD", a.std(ddof=1) - b.std(ddof=1), 0.0, np.hypot(se_of_sd(a), se_of_sd(b)))


@check
def per_transition_streams_sample_the_same_process(v):
    """ssa: the modified next reaction method (per-transition streams) samples the direct
    method's process (30 seeds each)"""
    # unchanged: 30 replicates per variant (roots 11, 12), means and SDs within 4 SE
    fig, axes = v.figure("qq", ncols=2, size=(4, 4))
    for ax, col in zip(axes, ("spine.Na.count", "head.V_mV")):
        a = _runs("ssa", "shared", 11, False, col)[:, -1]
        b = _runs("ssa", "per_transition", 12, False, col)[:, -1]
        _same_process(v, f"{col} at {T_END} s, direct - MNRM", a, b)
        q = np.linspace(0.05, 0.95, 19)
        ax.plot(np.quantile(a, q), np.quantile(b, q), "o")
        lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.set_xlabel(f"{col}, direct method")
        ax.set_ylabel(f"{col}, MNRM")


def _paired(v, method, tag):
    col = "spine.Na.count"
    control = _runs(method, "per_transition", 21, False, col)
    treated = _runs(method, "per_transition", 21, True, col)
    independent = _runs(method, "per_transition", 22, True, col)
    k = int(round(T_EVENT / 0.01))
    v.require("control and treated identical until the event",
              np.array_equal(control[:, :k + 1], treated[:, :k + 1]))
    paired = (treated - control)[:, -1]
    indep = (independent - control)[:, -1]
    ratio = indep.var(ddof=1) / paired.var(ddof=1)
    v.require("independent / paired variance >= 10", ratio >= 10, f"{ratio:.1f}")
    v.require("the treatment effect is seen: paired mean > 4 SE",
              paired.mean() > 4 * se_of_mean(paired),
              f"{paired.mean() / se_of_mean(paired):.1f} SE")
    fig, ax = v.figure(f"paired_{tag}")
    ax.hist([indep, paired], bins=15, label=["independent", "paired (same streams)"])
    ax.set_xlabel("treated - control Na+ at 0.1 s (ions), 30 seeds")
    ax.set_title(f"{method}: variance ratio {ratio:.1f}")
    ax.legend()
    return control


@check
def paired_runs_cut_the_difference_variance_tenfold(v):
    """ssa and tau-leap: control and treatment on the same streams: the difference's variance
    10x below independent runs' (30 seeds each)"""
    # unchanged: 30 replicates per arm (roots 21, 22), ratio >= 10, effect > 4 SE; and
    # tau-leap's streams sample its shared-stream process (root 23), means and SDs within 4 SE
    _paired(v, "ssa", "ssa")
    control = _paired(v, "tau-leap", "tau_leap")[:, -1]
    shared = _runs("tau-leap", "shared", 23, False, "spine.Na.count")[:, -1]
    _same_process(v, "tau-leap Na+ at 0.1 s, shared - per-transition streams", shared, control)


@check
def injection_counts_are_poisson(v):
    """injection: the ions a current moves are Poisson with mean I t/(z e), under ssa and
    tau-leap (40 seeds per case)"""
    # was: one seed per test (3), counts within 4 sqrt(mean), dispersion within 4 SE; now
    # 40 replicates per case: the mean count within 4 SE (the Poisson SD / sqrt(40)), the
    # variance/mean within 4 SE of 1
    def counts(sc, col, window=None):
        out = []
        for k in range(40):
            df = run_df(sc, k)
            if window is None:
                out.append(df[col].iloc[-1])
            else:
                t = df["time_s"]
                out.append(df.loc[t >= window[1] - 1e-12, col].iloc[0]
                           - df.loc[t <= window[0] + 1e-12, col].iloc[-1])
        return np.array(out, float)

    cases = [
        ("1 fA K+ electrode, 0.2 s, ssa", isolated(dt=0.01), "stim.forward", None,
         1e-3 * 1e-12 * 0.2 / E_CHARGE),
        ("1 fA K+ electrode, 0.2 s, tau-leap", isolated(method="tau-leap", dt=0.01),
         "stim.forward", None, 1e-3 * 1e-12 * 0.2 / E_CHARGE),
        ("2 fA into the cell on Cl-, 0.2 s", isolated(species="Cl", I=2e-3, frm="ecs"),
         "stim.backward", None, 2e-3 * 1e-12 * 0.2 / E_CHARGE),
        ("ions_per_s = 5000, 0.2 s", isolated(I=0.0, extra={"ions_per_s": 5000.0}),
         "stim.forward", None, 1000.0),
        ("2 fA switched on 0.05-0.15 s by events",
         isolated(I=0.0, dt=0.01, events=[(0.05, {"mechanisms.stim.current_pA": 2e-3}),
                                          (0.15, {"mechanisms.stim.current_pA": 0.0})]),
         "stim.forward", (0.05, 0.15), 2e-3 * 1e-12 * 0.1 / E_CHARGE),
    ]
    # the electrode's 1 ms windows (was: 200 windows of one seed, mean and variance/mean
    # within 4 SE): 200 windows x 40 seeds, pooled; and dV = e/C x count (was: 20 seeds)
    win, dvs = [], []
    sc = isolated()
    for k in range(40):
        df = run_df(sc, k)
        win.append(np.diff(df["stim.forward"].to_numpy()))
        dvs.append((df["pm.V_mV"].iloc[-1] - df["pm.V_mV"].iloc[0]) * 1e-3)
    win = np.concatenate(win)
    mu = 1e-3 * 1e-12 * 0.001 / E_CHARGE
    v.within("1 fA electrode: mean count in a 1 ms window", win.mean(), mu,
             math.sqrt(mu / len(win)))
    v.within("1 fA electrode: variance / mean of 1 ms windows", win.var(ddof=1) / mu, 1.0,
             math.sqrt(2.0 / (len(win) - 1)))
    C_iso = 1e-2 * 500e-12
    v.within("1 fA electrode: mean dV in 0.2 s (V)", np.mean(dvs), 1e-3 * 1e-12 * 0.2 / C_iso,
             math.sqrt(1e-3 * 1e-12 * 0.2 / E_CHARGE / len(dvs)) * E_CHARGE / C_iso)
    labels, zs = [], []
    fig, axes = v.figure("counts", ncols=len(cases), size=(3.2, 3.2))
    for ax, (label, sc, col, window, mu) in zip(axes, cases):
        n = counts(sc, col, window)
        se = math.sqrt(mu / len(n))
        v.within(f"{label}: mean count", n.mean(), mu, se)
        v.within(f"{label}: variance / mean", n.var(ddof=1) / mu, 1.0,
                 math.sqrt(2.0 / (len(n) - 1)))
        labels.append(label[:24])
        zs.append((n.mean() - mu) / se)
        ks = np.arange(stats.poisson.ppf(1e-4, mu), stats.poisson.ppf(1 - 1e-4, mu) + 1)
        ax.hist(n, bins=12, density=True)
        ax.plot(ks, stats.poisson.pmf(ks, mu), "k-")
        ax.set_title(label, fontsize=7)
    # ECS -> neuron with leaks and the pump (was: one seed each, within 4 sqrt(mean)); now
    # ssa (0.25 s, 10 seeds) and tau-leap (1 s, 20 seeds), the mean within 4 SE
    for method, factor, dur, reps in (("ssa", 1e-3, 0.25, 10), ("tau-leap", 0.1, 1.0, 20)):
        sc = injected_neuron(method, 50.0, factor, duration=dur)
        mu = 50.0 * factor * 1e-12 * dur / E_CHARGE
        n = np.array([(lambda d: d["stim.forward"].iloc[-1] - d["stim.backward"].iloc[-1])(
            run_df(sc, k)) for k in range(reps)], float)
        v.within(f"ECS -> neuron, 50 pA per 500 um^2, {method}: mean count", n.mean(), mu,
                 math.sqrt(mu / len(n)))
    fig2, ax2 = v.figure("z_scores")
    z_plot(ax2, labels, zs)


@check
def spike_counts_follow_the_rate_schedule(v):
    """spike_train: Poisson spike counts at the rate an event sets (30 seeds)"""
    # was: one run (seed 4), 90 s at 20 Hz, count within 4 sqrt(mean); now 30 replicates of
    # 10 s at 20 Hz: the mean count within 4 SE, variance/mean within 4 SE of 1
    sc = make("firing_neuron", method="ode", duration=15.0, dt=1.0, seed=4,
              sets=[("mechanisms.firing.rate_Hz", 0.0), ("mechanisms.firing.start_s", 0.0),
                    ("mechanisms.firing.stop_s", -1.0)],
              events=[(5.0, {"mechanisms.firing.rate_Hz": 20.0})])
    n = []
    for k in range(30):
        df = run_df(sc, k)
        s = df["firing.spikes"].to_numpy()
        v.require(f"replicate {k}: no spike before the event", s[df["time_s"] <= 5.0].max() == 0)
        n.append(s[-1])
    n = np.array(n, float)
    mu = 20.0 * 10.0
    v.within("mean spike count", n.mean(), mu, math.sqrt(mu / len(n)))
    v.within("variance / mean", n.var(ddof=1) / mu, 1.0, math.sqrt(2.0 / (len(n) - 1)))
    fig, ax = v.figure("counts")
    ks = np.arange(int(mu - 4 * math.sqrt(mu)), int(mu + 4 * math.sqrt(mu)))
    ax.hist(n, bins=10, density=True, label="30 replicates")
    ax.plot(ks, stats.poisson.pmf(ks, mu), "k-", label=f"Poisson({mu:.0f})")
    ax.set_xlabel("spikes in 10 s at 20 Hz")
    ax.legend()


def _binomial_share(v, name, seeds_sc, p_a, with_ledger=False):
    final = []
    for r in range(200):
        df = run_df(seeds_sc, r)
        n = df["a.K.count"] + df["b.K.count"]
        if not (n == n.iloc[0]).all():
            v.require(f"replicate {r}: K+ conserved", False)
        final.append(df["a.K.count"].iloc[-1])
        if with_ledger:
            resid, scale = balance(df)
            if not np.abs(resid).max() < 1e-9 * scale:
                v.require(f"replicate {r}: ledger closes to rounding", False)
        n_total = int(n.iloc[0])
    final = np.asarray(final, float)
    v.within(f"{name}: mean count in a", final.mean(), p_a * n_total, se_of_mean(final))
    nn, var = len(final), np.var(final, ddof=1)
    m4 = np.mean((final - final.mean()) ** 4)
    se_var = np.sqrt((m4 - (nn - 3) / (nn - 1) * var ** 2) / nn)
    v.within(f"{name}: variance (binomial N p (1 - p))", var, n_total * p_a * (1 - p_a), se_var)
    fig, ax = v.figure(name)
    ks = np.arange(final.min(), final.max() + 1)
    ax.hist(final, bins=np.append(ks, ks[-1] + 1) - 0.5, density=True, label="ssa, 200 seeds")
    ax.plot(ks, stats.binom.pmf(ks, n_total, p_a), "k.-", label="binomial")
    ax.set_xlabel("K+ ions in box a at the end")
    ax.legend()


@check
def coupled_boxes_share_ions_binomially(v):
    """couplings: ions share out between two boxes binomially, equal concentrations or the
    Boltzmann ratio between clamped potentials (200 seeds per case)"""
    # unchanged: 200 replicates per case (seed 3), mean and variance within 4 SE (the clamped
    # cases' variance is new: the binomial law's N p (1 - p) there too)
    _binomial_share(v, "no_membrane", two_boxes().build(), 1.0 / 3.0)
    for va, vb in ((0.0, -20.0), (-30.0, 10.0)):
        ratio = math.exp(-F * (vb - va) * 1e-3 / (R * T))
        p_a = 1e-4 / (1e-4 + 2e-4 * ratio)
        _binomial_share(v, f"clamped_{va:+.0f}_{vb:+.0f}_mV",
                        clamped_boxes("ssa", va, vb, duration=0.1).build(), p_a,
                        with_ledger=True)
