"""Ensembles on one machine (issue 6, 'What it must show' 2), measured not asserted:

1. Scaling: the same SSA ensemble on 1 and on 2 workers (Numba cache warmed first, so
   neither pays compilation); speed-up = wall(1) / wall(2). Must be >= 1.8 for an ensemble
   that takes >= 60 s on 1 worker.
2. Memory: a 10-minute tau-leap run of pump_block recorded every 1 ms (600,001 rows written
   to Parquet in row groups) in this process; peak RSS growth above the post-import
   baseline, sampled every 10 ms. Must stay under 50 MB.

usage: python benchmarks/bench_ensemble.py [--replicates 8] [--duration 7.0]
"""
import argparse
import shutil
import threading
import time
from pathlib import Path

import ionmc
from ionmc.scenario import load_scenario


def rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def scaling(replicates, duration, work):
    sc = load_scenario("spine_noise", [f"scenario.replicates={replicates}",
                                       "scenario.record_interval_s=0.01"], duration=duration)
    ionmc.simulate(load_scenario("spine_noise", duration=0.001))  # warm the cache
    walls = {}
    for w in (1, 2):
        out = work / f"w{w}"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        ionmc.run(sc, out, workers=w, progress=False)
        walls[w] = time.perf_counter() - t0
    print(f"spine_noise SSA, {replicates} replicates x {duration} s: 1 worker {walls[1]:.1f} s, "
          f"2 workers {walls[2]:.1f} s, speed-up {walls[1] / walls[2]:.2f}")


def memory(work):
    sc = load_scenario("pump_block", ["scenario.record_interval_s=0.001"], duration=600.0)
    ionmc.simulate(load_scenario("pump_block", duration=0.01))  # compile, import everything
    base = rss_mb()
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.01)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out = work / "mem"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    ionmc.run(sc, out, workers=1, progress=False)
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    size = sum(p.stat().st_size for p in (out / "timeseries").glob("*.parquet")) / 1e6
    print(f"pump_block tau-leap 600 s at 1 ms (600,001 rows, {size:.0f} MB Parquet, {wall:.1f} s): "
          f"peak RSS {peak[0] - base:+.1f} MB above the post-import baseline of {base:.0f} MB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=8)
    ap.add_argument("--duration", type=float, default=7.0)
    ap.add_argument("--workdir", default="/tmp/ionmc-bench-ensemble")
    a = ap.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    memory(work)
    scaling(a.replicates, a.duration, work)


if __name__ == "__main__":
    main()
