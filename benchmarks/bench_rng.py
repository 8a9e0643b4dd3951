"""Cost of the exact methods' random numbers, in one process: numpy's Generator as Numba
calls it (a call through the bit generator's function pointer per draw, plus libm's log
for a waiting time) against fastrand's inlined xoshiro256** and ziggurat (fastrand.py).

usage: python benchmarks/bench_rng.py
"""
import math
import time

import numba
import numpy as np

from ionmc.engine.fastrand import exponential, new_state, uniform


@numba.njit
def np_event(rng, n):  # what the SSA drew per event before fastrand
    t = 0.0
    for _ in range(n):
        t += -math.log(1.0 - rng.random()) + rng.random()
    return t


@numba.njit
def fast_event(s, n):
    t = 0.0
    for _ in range(n):
        t += exponential(s) + uniform(s)
    return t


def main(n=20_000_000, repeats=5):
    rng = np.random.default_rng(1)
    s = new_state(rng)
    np_event(rng, 10)
    fast_event(s, 10)
    res = {"numpy Generator": [], "fastrand": []}
    for _ in range(repeats):
        for name, f, st in (("numpy Generator", np_event, rng), ("fastrand", fast_event, s)):
            t0 = time.perf_counter()
            f(st, n)
            res[name].append((time.perf_counter() - t0) / n * 1e9)
    med = {k: sorted(v)[len(v) // 2] for k, v in res.items()}
    for k, v in med.items():
        print(f"{k:16s} {v:5.2f} ns per event (an Exp(1) and a uniform)")
    print(f"ratio {med['numpy Generator'] / med['fastrand']:.2f}")


if __name__ == "__main__":
    main()
