"""The built-in `myocyte` (docs/writing-mechanisms.md's worked example): a ventricular
myocyte with an SR nested in the cytosol, its L-type channel, NCX, SERCA-like uptake and
RyR-like release written as expressions, paced at 1 Hz under ode. Two beats, held to what a
cardiac physiologist expects of a ventricular cell at 1 Hz and 37 C (ranges: Bers 2001,
"Excitation-contraction coupling and cardiac contractile force", ch. 2, 5, 6, 8; Luo &
Rudy 1994) and to its own bookkeeping."""
import numpy as np
import pytest

import ionmc
from conftest import balance
from ionmc.scenario import load_scenario

STIM = 0.05  # the first stimulus (s); then every second


@pytest.fixture(scope="module")
def beats():
    df, _ = ionmc.simulate(load_scenario("myocyte", duration=2.0))
    return df, [df[(df.time_s >= k) & (df.time_s < k + 1)].reset_index(drop=True)
                for k in range(2)]


def _after(beat, k):
    return beat[beat.time_s >= k + STIM]


def test_action_potential(beats):
    _, (b0, b1) = beats
    for k, b in enumerate((b0, b1)):
        v = b["sarcolemma.V_mV"]
        assert -90.0 < v.iloc[0] < -85.0          # rest near E_K (-87.9 mV)
        ap = _after(b, k)
        assert 30.0 < ap["sarcolemma.V_mV"].max() < 70.0
        # APD90: from the stimulus to 90% repolarisation
        v0, peak = v.iloc[0], ap["sarcolemma.V_mV"].max()
        t_peak = ap.time_s[ap["sarcolemma.V_mV"].idxmax()]
        late = ap[ap.time_s > t_peak]
        t90 = late.time_s[late["sarcolemma.V_mV"] < peak - 0.9 * (peak - v0)].iloc[0]
        assert 0.15 < t90 - (k + STIM) < 0.35
        # the cleft's membrane is held at the cell's potential by diffusion to the cytosol
        assert np.abs(b["junction.V_mV"] - v).max() < 0.5


def test_calcium_transient_triggered_by_the_cleft(beats):
    _, (b0, b1) = beats
    for k, b in enumerate((b0, b1)):
        ca = b["cytosol.Ca.mM"] * 1e3  # uM
        ap = _after(b, k)
        assert 0.07 < ca.iloc[0] < 0.15                       # diastolic
        peak = ap["cytosol.Ca.mM"].max() * 1e3
        assert 0.5 < peak < 1.5
        t_peak = ap.time_s[ap["cytosol.Ca.mM"].idxmax()] - (k + STIM)
        assert 0.02 < t_peak < 0.15
        assert ca.iloc[-1] < 1.1 * ca.iloc[0] + 0.01          # back by the next beat
        # the trigger: the L-type current raises the cleft's Ca2+ to tens of uM
        assert ap["cleft.Ca.mM"].max() * 1e3 > 10.0
        # release: the SR gives a good part of its free Ca2+ and takes it back in the beat
        sr = b["sr.Ca.mM"]
        assert sr.min() < 0.9 * sr.iloc[0]
        assert abs(sr.iloc[-1] / sr.iloc[0] - 1) < 0.02
        # the SR's K+ channels hold its potential near 0
        assert np.abs(b["sr_membrane.V_mV"]).max() < 5.0


def test_near_its_periodic_state_and_the_ledger_closes(beats):
    df, (b0, b1) = beats
    p0, p1 = (b["cytosol.Ca.mM"].max() for b in (b0, b1))
    assert abs(p1 / p0 - 1) < 0.03
    na = df["cytosol.Na.mM"]
    assert abs(na.iloc[-1] / na.iloc[0] - 1) < 2e-3
    resid, scale = balance(df)
    assert np.abs(resid).max() <= 1e-5 * scale, (np.abs(resid).max(), scale)
    # ATP: the pump and SERCA both spend it (ionmc's fixed dG_ATP)
    assert df["thermo.atp_work_J"].iloc[-1] > 0
