"""How a run's cost grows with the size of the tissue (issue "Speed, second round", item 5).

A generated tissue (ionmc.mechanisms.tissue: N resting neuron units, each in its own ECS,
neighbouring ECSs coupled by diffusion, the pump of unit 0 blocked at `--block` s) as a
1-D chain and a 2-D grid, run under `ode` and `tau-leap` for a fixed simulated time
through the public API (`ionmc.simulate`). Per point: the number of state variables and
transitions, the build time (validate + Model: what `simulate` pays once before it runs;
measured on its own), the wall time of `simulate` less that build, per simulated second,
and the growth exponent log(t2/t1)/log(N2/N1) between successive N.

Each method is compiled (or its Numba cache loaded) first on a 2-unit tissue and that time
is printed apart. A point is skipped, and the table says so, when the previous N's time
extrapolated with the growth measured so far (the last exponents, at least 1.2) would
exceed `--budget` seconds.

`--excitable` runs the spreading-depolarisation variant (a persistent Na+ current in every
neuron, tissue.py's docstring) and adds the front: how many units it has depolarised past
-40 mV by the end, and its speed along a chain (a line through the times at which units
3 .. the last reached crossed, records every `--record` s).

usage: python benchmarks/bench_tissue.py [--units 10 30 100 300 1000] [--layouts chain grid]
         [--methods ode tau-leap] [--ode-duration 2] [--tau-duration 0.5] [--block 0.1]
         [--budget 180] [--excitable] [--record S]
"""
import argparse
import math
import os
import time

import numpy as np

import ionmc
from ionmc.model import Model
from ionmc.scenario import validate
from ionmc.mechanisms.tissue import ECS_VOLUME_UM3, NEURON_VOLUME_UM3, grid_shape, \
    neighbours, tissue_scenario

#: per unit without an astrocyte: 22 state variables (8 ion counts, the pump's 14 states)
#: and 32 transitions, and 6 per pair of neighbours (3 species, both ways): Model.nx, .nt
NX_PER_UNIT, NT_PER_UNIT, NT_PER_PAIR = 22, 32, 6


def scenario(n, layout, method, duration, block, excitable=False, record=None):
    return validate(tissue_scenario(n, layout=layout, method=method, duration_s=duration,
                                    record_interval_s=record or duration / 4,
                                    block_at_s=block, excitable=excitable),
                    f"tissue {layout} {n}")


def front(df, n, layout):
    """(units past -40 mV at the end, the front's speed in mm/min along a chain or None)."""
    t = df["time_s"].to_numpy()
    crossed = []
    for i in range(n):
        v = df[f"soma_{i}.V_mV"].to_numpy() > -40.0
        if not v.any():
            break
        crossed.append(t[np.argmax(v)])
    reached = int(sum(df[f"soma_{i}.V_mV"].iloc[-1] > -40.0 for i in range(n)))
    if layout != "chain" or len(crossed) < 6:
        return reached, None
    side_mm = (NEURON_VOLUME_UM3 + ECS_VOLUME_UM3) ** (1 / 3) * 1e-3
    slope = np.polyfit(np.arange(3, len(crossed)), crossed[3:], 1)[0]  # s per unit
    return reached, side_mm / slope * 60.0


def measure(n, layout, method, duration, block, excitable=False, record=None):
    sc = scenario(n, layout, method, duration, block, excitable, record)
    t0 = time.perf_counter()
    model = Model(sc)
    build = time.perf_counter() - t0
    nx, nt = model.nx, model.nt
    del model
    t0 = time.perf_counter()
    df, _ = ionmc.simulate(sc)
    total = time.perf_counter() - t0
    k0 = df["ecs_0.K.mM"].iloc[-1]
    kf = df[f"ecs_{n - 1}.K.mM"].iloc[-1]
    out = {"nx": nx, "nt": nt, "build": build, "run": max(total - build, 0.0),
           "total": total, "K0": k0, "Kfar": kf}
    if excitable:
        out["reached"], out["speed"] = front(df, n, layout)
    return out


def exponent(a, b, na, nb):
    if a is None or b is None or a <= 0 or b <= 0:
        return None
    return math.log(b / a) / math.log(nb / na)


def fmt(v, spec=".3g"):
    return "-" if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, nargs="+", default=[10, 30, 100, 300, 1000])
    ap.add_argument("--layouts", nargs="+", default=["chain", "grid"])
    ap.add_argument("--methods", nargs="+", default=["ode", "tau-leap"])
    ap.add_argument("--ode-duration", type=float, default=2.0)
    ap.add_argument("--tau-duration", type=float, default=0.5)
    ap.add_argument("--block", type=float, default=0.1, help="pump block time (s)")
    ap.add_argument("--budget", type=float, default=180.0, help="seconds per point")
    ap.add_argument("--excitable", action="store_true",
                    help="the spreading-depolarisation variant (NaP in every neuron)")
    ap.add_argument("--record", type=float, default=None,
                    help="record interval (s; default: a quarter of the run)")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}  ({os.cpu_count()} cores)")
    for method in args.methods:
        t0 = time.perf_counter()
        ionmc.simulate(scenario(2, "chain", method, 0.2, min(args.block, 0.1),
                                args.excitable))
        print(f"{method}: compile or cache load + 2-unit run: {time.perf_counter() - t0:.1f} s")
    for layout in args.layouts:
        for method in args.methods:
            duration = args.ode_duration if method == "ode" else args.tau_duration
            what = "excitable (NaP), " if args.excitable else ""
            print(f"\n### {layout}, {what}{method}, {duration:g} s simulated (pump of unit 0 "
                  f"blocked at {args.block:g} s)\n")
            extra = " front: units, mm/min |" if args.excitable else ""
            print("| N | shape | states | transitions | build s | run s | run s per sim. s "
                  f"| exponent (run) | exponent (build) | K_o unit 0 / far (mM) |{extra} load |")
            print("|---|---|---|---|---|---|---|---|---|---|" + ("---|" if extra else "")
                  + "---|")
            prev = None
            for n in args.units:
                shape = f"1x{n}" if layout == "chain" else "{}x{}".format(*grid_shape(n))
                nx = NX_PER_UNIT * n
                nt = NT_PER_UNIT * n + NT_PER_PAIR * len(neighbours(n, layout))
                why = None
                if prev is not None:
                    r = n / prev["n"]
                    eb = max(1.2, prev.get("eb") or 1.2)
                    er = max(1.2, prev.get("er") or 1.2)
                    pb = prev["build"] * r ** eb
                    pr = prev["run"] * r ** er
                    if 2 * pb + pr > args.budget:  # simulate builds again
                        why = (f"predicted {pb:.0f} s build x2 + {pr:.0f} s run "
                               f"> {args.budget:g} s")
                if why:
                    print(f"| {n} | {shape} | {nx} | {nt} | skipped: {why} | | | | | | |",
                          flush=True)
                    break
                m = measure(n, layout, method, duration, args.block, args.excitable,
                            args.record)
                er = eb = None
                if prev is not None:
                    er = exponent(prev["run"], m["run"], prev["n"], n)
                    eb = exponent(prev["build"], m["build"], prev["n"], n)
                print(f"| {n} | {shape} | {m['nx']} | {m['nt']} | {m['build']:.2f} | "
                      f"{m['run']:.2f} | {m['run'] / duration:.3g} | {fmt(er, '.2f')} | "
                      f"{fmt(eb, '.2f')} | {m['K0']:.2f} / {m['Kfar']:.2f} | "
                      + (f"{m['reached']}, {fmt(m['speed'], '.2f')} | " if args.excitable
                         else "")
                      + f"{os.getloadavg()[0]:.2f} |", flush=True)
                prev = {"n": n, **m, "er": er, "eb": eb}
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
