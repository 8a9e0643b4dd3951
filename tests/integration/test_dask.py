"""Runs on Dask (issue 6): the same numbers as a local run, resume across executors, and the
errors of `--dask` / `--scheduler` (one line, exit 2, nothing written)."""
import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import ionmc
from ionmc.cli import main

from conftest import default_sigint, make

distributed = pytest.importorskip("distributed")


SPINE = dict(factor=0.25, method="ssa", duration=0.05, dt=0.005)


CLI_SPINE = ["spine_noise", "--duration", "0.05", "--set", "scenario.record_interval_s=0.005",
             "--set", "compartments.spine.volume_um3=0.005",
             "--set", "compartments.ecs.volume_um3=250.0",
             "--set", "membranes.head.area_um2=0.1"]


SRC = str(Path(ionmc.__file__).resolve().parents[1])  # the ionmc these tests import


def env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [SRC] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))


def read(out):
    return pd.read_parquet(Path(out) / "timeseries").sort_values(["replicate", "time_s"]) \
        .reset_index(drop=True)


def digests(out):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((Path(out) / "timeseries").glob("part-*.parquet"))}


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The reference: 4 replicates in this process (which also fills the Numba cache that
    the Dask workers then load)."""
    out = tmp_path_factory.mktemp("local") / "out"
    return ionmc.run(make("spine_noise", replicates=4, **SPINE), out, workers=1)


@pytest.fixture(scope="module")
def cluster(local):
    """2 worker processes, 1 thread each; they inherit os.environ, so PYTHONPATH names the
    ionmc under test."""
    import logging

    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env()["PYTHONPATH"]
    try:
        cl = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None,
                                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                      silence_logs=logging.ERROR)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    client = distributed.Client(cl, set_as_default=False)
    yield cl, client
    client.close()
    cl.close()


def test_workers_import_the_ionmc_under_test(cluster):
    _, client = cluster
    files = client.run(lambda: __import__("ionmc").__file__)
    assert len(files) == 2
    assert {str(Path(f).resolve()) for f in files.values()} == {str(Path(ionmc.__file__).resolve())}


def test_workers_with_other_sources_are_refused(cluster, monkeypatch):
    from ionmc import numba_conf
    from ionmc.runs.cluster import _check_workers

    _, client = cluster
    _check_workers(client, "--scheduler X")  # the same sources: fine
    monkeypatch.setattr(numba_conf, "SOURCE_DIGEST", "000000000000")
    with pytest.raises(ionmc.InputError, match="worker tcp://.* runs other ionmc sources"):
        _check_workers(client, "--scheduler X")


def test_dask_same_numbers_as_local_and_resume_across_executors(local, cluster, tmp_path):
    cl, client = cluster
    out = tmp_path / "out"
    # 2 replicates through the Python API on the cluster's executor ...
    ionmc.run(make("spine_noise", replicates=2, **SPINE), out,
              executor=client.get_executor(pure=False), executor_label="test cluster")
    first = digests(out)
    assert sorted(first) == ["part-00000.parquet", "part-00001.parquet"]
    # ... then 4 through the CLI on the same cluster: only the 2 missing ones are submitted
    r = subprocess.run([sys.executable, "-m", "ionmc.cli", "run", *CLI_SPINE, "-o", str(out),
                        "--replicates", "4", "--scheduler", cl.scheduler_address],
                       env=env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    # in a pipe: its start, replicate and finish lines (and a compile notice when the
    # sources changed), nothing else (no warnings)
    assert [line.split()[1] for line in r.stderr.splitlines()
            if not line.startswith("ionmc: compiling")] == \
        ["running", "replicate", "replicate", "finished"], r.stderr
    assert {k: v for k, v in digests(out).items() if k in first} == first
    pd.testing.assert_frame_equal(read(out), read(local), check_exact=True)
    assert digests(out) == digests(local)  # bit for bit, file by file
    man = json.loads((out / "manifest.json").read_text())
    assert man["complete"] and man["missing"] == []
    assert man["executor"] == f"dask scheduler {cl.scheduler_address} (2 workers)"
    assert [man["replicates"][str(k)]["executor"] for k in range(4)] == \
        ["test cluster"] * 2 + [man["executor"]] * 2
    assert json.loads((local / "manifest.json").read_text())["executor"] == "local process"
    assert not list((out / "timeseries").glob("*.tmp"))


def test_embedded_local_cluster(local, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PYTHONPATH", env()["PYTHONPATH"])
    out = tmp_path / "out"
    code = main(["run", *CLI_SPINE, "-o", str(out), "--replicates", "4", "--dask",
                 "--workers", "2"])
    assert code == 0
    assert digests(out) == digests(local)
    man = json.loads((out / "manifest.json").read_text())
    assert man["executor"].startswith("dask LocalCluster tcp://") and "(2 workers)" in \
        man["executor"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    addr = f"tcp://127.0.0.1:{free_port()}"
    r = subprocess.run([sys.executable, "-m", "ionmc.cli", "run", *CLI_SPINE, "-o", str(out),
                        "--scheduler", addr], env=env(), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ionmc: error: --scheduler {addr}: ")
    assert "dask scheduler" in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("args", [["--dask"], ["--scheduler", "tcp://127.0.0.1:8786"]])
def test_without_dask_installed(tmp_path, monkeypatch, capsys, args):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    out = tmp_path / "out"
    assert main(["run", *CLI_SPINE, "-o", str(out), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "install ionmc[dask]" in err[0] and args[0] in err[0]
    assert not out.exists()


def test_option_errors(tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["run", *CLI_SPINE, "-o", str(out), "--dask", "--scheduler", "tcp://h:1"])
    assert exc.value.code == 2 and "not allowed with" in capsys.readouterr().err
    assert main(["run", *CLI_SPINE, "-o", str(out), "--scheduler", "tcp://h:1",
                 "--workers", "2"]) == 2
    assert "--workers" in capsys.readouterr().err
    assert main(["run", *CLI_SPINE, "-o", str(out), "--scheduler", "nonsense"]) == 2
    assert "not a scheduler address" in capsys.readouterr().err
    assert not out.exists()


def test_interrupted_dask_run_says_what_is_missing_and_resumes(tmp_path):
    import signal
    import time

    out = tmp_path / "out"
    args = [sys.executable, "-m", "ionmc.cli", "run", *CLI_SPINE, "-o", str(out),
            "--replicates", "40", "--dask", "--workers", "2"]
    p = subprocess.Popen(args, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         preexec_fn=default_sigint, text=True)
    ts = out / "timeseries"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(ts.glob("part-*.parquet"))) < 2:
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    err = p.communicate(timeout=60)[1]
    # one line says what happened, after the run's start and replicate lines
    lines = err.strip().splitlines()
    assert p.returncode == 130 and lines[-1].startswith("ionmc: interrupted"), err
    assert all(line.split()[1] in ("compiling", "running", "replicate")
               for line in lines[:-1]), err
    done = sorted(int(f.name[5:10]) for f in ts.glob("part-*.parquet"))
    assert 2 <= len(done) < 40
    man = json.loads((out / "manifest.json").read_text())
    assert not man["complete"] and sorted(set(range(40)) - set(man["missing"])) == done
    r = subprocess.run(args, env=env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    man = json.loads((out / "manifest.json").read_text())
    assert man["complete"] and sorted(int(f.name[5:10]) for f in ts.glob("part-*.parquet")) \
        == list(range(40))
    assert not list(ts.glob("*.tmp"))
    df = pd.read_parquet(ts)
    assert df.groupby("replicate").size().nunique() == 1
