"""OUTDIR as a hostile user meets it: two runs into one directory, a run killed at any
instant (before its first part included), temporary parts beside finished ones, a swapped
scenario.toml, a manifest of the wrong shape, Unicode in the scenario's name, more
workers than replicates, and numerical warnings summarised in one line."""
import json
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from ionmc.cli import main
from ionmc.errors import WarningTally
from ionmc.runs.runner import LOCK_NAME

SMALL = ["--duration", "0.05", "--set", "scenario.record_interval_s=0.005"]
CLI = [sys.executable, "-m", "ionmc.cli"]

HOLD = """import sys, time
from pathlib import Path
from ionmc.runs.runner import outdir_lock
with outdir_lock(Path(sys.argv[1])):
    print("holding", flush=True)
    time.sleep(120)
"""


def _run(out, *extra):
    return main(["run", "spine_noise", "-o", str(out), *SMALL, *extra])


def _frame(out):
    return pd.read_parquet(out / "timeseries").sort_values(["replicate", "time_s"]) \
        .reset_index(drop=True)


def test_a_second_run_into_a_locked_outdir_exits_2_naming_the_holder(tmp_path, capsys):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert _run(out) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"pid {holder.pid}" in err
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # nothing written
    finally:
        holder.kill()
        holder.wait()
    assert _run(out) == 0  # the lock went with its process


@pytest.mark.parametrize("leftover", ["lock", "manifest_tmp", "manifest_only"])
def test_a_run_killed_before_its_first_part_resumes(tmp_path, leftover):
    """What a kill can leave before any part exists: the lock, a manifest half-written,
    the manifest alone (no scenario.toml, no timeseries/ yet)."""
    ref = tmp_path / "ref"
    assert _run(ref, "--replicates", "2") == 0
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).write_text("pid 1 on nowhere")
    if leftover == "manifest_tmp":
        (out / "manifest.json.tmp").write_text('{"ionmc_ver')
    if leftover == "manifest_only":
        (out / "manifest.json").write_text((ref / "manifest.json").read_text())
        man = json.loads((ref / "manifest.json").read_text())
        for e in man["replicates"].values():
            e["status"] = "missing"
        (out / "manifest.json").write_text(json.dumps(man))
    assert _run(out, "--replicates", "2") == 0
    pd.testing.assert_frame_equal(_frame(out), _frame(ref), check_exact=True)


def test_killed_at_random_instants_always_resumes_to_the_same_numbers(tmp_path):
    """SIGKILL at instants spread over start-up (import, checks, manifest, first parts);
    seeded, so the instants are the same in every CI run."""
    ref = tmp_path / "ref"
    args = ["run", "spine_noise", "--replicates", "6", "--workers", "1", *SMALL]
    assert subprocess.run(CLI + args + ["-o", str(ref)], capture_output=True).returncode == 0
    rng = np.random.default_rng(18)
    for i, delay in enumerate(np.sort(rng.uniform(0.05, 3.0, 6))):
        out = tmp_path / f"k{i}"
        p = subprocess.Popen(CLI + args + ["-o", str(out)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()
        if out.exists() and (out / "timeseries").is_dir():
            # what a reader sees meanwhile: finished parts only, never a temporary one
            parts = list((out / "timeseries").glob("part-*.parquet"))
            if parts:
                assert pd.read_parquet(out / "timeseries").replicate.nunique() == len(parts)
        res = subprocess.run(CLI + args + ["-o", str(out)], capture_output=True, text=True)
        assert res.returncode == 0, (delay, res.stderr)
        pd.testing.assert_frame_equal(_frame(out), _frame(ref), check_exact=True)


def test_temporary_parts_are_hidden_from_readers(tmp_path):
    out = tmp_path / "out"
    assert _run(out, "--replicates", "2") == 0
    # as a worker killed mid-write leaves it (runner._run_one's name for it)
    (out / "timeseries" / ".part-00001.parquet.host-123.tmp").write_bytes(b"PAR1 half")
    assert pd.read_parquet(out / "timeseries").replicate.nunique() == 2
    assert _run(out, "--replicates", "2") == 0  # and a resume cleans it up
    assert not list((out / "timeseries").glob("*.tmp"))


def test_unicode_in_the_scenario_name_round_trips(tmp_path):
    out = tmp_path / "out"
    assert _run(out, "--set", 'scenario.name="spine 🧠"') == 0
    assert 'name = "spine 🧠"' in (out / "scenario.toml").read_text(encoding="utf-8")
    assert main(["report", str(out)]) == 0


def test_report_refuses_a_swapped_scenario_toml(tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(out) == 0
    capsys.readouterr()  # the run's own progress lines
    p = out / "scenario.toml"
    p.write_text(p.read_text().replace("temperature_K = 310.0", "temperature_K = 300.0"))
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "scenario_hash" in err


@pytest.mark.parametrize("text", ["[1, 2]", '{"replicates": 3}', "\xff\xfe"])
def test_a_manifest_of_the_wrong_shape_exits_2(tmp_path, capsys, text):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_bytes(text.encode("latin-1"))
    assert _run(out) == 2
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("manifest" in e for e in err)


def test_workers_are_capped_by_replicates(tmp_path):
    out = tmp_path / "out"
    assert _run(out, "--replicates", "2", "--workers", "40") == 0
    assert json.loads((out / "manifest.json").read_text())["executor"] == \
        "local processes (2)"


def test_numerical_warnings_are_counted_into_one_line():
    with WarningTally() as t:
        for _ in range(3):
            np.exp(np.array([1000.0]))
        warnings.warn("lsoda-- at t (=r1) and step size h (=r2), the\n corrector", UserWarning)
    assert sum(t.counts.values()) == 4 and len(t.counts) == 2
    line = t.summary()
    assert "\n" not in line and line.startswith("4 numerical warning(s)") and "(3x)" in line
