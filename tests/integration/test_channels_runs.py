"""Voltage-gated channel agents (channels.py): HH gating as a Markov scheme against its
closed forms (product of binomials, m(t)^3 h(t)), conduction, conservation, the ledger, and
the action_potential scenario across methods.
Here: the topic's runs longer than about a second and its command-line tests; the
rest is in tests/unit/test_channels.py."""
import subprocess
import sys

import pytest


def test_cli_run_energetics_report(tmp_path):
    env_py = [sys.executable, "-m", "ionmc.cli"]
    out = tmp_path / "ap"
    r = subprocess.run(env_py + ["run", "action_potential", "-o", str(out), "--method",
                                 "ode", "--duration", "0.006"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(env_py + ["energetics", "action_potential", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    import json

    b = json.loads(r.stdout)["membranes"]["soma"]
    # the design: with the channels' window currents the leaks still balance the pump
    assert b["pump_cycles_per_s"] == pytest.approx(b["pump_model_cycles_per_s"], rel=1e-3)
    r = subprocess.run(env_py + ["report", str(out), "-o", str(tmp_path / "r.html")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "r.html").stat().st_size > 1000
