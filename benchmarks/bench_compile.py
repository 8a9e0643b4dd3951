"""First-run compile time per method: what a new user waits for before the first number.

For each method, a fresh Python process with an empty Numba cache (its own
NUMBA_CACHE_DIR) imports ionmc and runs `pump_block` briefly (`COLD`); then a second fresh
process runs the same with the cache the first one left (`WARM`). The compile time is
cold - warm: import, model building and the simulation itself are in both, so what is
left is compilation (and loading from the cache). The runs are short (ssa 0.1 ms of
biological time, tau-leap and ode 10 ms) so that the simulation is a small part of either.

The machine's load (1-minute average) is printed with each row: compile time is CPU time
on one core, and a second busy process on a 2-core machine stretches it.

usage: python benchmarks/bench_compile.py [--rounds 3] [--methods ssa tau-leap ode]
       (`compare_revisions.py` uses `first_run` for two revisions)
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from ionmc.warmup import DURATIONS  # what each method runs: reaches every kernel, briefly

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import time, sys
t0 = time.perf_counter()
import ionmc
from ionmc.scenario import load_scenario
m, d = sys.argv[1], float(sys.argv[2])
ionmc.simulate(load_scenario("pump_block", [("scenario.method", m)], duration=d))
print(time.perf_counter() - t0)
"""


def _timed(src, method, cache):
    env = dict(os.environ, PYTHONPATH=str(src), NUMBA_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", SCRIPT, method, str(DURATIONS[method])],
                         env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def first_run(src, method):
    """(cold, warm) wall seconds of a fresh process running `method` from the package
    source directory `src`: with an empty Numba cache, then with the one it left."""
    with tempfile.TemporaryDirectory() as cache:
        cold = _timed(src, method, cache)
        warm = _timed(src, method, cache)
    return cold, warm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--methods", nargs="+", default=list(DURATIONS))
    a = ap.parse_args()
    res = {m: [] for m in a.methods}
    for r in range(a.rounds):
        for m in a.methods:
            load = os.getloadavg()[0]
            cold, warm = first_run(ROOT / "src", m)
            res[m].append(cold - warm)
            print(f"round {r + 1} {m}: cold {cold:.1f} s, warm {warm:.1f} s, compile "
                  f"{cold - warm:.1f} s (load {load:.2f})", flush=True)
    print(f"\n| method | first-run compile, s (median of {a.rounds}) | range |")
    print("|---|---|---|")
    for m, v in res.items():
        print(f"| {m} | {statistics.median(v):.1f} | {min(v):.1f}-{max(v):.1f} |")


if __name__ == "__main__":
    main()
