"""A first run that explains itself: the compile notice (only when the cache lacks the
method's kernels), a bar whose clock moves and whose time left ignores the first update,
start/replicate/finish lines without a terminal, the final state and the next command,
"already complete" for a finished run, and `ionmc report` saying it is working."""
import io
import json
import os
import re
import subprocess
import sys
import time

import pytest

from ionmc.cli import main
from ionmc.runs import progress as prog
from ionmc.runs import runner

SMALL = ["--duration", "0.01", "--set", "scenario.record_interval_s=0.005"]


def test_a_run_in_a_pipe_says_start_each_replicate_finish_and_what_next(capsys, tmp_path):
    out = tmp_path / "o"
    assert main(["run", "spine_noise", "-o", str(out), *SMALL, "--replicates", "3",
                 "--workers", "1"]) == 0
    cap = capsys.readouterr()
    # (a compile notice first when ionmc's sources changed since the cache was filled)
    err = [e for e in cap.err.splitlines() if not e.startswith("ionmc: compiling")]
    assert err[0].startswith("ionmc: running spine_noise: 3 replicates, ssa, 0.01 s "
                             "simulated each")
    done = [e for e in err if re.match(r"ionmc: replicate \d finished \(\d/3, ", e)]
    assert len(done) == 3
    # (and the time compiling apart, when sources changed)
    assert re.fullmatch(r"ionmc: finished spine_noise: 3 replicates in [\d.]+ s wall time"
                        r"( \(\+ [\d.]+ s compiling kernels, first run only\))?", err[-1])
    lines = cap.out.splitlines()
    final = next(line for line in lines if "final state" in line)
    # mean +- SD of the three replicates' last rows, as the manifest holds them
    man = json.loads((out / "manifest.json").read_text())
    v = [r["final"]["head.V_mV"] for r in man["replicates"].values()]
    assert len(v) == 3 and f"V(head) {sum(v) / 3:#.4g} +- " in final
    assert "; spine: Na " in final and ", K " in final and final.endswith(" mM")
    assert lines[-1] == f"ionmc: next: ionmc report {out}"
    assert any(line.startswith("ionmc: wrote ") for line in lines)


def test_a_finished_run_again_is_nothing_to_do(capsys, tmp_path):
    out = tmp_path / "o"
    args = ["run", "spine_noise", "-o", str(out), *SMALL, "--replicates", "1"]
    assert main(args) == 0
    capsys.readouterr()
    before = (out / "timeseries" / "part-00000.parquet").stat().st_mtime_ns
    assert main(args) == 0
    cap = capsys.readouterr()
    assert cap.err.strip() == f"ionmc: {out}: already complete (1 replicate), nothing to do"
    assert "wrote" not in cap.out and f"next: ionmc report {out}" in cap.out
    assert (out / "timeseries" / "part-00000.parquet").stat().st_mtime_ns == before


def test_the_python_api_stays_silent_without_a_terminal(capsys, tmp_path):
    import ionmc
    from ionmc.scenario import load_scenario

    sc = load_scenario("spine_noise", ["scenario.replicates=1"], duration=0.01)
    ionmc.run(sc, tmp_path / "o")
    assert capsys.readouterr().err == ""


def test_the_compile_notice_comes_when_the_cache_lacks_the_kernels(capsys, tmp_path,
                                                                  monkeypatch):
    # an empty cache directory: Numba's index for the method's outermost kernel is empty
    # (a subprocess: CACHE_DIR is fixed when ionmc is imported)
    code = ("from ionmc.runs.runner import needs_compiling; "
            "print([needs_compiling(m) for m in ('ssa', 'tau-leap', 'ode')])")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "empty-cache"))
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert res.stdout.strip() == "[True, True, True]"
    # after a run here, this process's cache has the ssa kernels: no notice the next time
    assert main(["run", "spine_noise", "-o", str(tmp_path / "a"), *SMALL,
                 "--replicates", "1"]) == 0
    assert not runner.needs_compiling("ssa")
    capsys.readouterr()
    assert main(["run", "spine_noise", "-o", str(tmp_path / "a2"), *SMALL,
                 "--replicates", "1"]) == 0
    assert "compiling" not in capsys.readouterr().err
    # and the notice when it lacks them, before the run starts
    monkeypatch.setattr(runner, "needs_compiling", lambda method: True)
    assert main(["run", "spine_noise", "-o", str(tmp_path / "b"), *SMALL,
                 "--replicates", "1"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("ionmc: compiling the ssa kernels (first run only")
    assert err[1].startswith("ionmc: running spine_noise")


def test_bad_input_keeps_its_one_line_when_kernels_would_compile(capsys, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(runner, "needs_compiling", lambda method: True)
    out = tmp_path / "o"
    # found at set-up (the SSA's event estimate), after the notice would have been due
    assert main(["run", "spine_noise", "-o", str(out), "--duration", "1", "--set",
                 "membranes.head.area_um2=300", "--replicates", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scenario.method" in err[0]
    assert not out.exists()


class _Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_the_bars_time_left_ignores_the_first_update(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(prog.time, "perf_counter", clock)
    bar = prog.Bar("x", 100.0, by_time=True, compiling=True)
    try:
        assert bar._left(0) == "compiling"
        clock.t += 90  # a first chunk that was mostly compilation: 1 s of 100 in 90 s
        bar.update(1.0)
        assert bar._left(1.0) == "left ?"  # not 99 * 90 s
        clock.t += 2  # then 10 s simulated in 2 s of wall time
        bar.update(11.0)
        assert bar._left(11.0) == "~18 s left"  # 89 s at 5 s/s
        assert "11/100 s simulated" in str(bar._bar)
    finally:
        bar.close()


def test_the_bar_is_redrawn_while_nothing_finishes(monkeypatch):
    monkeypatch.setattr(prog.Bar, "REDRAW_S", 0.05)
    buf = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buf)
    bar = prog.Bar("x", 10.0, by_time=True)
    bar.start_redraw()
    drawn = buf.getvalue().count("\r")
    deadline = time.monotonic() + 30
    while buf.getvalue().count("\r") < drawn + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    bar.close()
    assert buf.getvalue().count("\r") >= drawn + 3  # with no update at all


def test_wall_times_read_like_a_person_would_say_them():
    assert [prog.wall(s) for s in (0.42, 12.4, 185, 3725)] == \
        ["0.4 s", "12 s", "3 min 05 s", "1 h 02 min"]


def test_report_says_it_is_working(capsys, tmp_path, monkeypatch):
    import ionmc.analysis.report as report
    import ionmc.cli as cli

    def slow_build(outdir, out, fmt, point):
        time.sleep(0.5)
        return tmp_path / "report.html"

    monkeypatch.setattr(report, "build", slow_build)
    monkeypatch.setattr(cli, "REPORT_NOTICE_S", 0.05)
    assert main(["report", str(tmp_path)]) == 0
    cap = capsys.readouterr()
    assert cap.err.startswith(f"ionmc: building the html report of {tmp_path}")
    assert cap.out.startswith(f"ionmc: wrote {tmp_path / 'report.html'}")


def test_energetics_reports_both_pump_currents_and_warns(capsys):
    # at 0 mV the resting neuron's pumps (set for -70 mV) do not balance its leaks
    assert main(["energetics", "resting_neuron", "--set",
                 "membranes.soma.initial_potential_mV=0"]) == 0
    out = capsys.readouterr().out
    carry = re.search(r"pump current the scenario's pumps carry \(outward \+\)\s+([\d.]+) pA",
                      out)
    bal = re.search(r"pump current that would balance the Na\+ entry\s+([\d.]+) pA", out)
    assert carry and bal and float(carry[1]) > 2 * float(bal[1])
    assert "warning: not a steady state" in out
    assert main(["energetics", "resting_neuron", "--json", "--set",
                 "membranes.soma.initial_potential_mV=0"]) == 0
    cap = capsys.readouterr()
    soma = json.loads(cap.out)["membranes"]["soma"]
    assert soma["pump_current_pA"] == pytest.approx(float(carry[1]), abs=0.01)
    assert soma["balancing_pump_current_pA"] == pytest.approx(float(bal[1]), abs=0.01)
    assert "ionmc: warning: membrane soma: not a steady state" in cap.err
    # at its designed fixed point: no warning
    assert main(["energetics", "resting_neuron"]) == 0
    assert "warning" not in capsys.readouterr().out


def test_a_sweep_says_its_points_and_which_point_to_report(capsys, tmp_path):
    out = tmp_path / "o"
    assert main(["run", "spine_sweep", "-o", str(out), "--duration", "0.002",
                 "--replicates", "1", "--workers", "1"]) == 0
    cap = capsys.readouterr()
    assert "running spine_sweep: 5 sweep points x 1 replicate, ssa" in cap.err
    assert "ionmc: point 4 replicate 0 finished (5/5, " in cap.err
    assert "final state" not in cap.out  # the points differ on purpose: the report's
    assert cap.out.splitlines()[-1] == \
        f"ionmc: next: ionmc report {out} --point 0   (points 0..4)"


def test_compile_time_is_measured_apart_from_the_run(capsys, tmp_path, monkeypatch):
    """A first run's wall time is mostly compiling: measured apart (Numba's compile
    events), in manifest.json's "compile_s" (the run's and each replicate's) and in the
    finish line as "(+ N s compiling kernels, first run only)"."""
    import numba

    with runner.compile_timer() as took:
        numba.njit(lambda a: a + 1)(1)  # a kernel of its own: compiled here
    assert took() > 0
    with runner.compile_timer() as took:
        pass
    assert took() == 0.0
    # the kernels are in this process now: a run compiles nothing more
    assert main(["run", "spine_noise", "-o", str(tmp_path / "a"), *SMALL, "--replicates", "1"]) == 0
    capsys.readouterr()
    out = tmp_path / "b"
    assert main(["run", "spine_noise", "-o", str(out), *SMALL, "--replicates", "1"]) == 0
    err = capsys.readouterr().err.splitlines()
    man = json.loads((out / "manifest.json").read_text())
    assert man["compile_s"] == 0.0 and man["replicates"]["0"]["compile_s"] == 0.0
    assert re.fullmatch(r"ionmc: finished spine_noise: 1 replicate in [\d.]+ s wall time",
                        err[-1])
    # shown whenever there was compiling (here: any amount)
    monkeypatch.setattr(runner, "COMPILE_SHOWN_S", -1.0)
    assert main(["run", "spine_noise", "-o", str(tmp_path / "c"), *SMALL, "--replicates", "1"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"ionmc: finished spine_noise: 1 replicate in [\d.]+ s wall time "
                        r"\(\+ [\d.]+ s compiling kernels, first run only\)", err[-1])
    assert prog.COMPILE_S == {"ssa": 16, "tau-leap": 26, "ode": 31}
