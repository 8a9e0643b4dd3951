"""Activity as a spike train (issue 5 'Activity'; issue 4 'energy_budget'): Poisson spike
counts on the rate schedule events define, exact bookkeeping and ledger with spikes, the pump
following Na_i during and after a train, and a whole neuron's O2 use.
Here: the topic's runs longer than about a second and its command-line tests; the
rest is in tests/unit/test_activity.py."""
import numpy as np
import pytest

from ionmc.mechanisms import nka, nka_cycle
from ionmc.model import Model

from conftest import make, run_df


def test_spikes_follow_the_rate_schedule():
    # rate 0 until an event sets 20 Hz at 60 s: no spike before, Poisson(20 x 90) after
    sc = make("firing_neuron", method="ode", duration=150.0, dt=1.0, seed=4,
              sets=[("mechanisms.firing.rate_Hz", 0.0), ("mechanisms.firing.start_s", 0.0),
                    ("mechanisms.firing.stop_s", -1.0)],
              events=[(60.0, {"mechanisms.firing.rate_Hz": 20.0})])
    df = run_df(sc)
    n = df["firing.spikes"].to_numpy()
    assert n[df["time_s"] <= 60.0].max() == 0
    assert n[-1] > 0  # (the count's Poisson law: verification, spike_counts_follow_...)
    # each spike's Na+ is its mean under ode: 4 x C x 100 mV / e
    C = 1e-2 * 500.0 * 1e-12
    per = 4 * C * 0.1 / 1.602176634e-19
    assert df["firing.Na.net_efflux"].iloc[-1] == pytest.approx(-per * n[-1], rel=1e-12)
    assert df["firing.K.net_efflux"].iloc[-1] == pytest.approx(per * n[-1], rel=1e-12)


def test_pump_follows_na_during_and_after_a_train():
    df = run_df(make("firing_neuron", method="ode", duration=150.0, dt=0.5))
    model = Model(make("firing_neuron"))
    pumps = [m for m in model.mechs if m.type == nka.TYPE]  # alpha1 and alpha3
    assert sorted(m.spec["isoform"] for m in pumps) == ["a1", "a3"]
    t = df["time_s"].to_numpy()
    cyc = sum(np.gradient((df[f"{m.name}.forward"] - df[f"{m.name}.backward"]).to_numpy(), t)
              for m in pumps)
    # turnover against the cycles' own steady-state law at the momentary state
    for k in np.nonzero((t > 12) & (t < 140))[0][::20]:
        r = df.iloc[k]
        ka = sum(m.n_agents * nka_cycle.turnover(
            m.spec, r["neuron.Na.mM"], r["neuron.K.mM"], r["ecs.Na.mM"], r["ecs.K.mM"],
            r["soma.V_mV"] * 1e-3) for m in pumps)
        assert cyc[k] == pytest.approx(ka, rel=0.02), (t[k], cyc[k], ka)
    na = df["neuron.Na.mM"].to_numpy()
    during = (t > 20) & (t < 40)
    assert na[during].mean() > na[0] + 1.0 and cyc[during].mean() > 1.3 * cyc[1]
    # recovery: Na_i's excess decays exponentially; report the time constant
    after = (t >= 50) & (t <= 120)
    slope = np.polyfit(t[after], np.log(na[after] - na[0] + 1e-12), 1)[0]
    tau = -1.0 / slope
    print(f"Na_i recovery time constant {tau:.1f} s")
    assert 3.0 < tau < 60.0


def test_absurd_spike_load_is_refused_and_a_failed_run_is_one_line(tmp_path):
    import subprocess
    import sys

    cli = [sys.executable, "-m", "ionmc.cli", "run", "firing_neuron", "-o", str(tmp_path / "o"),
           "--duration", "1", "--set", "mechanisms.firing.start_s=0.0"]
    r = subprocess.run(cli + ["--set", "mechanisms.firing.Na_per_spike=1e30"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Na_per_spike" in r.stderr and r.stderr.count("\n") == 1
    r = subprocess.run(cli + ["--set", "mechanisms.firing.Na_per_spike=1e14"],
                       capture_output=True, text=True)  # beyond its physical range
    assert r.returncode == 2 and "physical range" in r.stderr and r.stderr.count("\n") == 1
    # a load in range that the cell cannot hold (1e12 Na+ a spike) drives V off any scale:
    # one line naming a mechanism and the time, exit 1, no traceback (after the line that
    # said the run started, and a compile notice after source changes)
    r = subprocess.run(cli + ["--set", "mechanisms.firing.Na_per_spike=1e12"],
                       capture_output=True, text=True)
    lines = r.stderr.splitlines()
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert [line.split()[1] for line in lines[:-1] if "compiling" not in line] == ["running"]
    assert "run failed: SimulationError: mechanism" in lines[-1] and "t = " in lines[-1]
