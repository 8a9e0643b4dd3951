"""Report build time and size (issue 7, 'What it must show' 2): a 1-replicate 10-minute run
and a 200-replicate ensemble, each must build in under 30 s on 2 cores and stay < 10 MB;
and a long, many-column run (edNEGmodel's 36 pA case: 60,001 rows, 245 columns drawn).
The simulations are not timed; only `ionmc.analysis.report.build` is. First, the
percentiles the report takes over replicates, against numpy's nanpercentile (its
per-column Python loop made that run's report take 17 minutes).

usage: python benchmarks/bench_report.py [--replicates 200] [--workdir /tmp/ionmc-bench-report]
"""
import argparse
import shutil
import time
from pathlib import Path

import numpy as np

import ionmc
from ionmc.analysis.report import build
from ionmc.analysis.tables import quantiles
from ionmc.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def timed_report(outdir):
    t0 = time.perf_counter()
    path = build(outdir)
    return time.perf_counter() - t0, path.stat().st_size


def quantile_ratio(shape, repeats=3):
    """(seconds of np.nanpercentile, of tables.quantiles) over replicates x times `shape`,
    best of `repeats`; the two agree exactly."""
    v = np.random.default_rng(1).normal(size=shape)
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for k, f in enumerate((lambda: np.nanpercentile(v, [5, 50, 95], axis=0),
                               lambda: quantiles(v))):
            t0 = time.perf_counter()
            q = f()
            best[k] = min(best[k], time.perf_counter() - t0)
        assert np.array_equal(q, np.nanpercentile(v, [5, 50, 95], axis=0))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--workdir", default="/tmp/ionmc-bench-report")
    a = ap.parse_args()
    work = Path(a.workdir)
    shutil.rmtree(work, ignore_errors=True)
    for shape in ((1, 60001), (200, 101)):
        slow, fast = quantile_ratio(shape)
        print(f"percentiles over {shape[0]} replicate(s) x {shape[1]} times: nanpercentile "
              f"{slow * 1e3:.1f} ms, tables.quantiles {fast * 1e3:.2f} ms ({slow / fast:.0f}x)")
    edneg = load_scenario(str(ROOT / "results" / "ednegmodel" / "ednegmodel.toml"))
    ionmc.run(edneg, work / "edneg", progress=False)
    long = load_scenario("pump_block", ["scenario.record_interval_s=0.1"], duration=600.0)
    ionmc.run(long, work / "long", progress=False)
    ens = load_scenario("spine_noise", ["scenario.method='ssa'",
                                        f"scenario.replicates={a.replicates}",
                                        "scenario.record_interval_s=0.002"], duration=0.2)
    t0 = time.perf_counter()
    ionmc.run(ens, work / "ensemble", progress=False)
    sim = time.perf_counter() - t0
    for label, d in (("pump_block, 1 replicate, 600 s at 0.1 s (6001 rows)", work / "long"),
                     ("ednegmodel, 1 replicate, 30 s at 0.5 ms (60001 rows)", work / "edneg"),
                     (f"spine_noise, {a.replicates} replicates x 101 rows (sim {sim:.0f} s)",
                      work / "ensemble")):
        t, size = timed_report(d)
        print(f"{label}: report built in {t:.1f} s, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
