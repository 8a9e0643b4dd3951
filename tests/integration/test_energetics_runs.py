"""`ionmc energetics` (issue 4, 'What it must show' 1): the textbook budget of a scenario's
initial state, checked against closed forms written out here and against a simulated run.
Here: the topic's runs longer than about a second and its command-line tests; the
rest is in tests/unit/test_energetics.py."""
import json
import subprocess
import sys


def test_cli_json_and_table():
    run = [sys.executable, "-m", "ionmc.cli", "energetics", "resting_neuron"]
    out = subprocess.run(run + ["--json"], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    soma = data["membranes"]["soma"]
    for key in ("V_mV", "nernst_mV", "ghk_mV", "dG_influx_kJ_per_mol",
                "pump_cycle_dG_kJ_per_mol", "leak_current_pA", "pump_cycles_per_s",
                "atp_per_s", "o2_molecules_per_s", "pump_current_pA", "input_resistance_MOhm",
                "pump_electrogenic_mV", "k_battery_share"):
        assert key in soma, key
    assert data["temperature_K"] == 310.0
    txt = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    assert "41.47" in txt and "kJ/mol" in txt
    bad = subprocess.run(run[:-1] + ["no_such_scenario"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
