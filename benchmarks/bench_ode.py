"""The ode method's solver alone against libroadrunner's CVODE on network (b) of peers.py
(resting_neuron with half its pumps blocked from t = 0, 600 s, a record every 1 s), both at
rtol 1e-9 and atol 1e-3 ions, interleaved in one process; plus `ionmc.simulate` of a few
built-ins under ode. A quicker look than `peers.py` at what docs/performance.md's "The
ODE solver" section reports.

usage: python benchmarks/bench_ode.py [--repeats 9]   (libroadrunner: the bench extra)
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ionmc  # noqa: E402
from ionmc.engine.ode import ODE  # noqa: E402
from ionmc.model import Model  # noqa: E402
from ionmc.scenario import load_scenario  # noqa: E402
from peers import Net, RoadRunner, neuron_scenario  # noqa: E402

T_B = 600.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    model = Model(neuron_scenario("ode", T_B))
    stops = np.arange(1.0, T_B + 0.5, 1.0)

    def ode():
        o = ODE(model, model.x0.astype(float))
        out = o.advance(stops)
        return out, o.stats

    try:
        rr = RoadRunner(Net(neuron_scenario("ode", T_B)), T_B, integrator="cvode",
                        points=int(T_B) + 1, rtol=1e-9, atol=1e-3)
    except ImportError:
        rr = None
        print("libroadrunner is not installed (pip install -e '.[bench]'): ionmc alone")
    ode()
    walls = {"ode": [], "cvode": []}
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        (X, *_), stats = ode()
        walls["ode"].append(time.perf_counter() - t0)
        if rr is not None:
            t0 = time.perf_counter()
            rr.run(0)
            walls["cvode"].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in walls.items() if v}
    v_end = model.voltages(X[-1])[0] * 1e3
    print(f"(b) {T_B:g} s: ODE.advance {med['ode'] * 1e3:.2f} ms "
          f"({stats[0]} steps, {stats[1]} right-hand sides, {stats[2]} Jacobians), "
          f"end V {v_end:.3f} mV")
    if "cvode" in med:
        print(f"    libroadrunner cvode {med['cvode'] * 1e3:.2f} ms: "
              f"ODE.advance / cvode = {med['ode'] / med['cvode']:.2f}")
    def scenario(name, duration):
        sc = load_scenario(name, [("scenario.method", "ode")], duration=duration)
        return sc.at_point(list(sc.points())[0]) if sc.sweep else sc

    for name, duration in (("pump_block", 600.0), ("firing_neuron", 20.0),
                           ("astrocyte_buffering", 16.0)):
        ionmc.simulate(scenario(name, 0.2))
        t0 = time.perf_counter()
        ionmc.simulate(scenario(name, duration))
        print(f"{name}, ode, {duration:g} s: {time.perf_counter() - t0:.2f} s wall")

if __name__ == "__main__":
    main()
