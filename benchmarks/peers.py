"""ionmc against its peers, measured in one run (issue 8).

The same networks are built in ionmc, in a minimal hand-written Numba direct-method SSA
(in this file), in GillesPy2 (SSACSolver, TauLeapingCSolver, ODECSolver; optional extra
`bench`) and in libroadrunner (gillespie, cvode). Every peer gets its propensities as
expressions generated from ionmc's own compiled arrays (`Model.tr_p`, `tr_half_dv`, `inv_nvol`),
so the constants are bit-for-bit ionmc's, V = e * sum(z n_inside) / C is computed from the
counted charge, and every jump uses ionmc's midpoint potential V + dV/2.

Networks
  (a) leak-only spine: `spine_noise` without its pump, head scaled by 1/100 in volume and
      area (2e-4 um^3, 4e-3 um^2, e/C = 4 mV per ion) in a clamped bath: 3 GHK leak pairs
      = 6 V-dependent processes, 200 s, ~2.8e6 events (docs/performance.md);
      (a+pump) the same spine with ionmc's 4-state pump (561 pumps, 14 transitions).
  (b) the whole neuron with ECS (`resting_neuron`, 1000 um^3 + 250 um^3 ECS, both finite)
      with half its pumps blocked from t = 0, so that it runs down: 600 s, ~1.6e12 ion
      crossings; tau-leap and ODE.
  (c) 100 leak-only spines (network a, 20 s each) on 2 workers.

Timing: everything is built and compiled first (reported separately: Numba compilation in
a fresh cache and start-up from the cache, measured in subprocesses; GillesPy2's C++ builds
as shipped (-O0) and with g++/gcc wrappers that add -O3). Then, per network, the engines
run interleaved, `--repeats` times, and the median wall time is reported. Peers do not
report their event counts: their events/s use the mean event count of ionmc on the same
network and duration (the networks are the same, so the expected count is).

Mean-state agreement: final states of the repeats (network a) and of the 100 ensemble
trajectories (network c) are compared with ionmc's, |difference| / SE of the difference,
max over the spine's counts (and pump states).

usage: python benchmarks/peers.py [--repeats 5] [--quick]
"""
import argparse
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import tomllib
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np

import ionmc
from ionmc.constants import E_CHARGE
from ionmc.model import Model
from ionmc.engine.ode import ODE
from ionmc.scenario import builtin_dir, validate
from ionmc.engine.ssa import SSA

HERE = Path(__file__).resolve().parent
SPINE_SCALE = 0.01
NEURON_BLOCK = 0.5


def g(v):
    """A float as an expression literal (never numpy's repr: libroadrunner rejects it)."""
    return f"{float(v):.17g}"


def plus(expr, c):
    """expr + c with the sign written once (no '+ -' or '--' for the parsers)."""
    return f"{expr} + {g(c)}" if c >= 0 else f"{expr} - {g(-c)}"


# --------------------------------------------------------------------------------------
# the networks, as ionmc scenarios
# --------------------------------------------------------------------------------------
def _raw(name):
    """A built-in's TOML with the reduced pump (the network the peers' and the hand-written
    kernels implement) in place of its per-molecule one, at the same resting flux."""
    from ionmc.mechanisms.design import swap_pumps

    return swap_pumps(tomllib.loads((builtin_dir() / f"{name}.toml").read_text()), "nak_pump")


def spine_scenario(pump, duration, replicates=1):
    raw = _raw("spine_noise")
    raw["compartments"]["spine"]["volume_um3"] *= SPINE_SCALE
    raw["membranes"]["head"]["area_um2"] *= SPINE_SCALE
    if not pump:
        raw["mechanisms"] = [m for m in raw["mechanisms"] if m["type"] != "nak_pump"]
    raw["scenario"].update(name="peers_spine_pump" if pump else "peers_spine_leak",
                           duration_s=duration, record_interval_s=duration,
                           replicates=replicates)
    return validate(raw, "benchmarks/peers.py", duration=duration)


def neuron_scenario(method, duration, record=1.0):
    raw = _raw("resting_neuron")
    for m in raw["mechanisms"]:
        if m["type"] == "nak_pump":
            m["block_fraction"] = NEURON_BLOCK
    raw["scenario"].update(name="peers_neuron", method=method, duration_s=duration,
                           record_interval_s=record)
    return validate(raw, "benchmarks/peers.py", duration=duration)


class Net:
    """What the peers need, read from ionmc's compiled model (so the constants agree)."""

    def __init__(self, scenario):
        m = self.model = Model(scenario)
        assert len(m.mems) == 1 and m.species[:3] == ["Na", "K", "Cl"]
        self.C = float(m.mem_C[0])
        self.vq = E_CHARGE / self.C          # volts per elementary charge inside
        ns = m.ns
        s0 = int(m.mem_start[0])
        self.ins = [s0 + i for i in range(ns)]
        self.outs = [i for i in range(m.nion) if i not in self.ins]
        self.x0 = m.x0.copy()
        self.charge = m.charge
        self.bath = bool(m.clamped[self.outs[0]])
        self.inv_nvol = m.inv_nvol
        # names of the counts
        comp_in = m.comps[s0 // ns]
        self.name = {}
        for c, comp in enumerate(m.comps):
            for si, s in enumerate(m.species):
                self.name[c * ns + si] = s + ("" if comp == comp_in else "o")
        self.leaks = []
        self.pump = None
        for mech in m.mechs:
            if mech.type == "leak":
                j0, j1 = mech.transitions
                self.leaks.append(dict(src_in=int(m.tr_src[j0]), src_out=int(m.tr_src[j1]),
                                       k_out=m.tr_p[j0, 0], k_in=m.tr_p[j1, 0],
                                       zf=m.tr_p[j0, 1], hdv_out=m.tr_half_dv[j0],
                                       hdv_in=m.tr_half_dv[j1]))
            else:
                for k, st in enumerate(mech.states):
                    self.name[st] = f"P{k + 1}"
                self.pump = dict(p=m.tr_p[mech.transitions[0]].copy(), states=mech.states,
                                 ii=m.tr_ii[mech.transitions[0], :4].copy(),
                                 hdv=m.tr_half_dv[mech.transitions].copy())
        # variables the peers simulate: unclamped ions that something moves, pump states
        moved = np.nonzero(m.nu.getnnz(axis=0))[0]
        self.var = [int(i) for i in moved]
        self.const = {i: int(self.x0[i]) for i in range(m.nion) if i not in self.var}

    # ---- expressions, shared by GillesPy2 and libroadrunner ---------------------------
    def ref(self, i, cast=False):
        """A count in an expression: a name if it varies, a literal if it does not."""
        if i in self.const:
            return g(self.const[i])
        return ("1.0*" if cast else "") + self.name[i]

    def v_expr(self):
        expr, const = "", 0.0
        for k, i in enumerate(self.ins):
            z = self.charge[k]
            if z == 0:
                continue
            if i in self.const:
                const += z * self.const[i]
                continue
            term = (f"{g(abs(z))}*" if abs(z) != 1 else "") + self.ref(i, cast=not expr)
            expr += (term if z > 0 else f"-{term}") if not expr else (f" + {term}" if z > 0 else f" - {term}")
        return f"({g(self.vq)}*({plus(expr, const)}))"

    def reactions(self):
        """[(name, {reactant: n}, {product: n}, propensity expression)] in the order of
        ionmc's transitions; constant (bath) counts are neither reactants nor products."""
        V = self.v_expr()
        out = []
        keep = lambda d: {self.name[i]: n for i, n in d.items() if i not in self.const}
        for L in self.leaks:
            s = self.name[L["src_in"]]
            u = f"({g(L['zf'])}*({plus(V, L['hdv_out'])}))"
            out.append((f"{s}_out", keep({L["src_in"]: 1}), keep({L["src_out"]: 1}),
                        f"{g(L['k_out'])}*{u}/(1.0 - exp(-{u}))*{self.ref(L['src_in'])}"))
            u = f"({g(-L['zf'])}*({plus(V, L['hdv_in'])}))"
            out.append((f"{s}_in", keep({L["src_out"]: 1}), keep({L["src_in"]: 1}),
                        f"{g(L['k_in'])}*{u}/(1.0 - exp(-{u}))*{self.ref(L['src_out'])}"))
        if self.pump:
            P = self.pump
            p = P["p"]
            st = P["states"]
            nai, ki, nao, ko = (f"({self.ref(i, True)}*{g(self.inv_nvol[i])})" for i in P["ii"])
            i_nai, i_ki, i_nao, i_ko = (int(i) for i in P["ii"])
            for step in range(4):
                for bw in range(2):
                    j = 2 * step + bw
                    v = f"({plus(V, P['hdv'][j])})"
                    phi = f"({g(p[13])}*{v}/3.0)"
                    tnai = f"({nai}/({g(p[8])}*exp({g(p[12])}*{phi})))"
                    tnao = f"({nao}/({g(p[9])}*exp({g(1.0 + p[12])}*{phi})))"
                    tki = f"({ki}/{g(p[10])})"
                    tko = f"({ko}/{g(p[11])})"
                    di = f"((1.0 + {tnai})^3 + (1.0 + {tki})^2 - 1.0)"
                    do = f"((1.0 + {tnao})^3 + (1.0 + {tko})^2 - 1.0)"
                    k = g(p[j])
                    rate = {(0, 0): f"{k}*{tnai}^3/{di}", (0, 1): k,
                            (1, 0): k, (1, 1): f"{k}*{tnao}^3/{do}",
                            (2, 0): f"{k}*{tko}^2/{do}", (2, 1): k,
                            (3, 0): k, (3, 1): f"{k}*{tki}^2/{di}"}[(step, bw)]
                    a, b = st[step], st[(step + 1) % 4]
                    fw_r, fw_p = {a: 1}, {b: 1}
                    if step == 1:
                        fw_r[i_nai] = 3
                        fw_p[i_nao] = 3
                    elif step == 3:
                        fw_r[i_ko] = 2
                        fw_p[i_ki] = 2
                    r, pr = (fw_p, fw_r) if bw else (fw_r, fw_p)
                    src = b if bw else a
                    out.append((f"pump{step + 1}{'b' if bw else 'f'}", keep(r), keep(pr),
                                f"{rate}*{self.name[src]}"))
        return out

    def v_of(self, counts):
        """V (volts) from a dict name -> count of the variable species."""
        q = 0.0
        for k, i in enumerate(self.ins):
            n = self.const[i] if i in self.const else counts[self.name[i]]
            q += self.charge[k] * n
        return self.vq * q


# --------------------------------------------------------------------------------------
# the hand-written Numba direct method (recomputes all propensities after every event)
# --------------------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _ghk(u):
    if abs(u) < 1e-5:
        return 1.0 + 0.5 * u + u * u / 12.0
    return u / (1.0 - math.exp(-u))


@numba.njit(cache=True, nogil=True)
def hand_ssa(x, t_end, lk, lsrc, ldst, p, st, ions, inv_nvol, phdv, z, s0, vq, seed):
    """x: counts (clamped ones are never written: lk/ldst mark them with -1).
    lk[i] = (k_out, k_in, zf, hdv_out, hdv_in) of leak i, lsrc/ldst its inside/outside
    index; p, st, ions, phdv the pump (st empty: no pump). Returns the number of events."""
    np.random.seed(seed)
    nl = lk.shape[0]
    npump = 8 if st.shape[0] == 4 else 0
    a = np.zeros(2 * nl + npump)
    t = 0.0
    n = 0
    while True:
        q = 0.0
        for s in range(z.shape[0]):
            q += z[s] * x[s0 + s]
        V = vq * q
        for i in range(nl):
            a[2 * i] = lk[i, 0] * _ghk(lk[i, 2] * (V + lk[i, 3])) * x[lsrc[i]]
            a[2 * i + 1] = lk[i, 1] * _ghk(-lk[i, 2] * (V + lk[i, 4])) * x[ldst[i]]
        if npump:
            nai = x[ions[0]] * inv_nvol[ions[0]]
            ki = x[ions[1]] * inv_nvol[ions[1]]
            nao = x[ions[2]] * inv_nvol[ions[2]]
            ko = x[ions[3]] * inv_nvol[ions[3]]
            for step in range(4):
                for bw in range(2):
                    j = 2 * step + bw
                    phi = p[13] * (V + phdv[j]) / 3.0
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
                    a[2 * nl + j] = r * x[st[(step + 1) % 4] if bw else st[step]]
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
        if j < 2 * nl:
            i = j // 2
            sgn = 1 if j % 2 == 0 else -1
            x[lsrc[i]] -= sgn
            if not lk[i, 5]:
                x[ldst[i]] += sgn
        else:
            step = (j - 2 * nl) // 2
            sgn = -1 if (j - 2 * nl) % 2 else 1
            x[st[step]] -= sgn
            x[st[(step + 1) % 4]] += sgn
            if step == 1:
                x[ions[0]] -= 3 * sgn
                if not lk[0, 5]:
                    x[ions[2]] += 3 * sgn
            elif step == 3:
                x[ions[1]] += 2 * sgn
                if not lk[0, 5]:
                    x[ions[3]] -= 2 * sgn


def hand_args(net):
    lk = np.array([[L["k_out"], L["k_in"], L["zf"], L["hdv_out"], L["hdv_in"],
                    float(net.bath)] for L in net.leaks])
    lsrc = np.array([L["src_in"] for L in net.leaks], np.int64)
    ldst = np.array([L["src_out"] for L in net.leaks], np.int64)
    if net.pump:
        P = net.pump
        p, st, ions, phdv = P["p"], np.array(P["states"], np.int64), P["ii"], P["hdv"]
    else:
        p, st, ions, phdv = np.zeros(14), np.zeros(0, np.int64), np.zeros(4, np.int64), \
            np.zeros(8)
    return (lk, lsrc, ldst, p, st, ions, net.inv_nvol, phdv, net.charge,
            int(net.ins[0]), net.vq)


# --------------------------------------------------------------------------------------
# engines: each is (build once) -> run(seed) -> (events or None, wall, final state)
# --------------------------------------------------------------------------------------
class IonmcSSA:
    label = "ionmc ssa"

    def __init__(self, net, duration):
        self.net, self.T = net, duration

    def run(self, seed):
        m = self.net.model
        s = SSA(m, m.x0, np.random.Generator(np.random.PCG64(seed)))
        t0 = time.perf_counter()
        s.advance(np.array([self.T]))
        return s.events, time.perf_counter() - t0, self.net.final(s.x)


class Hand:
    label = "hand-written Numba direct"

    def __init__(self, net, duration):
        self.net, self.T = net, duration
        self.args = hand_args(net)

    def run(self, seed):
        x = self.net.x0.copy()
        t0 = time.perf_counter()
        n = hand_ssa(x, self.T, *self.args, seed)
        return n, time.perf_counter() - t0, self.net.final(x)


def _final(net, x):
    return np.array([x[i] for i in net.var], float)


Net.final = _final


def wrapper_dir(root):
    """g++/gcc wrappers that add -O3 (GillesPy2's SConstruct reads no flags)."""
    d = Path(root) / "o3bin"
    d.mkdir(parents=True, exist_ok=True)
    for cc in ("g++", "gcc"):
        real = shutil.which(cc)
        w = d / cc
        w.write_text(f'#!/bin/sh\nexec {real} "$@" -O3\n')
        w.chmod(0o755)
    return d


def _gpy_env(o3, o3dir):
    """PATH for a GillesPy2 build: scons from this venv, and the -O3 wrappers if asked."""
    path = [str(Path(sys.executable).parent)]
    if o3:
        path.insert(0, str(o3dir))
    return os.pathsep.join(path + [os.environ.get("PATH", "")])


def gillespy_model(net, duration, increment, discrete=True):
    import gillespy2

    gm = gillespy2.Model(name="ionmc_peer")
    for i in net.var:
        gm.add_species(gillespy2.Species(name=net.name[i], initial_value=int(net.x0[i]),
                                         mode="discrete" if discrete else "continuous"))
    for name, r, p, expr in net.reactions():
        gm.add_reaction(gillespy2.Reaction(name=name, reactants=r, products=p,
                                           propensity_function=expr,
                                           ode_propensity_function=expr))
    gm.timespan(np.linspace(0.0, duration, int(round(duration / increment)) + 1))
    return gm


class Gillespy:
    """A GillesPy2 C solver, built once (build time kept), run many times."""

    def __init__(self, net, duration, solver="SSACSolver", o3=True, o3dir=None,
                 increment=None, tmp=None, timeout=0, run_kw=None):
        import gillespy2

        self.net, self.T, self.timeout = net, duration, timeout
        self.run_kw = run_kw or {}
        self.label = f"GillesPy2 {solver} {'-O3' if o3 else '-O0 (shipped)'}"
        gm = gillespy_model(net, duration, increment or duration,
                            discrete=solver != "ODECSolver")
        old = os.environ["PATH"]
        os.environ["PATH"] = _gpy_env(o3, o3dir)
        try:
            t0 = time.perf_counter()
            self.solver = getattr(gillespy2, solver)(
                model=gm, output_directory=str(Path(tempfile.mkdtemp(dir=tmp)) / "build"))
            self.build_s = time.perf_counter() - t0
        finally:
            os.environ["PATH"] = old

    def run(self, seed, n=1):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = self.solver.run(number_of_trajectories=n, seed=int(seed) + 1,
                                  timeout=self.timeout, **self.run_kw)
        wall = time.perf_counter() - t0
        finals = [np.array([tr[self.net.name[i]][-1] for i in self.net.var], float)
                  for tr in (res if n > 1 else [res[0]])]
        self.last = res
        return None, wall, finals[0] if n == 1 else finals


def antimony(net):
    lines = ["model ionmc_peer", "  compartment c = 1"]
    for i in net.var:
        lines.append(f"  substanceOnly species {net.name[i]} in c = {int(net.x0[i])}")
    for name, r, p, expr in net.reactions():
        side = lambda d: " + ".join(f"{n} {s}" if n != 1 else s for s, n in d.items())
        lines.append(f"  {name}: {side(r)} -> {side(p)}; {expr}")
    lines.append("end")
    return "\n".join(lines)


class RoadRunner:
    def __init__(self, net, duration, integrator="gillespie", points=2, rtol=None, atol=None):
        import roadrunner
        import antimony as ant

        self.net, self.T, self.points = net, duration, points
        self.label = f"libroadrunner {integrator}"
        t0 = time.perf_counter()
        ant.clearPreviousLoads()
        if ant.loadAntimonyString(antimony(net)) < 0:
            raise RuntimeError(ant.getLastError())
        self.rr = roadrunner.RoadRunner(ant.getSBMLString(ant.getMainModuleName()))
        self.rr.setIntegrator(integrator)
        if integrator == "gillespie":
            self.rr.integrator.variable_step_size = False
        if rtol is not None:
            self.rr.integrator.relative_tolerance = rtol
            self.rr.integrator.absolute_tolerance = atol
        self.rr.timeCourseSelections = ["time"] + [net.name[i] for i in net.var]
        self.build_s = time.perf_counter() - t0
        self.stochastic = integrator == "gillespie"

    def run(self, seed):
        self.rr.resetAll()
        if self.stochastic:
            self.rr.integrator.seed = int(seed) + 1
        t0 = time.perf_counter()
        res = self.rr.simulate(0.0, self.T, self.points)
        wall = time.perf_counter() - t0
        self.last = np.asarray(res)
        return None, wall, self.last[-1, 1:].astype(float)


# --------------------------------------------------------------------------------------
# measurement helpers
# --------------------------------------------------------------------------------------
def cpu_now():
    """CPU seconds of this thread plus those of finished child processes (GillesPy2's
    solvers run as children). On a shared machine wall time includes waiting for a core;
    CPU time does not, so the tables give both."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.thread_time() + ru.ru_utime + ru.ru_stime


def interleaved(engines, repeats, seed0=100):
    """Run the engines interleaved; returns {label: (walls, events, finals, cpus)}."""
    out = {e.label: ([], [], [], []) for e in engines}
    for r in range(repeats):
        for e in engines:
            c0 = cpu_now()
            n, wall, x = e.run(seed0 + r)
            out[e.label][3].append(cpu_now() - c0)
            out[e.label][0].append(wall)
            out[e.label][1].append(n)
            out[e.label][2].append(x)
    return out


def zmax(a, b):
    """Max over components of |mean a - mean b| / SE of the difference."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    se = np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b))
    d = np.abs(a.mean(0) - b.mean(0))
    z = np.where(se > 0, d / np.where(se > 0, se, 1.0), np.where(d > 0, np.inf, 0.0))
    return float(z.max())


ROWS = []


def row(network, engine, wall, events=None, ratio=None, agree="", note="", cpu=None,
        cpu_ratio=None):
    """One table row; ratio = this engine's wall time / ionmc's (> 1: ionmc is faster),
    cpu_ratio the same in CPU time."""
    ROWS.append(dict(network=network, engine=engine, wall=wall, events=events,
                     ratio=ratio, agree=agree, note=note, cpu=cpu, cpu_ratio=cpu_ratio))
    ev = f"{events / wall:.3g}" if events else "—"
    rs = f"{ratio:.2f}" if ratio else "—"
    cs = f"{cpu:9.4f} s" if cpu is not None else " " * 11
    crs = f"{cpu_ratio:.2f}" if cpu_ratio else "—"
    print(f"  {engine:44s} {wall:9.4f} s  {ev:>9s} ev/s  wall/ionmc {rs:>6s}  cpu {cs} "
          f"cpu/ionmc {crs:>6s}  {agree}  {note}", flush=True)


def ssa_network(title, net, duration, repeats, gpys, rrs):
    print(f"\n{title}", flush=True)
    engines = [IonmcSSA(net, duration), Hand(net, duration)] + gpys + rrs
    for e in engines:  # warm-up (compiles the hand kernel; ionmc is compiled already)
        if not isinstance(e, (Gillespy, RoadRunner)):
            e.run(0)
    res = interleaved(engines, repeats)
    walls, events, finals, cpus = res["ionmc ssa"]
    n_mean = statistics.mean(events)
    w_ion = statistics.median(walls)
    c_ion = statistics.median(cpus)
    row(title, "ionmc ssa", w_ion, n_mean, cpu=c_ion)
    for e in engines[1:]:
        w, ev, fin, c = res[e.label]
        ev_used = statistics.mean(ev) if ev[0] is not None else n_mean
        row(title, e.label, statistics.median(w), ev_used,
            ratio=statistics.median(w) / w_ion, agree=f"mean state {zmax(finals, fin):.1f} SE",
            cpu=statistics.median(c), cpu_ratio=statistics.median(c) / c_ion)
    return res


# --------------------------------------------------------------------------------------
# compilation and start-up (subprocesses, fresh Numba cache, then from the cache)
# --------------------------------------------------------------------------------------
STARTUP = textwrap.dedent("""
    import time, sys
    t0 = time.perf_counter()
    import numpy as np
    import ionmc
    from ionmc.scenario import load_scenario
    for method in sys.argv[1].split(","):
        dur = 0.001 if method == "ssa" else 0.01
        name = "spine_noise" if method == "ssa" else "resting_neuron"
        sc = load_scenario(name, [("scenario.method", method),
                                  ("scenario.record_interval_s", dur),
                                  ("scenario.replicates", 1)], duration=dur)
        ionmc.simulate(sc)
    print(time.perf_counter() - t0)
""")

STARTUP_CASES = ("ssa", "tau-leap", "ode", "ssa,tau-leap,ode")


def startup_times():
    """{methods: ((wall, cpu) of a process in a fresh Numba cache, (wall, cpu) of the same
    process again, from the cache)}: import, build and a tiny run of each method; each case
    in a cache of its own (what a user's first run of that method meets)."""
    out = {}
    for case in STARTUP_CASES:
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, NUMBA_CACHE_DIR=d)
            res = []
            for _ in range(2):
                c0, t0 = cpu_now(), time.perf_counter()
                subprocess.run([sys.executable, "-c", STARTUP, case], env=env,
                               capture_output=True, text=True, check=True)
                res.append((time.perf_counter() - t0, cpu_now() - c0))
            out[case] = res
    return out


# --------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="a ~2-minute smoke run: shorter networks, 2 repeats, no -O0 builds")
    ap.add_argument("--skip-startup", action="store_true")
    args = ap.parse_args()
    quick = args.quick
    R = 2 if quick else args.repeats
    T_a = 20.0 if quick else 200.0
    T_pump = 5.0 if quick else 50.0
    T_b = 60.0 if quick else 600.0
    T_c, N_c = (5.0, 20) if quick else (20.0, 100)
    tmp = tempfile.mkdtemp(prefix="ionmc-peers-")
    o3dir = wrapper_dir(tmp)
    import gillespy2
    import roadrunner

    print(f"ionmc {ionmc.__version__}, numba {numba.__version__}, GillesPy2 "
          f"{gillespy2.__version__}, libroadrunner {roadrunner.__version__}, "
          f"{os.cpu_count()} cores; repeats {R}{' (quick)' if quick else ''}; load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)

    # ---- 4. compilation and start-up --------------------------------------------------
    if not args.skip_startup:
        st = startup_times()
        print("\nNumba compilation: a process (import + a tiny run) in a fresh cache, then the "
              "same process again from the cache; wall / CPU seconds:")
        for case, ((w1, c1), (w2, c2)) in st.items():
            print(f"  {case:18s} first {w1:5.1f} / {c1:5.1f} s   cached {w2:4.1f} / {c2:4.1f} s",
                  flush=True)
            ROWS.append(dict(network="start-up", engine=f"{case}: first run (compile)",
                             wall=w1, cpu=c1))
            ROWS.append(dict(network="start-up", engine=f"{case}: second run (cache)",
                             wall=w2, cpu=c2))

    # ---- builds ---------------------------------------------------------------------------
    leak = Net(spine_scenario(False, T_a))
    pumpnet = Net(spine_scenario(True, T_pump))
    builds = []
    gpy_leak = [Gillespy(leak, T_a, o3=True, o3dir=o3dir, tmp=tmp)]
    gpy_pump = [Gillespy(pumpnet, T_pump, o3=True, o3dir=o3dir, tmp=tmp)]
    if not quick:
        gpy_leak.append(Gillespy(leak, T_a, o3=False, o3dir=o3dir, tmp=tmp))
        gpy_pump.append(Gillespy(pumpnet, T_pump, o3=False, o3dir=o3dir, tmp=tmp))
    for e in gpy_leak + gpy_pump:
        builds.append((e.label, e.build_s))
    rr_leak = [RoadRunner(leak, T_a)]
    rr_pump = [RoadRunner(pumpnet, T_pump)]
    print("\nbuilds (not in the timings below):")
    for lab, s in builds:
        print(f"  {lab:38s} C++ build {s:6.1f} s")
    print(f"  libroadrunner (Antimony -> SBML -> LLVM JIT) {rr_leak[0].build_s:.2f} s")

    # ---- (a) ----------------------------------------------------------------------------
    res_a = ssa_network(f"(a) leak-only spine, {T_a:g} s", leak, T_a, R, gpy_leak, rr_leak)
    res_ap = ssa_network(f"(a+pump) spine with ionmc's pump, {T_pump:g} s", pumpnet, T_pump, R,
                         gpy_pump, rr_pump)

    # ---- (b) ----------------------------------------------------------------------------
    print(f"\n(b) neuron with ECS, half the pumps blocked, {T_b:g} s (record every 1 s)",
          flush=True)
    nb = Net(neuron_scenario("ode", T_b))
    sc_tau = neuron_scenario("tau-leap", T_b)
    sc_ode = neuron_scenario("ode", T_b)
    ionmc.simulate(neuron_scenario("tau-leap", 1.0))
    ionmc.simulate(neuron_scenario("ode", 1.0))
    gpy_ode = Gillespy(nb, T_b, solver="ODECSolver", o3=True, o3dir=o3dir, increment=1.0,
                       tmp=tmp, run_kw=dict(integrator_options={"rtol": 1e-9, "atol": 1e-3}))
    gpy_tau = Gillespy(nb, T_b, solver="TauLeapingCSolver", o3=True, o3dir=o3dir,
                       increment=1.0, tmp=tmp, timeout=30 if quick else 60)
    print(f"  GillesPy2 ODECSolver -O3 build {gpy_ode.build_s:.1f} s, TauLeapingCSolver -O3 "
          f"build {gpy_tau.build_s:.1f} s")
    rr_ode = RoadRunner(nb, T_b, integrator="cvode", points=int(T_b) + 1, rtol=1e-9,
                        atol=1e-3)
    keys = ("tau", "ode", "odeadv", "rr", "gode", "gtau")
    walls = {k: [] for k in keys}
    cpus = {k: [] for k in keys}
    gtau_error = None
    last = {}
    stops_b = np.arange(1.0, T_b + 0.5, 1.0)

    def timed(key, f):
        c0, t0 = cpu_now(), time.perf_counter()
        out = f()
        walls[key].append(time.perf_counter() - t0)
        cpus[key].append(cpu_now() - c0)
        return out

    def ode_advance():  # the integrator alone, as libroadrunner's simulate
        o = ODE(model_b, model_b.x0.astype(float))
        return o.advance(stops_b)

    model_b = Model(sc_ode)
    for r in range(R):
        df_t, info_t = timed("tau", lambda: ionmc.simulate(sc_tau, replicate=r))
        df_o, _ = timed("ode", lambda: ionmc.simulate(sc_ode))
        timed("odeadv", ode_advance)
        timed("rr", lambda: rr_ode.run(0))
        timed("gode", lambda: gpy_ode.run(0))
        if r < 2:  # it fails or runs into its timeout: twice is enough
            t0 = time.perf_counter()
            try:
                timed("gtau", lambda: gpy_tau.run(r))
            except Exception as exc:  # noqa: BLE001 - report whatever the peer raised
                walls["gtau"].append(time.perf_counter() - t0)
                cpus["gtau"].append(float("nan"))
                gtau_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:60]}"
        last = dict(tau=df_t, ode=df_o, tau_events=info_t["method_events"])
    med = {k: statistics.median(v) for k, v in walls.items()}
    bcpu = {k: statistics.median(v) for k, v in cpus.items()}
    df_t, df_o = last["tau"], last["ode"]
    dvs = df_t["soma.V_mV"].values - df_o["soma.V_mV"].values
    dv = np.max(np.abs(dvs))
    # the leap's own V noise (dv_noise) scatters V around the ODE; its 10-s running mean
    dv10 = np.max(np.abs(np.convolve(dvs, np.ones(10) / 10, mode="valid")))
    na_rel = np.max(np.abs(df_t["neuron.Na.mM"].values / df_o["neuron.Na.mM"].values - 1))
    ode_na, ode_v = df_o["neuron.Na.mM"].iloc[-1], df_o["soma.V_mV"].iloc[-1]
    crossings = last["tau_events"]

    def peer_end(arr):  # final Na_i (mM) and V (mV) from a peer's last row of counts
        c = dict(zip([nb.name[i] for i in nb.var], arr))
        return c["Na"] * nb.inv_nvol[nb.ins[0]], nb.v_of(c) * 1e3

    rr_na, rr_v = peer_end(rr_ode.last[-1, 1:])
    gres = gpy_ode.last[0]
    g_na, g_v = peer_end([gres[nb.name[i]][-1] for i in nb.var])
    if gtau_error is None:
        tres = gpy_tau.last[0]
        gt_t = tres["time"][-1] if len(tres["time"]) else 0.0
        gt_na, gt_v = peer_end([tres[nb.name[i]][-1] for i in nb.var])
        gt_ok = np.all(np.isfinite([gt_na, gt_v]))
    print(f"  ionmc ode at {T_b:g} s: Na_i {ode_na:.4f} mM, V {ode_v:.3f} mV; "
          f"{crossings:.3g} events in the tau-leap run")
    row("(b)", "ionmc tau-leap", med["tau"], crossings, cpu=bcpu["tau"],
        agree=f"vs ionmc ode at 1-s points: max |dV| {dv:.3f} mV (mean {dvs.mean():+.4f}, "
              f"sd {dvs.std():.3f}; 10-s running mean max {dv10:.3f}), max |dNa_i|/Na_i "
              f"{100 * na_rel:.3f} %")
    row("(b)", "ionmc ode: ODE.advance (compiled BDF, with the ledger)", med["odeadv"], None,
        cpu=bcpu["odeadv"], agree=f"end: Na_i {ode_na:.4f} mM, V {ode_v:.3f} mV")
    row("(b)", "ionmc ode: ionmc.simulate (+ model, columns, DataFrame)", med["ode"], None,
        cpu=bcpu["ode"])
    row("(b)", "libroadrunner cvode (vs ODE.advance)", med["rr"], None,
        ratio=med["rr"] / med["odeadv"], cpu=bcpu["rr"], cpu_ratio=bcpu["rr"] / bcpu["odeadv"],
        agree=f"end: Na_i {rr_na:.4f} mM, V {rr_v:.3f} mV")
    row("(b)", "GillesPy2 ODECSolver -O3 (vs ODE.advance)", med["gode"], None,
        ratio=med["gode"] / med["odeadv"], cpu=bcpu["gode"],
        cpu_ratio=bcpu["gode"] / bcpu["odeadv"],
        agree=f"end: Na_i {g_na:.4f} mM, V {g_v:.3f} mV",
        note="(it prints 6 significant digits: V from ~1e10 counts is off by ~mV)")
    row("(b)", "GillesPy2 TauLeapingCSolver -O3", med["gtau"], None,
        agree=(f"failed: {gtau_error}" if gtau_error else
               f"reached t = {gt_t:g} s: Na_i {gt_na:.4f} mM, V {gt_v:.3f} mV" if gt_ok
               else "diverged"),
        note=f"timeout {gpy_tau.timeout} s", ratio=med["gtau"] / med["tau"])

    # ---- (c) ----------------------------------------------------------------------------
    print(f"\n(c) ensemble of {N_c} leak-only spines, {T_c:g} s each, 2 workers", flush=True)
    nc = Net(spine_scenario(False, T_c, replicates=N_c))
    sc_c = spine_scenario(False, T_c, replicates=N_c)
    gc = [Gillespy(nc, T_c, o3=True, o3dir=o3dir, tmp=tmp) for _ in range(2)]
    if not quick:
        gc0 = Gillespy(nc, T_c, o3=False, o3dir=o3dir, tmp=tmp)
    hc = Hand(nc, T_c)
    hc.run(0)
    rrc = [RoadRunner(nc, T_c)]

    def run_ionmc_c(r):
        d = Path(tmp) / f"ens{r}"
        t0 = time.perf_counter()
        ionmc.run(sc_c, d, workers=2, progress=False)
        wall = time.perf_counter() - t0
        import pandas as pd

        parts = sorted((d / "timeseries").glob("part-*.parquet"))
        fin = []
        for p in parts:
            df = pd.read_parquet(p)
            fin.append([df[f"spine.{nc.name[i]}.count"].iloc[-1] for i in nc.var])
        shutil.rmtree(d)
        return wall, np.array(fin, float)

    def run_hand_c(r):
        seeds = [1000 * r + k for k in range(N_c)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(2) as ex:
            out = list(ex.map(hc.run, seeds))
        return time.perf_counter() - t0, np.array([o[2] for o in out]), sum(o[0] for o in out)

    def run_gpy_c(r, pair):
        t0 = time.perf_counter()
        with ThreadPoolExecutor(len(pair)) as ex:
            out = list(ex.map(lambda k: pair[k].run(1000 * r + 7 * k, n=N_c // len(pair)),
                              range(len(pair))))
        return time.perf_counter() - t0, np.array([x for o in out for x in o[2]])

    def run_rr_c(r):
        t0 = time.perf_counter()
        fin = [rrc[0].run(1000 * r + k)[2] for k in range(N_c)]
        return time.perf_counter() - t0, np.array(fin)

    cw = {k: [] for k in ("ionmc", "hand", "gpy2", "gpy1", "gpy0", "rr")}
    cf = {}
    ev_c = []
    for r in range(R):
        w, f = run_ionmc_c(r)
        cw["ionmc"].append(w)
        cf["ionmc"] = f
        w, f, n = run_hand_c(r)
        cw["hand"].append(w)
        cf["hand"] = f
        ev_c.append(n)
        w, f = run_gpy_c(r, gc)
        cw["gpy2"].append(w)
        cf["gpy2"] = f
        w, f = run_gpy_c(r, gc[:1])
        cw["gpy1"].append(w)
        cf["gpy1"] = f
        if not quick:
            w, f = run_gpy_c(r, [gc0])
            cw["gpy0"].append(w)
            cf["gpy0"] = f
        if r == 0:  # libroadrunner has no ensemble call: one process, once
            w, f = run_rr_c(r)
            cw["rr"].append(w)
            cf["rr"] = f
    cmed = {k: statistics.median(v) for k, v in cw.items() if v}
    ev_c = statistics.mean(ev_c)
    lab = f"(c) {N_c} x {T_c:g} s"
    row(lab, "ionmc run, 2 workers (Parquet out)", cmed["ionmc"], ev_c)
    for k, name in (("hand", "hand-written Numba, 2 threads"),
                    ("gpy2", "GillesPy2 SSACSolver -O3, 2 processes"),
                    ("gpy1", "GillesPy2 SSACSolver -O3, 1 call"),
                    ("gpy0", "GillesPy2 SSACSolver -O0 (shipped), 1 call"),
                    ("rr", "libroadrunner gillespie, 1 process")):
        if k in cmed:
            row(lab, name, cmed[k], ev_c, ratio=cmed[k] / cmed["ionmc"],
                agree=f"mean state {zmax(cf['ionmc'], cf[k]):.1f} SE")

    # ---- summary ----------------------------------------------------------------------
    def ratio(res, lab, k=0):  # k = 0: wall time, 3: CPU time
        return statistics.median(res[lab][k]) / statistics.median(res["ionmc ssa"][k])

    print("\n=== must show ===")
    for title, res, gpys in (("(a)", res_a, gpy_leak), ("(a+pump)", res_ap, gpy_pump)):
        h = ratio(res, "hand-written Numba direct")
        o3 = ratio(res, gpys[0].label)
        hc = ratio(res, "hand-written Numba direct", 3)
        oc = ratio(res, gpys[0].label, 3)
        line = f"1. {title} ionmc/hand events/s {h:.2f} (CPU {hc:.2f}; need >= 1.0); " \
               f"ionmc/GillesPy2 -O3 {o3:.2f} (CPU {oc:.2f}; need >= 1.5)"
        if not quick:
            line += f"; ionmc/GillesPy2 -O0 {ratio(res, gpys[1].label):.2f}"
        print(line)
    print(f"2. (b) tau-leap {med['tau']:.2f} s wall for {T_b:g} s (need <= 10 s); max |dV| "
          f"{dv:.3f} mV (<= 0.5; 10-s running mean {dv10:.3f}), max |dNa_i| {100 * na_rel:.3f} % "
          f"(<= 1 %); ionmc ODE.advance / roadrunner cvode wall "
          f"{med['odeadv'] / med['rr']:.1f}x, CPU {bcpu['odeadv'] / bcpu['rr']:.1f}x "
          f"(need <= 10x); whole ionmc.simulate / cvode wall {med['ode'] / med['rr']:.1f}x, "
          f"CPU {bcpu['ode'] / bcpu['rr']:.1f}x")
    print(f"3. (c) GillesPy2 -O3 (1 call) / ionmc {cmed['gpy1'] / cmed['ionmc']:.2f} (need >= 2);"
          f" GillesPy2 -O3 (2 processes) / ionmc {cmed['gpy2'] / cmed['ionmc']:.2f}"
          + (f"; shipped -O0 / ionmc {cmed['gpy0'] / cmed['ionmc']:.2f} (need >= 5)"
             if "gpy0" in cmed else ""))
    if not args.skip_startup:
        for case, ((w1, c1), (w2, c2)) in st.items():
            print(f"4. {case}: first run {w1:.1f} s wall, {c1:.1f} s CPU (<= 20 s); from the "
                  f"cache {w2:.1f} s wall, {c2:.1f} s CPU (<= 2 s)")
    print(f"\nload average at the end {os.getloadavg()[0]:.1f} (other processes share the cores: "
          "ratios are interleaved medians, absolute figures are not)")
    print("\n=== table (markdown) ===")
    print("| network | engine | wall (median) | CPU (median) | events/s (wall) | wall / ionmc "
          "| CPU / ionmc | agreement |")
    print("|---|---|---|---|---|---|---|---|")
    for r in ROWS:
        ev = f"{r['events'] / r['wall']:.3g}" if r.get("events") else "—"
        ra = f"{r['ratio']:.2f}" if r.get("ratio") else "—"
        cpu = f"{r['cpu']:.4g} s" if r.get("cpu") is not None else "—"
        cra = f"{r['cpu_ratio']:.2f}" if r.get("cpu_ratio") else "—"
        cell = f"{r.get('agree', '')} {r.get('note', '')}".strip().replace("|", "\\|")
        print(f"| {r['network']} | {r['engine']} | {r['wall']:.4g} s | {cpu} | {ev} | {ra} | "
              f"{cra} | {cell} |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
