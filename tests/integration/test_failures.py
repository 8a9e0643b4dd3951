"""A finite, physical result or a failure that says where: the inputs that used to exit 0
with impossible numbers in the Parquet, or hang the SSA, now end with exit 1 and one line
naming the mechanism and the time (later, bad ranges exit 2 before anything runs), and
nothing half-written is left as a finished part."""
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "ionmc.cli"]
METHODS = ("ssa", "tau-leap", "ode")


def _cli(tmp_path, scenario, method, *sets, duration="0.01"):
    out = tmp_path / f"{method}"
    args = ["run", scenario, "-o", str(out), "--method", method, "--duration", duration]
    for s in sets:
        args += ["--set", s]
    # a hang is the failure this guards against: the timeout turns it into a test failure
    res = subprocess.run(CLI + args, capture_output=True, text=True, timeout=240)
    return res, out


def _one_line_failure(res, *words):
    err = res.stderr.strip().splitlines()
    assert res.returncode == 1, res.stderr
    assert len(err) == 1 and "Traceback" not in res.stderr, res.stderr
    for w in words:
        assert w in err[0], err[0]


@pytest.mark.parametrize("method", METHODS)
def test_an_overflowing_rate_ends_the_run_naming_its_mechanism(tmp_path, method):
    """A leak permeability of 1e300 cm/s: its rate is inf. The SSA used to loop forever
    (tau = 0); every method now stops with the mechanism and the time."""
    res, out = _cli(tmp_path, "spine_noise", method,
                    "mechanisms.K_leak.permeability_cm_per_s=1e300")
    _one_line_failure(res, "K_leak", "t =")
    assert not list((out / "timeseries").glob("part-*.parquet"))


@pytest.mark.parametrize("method", METHODS)
def test_a_unit_slip_in_a_clamp_never_exits_0_with_nan(tmp_path, method):
    """clamp_mV = -70000 (mV meant as µV): the pump's state probabilities overflow. It used
    to exit 0 with counts of -9223372036854775808 and G = inf."""
    res, out = _cli(tmp_path, "spine_noise", method, "membranes.head.clamp_mV=-70000.0")
    _one_line_failure(res, "pump")
    assert not list((out / "timeseries").glob("part-*.parquet"))
