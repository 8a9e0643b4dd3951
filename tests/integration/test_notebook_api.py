"""The notebook API (docs/notebook.md): `ionmc.analysis` reachable from `import ionmc`,
readable reprs, and `ionmc.open_run(outdir)` with the tidy table, a summary and the
report's figures."""
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import ionmc
from ionmc.errors import InputError

from conftest import ode_run


@pytest.fixture(scope="module")
def outdir(tmp_path_factory):
    return ode_run(tmp_path_factory, "pump_block", 40.0)


def test_analysis_is_reachable_from_import_ionmc_and_loaded_lazily():
    code = ("import sys, ionmc; lazy = 'pandas' not in sys.modules; "
            "f = ionmc.analysis.noise_sd; print(lazy, f.__module__, ionmc.open_run.__doc__ "
            "is not None, 'analysis' in ionmc.__all__)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # the CLI's start-up does not pay for pandas; the attribute imports it on first use
    assert r.stdout.split() == ["True", "ionmc.analysis.tables", "True", "True"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ionmc.nope


def test_scenario_repr_says_what_it_is():
    r = repr(ionmc.load_scenario("pump_block"))
    assert "object at 0x" not in r
    assert r.startswith("<Scenario 'pump_block': tau-leap, 300 s, 1 replicate(s)")
    assert "neuron 1000 µm³, ecs 250 µm³" in r and "leak ×3, na_k_atpase" in r
    assert "1 event(s)" in r and r.endswith("pump_block.toml>")
    r = repr(ionmc.load_scenario("spine_sweep"))
    assert "ecs 1000 µm³ bath" in r and re.search(r"sweep of \d+ points", r)


def test_open_run_tidy_table_manifest_scenario(outdir):
    res = ionmc.open_run(outdir)
    df = pd.read_parquet(outdir / "timeseries")
    pd.testing.assert_frame_equal(res.timeseries.reset_index(drop=True),
                                  df.reset_index(drop=True), check_dtype=False,
                                  check_categorical=False)
    assert res.manifest["scenario_hash"] == res.scenario.hash()
    assert isinstance(res.scenario, ionmc.Scenario) and res.scenario.name == "pump_block"
    r = repr(res)
    assert r.startswith("<RunResult 'pump_block': ode, 40.0 s, 1 replicate(s)")
    assert "events: 10 s pump.block_fraction = 1" in r and str(outdir) in r
    # a RunResult passes for the Run the statistics functions take
    st = ionmc.analysis.ensemble_stats(res, ["soma.V_mV"])["soma.V_mV"]
    np.testing.assert_allclose(st["mean"].to_numpy(), df["soma.V_mV"].to_numpy())


def test_summary_is_the_runs_own_numbers(outdir):
    res = ionmc.open_run(outdir)
    s = res.summary()
    df = pd.read_parquet(outdir / "timeseries")
    assert s["method"] == "ode" and s["replicates"] == 1
    assert s["wall time (s)"] == res.manifest["wall_time_s"]
    assert s["V soma (mV), end"] == pytest.approx(df["soma.V_mV"].iloc[-1], rel=1e-12)
    assert s["Na in neuron (mM), start"] == pytest.approx(15.0, rel=1e-9)
    assert s["Na in neuron (mM), end"] == pytest.approx(df["neuron.Na.mM"].iloc[-1])
    assert s["Na in neuron (mM), end"] > 25  # the block ran Na_i up
    assert "Na in ecs (mM), end" in s and "X in neuron (mM), end" not in s  # impermeant
    res_max = df["thermo.balance_residual_J"].abs().max()
    assert s["ledger residual, largest (J)"] == pytest.approx(res_max, rel=1e-12)
    assert 0 <= s["ledger residual / largest term"] < 1e-6
    text = repr(s)
    assert re.search(r"^V soma \(mV\), end +-?\d", text, re.M)
    assert "<table>" in s._repr_html_()


def test_plot_returns_the_reports_figures(outdir):
    from matplotlib.figure import Figure

    res = ionmc.open_run(outdir)
    figs = res.plot()
    assert len(figs) == 4 and all(isinstance(f, Figure) for f in figs)
    # a notebook shows them without pyplot's inline backend: the list as HTML images, a
    # figure alone as a PNG
    assert figs._repr_html_().count("<img src='data:image/png;base64,") == 4
    assert figs[1]._repr_png_().startswith(b"\x89PNG")
    assert figs[0].axes[0].get_ylabel() == "concentration (mM)"
    (th,) = res.plot("Thermodynamics")
    assert th.axes[0].get_title() == "free energy stored in the gradients, G"
    with pytest.raises(ValueError, match="no figure 'Noise' in this run"):
        res.plot(["Noise"])
    path = res.report()
    assert path == outdir / "report.html" and path.stat().st_size > 10_000


def test_open_run_of_no_run_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such output directory"):
        ionmc.open_run(tmp_path / "nothing")
