"""`ionmc report` (issue 7): the HTML holds the figures and the numbers of the Parquet, opens
offline in headless Chromium without console errors, and bad OUTDIRs get one line, exit 2."""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import ionmc
from ionmc import analysis
from ionmc.analysis.report import build

from conftest import make

CLI = [sys.executable, "-m", "ionmc.cli"]


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    out = tmp_path_factory.mktemp("pb") / "run"
    ionmc.run(make("pump_block", method="ode", duration=60.0, dt=1.0), out, workers=1,
              progress=False)
    return out


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    out = tmp_path_factory.mktemp("sn") / "run"
    ionmc.run(make("spine_noise", method="ssa", duration=0.2, dt=0.01, replicates=6, seed=5),
              out, workers=1, progress=False)
    return out


def test_report_single_run_content(single):
    path = build(single)
    text = path.read_text()
    imgs = re.findall(r"<img alt='([^']+)' src='data:image/png;base64,", text)
    assert imgs == ["Concentrations", "Membrane potential", "Mechanisms", "Thermodynamics"]
    # self-contained: nothing fetched from anywhere
    assert not re.search(r"(src|href)=['\"](https?:|//)", text)
    df = pd.read_parquet(single / "timeseries")
    man = json.loads((single / "manifest.json").read_text())
    assert "<th>replicates finished</th><td>1</td>" in text
    assert f"<th>scenario hash</th><td>{man['scenario_hash']}</td>" in text
    assert "event at 10.0 s" in text and "41.47 kJ/mol" in text
    # the residual quoted in the caption is the Parquet's
    res = df["thermo.balance_residual_J"].abs().max()
    assert f"Largest balance residual: {res:.3g} J" in text
    assert path.stat().st_size < 10e6


def test_ensemble_stats_match_pandas(ensemble):
    run = analysis.open_run(ensemble)
    assert run.replicates == 6 and run.missing == []
    df = pd.read_parquet(ensemble / "timeseries")
    col = "spine.Na.count"
    st = analysis.ensemble_stats(run, [col])[col]
    g = df.groupby("time_s")[col]
    np.testing.assert_allclose(st["mean"].to_numpy(), g.mean().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(st["sd"].to_numpy(), g.std(ddof=1).to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(st["q95"].to_numpy(), g.quantile(0.95).to_numpy(), rtol=1e-12)
    text = build(ensemble).read_text()
    assert "<h2>Noise</h2>" in text and "<th>replicates finished</th><td>6</td>" in text


def test_markdown_format(single, tmp_path):
    md = build(single, tmp_path / "r.md", fmt="md")
    text = md.read_text()
    pngs = re.findall(r"!\[[^\]]+\]\((r/fig\d+\.png)\)", text)
    assert len(pngs) == 4 and all((tmp_path / p).stat().st_size > 1000 for p in pngs)


def test_png_format(single, tmp_path):
    d = build(single, tmp_path / "figs", fmt="png")
    assert sorted(p.name for p in d.iterdir()) == [f"fig{i}.png" for i in range(1, 5)]


def test_half_finished_run_reports_what_it_has(ensemble, tmp_path):
    part = tmp_path / "half"
    shutil.copytree(ensemble, part)
    (part / "timeseries" / "part-00004.parquet").unlink()
    (part / "report.html").unlink(missing_ok=True)
    r = subprocess.run(CLI + ["report", str(part)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = (part / "report.html").read_text()
    assert "1 replicate(s) missing (4)" in text
    assert "<th>replicates finished</th><td>5</td>" in text


@pytest.mark.parametrize("case", ["missing", "empty", "no parts"])
def test_bad_outdir_one_line_exit_2(tmp_path, ensemble, case):
    d = tmp_path / "d"
    if case == "empty":
        d.mkdir()
    elif case == "no parts":
        shutil.copytree(ensemble, d)
        (d / "report.html").unlink(missing_ok=True)  # an earlier test's
        for p in (d / "timeseries").glob("*.parquet"):
            p.unlink()
    r = subprocess.run(CLI + ["report", str(d)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and str(d) in r.stderr and "Traceback" not in r.stderr
    assert not (d / "report.html").exists()


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_report_opens_in_headless_chromium(single, tmp_path):
    exe = _chromium()
    if exe is None:
        if os.environ.get("IONMC_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed (CI installs it and sets IONMC_REQUIRE_BROWSER)")
    html = build(single, tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
                        "--v=0", "--window-size=1200,3000", f"--screenshot={shot}",
                        html.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 50_000, r.stderr[-2000:]
    console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln]
    assert console == [], console
    # the figures decoded: the page is mostly not blank
    from matplotlib.image import imread

    img = imread(shot)
    assert (img[..., :3] < 0.9).any(axis=2).mean() > 0.02


def test_report_shows_metabolism_when_the_run_has_a_pool(tmp_path):
    out = ionmc.run(make("anoxia", method="ode", duration=60.0, dt=1.0), tmp_path / "a",
                    workers=1, progress=False)
    text = build(out).read_text()
    imgs = re.findall(r"<img alt='([^']+)'", text)
    assert imgs[-1] == "Metabolism" and "O2_supply_mM = 0.0" in text


def test_nernst_lines_follow_the_volumes_under_water_flow(tmp_path):
    # anoxic_swelling: the ECS loses ~60% of its water by 600 s, so E_K from the counts at
    # the initial volumes would be ~28 mV off the one the concentrations give
    from ionmc.constants import F, R
    from ionmc.analysis.figures import Figures

    out = ionmc.run(make("anoxic_swelling", method="ode", dt=50.0), tmp_path / "s",
                    workers=1, progress=False)
    refs = Figures(analysis.open_run(out))._references(0)
    df = pd.read_parquet(out / "timeseries")
    last = df.iloc[-1]
    assert refs["t"][-1] == last["time_s"]
    assert last["ecs.volume_um3"] < 0.7 * df["ecs.volume_um3"].iloc[0]
    e_k = R * 310.0 / F * np.log(last["ecs.K.mM"] / last["neuron.K.mM"]) * 1e3
    # the counts are rounded under ode: 0.01 mV is ~4e-4 of a count ratio of ~1e9 ions
    assert refs["nernst"]["K"][-1] == pytest.approx(e_k, abs=0.01)
