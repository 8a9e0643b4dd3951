"""Pumps one agent at a time (`agents = "individual"`, agents.py): the same physics as the
counts per state, single-pump statistics against the cycle's closed form, the ledger.
Here: the topic's runs longer than about a second and its command-line tests; the
rest is in tests/unit/test_agents.py."""
import numpy as np
import pandas as pd

import ionmc

from cells import pump_agents, pump_cell, small_cell
from conftest import balance


# -- (3) the ledger ----------------------------------------------------------------------
def test_ledger_exact_with_individual_elementary_pumps_and_ouabain():
    # distinguishable agents: G_agents without ln(m_i!), ln(a_f/a_b) without count factors;
    # the balance telescopes to rounding as for the counts (test_ledger), through a block
    # and an unblock (agents picked and released at random, booked as event work)
    sc = small_cell(duration=0.3, dt=0.025, seed=8) \
        .pump(density_per_um2=800.0, agents="individual", elementary=1.0) \
        .events((0.1, {"mechanisms.pump.block_fraction": 0.5}),
                (0.2, {"mechanisms.pump.block_fraction": 0.0})).build()
    df, info = ionmc.simulate(sc, 0)
    resid, scale = balance(df)
    print(f"{info['method_events']} events, W_ATP {df['thermo.atp_work_J'].iloc[-1]:.3g} J, "
          f"largest term {scale:.3g} J, |residual| {np.abs(resid).max():.2g} J")
    assert df["thermo.atp_work_J"].iloc[-1] > 0.05 * scale
    assert np.abs(resid).max() <= 1e-9 * scale, (np.abs(resid).max(), scale)
    blocked = df["pump.blocked.count"].to_numpy()
    assert blocked[np.argmin(abs(df["time_s"] - 0.15))] == 20 and blocked[-1] == 0
    assert df["thermo.event_work_J"].abs().iloc[-1] > 0  # the block moved G


def test_cli_writes_agent_tables_beside_the_timeseries(tmp_path):
    from ionmc.cli import main

    p = pump_agents(pump_cell(nai=40.0, density=4.0, duration=1.0, dt=0.5), dwell=True) \
        .write(tmp_path / "s.toml")
    out = tmp_path / "out"
    assert main(["run", str(p), "-o", str(out), "--replicates", "2", "--workers", "1"]) == 0
    ts = pd.read_parquet(out / "timeseries")
    ag = pd.read_parquet(out / "agents")
    dw = pd.read_parquet(out / "dwell_times")
    assert sorted(ag["replicate"].unique()) == [0, 1] and len(ag) == 8
    last = ts[ts["time_s"] == ts["time_s"].max()].set_index("replicate")
    tot = ag.groupby("replicate")["forward"].sum()
    assert (tot == last["pump.forward"]).all()
    assert set(dw["replicate"]) == {0, 1}


def test_sweep_writes_agent_tables_per_point(tmp_path):
    from ionmc.cli import main

    p = pump_agents(pump_cell(nai=40.0, density=4.0, duration=0.5, dt=0.25), dwell=True) \
        .sweep(**{"mechanisms.pump.fxyd_phosphorylated": [0.0, 1.0]}).write(tmp_path / "s.toml")
    out = tmp_path / "out"
    assert main(["run", str(p), "-o", str(out), "--replicates", "1", "--workers", "1"]) == 0
    for kind in ("agents", "dwell_times"):
        assert sorted(f.parent.name for f in (out / kind).rglob("*.parquet")) == \
            ["point=0000", "point=0001"]
    ag = pd.read_parquet(out / "agents")
    assert sorted(ag["sweep.mechanisms.pump.fxyd_phosphorylated"].unique()) == [0.0, 1.0]
    assert not list(out.rglob("*.tmp"))
