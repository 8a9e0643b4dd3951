"""Figures of the tissue-scale measurements (docs/performance.md, "Tissue scale").

1. `scaling.png`: wall time per simulated second against the number of units, from the
   tables `bench_tissue.py` printed into results/tissue/*.md (each `### layout, method`
   section's rows), on log-log axes with a line of slope 1 for reference.
2. `sd_front.png`: the excitable variant's spreading depolarisation along a chain of
   `--sd-units` units under ode (a pump block in unit 0 at 0.2 s): the membrane potential
   and K_o of every unit against time, and when each unit crossed -40 mV.

usage: python benchmarks/plot_tissue.py [--dir results/tissue] [--sd-units 60]
         [--sd-duration 15]
"""
import argparse
import re
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import ionmc  # noqa: E402
from ionmc.mechanisms.tissue import ECS_VOLUME_UM3, NEURON_VOLUME_UM3, \
    tissue_scenario  # noqa: E402
from ionmc.scenario import validate  # noqa: E402


def tables(directory):
    """{section title: [(N, run s per simulated s), ...]} from bench_tissue's output (a point
    measured in two files: the first file's, by name)."""
    out = {}
    for path in sorted(Path(directory).glob("*.md")):
        title = None
        for line in path.read_text().splitlines():
            if line.startswith("### "):
                title = line[4:].strip()
                out.setdefault(title, {})
            elif title and re.match(r"\|\s*\d+\s*\|", line) and "skipped" not in line:
                cells = [c.strip() for c in line.strip("|").split("|")]
                out[title].setdefault(int(cells[0]), float(cells[6]))  # first file wins
    return {k: sorted(v.items()) for k, v in out.items() if v}


def scaling_figure(directory):
    fig, ax = plt.subplots(figsize=(7, 5))
    for title, rows in tables(directory).items():
        n, t = np.array(rows).T
        ax.loglog(n, t, "o-", label=title)
    lo, hi = ax.get_xlim()
    x = np.array([10.0, 10000.0])
    ax.loglog(x, 1e-2 * x / 10.0, "k:", label="slope 1 (cost linear in N)")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("units N (22 state variables each, 24 with NaP)")
    ax.set_ylabel("wall s per simulated s")
    ax.set_title("Tissue scale: a run's cost against the number of units (2 cores)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(Path(directory) / "scaling.png", dpi=120)


def sd_figure(directory, units, duration):
    sc = validate(tissue_scenario(units, layout="chain", method="ode", duration_s=duration,
                                  record_interval_s=0.05, block_at_s=0.2, excitable=True),
                  "sd")
    t0 = time.perf_counter()
    df, _ = ionmc.simulate(sc)
    wall = time.perf_counter() - t0
    t = df["time_s"].to_numpy()
    V = df[[f"soma_{i}.V_mV" for i in range(units)]].to_numpy()
    K = df[[f"ecs_{i}.K.mM" for i in range(units)]].to_numpy()
    side_mm = (NEURON_VOLUME_UM3 + ECS_VOLUME_UM3) ** (1 / 3) * 1e-3
    crossed = [t[np.argmax(V[:, i] > -40.0)] if (V[:, i] > -40.0).any() else np.nan
               for i in range(units)]
    ok = [i for i in range(3, units) if np.isfinite(crossed[i])]
    slope = np.polyfit(ok, [crossed[i] for i in ok], 1)[0]
    speed = side_mm / slope * 60.0
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    x = np.arange(units) * side_mm
    for ax, data, label in ((axes[0], V, "V (mV)"), (axes[1], K, "K_o (mM)")):
        im = ax.pcolormesh(x, t, data, shading="auto", cmap="viridis")
        fig.colorbar(im, ax=ax, label=label)
        ax.set_xlabel("distance along the chain (mm)")
        ax.set_ylabel("time (s)")
    axes[0].set_title("membrane potential")
    axes[1].set_title("extracellular K+")
    axes[2].plot(x, crossed, "o", ms=3)
    axes[2].set_xlabel("distance along the chain (mm)")
    axes[2].set_ylabel("time V crossed -40 mV (s)")
    axes[2].set_title(f"front: {speed:.2f} mm/min (SD: 2-5)")
    fig.suptitle(f"Spreading depolarisation: {units}-unit chain with NaP, pump of unit 0 "
                 f"blocked at 0.2 s (ode, {wall:.0f} s wall)")
    fig.tight_layout()
    fig.savefig(Path(directory) / "sd_front.png", dpi=120)
    print(f"sd_front.png: {units} units, {duration:g} s, front {speed:.2f} mm/min, "
          f"{wall:.1f} s wall")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="results/tissue")
    ap.add_argument("--sd-units", type=int, default=60)
    ap.add_argument("--sd-duration", type=float, default=15.0)
    args = ap.parse_args()
    scaling_figure(args.dir)
    sd_figure(args.dir, args.sd_units, args.sd_duration)


if __name__ == "__main__":
    main()
