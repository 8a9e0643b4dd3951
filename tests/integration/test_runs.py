"""Runs on disk (issue 3, 'What it must show' 5): seeds, workers, resume, manifest."""
import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import ionmc
from ionmc.cli import main

from conftest import default_sigint, make

SPINE = dict(factor=0.25, method="ssa", duration=0.05, dt=0.005, replicates=4)


def read(out):
    return pd.read_parquet(Path(out) / "timeseries").sort_values(["replicate", "time_s"]) \
        .reset_index(drop=True)


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_same_seed_same_numbers_whatever_the_workers(tmp_path):
    a = ionmc.run(make("spine_noise", **SPINE), tmp_path / "a", workers=1)
    b = ionmc.run(make("spine_noise", **SPINE), tmp_path / "b", workers=2)
    pd.testing.assert_frame_equal(read(a), read(b), check_exact=True)
    for k in range(4):
        name = f"timeseries/part-{k:05d}.parquet"
        assert digest(a / name) == digest(b / name)
    c = ionmc.run(make("spine_noise", seed=2, **SPINE), tmp_path / "c", workers=2)
    assert not read(a)["spine.Na.count"].equals(read(c)["spine.Na.count"])
    # replicates differ from each other, and replicate k can be re-run alone
    df = read(a)
    r0, r1 = (df[df.replicate == k]["spine.Na.count"].to_numpy() for k in (0, 1))
    assert (r0 != r1).any()
    alone, _ = ionmc.simulate(make("spine_noise", **SPINE), 3)
    pd.testing.assert_frame_equal(alone.reset_index(drop=True),
                                  df[df.replicate == 3].reset_index(drop=True),
                                  check_exact=True)
    man = json.loads((a / "manifest.json").read_text())
    assert man["complete"] and man["seed"] == 1 and man["method"] == "ssa"
    assert [s["spawn_key"] for s in man["replicate_seeds"]] == [[0], [1], [2], [3]]
    assert all(r["status"] == "done" for r in man["replicates"].values())
    for key in ("numpy", "numba", "pandas", "pyarrow", "python"):
        assert key in man["versions"]


def test_resume_extends_and_refuses_a_different_run(tmp_path, capsys):
    out = tmp_path / "out"
    ionmc.run(make("spine_noise", **dict(SPINE, replicates=2)), out, workers=1)
    before = {k: digest(out / f"timeseries/part-{k:05d}.parquet") for k in (0, 1)}
    ionmc.run(make("spine_noise", **SPINE), out, workers=2)
    assert {k: digest(out / f"timeseries/part-{k:05d}.parquet") for k in (0, 1)} == before
    full = ionmc.run(make("spine_noise", **SPINE), tmp_path / "full", workers=1)
    pd.testing.assert_frame_equal(read(out), read(full), check_exact=True)
    for args in (["--seed", "9"], ["--method", "tau-leap"], ["--set", "scenario.temperature_K=300"]):
        code = main(["run", "spine_noise", "-o", str(out), "--duration", "0.05",
                     "--set", "scenario.record_interval_s=0.005", *args])
        err = capsys.readouterr().err
        assert code == 2 and "manifest.json" in err and len(err.strip().splitlines()) == 1


def test_refuses_a_foreign_outdir(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["run", "donnan", "-o", str(out), "--duration", "1"]) == 2
    assert "not an ionmc output directory" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("sig,workers", [(signal.SIGKILL, 1), (signal.SIGINT, 1),
                                         (signal.SIGINT, 2)])
def test_interrupted_run_keeps_finished_replicates_and_resumes(tmp_path, sig, workers):
    out = tmp_path / "out"
    ionmc_bin = [sys.executable, "-m", "ionmc.cli"]
    args = ["run", "spine_noise", "-o", str(out), "--replicates", "40", "--workers", str(workers),
            "--duration", "0.05", "--set", "scenario.record_interval_s=0.005"]
    p = subprocess.Popen(ionmc_bin + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         preexec_fn=default_sigint)
    ts = out / "timeseries"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(ts.glob("part-*.parquet"))) < 2:
        time.sleep(0.05)
    p.send_signal(sig)
    p.wait(timeout=60)
    done = sorted(ts.glob("part-*.parquet"))
    assert 2 <= len(done) < 40
    sums = {f.name: digest(f) for f in done}
    for f in done:  # every part left behind is whole
        pd.read_parquet(f)
    man = json.loads((out / "manifest.json").read_text())
    assert not man["complete"] and man["missing"]
    if sig == signal.SIGINT:  # the manifest says exactly what is missing
        assert sorted(int(f.name[5:10]) for f in done) == \
            sorted(set(range(40)) - set(man["missing"]))
    code = subprocess.run(ionmc_bin + args, capture_output=True).returncode
    assert code == 0
    parts = sorted(ts.glob("part-*.parquet"))
    assert [f.name for f in parts] == [f"part-{k:05d}.parquet" for k in range(40)]
    assert not list(ts.glob("*.tmp"))
    assert all(digest(ts / n) == s for n, s in sums.items())
    df = pd.read_parquet(ts)
    assert sorted(df.replicate.unique()) == list(range(40))
    assert df.groupby("replicate").size().nunique() == 1
    man = json.loads((out / "manifest.json").read_text())
    assert man["complete"] and man["missing"] == []
