"""Pumps and channels: single molecules against their closed forms (cycle times, dwell
times, open probability, binomial occupancies), one agent at a time against counts per
state, and the pump's stall."""
import math

import numpy as np
import pandas as pd
from scipy import integrate, stats
from scipy.linalg import expm

import ionmc
from ionmc.mechanisms import channels, pump
from ionmc.model import Model
from ionmc.runs.replicate import simulate
from ionmc.thermo.closed_forms import cycle_statistics

from cells import T_HH, free_pump_cell, hh_agents, hh_clamp, pump_agents, pump_cell, state_columns
from conftest import run_df
from verification.core import check, qq, se_of_mean, z_plot

T = 310.0


def _se_var(x):
    """SE of the sample variance: sqrt((m4 - s^4) / n)."""
    return math.sqrt((np.mean((x - x.mean()) ** 4) - x.var() ** 2) / len(x))


def _same_law(v, what, a, b):
    """Two samples' means and variances equal within 4 SE."""
    se_mean = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    v.within(f"{what}: mean, counts - individual", a.mean() - b.mean(), 0.0, se_mean)
    v.within(f"{what}: variance, counts - individual", a.var(ddof=1) - b.var(ddof=1), 0.0,
             math.hypot(_se_var(a), _se_var(b)))


def _qq_two(ax, a, b, what):
    q = np.linspace(0.01, 0.99, 50)
    ax.plot(np.quantile(a, q), np.quantile(b, q), "o", ms=3)
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
    ax.set_xlabel(f"{what}, counts per state")
    ax.set_ylabel(f"{what}, individual agents")


# -- pumps ---------------------------------------------------------------------------------
def _completion_intervals(dw):
    """Per agent, the times at which its winding number (net forward Na+ steps, P2 -> P3)
    reaches a new maximum: renewal times (the pump is then in P3). Their intervals, the
    first one (from the start, not a renewal) dropped."""
    out = []
    for _, g in dw.sort_values(["agent", "left_s"]).groupby("agent"):
        g = g[g["left_s"].notna()]
        cur = g["state"].to_numpy()
        nxt = np.append(cur[1:], "")
        step = np.where((cur == "P2") & (nxt == "P3"), 1,
                        np.where((cur == "P3") & (nxt == "P2"), -1, 0))
        w = np.cumsum(step)
        new_max = (step == 1) & (w > np.maximum.accumulate(np.r_[0, w[:-1]]))
        t = g["left_s"].to_numpy()[new_max]
        out.append(np.diff(t))
    return np.concatenate(out)


@check
def single_pump_cycle_times(v):
    """single pumps: completion intervals have the cycle's mean 1/v and squared CV r (8 seeds)"""
    # was: one seed (11), 20 pumps for 100 s: mean within 2% and 4 SE, r within 5%; now 8
    # replicates (the same per replicate), their pooled intervals within the same bounds
    sc = pump_agents(pump_cell(nai=40.0, density=20.0, duration=100.0, dt=10.0, seed=11),
                     dwell=True).build()
    row = Model(sc).tr_p[0]
    vel, r = cycle_statistics(*pump.cycle_rates(row, 40.0, 140.0, 145.0, 5.0, -0.07), edge=1)
    pooled, means = [], []
    for k in range(8):
        dt = _completion_intervals(ionmc.simulate(sc, k)[1]["dwell_times"])
        v.require(f"replicate {k}: more than 30000 completions", len(dt) > 30000, str(len(dt)))
        pooled.append(dt)
        means.append(dt.mean())
    dt = np.concatenate(pooled)
    mean, r_sim = dt.mean(), dt.var(ddof=1) / dt.mean() ** 2
    v.within("mean completion interval (s)", mean, 1 / vel, dt.std(ddof=1) / math.sqrt(len(dt)))
    v.require("mean within 2% of 1/v", abs(mean * vel - 1) < 0.02, f"{mean * vel:.4f}")
    v.require("squared CV within 5% of r", abs(r_sim / r - 1) < 0.05, f"{r_sim:.4f} vs {r:.4f}")
    fig, ax = v.figure("intervals")
    ax.hist(dt * vel, bins=100, density=True, label=f"{len(dt)} intervals, 8 seeds")
    ax.axvline(1.0, color="k", label="mean 1/v")
    ax.set_xlabel("completion interval x v")
    ax.set_title(f"squared CV {r_sim:.4f} (closed form {r:.4f})")
    ax.legend()


@check
def individual_pumps_and_counts_agree(v):
    """20 pumps one agent at a time vs counts per state: net cycles in 1 s (300 seeds each)"""
    # unchanged: 300 replicates per mode (roots 99, 100), mean and variance within 4 SE
    R, net = 300, {}
    for mode in ("counts", "individual"):
        sc = free_pump_cell(mode, 5)
        root = np.random.SeedSequence(99 if mode == "counts" else 100).spawn(R)
        net[mode] = np.array([
            (lambda d: d["pump.forward"].iloc[-1] - d["pump.backward"].iloc[-1])(
                simulate(sc, k, root[k])[0]) for k in range(R)], float)
    a, b = net["counts"], net["individual"]
    v.require("the pumps cycle (mean > 20)", a.mean() > 20, f"{a.mean():.1f}")
    _same_law(v, "net cycles", a, b)
    fig, ax = v.figure("qq")
    _qq_two(ax, a, b, "net cycles in 1 s")


def _net_cycles(dg, reps, duration=2.0):
    nets = []
    for k in range(reps):
        df = run_df(pump_cell(dg=dg, seed=100 + k, duration=duration, dt=duration).build())
        nets.append(df["pump.forward"].iloc[-1] - df["pump.backward"].iloc[-1])
    return np.array(nets, float)


@check
def pump_stalls_where_atp_pays_for_the_gradient(v):
    """ssa: the pump's net cycles vanish at the stall dG_ATP, change sign across it (16 seeds)"""
    # unchanged: 16 seeds (100..115) per dG_ATP, within / beyond 4 SE
    stall = -pump.cycle_dG(15.0, 140.0, 145.0, 5.0, -0.07, T) / 1e3
    res = {d: _net_cycles(stall + d, 16) for d in (-3.0, 0.0, 3.0)}
    v.within("net cycles at the stall", res[0.0].mean(), 0.0, se_of_mean(res[0.0]))
    v.require("3 kJ/mol more ATP drive: forward by > 4 SE",
              res[-3.0].mean() > 4 * se_of_mean(res[-3.0]))
    v.require("3 kJ/mol less: backward by > 4 SE", res[3.0].mean() < -4 * se_of_mean(res[3.0]))
    fig, ax = v.figure("net_cycles")
    for d, x in res.items():
        ax.errorbar(stall + d, x.mean(), yerr=4 * se_of_mean(x), fmt="o")
    ax.axhline(0, color="k", lw=0.8)
    ax.axvline(stall, color="r", lw=0.8, label="stall (closed form)")
    ax.set_xlabel("dG_ATP (kJ/mol)")
    ax.set_ylabel("net cycles in 2 s, mean +- 4 SE (16 seeds)")
    ax.legend()


@check
def pump_steady_state_rate_is_king_altman(v):
    """ssa: after a step of clamped Na_i the pumps turn over at the King-Altman rate (20 seeds)"""
    # was: 8 seeds (200..207) per Na_i, within 4 SE; now 20 (200..219)
    labels, zs = [], []
    row = pump.param_row({k: x for k, (x, *_) in pump.PARAMS.items() if x is not None}, T)
    for nai in (5.0, 15.0, 40.0):
        expect = pump.turnover(row, nai, 140.0, 145.0, 5.0, -0.07)
        rates = []
        for k in range(20):
            sc = pump_cell(method="ssa", nai=15.0, duration=3.0, dt=0.5, seed=200 + k) \
                .event(0.1, **{"compartments.cell.concentrations_mM.Na": nai}).build()
            net = (lambda d: (d["pump.forward"] - d["pump.backward"]).to_numpy())(run_df(sc))
            rates.append((net[-1] - net[2]) / 2.0 / 1000)
        se = se_of_mean(rates)
        v.within(f"turnover at Na_i {nai} mM (1/s)", np.mean(rates), expect, se + 1e-9 / 4)
        labels.append(f"Na_i {nai}")
        zs.append((np.mean(rates) - expect) / se)
    fig, ax = v.figure("z_scores")
    z_plot(ax, labels, zs)


# -- channels ------------------------------------------------------------------------------
def _open_autocovariance(family, V, t):
    """Cov(O(0), O(t)) of one channel's open indicator at the stationary state at V."""
    _, _, (_, p), fi = channels.FAMILIES[family]
    (m, h), (tm, th) = channels.steady_gates(family, V, T_HH), \
        channels.time_constants(family, V, T_HH)
    po = m ** p * h
    stay = (m + (1 - m) * np.exp(-t / tm)) ** p
    if fi is not None:
        stay = stay * (h + (1 - h) * np.exp(-t / th))
    return po * stay - po * po


def _se_time_average(family, V, n_channels, duration):
    """SE of the fraction of time open of n independent stationary channels over
    `duration`: var = 2 int_0^inf Cov(t) dt / (n T) for T >> the correlation time."""
    tau = max(x for x in channels.time_constants(family, V, T_HH) if x is not None)
    area, _ = integrate.quad(lambda t: _open_autocovariance(family, V, t), 0, 50 * tau,
                             limit=200)
    return math.sqrt(2 * area / (n_channels * duration))


@check
def single_channel_dwell_times(v):
    """single HH channels at -40 mV: exponential open dwells of the closed-form mean, open
    probability m^3 h and n^4 (8 seeds)"""
    # was: one seed (21), 2 s: mean within 4 SE, KS p > 1e-3, open fraction within 4 SE; now
    # 8 replicates pooled (the SE of the mean open fraction is the single run's / sqrt(8))
    V, N, dur, R = -0.040, 50, 2.0, 8
    sc = hh_agents(V=V * 1e3, dur=dur, dt=0.5, seed=21, dwell=True).build()
    _, bn = channels.rates(channels.HH_N, V, T_HH, "hh_k", 3.0)
    _, bm = channels.rates(channels.HH_M, V, T_HH, "hh_na", 3.0)
    _, bh = channels.rates(channels.HH_H, V, T_HH, "hh_na", 3.0)
    cases = (("k", "hh_k", "n4", 1 / (4 * bn)), ("na", "hh_na", "m3h1", 1 / (3 * bm + bh)))
    taus, fracs = {c[0]: [] for c in cases}, {c[0]: [] for c in cases}
    for k in range(R):
        _, info = simulate(sc, k)
        dw, ag = info["dwell_times"], info["agents"]
        for name, _, open_name, _ in cases:
            d = dw[(dw["mechanism"] == name) & (dw["state"] == open_name)]
            full = d.dropna(subset=["entered_s", "left_s"])
            taus[name].append((full["left_s"] - full["entered_s"]).to_numpy())
            fracs[name].append(ag[ag["mechanism"] == name]["open_time_s"].sum() / (N * dur))
    fig, axes = v.figure("open_dwells_qq", ncols=2, size=(4.5, 4))
    for ax, (name, fam, open_name, mean_open) in zip(axes, cases):
        tau = np.concatenate(taus[name])
        v.within(f"{name}: mean open dwell (ms)", tau.mean() * 1e3, mean_open * 1e3,
                 tau.std(ddof=1) / math.sqrt(len(tau)) * 1e3)
        ks = stats.kstest(tau, "expon", args=(0, mean_open))
        v.require(f"{name}: open dwells exponential, KS p > 1e-3", ks.pvalue > 1e-3,
                  f"p = {ks.pvalue:.3g}, {len(tau)} dwells")
        po = channels.open_probability(fam, V, T_HH)
        v.within(f"{name}: open fraction", np.mean(fracs[name]), po,
                 _se_time_average(fam, V, N, dur) / math.sqrt(R))
        qq(ax, tau * 1e3, lambda p: stats.expon.ppf(p, scale=mean_open * 1e3))
        ax.set_title(f"{name} open dwells (ms) vs exponential")


def _generator(family, V):
    """The gating scheme's rate matrix Q (1/s) at V (volts), 6.3 C, rows summing to 0."""
    names, _, edges = channels.scheme(family)
    Q = np.zeros((len(names), len(names)))
    for a, b, fn, mf, mb in edges:
        al, be = channels.rates(fn, V, T_HH, family, 3.0)
        Q[a, b], Q[b, a] = mf * al, mb * be
    return Q - np.diag(Q.sum(axis=1))


@check
def individual_channels_and_counts_agree(v):
    """40 Na+ and 40 K+ channels stepped -65 -> 0 mV: open counts, one agent at a time vs
    counts per state, and against the master equation (300 seeds each)"""
    # unchanged: 300 replicates per mode (roots 31, 32), means and variances within 4 SE
    R, runs = 300, {}
    for mode, root in (("counts", 31), ("individual", 32)):
        sc = hh_agents(V=-65.0, dur=0.005, dt=0.0005, dna=0.4, dk=0.4, agents=mode,
                       events=[(0.001, {"membranes.m.clamp_mV": 0.0})]).build()
        seeds = np.random.SeedSequence(root).spawn(R)
        frames = []
        for k in range(R):
            df = simulate(sc, k, seeds[k])[0]
            frames.append(df[["replicate", "time_s", "na.m3h1.count", "k.n4.count"]])
        allr = pd.concat(frames)
        allr["time_s"] = allr["time_s"].round(6)
        runs[mode] = allr.set_index("time_s")
    model = Model(sc)
    cases = [("na.m3h1.count", 0.0015), ("na.m3h1.count", 0.003), ("k.n4.count", 0.003),
             ("k.n4.count", 0.005)]
    fig, axes = v.figure("qq", ncols=len(cases), size=(3.5, 3.5))
    for ax, (col, t) in zip(axes, cases):
        a, b = (runs[m].loc[t, col].to_numpy(float) for m in ("counts", "individual"))
        name = col.split(".")[0]
        fam = {"na": "hh_na", "k": "hh_k"}[name]
        mech = next(m for m in model.mechs if m.name == name)
        x0 = model.x0[mech.states].astype(float)
        exact = (x0 @ expm(_generator(fam, -0.065) * 0.001)
                 @ expm(_generator(fam, 0.0) * (t - 0.001)))[-1]
        for mode, x in (("counts", a), ("individual", b)):
            v.within(f"{col} at {t * 1e3:.1f} ms, {mode}: mean vs master equation", x.mean(),
                     exact, x.std(ddof=1) / math.sqrt(R))
        v.require(f"{col} at {t * 1e3:.1f} ms: channels open (mean > 2)", a.mean() > 2)
        _same_law(v, f"{col} at {t * 1e3:.1f} ms", a, b)
        _qq_two(ax, a, b, f"{col} {t * 1e3:.1f} ms")


@check
def hh_stationary_occupancies_are_binomial(v):
    """ssa: 1000 Na+ and K+ channels clamped at -40 mV occupy their states as the product of
    binomials says (8 seeds)"""
    # was: one seed, 12 s sampled every 30 ms, within 4 binomial SE; now 8 replicates of
    # 1.5 s pooled (about the same number of samples), within 4 binomial SE of the pool
    sc = hh_clamp(dur=1.5).build()
    frames = [run_df(sc, k).iloc[1:] for k in range(8)]
    df = pd.concat(frames)
    fig, axes = v.figure("occupancies", ncols=2, size=(4.5, 4))
    for ax, (name, fam) in zip(axes, (("na", "hh_na"), ("k", "hh_k"))):
        probs = channels.occupancies(fam, -0.040, T_HH)
        cols = state_columns(sc, name)
        N = 1000
        v.require(f"{name}: 1000 channels on every row", (df[cols].sum(axis=1) == N).all())
        for col, p in zip(cols, probs):
            se = math.sqrt(N * p * (1 - p) / len(df))
            v.within(f"{col} mean count", df[col].mean(), N * p, max(se, 1e-12))
        ax.bar(range(len(cols)), df[cols].mean().to_numpy() / N, alpha=0.6, label="ssa")
        ax.plot(range(len(cols)), probs, "k.", label="product of binomials")
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels([c.split(".")[1] for c in cols], rotation=45, fontsize=7)
        ax.set_yscale("log")
        ax.legend()
