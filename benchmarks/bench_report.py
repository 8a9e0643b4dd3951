"""Report build time and size (issue 7, 'What it must show' 2): a 1-replicate 10-minute run
and a 200-replicate ensemble, each must build in under 30 s on 2 cores and stay < 10 MB.
The simulations are not timed; only `ionmc.analysis.report.build` is.

usage: python benchmarks/bench_report.py [--replicates 200] [--workdir /tmp/ionmc-bench-report]
"""
import argparse
import shutil
import time
from pathlib import Path

import ionmc
from ionmc.analysis.report import build
from ionmc.scenario import load_scenario


def timed_report(outdir):
    t0 = time.perf_counter()
    path = build(outdir)
    return time.perf_counter() - t0, path.stat().st_size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--workdir", default="/tmp/ionmc-bench-report")
    a = ap.parse_args()
    work = Path(a.workdir)
    shutil.rmtree(work, ignore_errors=True)
    long = load_scenario("pump_block", ["scenario.record_interval_s=0.1"], duration=600.0)
    ionmc.run(long, work / "long", progress=False)
    ens = load_scenario("spine_noise", ["scenario.method='ssa'",
                                        f"scenario.replicates={a.replicates}",
                                        "scenario.record_interval_s=0.002"], duration=0.2)
    t0 = time.perf_counter()
    ionmc.run(ens, work / "ensemble", progress=False)
    sim = time.perf_counter() - t0
    for label, d in (("pump_block, 1 replicate, 600 s at 0.1 s (6001 rows)", work / "long"),
                     (f"spine_noise, {a.replicates} replicates x 101 rows (sim {sim:.0f} s)",
                      work / "ensemble")):
        t, size = timed_report(d)
        print(f"{label}: report built in {t:.1f} s, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
