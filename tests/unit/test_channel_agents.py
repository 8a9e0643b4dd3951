"""Voltage-gated channels one agent at a time (`agents = "individual"` on an hh_channel,
agents.py, channels.py): the same process as the counts per gating state, single-channel
dwell times and open probability against HH's closed forms, the ledger."""
import copy

import numpy as np
import pytest

from ionmc.errors import InputError
from ionmc.model import Model
from ionmc.runs.replicate import simulate
from ionmc.scenario import validate

from cells import hh_agents, pump_cell, state_columns
from conftest import balance, make


# -- (2) single channels against the closed forms ----------------------------------------
def test_single_channel_dwell_tables_add_up():
    """50 K+ (n^4) and 50 Na+ (m^3 h) channels clamped at -40 mV for 2 s, every dwell
    recorded: the per-channel table matches the dwell rows. (The dwells' law and the open
    probability against HH's closed forms: verification, single_channel_dwell_times.)"""
    V, N, dur = -0.040, 50, 2.0
    sc = hh_agents(V=V * 1e3, dur=dur, dt=0.5, seed=21, dwell=True).build()
    df, info = simulate(sc, 0)
    dw, ag = info["dwell_times"], info["agents"]
    for name, open_name in (("k", "n4"), ("na", "m3h1")):
        d = dw[(dw["mechanism"] == name) & (dw["state"] == open_name)]
        full = d.dropna(subset=["entered_s", "left_s"])
        assert len(full) > 1500
        a = ag[ag["mechanism"] == name]
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
    with_rows = simulate(hh_agents(V=-40.0, dur=0.2, dt=0.1, seed=5, dwell=True).build(), 0)[1]
    without = simulate(hh_agents(V=-40.0, dur=0.2, dt=0.1, seed=5, dwell=False).build(), 0)[1]
    assert "dwell_times" not in without
    a, b = with_rows["agents"], without["agents"]
    assert (a["openings"].to_numpy() == b["openings"].to_numpy()).all()
    assert np.array_equal(a["open_time_s"].to_numpy(), b["open_time_s"].to_numpy())
    assert a["openings"].sum() > 100


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
    raw = hh_agents(dur=0.01, dt=0.01).raw()
    if "density" in change:
        raw["mechanisms"][1]["density_per_um2"] = change.pop("density")
    raw["scenario"].update(change)
    with pytest.raises(InputError) as e:
        validate(copy.deepcopy(raw), "f")
    assert key in str(e.value)
    raw = hh_agents(dur=0.01, dt=0.01, agents="counts", dwell=True).raw()
    with pytest.raises(InputError, match="record_dwell_times"):
        validate(raw, "f")


def test_pumps_and_channels_share_the_agent_table():
    """Individual pumps and channels in one scenario: one table, each with nulls in the
    other's columns; the counts still add up per mechanism."""
    
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
