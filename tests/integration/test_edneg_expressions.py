"""edNEGmodel written in ionmc's scenario language (results/ednegmodel/ednegmodel.toml: its
own laws as user-written channels and driven transporters, no Python) against edNEG's own
output (results/ednegmodel/*.csv): it holds edNEG's rest, and the 36 pA stimulus's first
spikes come at edNEG's times. The whole comparison (19 spikes against 22, K_o) is
compare_expressions.py's, in docs/validation.md."""
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


def test_it_holds_ednegs_rest():
    """20 s without the stimulus from edNEG's rest: the cells' Na, K, Cl within 0.002 mM and
    the four membrane potentials within 0.01 mV of edNEG's own rest (measured over 300 s:
    0.0008 mM, 0.004 mV)."""
    df = ionmc.simulate(_scenario(20.0, 10.0, events=False), 0)[0]
    row, ref = df.iloc[-1], pd.read_csv(HERE / "rest_300s.csv").iloc[-1]
    for L in ("s", "d"):
        for c, name in (("n", "neuron"), ("g", "glia")):
            for sp in ("Na", "K", "Cl"):
                assert abs(row[f"{name}_{L}.{sp}.mM"] - ref[f"c{sp}_{L}{c}_mM"]) < 2e-3, \
                    (name, L, sp)
            assert abs(row[f"{name}_m_{L}.V_mV"] - ref[f"phi_m{L}{c}_mV"]) < 0.01, (name, L)


def test_the_stimulus_first_spikes_come_at_ednegs_times():
    """36 pA of K+ into the soma from 10 s: the first two upward crossings of -20 mV by the
    soma's potential within 5 ms of edNEG's (measured: within 4 ms)."""
    df = ionmc.simulate(_scenario(10.2, 0.0005), 0)[0]
    t, v = df["time_s"].to_numpy(), df["neuron_m_s.V_mV"].to_numpy()
    up = np.nonzero((v[:-1] < -20.0) & (v[1:] >= -20.0))[0]
    ours = t[up] + (-20.0 - v[up]) / (v[up + 1] - v[up]) * (t[up + 1] - t[up])
    ref = pd.read_csv(HERE / "stimulus_36pA_spikes.csv")["spike_time_s"].to_numpy()
    ref = ref[ref < 10.2]
    assert len(ref) == 2 and len(ours) == 2, (ours, ref)
    assert np.abs(ours - ref).max() < 0.005, (ours, ref)
