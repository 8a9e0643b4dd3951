"""Sweeps (issue 6): a [sweep] table runs each point as an ensemble into
timeseries/point=NNNN/, one tidy read_parquet with sweep.* columns; same numbers as the point
run alone; resume completes only what is missing; bad sweeps fail before anything runs."""
import subprocess
import sys

import pandas as pd
import pytest

import ionmc
from ionmc.scenario import load_scenario

SWEEP = """
[sweep]
mode = "zip"
"compartments.spine.volume_um3" = [0.0005, 0.002, 0.008]
"membranes.head.area_um2" = [0.01, 0.04, 0.16]
"""


@pytest.fixture
def sweep_file(tmp_path):
    base = load_scenario("spine_noise", ["scenario.replicates=4", "scenario.seed=3",
                                         "scenario.record_interval_s=0.01"], duration=0.05)
    path = tmp_path / "sweep.toml"
    path.write_text(base.to_toml() + SWEEP)
    return path


def test_sweep_writes_one_tidy_table(sweep_file, tmp_path):
    sc = load_scenario(sweep_file)
    out = ionmc.run(sc, tmp_path / "out", workers=2, progress=False)
    df = pd.read_parquet(out / "timeseries")
    assert len(df) == 3 * 4 * 6
    vol = "sweep.compartments.spine.volume_um3"
    assert sorted(df[vol].unique()) == [0.0005, 0.002, 0.008]
    assert df.groupby(vol)["replicate"].nunique().tolist() == [4, 4, 4]
    # counts scale with the volume (same concentrations)
    na0 = df[df["time_s"] == 0].groupby(vol)["spine.Na.count"].mean()
    assert na0.iloc[2] / na0.iloc[0] == pytest.approx(16.0, rel=1e-3)
    # a point's part holds the same numbers as that point's scenario run alone
    pt = sc.points()[1]
    alone = ionmc.simulate(sc.at_point(pt), 2)[0]
    part = pd.read_parquet(out / "timeseries" / "point=0001" / "part-00002.parquet")
    pd.testing.assert_frame_equal(part.drop(columns=[c for c in part if c.startswith("sweep.")]),
                                  alone)


def test_sweep_resumes_only_what_is_missing(sweep_file, tmp_path):
    out = tmp_path / "out"
    cli = [sys.executable, "-m", "ionmc.cli", "run", str(sweep_file), "-o", str(out),
           "--workers", "1"]
    subprocess.run(cli, check=True, capture_output=True)
    parts = sorted((out / "timeseries").rglob("part-*.parquet"))
    assert len(parts) == 12
    mtimes = {p: p.stat().st_mtime_ns for p in parts}
    victim = out / "timeseries" / "point=0002" / "part-00001.parquet"
    victim.unlink()
    r = subprocess.run(cli, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for p, t in mtimes.items():
        if p != victim:
            assert p.stat().st_mtime_ns == t
    assert victim.is_file()
    import json

    man = json.loads((out / "manifest.json").read_text())
    assert man["complete"] and man["missing"] == [] and len(man["sweep"]["points"]) == 3
    # a report of a sweep names a point; without one it says how, in one line
    rep = [sys.executable, "-m", "ionmc.cli", "report", str(out)]
    r = subprocess.run(rep, capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--point 0..2" in r.stderr
    r = subprocess.run(rep + ["--point", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = (out / "report-point0002.html").read_text()
    assert "spine_noise, point 2" in text and "sweep.compartments.spine.volume_um3" in text
    assert "<th>replicates finished</th><td>4</td>" in text


@pytest.mark.parametrize("bad,msg", [
    ('[sweep]\nmode = "zip"\n"membranes.head.area_um2" = [0.01, -1.0]\n', "physical range"),
    ('[sweep]\n"membranes.head.area_um2" = []\n', "non-empty list"),
    ('[sweep]\nmode = "grid"\n"membranes.head.area_um2" = [1.0]\n', "unknown mode"),
    ('[sweep]\nmode = "zip"\n"membranes.head.area_um2" = [1.0]\n'
     '"compartments.spine.volume_um3" = [1.0, 2.0]\n', "same length"),
])
def test_bad_sweeps_exit_2(tmp_path, bad, msg):
    path = tmp_path / "bad.toml"
    path.write_text(load_scenario("spine_noise").to_toml() + "\n" + bad)
    r = subprocess.run([sys.executable, "-m", "ionmc.cli", "run", str(path), "-o",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2 and msg in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()
