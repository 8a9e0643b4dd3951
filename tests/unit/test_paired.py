"""Paired runs with per-transition random streams (issue 6, 'What it must show' 5): the
modified next reaction method is the same process as the direct method, tau-leap on the
streams the same as tau-leap on a shared stream, and control and treatment runs with the
same seed stay coupled after the treatment's event, under ssa and tau-leap. Here the
deterministic parts; the statistics over seeds are in the verification suite."""
import numpy as np
import pytest

from conftest import make, run_df


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


def test_per_transition_streams_need_a_stochastic_method():
    from ionmc.errors import InputError

    with pytest.raises(InputError, match="random_streams"):
        make("spine_noise", 0.1, method="ode", sets=[("scenario.random_streams",
                                                      "per_transition")])


@pytest.mark.parametrize("method", ["ssa", "tau-leap"])
def test_paired_runs_are_identical_until_the_treatment(method):
    # control and treatment on the same per-transition streams take the same steps until
    # the treatment's event, and part after it (the variance they save, over seeds:
    # verification, paired_runs_cut_the_difference_variance_tenfold)
    def runs(event):
        sc = make("spine_noise", 0.1, method=method, duration=0.1, dt=0.01, seed=21,
                  events=[(0.05, {"mechanisms.pump.block_fraction": 0.1})] if event else [],
                  sets=[("scenario.random_streams", "per_transition")])
        return np.array([run_df(sc, k)["spine.Na.count"].to_numpy() for k in range(2)])

    control, treated = runs(False), runs(True)
    np.testing.assert_array_equal(control[:, :6], treated[:, :6])
    assert (control[:, -1] != treated[:, -1]).any()


def test_stream_points_are_where_the_count_reaches_them():
    # the k-th point of a unit-rate stream is where its count reaches k, also past a
    # superblock's end (the streams' Poisson law: verification,
    # streams_are_unit_rate_poisson_processes)
    from ionmc.engine.streams import L, count_to, point

    key = np.uint64(77)
    for rank in (1, 2, 17, int(L) - 3, int(L) + 5):
        T = point(key, 2, rank, 0, 0)
        assert count_to(key, 2, T, 0, 0) == rank
        assert count_to(key, 2, T * (1 - 1e-12), 0, 0) == rank - 1
