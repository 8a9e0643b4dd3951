"""edNEGmodel written in ionmc's scenario language (results/ednegmodel/ednegmodel.toml: its
own laws as user-written channels, driven transporters and water laws, its extracellular
potentials as capacitances to ground, no Python) against edNEG's own output
(results/ednegmodel/*.csv): from edNEG's initial state it relaxes as edNEG does, under
edNEG's 36 pA stimulus it fires edNEG's spikes with edNEG's K_o, and under the paper's
150 pA it fires edNEG's spike train within edNEG's own spread. The whole comparison (the
800 s of the 150 pA case, ionmc's own pump beside it) is compare_expressions.py's, in
docs/validation.md."""
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

import ionmc
from ionmc.scenario.validate import validate

HERE = Path(__file__).resolve().parents[2] / "results" / "ednegmodel"


def _scenario(duration, dt, events=True):
    raw = tomllib.loads((HERE / "ednegmodel.toml").read_text())
    raw["events"] = [e for e in raw.get("events", []) if events and e["at_s"] <= duration]
    raw["scenario"].update(duration_s=duration, record_interval_s=dt)
    return validate(raw, str(HERE / "ednegmodel.toml"))


def test_it_relaxes_as_edneg_does():
    """20 s without the stimulus from edNEG's initial state (near, not at, rest): the cells'
    Na, K, Cl within 0.002 mM and the four membrane potentials within 0.01 mV of edNEG's
    own state at 20 s (rest_300s.csv, one row a second; measured: 0.0004 mM, 0.0012 mV)."""
    df = ionmc.simulate(_scenario(20.0, 10.0, events=False), 0)[0]
    ref = pd.read_csv(HERE / "rest_300s.csv").set_index("t_s")
    row, ref = df.iloc[-1], ref.loc[20.0]
    for L in ("s", "d"):
        for c, name in (("n", "neuron"), ("g", "glia")):
            for sp in ("Na", "K", "Cl"):
                assert abs(row[f"{name}_{L}.{sp}.mM"] - ref[f"c{sp}_{L}{c}_mM"]) < 2e-3, \
                    (name, L, sp)
            assert abs(row[f"{name}_m_{L}.V_mV"] - ref[f"phi_m{L}{c}_mV"]) < 0.01, (name, L)


def test_the_36_pA_stimulus_is_like_for_like():
    """36 pA of K+ into the soma, 10-20 s: as many spikes as edNEG (22), each within 20 ms
    of edNEG's and the mean interval within 1%; the extracellular K+ (mean of both layers)
    peaks within 3% of edNEG's and recovers half-way within 3% of edNEG's time (measured:
    22 spikes, each within 9.4 ms, mean interval -0.10%; peak +0.02%, half-recovery
    -0.55%)."""
    df = ionmc.simulate(_scenario(30.0, 0.0005), 0)[0]
    t, v = df["time_s"].to_numpy(), df["neuron_m_s.V_mV"].to_numpy()
    up = np.nonzero((v[:-1] < -20.0) & (v[1:] >= -20.0))[0]
    ours = t[up] + (-20.0 - v[up]) / (v[up + 1] - v[up]) * (t[up + 1] - t[up])
    ours = ours[(ours >= 10.0) & (ours <= 20.5)]
    ref = pd.read_csv(HERE / "stimulus_36pA_spikes.csv")["spike_time_s"].to_numpy()
    summ = pd.read_csv(HERE / "stimulus_36pA_summary.csv").set_index("quantity")["value"]
    assert len(ours) == len(ref) == int(summ["n_spikes_in_stim"]), (ours, ref)
    assert np.abs(ours - ref).max() < 0.02, np.abs(ours - ref).max()
    assert abs(np.diff(ours).mean() / np.diff(ref).mean() - 1) < 0.01
    vol = {c: df[f"{c}.volume_um3"] for c in ("ecs_s", "ecs_d")}  # edNEG's water flow
    k_e = (df["ecs_s.K.mM"] * vol["ecs_s"] + df["ecs_d.K.mM"] * vol["ecs_d"]) \
        / (vol["ecs_s"] + vol["ecs_d"])
    r = pd.read_csv(HERE / "stimulus_36pA.csv")
    k_ref = (r.cK_se_mM * r.V_se_um3 + r.cK_de_mM * r.V_de_um3) / (r.V_se_um3 + r.V_de_um3)
    assert abs(k_e.max() / k_ref.max() - 1) < 0.03, (k_e.max(), k_ref.max())

    def half_recovery(time, k):
        before, at_off = k[time < 10.0].iloc[-1], k[time >= 20.0].iloc[0]
        after = time[(time >= 20.0) & (k <= before + 0.5 * (at_off - before))]
        return after.iloc[0] - 20.0
    ours_h, ref_h = half_recovery(df["time_s"], k_e), half_recovery(r.t_s, k_ref)
    assert abs(ours_h / ref_h - 1) < 0.03, (ours_h, ref_h)


def _spike_times(df, t0, t1):
    t, v = df["time_s"].to_numpy(), df["neuron_m_s.V_mV"].to_numpy()
    up = np.nonzero((v[:-1] < -20.0) & (v[1:] >= -20.0))[0]
    ts = t[up] + (-20.0 - v[up]) / (v[up + 1] - v[up]) * (t[up + 1] - t[up])
    return ts[(ts > t0) & (ts <= t1)]


def test_the_150_pA_spike_train_is_ednegs_within_ednegs_own_spread():
    """The paper's 150 pA, 1-8 s: every spike within 1 ms of edNEG's as far as all of edNEG's
    own runs with one quantity changed by ~1e-4 (or on two BLAS threads) are (258 spikes, to
    4.98 s; then the firing turns irregular on the way into depolarisation block), and a
    count within the range of those runs (stimulus_150pA_sensitivity.csv: 376-384; edNEG as
    published 382). Measured: 260 leading spikes within 0.71 ms, 384 in all."""
    raw = tomllib.loads((HERE / "ednegmodel.toml").read_text())
    raw["events"] = [{"at_s": 1.0, "set": {"mechanisms.stim.current_pA": 150.0}},
                     {"at_s": 8.0, "set": {"mechanisms.stim.current_pA": 0.0}}]
    raw["scenario"].update(duration_s=8.6, record_interval_s=2.5e-4)
    df = ionmc.simulate(validate(raw, str(HERE / "ednegmodel.toml")), 0)[0]
    ours = _spike_times(df, 1.0, 8.5)
    ref = pd.read_csv(HERE / "stimulus_150pA_spikes.csv")["spike_time_s"].to_numpy()
    spread = pd.read_csv(HERE / "stimulus_150pA_sensitivity.csv")
    parts = spread["leaves_published_at_s"].min()
    early = ref[ref < parts]
    assert len(early) > 200
    assert len(ours) >= len(early), (len(ours), len(early))
    assert np.abs(ours[:len(early)] - early).max() < 1e-3, np.abs(ours[:len(early)] - early).max()
    assert spread.spikes.min() <= len(ours) <= spread.spikes.max(), (len(ours), spread.spikes)
