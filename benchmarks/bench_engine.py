"""Engine speed, measured as ratios in one process (issue 3, item 7).

1. SSA events/s on `spine_noise` (leaks + pump, 14 transitions) against a minimal
   hand-written Numba direct-method SSA of the same network in this script, which recomputes
   every propensity after every event and keeps no bookkeeping. Both are compiled and warmed
   up first; then they run interleaved, median of the repeats. Their mean states are
   compared, so that the two really simulate the same thing.
2. Wall time of tau-leap `pump_block` for 600 s of biological time (and ODE, for scale).

usage: python benchmarks/bench_engine.py [--repeats 5] [--duration 1.0]
"""
import argparse
import math
import statistics
import time

import numba
import numpy as np

import ionmc
from ionmc.constants import E_CHARGE
from ionmc.model import Model
from ionmc.mechanisms.design import swap_pumps
from ionmc.scenario import load_scenario, validate
from ionmc.engine.ssa import SSA


@numba.njit(cache=True)
def _ghk(u):
    if abs(u) < 1e-5:
        return 1.0 + 0.5 * u + u * u / 12.0
    return u / (1.0 - math.exp(-u))


@numba.njit(cache=True)
def hand_ssa(x, t_end, leak_k, leak_zf, leak_in, leak_out, p, pump_st, ions, inv_nvol, z,
             s0, C, seed):
    """Direct method, written out for this one network: 3 leak pairs and a 4-state pump.
    x: counts; ions = (Na_in, K_in, Na_out, K_out); pump_st: the 4 state indices."""
    np.random.seed(seed)
    a = np.zeros(14)
    t = 0.0
    n = 0
    while True:
        q = 0.0
        for s in range(z.shape[0]):
            q += z[s] * x[s0 + s]
        V = E * q / C
        for i in range(3):
            qm = -leak_zf[i] / abs(leak_zf[i]) if leak_zf[i] != 0 else 0.0
            vm = V + 0.5 * qm * E / C
            a[2 * i] = leak_k[2 * i] * _ghk(leak_zf[i] * vm) * x[leak_in[i]]
            vm = V - 0.5 * qm * E / C
            a[2 * i + 1] = leak_k[2 * i + 1] * _ghk(-leak_zf[i] * vm) * x[leak_out[i]]
        nai = x[ions[0]] * inv_nvol[ions[0]]
        ki = x[ions[1]] * inv_nvol[ions[1]]
        nao = x[ions[2]] * inv_nvol[ions[2]]
        ko = x[ions[3]] * inv_nvol[ions[3]]
        for step in range(4):
            for bw in range(2):
                dq = 0.0
                if step == 1:
                    dq = 3.0 if bw else -3.0
                elif step == 3:
                    dq = -2.0 if bw else 2.0
                vm = V + 0.5 * dq * E / C
                phi = p[13] * vm / 3.0
                tnai = nai / (p[8] * math.exp(p[12] * phi))
                tnao = nao / (p[9] * math.exp((1.0 + p[12]) * phi))
                tki = ki / p[10]
                tko = ko / p[11]
                di = (1.0 + tnai) ** 3 + (1.0 + tki) ** 2 - 1.0
                do = (1.0 + tnao) ** 3 + (1.0 + tko) ** 2 - 1.0
                if step == 0:
                    r = p[1] if bw else p[0] * tnai ** 3 / di
                elif step == 1:
                    r = p[3] * tnao ** 3 / do if bw else p[2]
                elif step == 2:
                    r = p[5] if bw else p[4] * tko ** 2 / do
                else:
                    r = p[7] * tki ** 2 / di if bw else p[6]
                src = pump_st[(step + 1) % 4] if bw else pump_st[step]
                a[6 + 2 * step + bw] = r * x[src]
        a0 = a.sum()
        t += -math.log(1.0 - np.random.random()) / a0
        if t > t_end:
            return n
        r = np.random.random() * a0
        j = 0
        acc = a[0]
        while acc <= r:
            j += 1
            acc += a[j]
        n += 1
        if j < 6:
            i = j // 2
            if j % 2 == 0:
                x[leak_in[i]] -= 1
                x[leak_out[i]] += 1
            else:
                x[leak_in[i]] += 1
                x[leak_out[i]] -= 1
        else:
            step = (j - 6) // 2
            bw = (j - 6) % 2
            a_, b_ = pump_st[step], pump_st[(step + 1) % 4]
            sgn = -1 if bw else 1
            x[a_] -= sgn
            x[b_] += sgn
            if step == 1:
                x[ions[0]] -= 3 * sgn
                x[ions[2]] += 3 * sgn
            elif step == 3:
                x[ions[3]] -= 2 * sgn
                x[ions[1]] += 2 * sgn


E = E_CHARGE


def hand_args(model):
    leaks = [m for m in model.mechs if m.type == "leak"]
    pump_m = [m for m in model.mechs if m.type == "nak_pump"][0]
    k = np.array([model.tr_p[j, 0] for m in leaks for j in m.transitions])
    zf = np.array([model.tr_p[m.transitions[0], 1] for m in leaks])
    lin = np.array([model.tr_src[m.transitions[0]] for m in leaks])
    lout = np.array([model.tr_src[m.transitions[1]] for m in leaks])
    p = model.tr_p[pump_m.transitions[0]].copy()
    st = np.array(pump_m.states)
    ions = model.tr_ii[pump_m.transitions[0], :4].copy()
    # bath species are clamped in ionmc: give the hand-written one the same by a huge bath
    return k, zf, lin, lout, p, st, ions, model.inv_nvol, model.charge, \
        int(model.mem_start[0]), float(model.mem_C[0])


def run_ionmc(sc, seed, duration):
    model = Model(sc)
    rng = np.random.Generator(np.random.PCG64(seed))
    m = SSA(model, model.x0, rng)
    t0 = time.perf_counter()
    m.advance(np.array([duration]))
    return m.events, time.perf_counter() - t0, m.x.copy()


def run_hand(sc, seed, duration):
    model = Model(sc)
    x = model.x0.copy()
    args = hand_args(model)
    t0 = time.perf_counter()
    n = hand_ssa(x, duration, *args, seed)
    return n, time.perf_counter() - t0, x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--duration", type=float, default=1.0)
    args = ap.parse_args()
    # the hand-written SSA has no clamping: make the bath not a bath, but 1e6 x larger
    # and the reduced pump, the network the hand-written kernel implements, at the same
    # resting flux as the built-in's per-molecule one
    base = load_scenario("spine_noise", [("compartments.ecs.bath", False),
                                         ("compartments.ecs.volume_um3", 1e9)])
    sc = validate(swap_pumps(base.data, "nak_pump"), "spine_noise with nak_pump")
    run_ionmc(sc, 0, 0.01)
    run_hand(sc, 0, 0.01)
    rates = {"ionmc": [], "hand": []}
    finals = {"ionmc": [], "hand": []}
    for r in range(args.repeats):
        for name, fn in (("ionmc", run_ionmc), ("hand", run_hand)):
            n, wall, x = fn(sc, 10 + r, args.duration)
            rates[name].append(n / wall)
            finals[name].append(x[:8].astype(float))
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"SSA on spine_noise ({args.duration} s biological time, {args.repeats} interleaved "
          f"repeats, median):")
    print(f"  ionmc ssa                 {med['ionmc']:.3e} events/s")
    print(f"  hand-written Numba direct {med['hand']:.3e} events/s")
    print(f"  ratio ionmc / hand        {med['ionmc'] / med['hand']:.2f}")
    a, b = np.array(finals["ionmc"]), np.array(finals["hand"])
    se = np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b)) + 1e-12
    z = np.abs(a.mean(0) - b.mean(0)) / se
    print(f"  mean-state difference     max {np.max(z):.1f} SE "
          "(spine counts)")
    for method in ("tau-leap", "ode"):
        sc = load_scenario("pump_block", [("scenario.method", method)], duration=600.0)
        ionmc.simulate(load_scenario("pump_block", [("scenario.method", method)],
                                     duration=1.0))
        t0 = time.perf_counter()
        df, info = ionmc.simulate(sc)
        wall = time.perf_counter() - t0
        print(f"pump_block, {method}, 600 s biological: {wall:.2f} s wall "
              f"(Na_i {df['neuron.Na.mM'].iloc[-1]:.2f} mM, V {df['soma.V_mV'].iloc[-1]:.2f} mV "
              f"at 600 s)")


if __name__ == "__main__":
    main()
