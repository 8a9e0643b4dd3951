"""Engine speed and first-run compile time of two git revisions, measured in one session.

Each revision is checked out into a temporary worktree and run from its own source
(PYTHONPATH) with this venv. Then, interleaved A, B, A, B, ...:

1. `benchmarks/bench_engine.py --repeats 3` of each revision (its own copy of the script):
   SSA events/s as a ratio to a hand-written SSA in the same process, tau-leap and ode
   wall times of pump_block over 600 s;
2. first-run compile time per method (`bench_compile.first_run`: a fresh process with an
   empty NUMBA_CACHE_DIR runs pump_block briefly, less the same run from the cache it
   left).

Medians over `--rounds` are printed as a table (Markdown) for docs/performance.md.

usage: python benchmarks/compare_revisions.py OLD NEW [--rounds 5]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_compile import DURATIONS, first_run  # noqa: E402
PATTERNS = {
    "ssa_ratio": r"ratio ionmc / hand\s+([\d.]+)",
    "tau-leap_s": r"pump_block, tau-leap, 600 s biological: ([\d.]+) s",
    "ode_s": r"pump_block, ode, 600 s biological: ([\d.]+) s",
}


def run(tree, args, env=None):
    e = dict(os.environ, PYTHONPATH=str(Path(tree) / "src"), **(env or {}))
    out = subprocess.run([sys.executable, *args], cwd=tree, env=e, check=True,
                         capture_output=True, text=True)
    return out.stdout


def bench(tree, cache):
    out = run(tree, ["benchmarks/bench_engine.py", "--repeats", "3"],
              {"NUMBA_CACHE_DIR": cache})
    return {k: float(re.search(p, out).group(1)) for k, p in PATTERNS.items()}


def compile_times(tree):
    res = {}
    for method in DURATIONS:
        cold, warm = first_run(Path(tree) / "src", method)
        res[f"compile_{method}_s"] = cold - warm
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ionmc-compare-"))
    trees = {}
    for label, rev in (("old", a.old), ("new", a.new)):
        trees[label] = tmp / label
        subprocess.run(["git", "worktree", "add", "--detach", str(trees[label]), rev],
                       cwd=ROOT, check=True, capture_output=True)
    caches = {k: str(tmp / f"cache-{k}") for k in trees}
    for k in trees:  # warm each revision's cache once
        bench(trees[k], caches[k])
    rows = {k: [] for k in trees}
    try:
        for r in range(a.rounds):
            for k in trees:
                t0 = time.perf_counter()
                rows[k].append({**bench(trees[k], caches[k]), **compile_times(trees[k])})
                print(f"round {r + 1} {k}: {rows[k][-1]} ({time.perf_counter() - t0:.0f} s)",
                      flush=True)
    finally:
        for t in trees.values():
            subprocess.run(["git", "worktree", "remove", "--force", str(t)], cwd=ROOT)
    keys = list(rows["old"][0])
    print(f"\n| quantity (median of {a.rounds} interleaved rounds) | {a.old} | {a.new} | new/old |")
    print("|---|---|---|---|")
    for key in keys:
        o = statistics.median(x[key] for x in rows["old"])
        n = statistics.median(x[key] for x in rows["new"])
        print(f"| {key} | {o:.3g} | {n:.3g} | {n / o:.3f} |")


if __name__ == "__main__":
    main()
