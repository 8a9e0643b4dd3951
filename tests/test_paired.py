"""Paired runs with per-transition random streams (issue 6, 'What it must show' 5): the
modified next reaction method is the same process as the direct method, tau-leap on the
streams the same as tau-leap on a shared stream, and control and treatment runs with the
same seed stay coupled after the treatment's event, under ssa and tau-leap."""
import numpy as np
import pytest

from conftest import make, run_df, se_of_mean

N = 30
T_EVENT, T_END = 0.05, 0.1


def runs(streams, seed0, event, col, factor=0.1):
    out = []
    for k in range(N):
        sc = make("spine_noise", factor, method="ssa", duration=T_END, dt=0.01, seed=seed0,
                  events=[(T_EVENT, {"mechanisms.pump.block_fraction": 0.1})] if event else [],
                  sets=[("scenario.random_streams", streams)])
        df = run_df(sc, replicate=k)
        out.append(df[col].to_numpy())
    return np.array(out)


def test_per_transition_streams_sample_the_same_process():
    # ensemble mean and SD of the spine's Na+ count and V at the end, direct vs MNRM
    for col in ("spine.Na.count", "head.V_mV"):
        a = runs("shared", 11, False, col)[:, -1]
        b = runs("per_transition", 12, False, col)[:, -1]
        se = np.hypot(se_of_mean(a), se_of_mean(b))
        assert abs(a.mean() - b.mean()) < 4 * se, (col, a.mean(), b.mean(), se)
        # SDs: SE of an SD ~ SD / sqrt(2(N-1))
        se_sd = np.hypot(a.std(ddof=1), b.std(ddof=1)) / np.sqrt(2 * (N - 1))
        assert abs(a.std(ddof=1) - b.std(ddof=1)) < 4 * se_sd


def test_paired_difference_variance_is_10x_smaller():
    # Treatment: 10% of the pumps blocked at T_EVENT. What coupling cannot remove is the
    # difference of the two processes itself (~|a_treated - a_control|, here 10% of the
    # pump's steps), so the ratio falls as the treatment grows: 21.7 here, 8 for 30%.
    col = "spine.Na.count"
    control = runs("per_transition", 21, False, col)
    treated = runs("per_transition", 21, True, col)
    independent = runs("per_transition", 22, True, col)
    k = int(round(T_EVENT / 0.01))
    # identical until the event (the same streams, the same process)
    np.testing.assert_array_equal(control[:, :k + 1], treated[:, :k + 1])
    paired = (treated - control)[:, -1]
    indep = (independent - control)[:, -1]
    ratio = indep.var(ddof=1) / paired.var(ddof=1)
    print(f"paired variance ratio {ratio:.1f}")
    assert ratio >= 10, ratio
    # and the treatment effect is still seen: Na+ rises once 10% of the pumps are blocked
    assert paired.mean() > 4 * se_of_mean(paired)


def test_per_transition_streams_book_atp_work_at_the_pools_dg():
    # the same firing step as the direct method: on a metabolic pool the ATP step's work is
    # -dG_ATP of the pool at each firing (kernels.ledger_arg), here ~57.6 kJ/mol per cycle
    N_A = 6.02214076e23
    for streams in ("shared", "per_transition"):
        df = run_df(make("anoxia", 1e-4, method="ssa", duration=0.2, dt=0.05, seed=5,
                         events=[], sets=[("scenario.random_streams", streams)]))
        # the pump's ATP-booking step is its first; count cycles by the Na step, which
        # differs from it by at most one per pump molecule over the run
        net = df["pump.forward"].iloc[-1] - df["pump.backward"].iloc[-1]
        assert net > 300
        per = df["thermo.atp_work_J"].iloc[-1] / net * N_A / 1e3
        assert per == pytest.approx(57.6, rel=0.02), (streams, per)


# -- tau-leap with per-transition streams (streams.py) -------------------------------------
def test_streams_are_unit_rate_poisson_processes():
    from ionmc.engine.streams import L, count_to, point

    # Y(T1) and the increment Y(T2) - Y(T1) across three superblocks: Poisson means and
    # variances within 4 SE, uncorrelated (independent increments)
    keys = np.arange(5001, 9001, dtype=np.uint64)
    n = len(keys)
    T1, T2 = 3.7, 3.5 * L + 12.3
    a = np.array([count_to(k, 3, T1, 0, 0) for k in keys], float)
    d = np.array([count_to(k, 3, T2, 0, 0) for k in keys], float) - a
    for x, mu in ((a, T1), (d, T2 - T1)):
        assert abs(x.mean() - mu) < 4 * np.sqrt(mu / n)
        assert abs(x.var(ddof=1) / mu - 1) < 4 * np.sqrt(2 / n)
    assert abs(np.corrcoef(a, d)[0, 1]) < 4 / np.sqrt(n)
    # the k-th point is where the count reaches k, also past a superblock's end
    key = np.uint64(77)
    for rank in (1, 2, 17, int(L) - 3, int(L) + 5):
        T = point(key, 2, rank, 0, 0)
        assert count_to(key, 2, T, 0, 0) == rank
        assert count_to(key, 2, T * (1 - 1e-12), 0, 0) == rank - 1


def tau_runs(streams, seed0, event, col, n=N):
    out = []
    for k in range(n):
        sc = make("spine_noise", 0.1, method="tau-leap", duration=T_END, dt=0.01, seed=seed0,
                  events=[(T_EVENT, {"mechanisms.pump.block_fraction": 0.1})] if event else [],
                  sets=[("scenario.random_streams", streams)])
        out.append(run_df(sc, replicate=k)[col].to_numpy())
    return np.array(out)


def test_paired_tau_leap_difference_variance_is_10x_smaller():
    # the same treatment as above, under tau-leap: each leap fires transition j by the
    # increment of its own Poisson process over its internal time (Anderson 2008)
    col = "spine.Na.count"
    control = tau_runs("per_transition", 21, False, col)
    treated = tau_runs("per_transition", 21, True, col)
    independent = tau_runs("per_transition", 22, True, col)
    k = int(round(T_EVENT / 0.01))
    np.testing.assert_array_equal(control[:, :k + 1], treated[:, :k + 1])
    paired = (treated - control)[:, -1]
    indep = (independent - control)[:, -1]
    ratio = indep.var(ddof=1) / paired.var(ddof=1)
    print(f"tau-leap paired variance ratio {ratio:.1f}")
    assert ratio >= 10, ratio
    assert paired.mean() > 4 * se_of_mean(paired)
    # and the streams sample the same process as tau-leap's shared stream
    shared = tau_runs("shared", 23, False, col)[:, -1]
    c = control[:, -1]
    se = np.hypot(se_of_mean(shared), se_of_mean(c))
    assert abs(shared.mean() - c.mean()) < 4 * se
    se_sd = np.hypot(shared.std(ddof=1), c.std(ddof=1)) / np.sqrt(2 * (N - 1))
    assert abs(shared.std(ddof=1) - c.std(ddof=1)) < 4 * se_sd


def test_per_transition_streams_need_a_stochastic_method():
    from ionmc.errors import InputError

    with pytest.raises(InputError, match="random_streams"):
        make("spine_noise", 0.1, method="ode", sets=[("scenario.random_streams",
                                                      "per_transition")])
