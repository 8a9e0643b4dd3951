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

usage: python benchmarks/bench_tissue.py [--units 10 30 100 300 1000] [--layouts chain grid]
         [--methods ode tau-leap] [--ode-duration 2] [--tau-duration 0.5] [--block 0.1]
         [--budget 180]
"""
import argparse
import math
import os
import time

import ionmc
from ionmc.model import Model
from ionmc.scenario import validate
from ionmc.mechanisms.tissue import grid_shape, neighbours, tissue_scenario

#: per unit without an astrocyte: 22 state variables (8 ion counts, the pump's 14 states)
#: and 32 transitions, and 6 per pair of neighbours (3 species, both ways): Model.nx, .nt
NX_PER_UNIT, NT_PER_UNIT, NT_PER_PAIR = 22, 32, 6


def scenario(n, layout, method, duration, block):
    return validate(tissue_scenario(n, layout=layout, method=method, duration_s=duration,
                                    record_interval_s=duration / 4, block_at_s=block),
                    f"tissue {layout} {n}")


def measure(n, layout, method, duration, block):
    sc = scenario(n, layout, method, duration, block)
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
    return {"nx": nx, "nt": nt, "build": build, "run": max(total - build, 0.0),
            "total": total, "K0": k0, "Kfar": kf}


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
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}  ({os.cpu_count()} cores)")
    for method in args.methods:
        t0 = time.perf_counter()
        ionmc.simulate(scenario(2, "chain", method, 0.2, args.block))
        print(f"{method}: compile or cache load + 2-unit run: {time.perf_counter() - t0:.1f} s")
    for layout in args.layouts:
        for method in args.methods:
            duration = args.ode_duration if method == "ode" else args.tau_duration
            print(f"\n### {layout}, {method}, {duration:g} s simulated (pump of unit 0 "
                  f"blocked at {args.block:g} s)\n")
            print("| N | shape | states | transitions | build s | run s | run s per sim. s "
                  "| exponent (run) | exponent (build) | K_o unit 0 / far (mM) | load |")
            print("|---|---|---|---|---|---|---|---|---|---|---|")
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
                m = measure(n, layout, method, duration, args.block)
                er = eb = None
                if prev is not None:
                    er = exponent(prev["run"], m["run"], prev["n"], n)
                    eb = exponent(prev["build"], m["build"], prev["n"], n)
                print(f"| {n} | {shape} | {m['nx']} | {m['nt']} | {m['build']:.2f} | "
                      f"{m['run']:.2f} | {m['run'] / duration:.3g} | {fmt(er, '.2f')} | "
                      f"{fmt(eb, '.2f')} | {m['K0']:.2f} / {m['Kfar']:.2f} | "
                      f"{os.getloadavg()[0]:.2f} |", flush=True)
                prev = {"n": n, **m, "er": er, "eb": eb}
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
