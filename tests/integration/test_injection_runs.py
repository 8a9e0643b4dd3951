"""Current injection (injection.py): Poisson counts at I/(z e), conservation, charge on an
isolated membrane, the stimulator's work in the ledger, events, bad input.
Here: the topic's runs longer than about a second and its command-line tests; the
rest is in tests/unit/test_injection.py."""
import numpy as np
import pytest

import ionmc
from ionmc.model import Model
from ionmc.scenario import load_scenario, validate

from cells import injected_neuron
from conftest import ions, balance


def run(sc):
    return ionmc.simulate(sc, 0)[0]


def test_current_step_scenario_from_the_command_line(tmp_path):
    """The built-in current_step (resting_neuron, 100 pA of K+ from an electrode from 5 s):
    `ionmc energetics` predicts the step's depolarisation through the input resistance
    (100 pA x 200 MOhm = 20 mV), and `ionmc run` shows it half a second into the step,
    before K+ piles up in the ECS (within 2 mV)."""
    from ionmc.cli import main
    from ionmc.thermo.energetics import energetics
    import pandas as pd

    b = energetics(load_scenario("current_step"))["membranes"]["soma"]
    assert b["injected_current_pA"] == 0.0
    assert b["injection_peak_pA"] == pytest.approx(100.0)
    # through the leaks and the pumps' steady-state slope conductance
    assert b["injection_dV_mV"] == pytest.approx(100e-12 * b["membrane_input_resistance_MOhm"]
                                                 * 1e9)
    assert b["membrane_input_resistance_MOhm"] < b["input_resistance_MOhm"]
    out = tmp_path / "out"
    assert main(["run", "current_step", "-o", str(out), "--duration", "5.5"]) == 0
    df = pd.read_parquet(out / "timeseries")
    v = df.set_index("time_s")["soma.V_mV"]
    dv = v.loc[5.5] - v.loc[5.0]
    assert abs(dv - b["injection_dV_mV"]) < 2.0
    n = df["electrode.forward"].iloc[-1]
    assert n > 0  # (injection counts' Poisson law: verification, injection_counts_are_poisson)
    assert df["electrode.current_pA"].iloc[-1] == pytest.approx(-100.0, rel=1e-3)


def test_ednegs_stimulus_is_an_injection_from_the_ecs():
    """edNEG's "stimulus current" (Saetra et al. 2021) moves K+ from the somatic ECS into
    the soma at I/F: on compare.py's one-layer edNEG scenario, 36 pA from 10 to 20 s
    (two events) moves edNEG's own count of injected K+ (stimulus_36pA_summary.csv,
    2.247e9) to 1e-6 under `ode`, out of the ECS and into the neuron (K+ conserved). The
    pumps are blocked so that the ledger shows the injection's term: it balances to 1e-6
    (measured 5e-9; with the pumps running the reduced pump's own bounded residual,
    ~k_B T per pump over its 1.4e8 pumps, is 2e-4 of the scale)."""
    import importlib.util
    from pathlib import Path

    import pandas as pd

    here = Path(__file__).resolve().parents[2] / "results" / "ednegmodel"
    spec = importlib.util.spec_from_file_location("edneg_compare_inj", here / "compare.py")
    cmp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cmp)
    rest = pd.read_csv(here / "rest_300s.csv").iloc[-1]
    summ = dict(pd.read_csv(here / "stimulus_36pA_summary.csv").values)
    L, P, dens = cmp.derive(rest, "flux")[:3]
    raw = cmp.scenario_dict(L, P, dens, duration=21.0, record=1.0)
    for m in raw["mechanisms"]:
        if m["type"] == "nak_pump":
            m["block_fraction"] = 1.0
    raw["mechanisms"].append({"type": "injection", "name": "stim", "species": "K",
                              "compartment": "neuron", "from": "ecs"})
    raw["events"] = [{"at_s": 10.0, "set": {"mechanisms.stim.current_pA": 36.0}},
                     {"at_s": 20.0, "set": {"mechanisms.stim.current_pA": 0.0}}]
    df = run(validate(raw, "edneg-injection"))
    n = df["stim.forward"].iloc[-1]
    assert n == pytest.approx(summ["K_injected_ions"], rel=1e-6)
    assert df.loc[df.time_s <= 10.0, "stim.forward"].max() == 0
    tot = sum(df[f"{c}.K.count"] for c in ("neuron", "ecs", "glia"))
    assert np.abs(tot - tot.iloc[0]).max() <= 3  # ode counts are rounded per compartment
    resid, scale = balance(df, T=cmp.T)
    assert np.abs(resid).max() < 1e-6 * scale
    assert df["thermo.stimulus_work_J"].iloc[-1] > 1e-2 * scale


@pytest.mark.parametrize("method,factor", [("ssa", 1e-3), ("tau-leap", 0.1)])
def test_compartment_to_compartment_conserves_every_species_exactly(method, factor):
    """ECS -> neuron, 50 pA per 500 um^2, with leaks and the pump: every species' total is
    constant on every row, and the injection's net efflux column is what it moved."""
    sc = injected_neuron(method, 50.0, factor)
    df = run(sc)
    model = Model(sc)
    for s in model.species:
        tot = ions(df, model.comps, s)
        assert (tot == tot.iloc[0]).all(), s
    n = df["stim.forward"].iloc[-1] - df["stim.backward"].iloc[-1]
    assert n > 1e5 and df["stim.K.net_efflux"].iloc[-1] == -n
