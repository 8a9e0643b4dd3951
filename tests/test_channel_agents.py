"""Voltage-gated channels one agent at a time (`agents = "individual"` on an hh_channel,
agents.py, channels.py): the same process as the counts per gating state, single-channel
dwell times and open probability against HH's closed forms, the ledger."""
import copy
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.linalg import expm

from ionmc.mechanisms import channels
from ionmc.constants import K_B
from ionmc.errors import InputError
from ionmc.model import Model
from ionmc.runs.replicate import simulate
from ionmc.scenario import validate

from conftest import T_HH, balance, hh_clamp, make, state_columns


def clamp_raw(V=-40.0, dur=1.0, dt=0.25, dna=0.5, dk=0.5, p=0.0, seed=1, agents="individual",
              dwell=False, events=()):
    """conftest.hh_clamp (Na+ and K+ channels of HH 1952 at 6.3 C on 100 um^2, clamped at V
    mV, a bath outside) with both channel populations in `agents` mode."""
    return hh_clamp(V=V, dur=dur, dt=dt, dna=dna, dk=dk, p=p, seed=seed, events=events,
                    agents=agents, dwell=dwell).raw()


def clamp(**kw):
    return validate(clamp_raw(**kw), "channel-agents-test")


def open_autocovariance(family, V, t):
    """Cov(O(0), O(t)) of one channel's open indicator at the stationary state at V: with
    independent gates, a gate open at 0 is open at t with probability
    x_inf + (1 - x_inf) exp(-t/tau_x), so P(open at 0 and t) = P_open x the product of
    those over the open state's gates (p activation gates, and h)."""
    _, _, (_, p), fi = channels.FAMILIES[family]
    (m, h), (tm, th) = channels.steady_gates(family, V, T_HH), \
        channels.time_constants(family, V, T_HH)
    po = m ** p * h
    stay = (m + (1 - m) * np.exp(-t / tm)) ** p
    if fi is not None:
        stay = stay * (h + (1 - h) * np.exp(-t / th))
    return po * stay - po * po


def se_time_average(family, V, n_channels, duration):
    """SE of the fraction of time open of n independent stationary channels over
    `duration`: var = 2 int_0^inf Cov(t) dt / (n T) for T >> the correlation time."""
    tau = max(x for x in channels.time_constants(family, V, T_HH) if x is not None)
    area, _ = integrate.quad(lambda t: open_autocovariance(family, V, t), 0, 50 * tau,
                             limit=200)
    return math.sqrt(2 * area / (n_channels * duration))


# -- (2) single channels against the closed forms ----------------------------------------
def test_single_channel_dwell_times_and_open_probability():
    """50 K+ (n^4) and 50 Na+ (m^3 h) channels clamped at -40 mV for 2 s, every dwell
    recorded. Open dwells: exponential (KS test) with mean 1/(4 beta_n) for K+ and
    1/(3 beta_m + beta_h) for Na+ (the open state's only exits), within 4 SE. Fraction of
    time open: n_inf^4 and m_inf^3 h_inf within 4 SE (SE from the open indicator's exact
    autocovariance). The per-channel table matches the dwell rows."""
    V, N, dur = -0.040, 50, 2.0
    sc = clamp(V=V * 1e3, dur=dur, dt=0.5, seed=21, dwell=True)
    df, info = simulate(sc, 0)
    dw, ag = info["dwell_times"], info["agents"]
    _, bn = channels.rates(channels.HH_N, V, T_HH, "hh_k", 3.0)
    _, bm = channels.rates(channels.HH_M, V, T_HH, "hh_na", 3.0)
    _, bh = channels.rates(channels.HH_H, V, T_HH, "hh_na", 3.0)
    for name, fam, open_name, mean_open in (("k", "hh_k", "n4", 1 / (4 * bn)),
                                            ("na", "hh_na", "m3h1", 1 / (3 * bm + bh))):
        d = dw[(dw["mechanism"] == name) & (dw["state"] == open_name)]
        full = d.dropna(subset=["entered_s", "left_s"])
        tau = (full["left_s"] - full["entered_s"]).to_numpy()
        se = tau.std(ddof=1) / math.sqrt(len(tau))
        ks = stats.kstest(tau, "expon", args=(0, mean_open))
        po = channels.open_probability(fam, V, T_HH)
        a = ag[ag["mechanism"] == name]
        frac = a["open_time_s"].sum() / (N * dur)
        se_f = se_time_average(fam, V, N, dur)
        print(f"{name}: {len(tau)} open dwells, mean {tau.mean() * 1e3:.4f} ms vs "
              f"{mean_open * 1e3:.4f} ms ({(tau.mean() - mean_open) / se:+.2f} SE), "
              f"CV^2 {tau.var(ddof=1) / tau.mean() ** 2:.4f}, KS p {ks.pvalue:.3f}; "
              f"open fraction {frac:.5f} vs {po:.5f} ({(frac - po) / se_f:+.2f} SE, "
              f"SE {se_f:.2g})")
        assert len(tau) > 1500
        assert abs(tau.mean() - mean_open) < 4 * se
        assert ks.pvalue > 1e-3
        assert abs(frac - po) < 4 * se_f
        # the table: openings = entries into the open state, open time = its dwells
        # clipped to the run (censored ones from 0 or to the end)
        assert a["openings"].sum() == d["entered_s"].notna().sum()
        clipped = (d["left_s"].fillna(dur) - d["entered_s"].fillna(0.0)).sum()
        assert a["open_time_s"].sum() == pytest.approx(clipped, rel=1e-12)
        assert np.allclose(a["open_fraction"], a["open_time_s"] / dur)
        # each channel's own record: a channel is at most open the whole run
        assert len(a) == N and (a["open_time_s"] <= dur).all() and (a["openings"] > 0).all()
    # agent jumps moved the counts: the open dwells still going are the final open count
    for name, open_name in (("k", "n4"), ("na", "m3h1")):
        going = dw[(dw["mechanism"] == name) & dw["left_s"].isna()]
        assert (going["state"] == open_name).sum() == df[f"{name}.{open_name}.count"].iloc[-1]


def test_open_time_without_dwell_rows_is_the_same():
    """Without record_dwell_times a channel logs only its jumps into and out of the open
    state: the same trajectory (same seed, same draws) gives the same per-channel table."""
    with_rows = simulate(clamp(V=-40.0, dur=0.2, dt=0.1, seed=5, dwell=True), 0)[1]
    without = simulate(clamp(V=-40.0, dur=0.2, dt=0.1, seed=5, dwell=False), 0)[1]
    assert "dwell_times" not in without
    a, b = with_rows["agents"], without["agents"]
    assert (a["openings"].to_numpy() == b["openings"].to_numpy()).all()
    assert np.array_equal(a["open_time_s"].to_numpy(), b["open_time_s"].to_numpy())
    assert a["openings"].sum() > 100


# -- (1) individual channels and counts per state: the same process ---------------------
@pytest.mark.parametrize("col,t", [("na.m3h1.count", 0.0015), ("na.m3h1.count", 0.003),
                                   ("k.n4.count", 0.003), ("k.n4.count", 0.005)])
def test_individual_and_counts_agree_in_distribution(col, t, _step_runs):
    """40 Na+ and 40 K+ channels start at -65 mV, clamp step to 0 mV at 1 ms: the open
    count at a time after the step (Na+ near its peak and inactivating, K+ rising) has the
    same mean and variance across 300 replicates in both modes, within 4 SE; both means are
    within 4 SE of the exact x0 . expm(Q(-65 mV) 1 ms) . expm(Q(0 mV) (t - 1 ms)), Q the
    scheme's generator."""
    a, b = (_step_runs[mode].loc[t, col].to_numpy(float) for mode in ("counts", "individual"))
    R = len(a)
    se_mean = math.sqrt(a.var(ddof=1) / R + b.var(ddof=1) / R)
    name = col.split(".")[0]
    fam = {"na": "hh_na", "k": "hh_k"}[name]
    mech = next(m for m in _step_runs["model"].mechs if m.name == name)
    x0 = _step_runs["model"].x0[mech.states].astype(float)
    # the start (largest remainder of the -65 mV occupancies) relaxes 1 ms at -65 mV first
    exact = (x0 @ expm(generator(fam, -0.065) * 0.001) @ expm(generator(fam, 0.0) *
                                                              (t - 0.001)))[-1]
    for x in (a, b):
        assert abs(x.mean() - exact) < 4 * x.std(ddof=1) / math.sqrt(R), (x.mean(), exact)

    def se_var(x):  # SE of the sample variance: sqrt((m4 - s^4) / n)
        return math.sqrt((np.mean((x - x.mean()) ** 4) - x.var() ** 2) / len(x))

    se_v = math.hypot(se_var(a), se_var(b))
    print(f"{col} at {t * 1e3:.1f} ms (exact mean {exact:.3f}): counts {a.mean():.3f} "
          f"(var {a.var(ddof=1):.3f}), individual {b.mean():.3f} "
          f"(var {b.var(ddof=1):.3f}); mean diff {(a.mean() - b.mean()) / se_mean:+.2f} SE, "
          f"var diff "
          f"{(a.var(ddof=1) - b.var(ddof=1)) / se_v:+.2f} SE")
    assert a.mean() > 2  # channels really open
    assert abs(a.mean() - b.mean()) < 4 * se_mean
    assert abs(a.var(ddof=1) - b.var(ddof=1)) < 4 * se_v


def generator(family, V):
    """The gating scheme's rate matrix Q (1/s) at V (volts), 6.3 C, rows summing to 0."""
    names, _, edges = channels.scheme(family)
    Q = np.zeros((len(names), len(names)))
    for a, b, fn, mf, mb in edges:
        al, be = channels.rates(fn, V, T_HH, family, 3.0)
        Q[a, b], Q[b, a] = mf * al, mb * be
    return Q - np.diag(Q.sum(axis=1))


@pytest.fixture(scope="module")
def _step_runs():
    R = 300
    out = {}
    for mode, root in (("counts", 31), ("individual", 32)):
        sc = clamp(V=-65.0, dur=0.005, dt=0.0005, dna=0.4, dk=0.4, agents=mode,
                   events=[(0.001, {"membranes.m.clamp_mV": 0.0})])
        seeds = np.random.SeedSequence(root).spawn(R)
        frames = []
        for k in range(R):
            df = simulate(sc, k, seeds[k])[0]
            frames.append(df[["replicate", "time_s", "na.m3h1.count", "k.n4.count"]])
        allr = pd.concat(frames)
        allr["time_s"] = allr["time_s"].round(6)
        out[mode] = allr.set_index("time_s")
    out["model"] = Model(sc)
    return out


# -- (3) the ledger, conservation, the gating reservoir ---------------------------------
def test_ledger_exact_with_individual_channels_under_clamp():
    """Conducting individual channels under clamp with a bath: G(t) - G(0) = W - T S to
    rounding; the gating entropy of distinguishable channels telescopes to
    sum_i (m_i(end) - m_i(0)) ln p_i (no multinomial coefficient: agents.py)."""
    sc = clamp(V=-20.0, dur=0.02, dt=0.005, dna=1.0, dk=1.0, p=0.02, seed=3)
    df = simulate(sc, 0)[0]
    assert df["k.forward"].iloc[-1] > 1000
    resid, scale = balance(df, T_HH)
    assert np.max(np.abs(resid)) < 1e-9 * scale
    for name, fam in (("na", "hh_na"), ("k", "hh_k")):
        cols = state_columns(sc, name)
        dm = (df[cols].iloc[-1] - df[cols].iloc[0]).to_numpy(float)
        want = dm @ np.log(channels.occupancies(fam, -0.020, T_HH))
        got = df[f"{name}.gating_entropy_J_per_K"].iloc[-1] / K_B
        assert abs(got - want) < 1e-8 * max(1.0, abs(want)), (name, got, want)


def test_ledger_and_conservation_with_individual_channels_free_V():
    """action_potential on 2 um^2 without its non-elementary pump, NaV (40) and KDR (30)
    as individual channels, V free: one spike; the ledger closes to rounding, every ion and
    every population is conserved, conduction is the same sum of counts as before."""
    sc = make("action_potential", factor=2 / 500, method="ssa", duration=0.01,
              sets=[("mechanisms.pump.density_per_um2", 0.0),
                    ("mechanisms.NaV.agents", "individual"),
                    ("mechanisms.KDR.agents", "individual")], seed=2)
    model = Model(sc)
    assert [m.n_agents for m in model.mechs if m.agent_slots is not None] == [40, 30]
    df, info = simulate(sc, 0)
    assert df["soma.V_mV"].max() > 0  # it fired
    resid, scale = balance(df)
    assert np.max(np.abs(resid)) < 1e-9 * scale
    for s in ("Na", "K", "Cl", "X"):
        tot = df[f"neuron.{s}.count"] + df[f"ecs.{s}.count"]
        assert (tot == tot.iloc[0]).all(), s
    for name, n in (("NaV", 40), ("KDR", 30)):
        assert (df[state_columns(sc, name)].sum(axis=1) == n).all()
        assert len(info["agents"].query("mechanism == @name")) == n
    assert df["NaV.gating_entropy_J_per_K"].abs().max() > 0


# -- input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("change,key", [
    ({"method": "tau-leap"}, "agents"),
    ({"method": "ode"}, "agents"),
    ({"random_streams": "per_transition"}, "agents"),
    ({"density": 2.57}, "agents"),  # 257 channels on 100 um^2
])
def test_bad_channel_agent_input(change, key):
    raw = clamp_raw(dur=0.01, dt=0.01)
    if "density" in change:
        raw["mechanisms"][1]["density_per_um2"] = change.pop("density")
    raw["scenario"].update(change)
    with pytest.raises(InputError) as e:
        validate(copy.deepcopy(raw), "f")
    assert key in str(e.value)
    raw = clamp_raw(dur=0.01, dt=0.01, agents="counts", dwell=True)
    with pytest.raises(InputError, match="record_dwell_times"):
        validate(raw, "f")


def test_pumps_and_channels_share_the_agent_table():
    """Individual pumps and channels in one scenario: one table, each with nulls in the
    other's columns; the counts still add up per mechanism."""
    from conftest import pump_cell

    sc = pump_cell(nai=40.0, density=20.0, duration=0.2, dt=0.1, V_mV=-20.0) \
        .configure("pump", agents="individual") \
        .mechanism("hh_channel", "kdr", membrane="pm", gates="pr_kdr", density_per_um2=5.0,
                   single_channel_permeability_um3_per_s=0.08, agents="individual").build()
    df, info = simulate(sc, 0)
    ag = info["agents"]
    pumps, chans = ag[ag["mechanism"] == "pump"], ag[ag["mechanism"] == "kdr"]
    assert len(pumps) == 20 and len(chans) == 5  # 20 /um^2 and 5 /um^2 on 1 um^2
    assert pumps["openings"].isna().all() and chans["turnover"].isna().all()
    assert pumps["forward"].sum() == df["pump.forward"].iloc[-1]
    assert (chans["open_fraction"].between(0.0, 1.0)).all()
    assert chans["openings"].sum() > 0
